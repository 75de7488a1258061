/**
 * A msgpack writer that emits exactly the wire forms Go's vmihailenco/msgpack v5 chooses
 * (spec §2.4): fixed-width integers for sized Go types (uint32 → ce, uint64 → cf, int64 → d3…),
 * compact integers only for Go `int`/`uint`, float64 as cb, timestamps as ext −1 in the 4/8/12
 * byte forms. Generic msgpack libraries always compact integers, which would change every MAC.
 */
import { grown } from '../base/bytes.js';
import type { GoTime } from './go-time.js';

const textEncoder = new TextEncoder();

export class MsgpackWriter {
  private buf: Uint8Array;
  private dv: DataView;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.dv = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.buf = grown(this.buf, this.pos, this.pos + n);
    this.dv = new DataView(this.buf.buffer);
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Starts over, keeping the buffer (encoding many small structs allocates nothing else). */
  reset(): void {
    this.pos = 0;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  nil(): void { this.byte(0xc0); }
  bool(v: boolean): void { this.byte(v ? 0xc3 : 0xc2); }

  u8(v: number): void { this.ensure(2); this.buf[this.pos++] = 0xcc; this.buf[this.pos++] = v; }
  u16(v: number): void { this.ensure(3); this.buf[this.pos] = 0xcd; this.dv.setUint16(this.pos + 1, v); this.pos += 3; }
  u32(v: number): void { this.ensure(5); this.buf[this.pos] = 0xce; this.dv.setUint32(this.pos + 1, v >>> 0); this.pos += 5; }
  u64(v: bigint): void { this.ensure(9); this.buf[this.pos] = 0xcf; this.dv.setBigUint64(this.pos + 1, BigInt.asUintN(64, v)); this.pos += 9; }
  i32(v: number): void { this.ensure(5); this.buf[this.pos] = 0xd2; this.dv.setInt32(this.pos + 1, v); this.pos += 5; }
  i64(v: bigint): void { this.ensure(9); this.buf[this.pos] = 0xd3; this.dv.setBigInt64(this.pos + 1, BigInt.asIntN(64, v)); this.pos += 9; }
  f64(v: number): void { this.ensure(9); this.buf[this.pos] = 0xcb; this.dv.setFloat64(this.pos + 1, v); this.pos += 9; }

  /** Go `int` (EncodeInt): the smallest form, signed forms only for negatives. */
  int(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= 0xffffffff && Number.isInteger(v)) return this.uint(v);
    const n = BigInt(v);
    if (n >= 0n) return this.uint(n);
    if (n >= -32n) return this.byte(Number(n) & 0xff);
    if (n >= -128n) { this.ensure(2); this.buf[this.pos++] = 0xd0; this.buf[this.pos++] = Number(n) & 0xff; return; }
    if (n >= -32768n) { this.ensure(3); this.buf[this.pos] = 0xd1; this.dv.setInt16(this.pos + 1, Number(n)); this.pos += 3; return; }
    if (n >= -2147483648n) return this.i32(Number(n));
    this.i64(n);
  }

  /** Go `uint` (EncodeUint): positive fixint, then cc, cd, ce, cf. */
  uint(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= 0xffffffff && Number.isInteger(v)) {
      // the common case without BigInt arithmetic
      if (v <= 127) return this.byte(v);
      if (v <= 0xff) return this.u8(v);
      if (v <= 0xffff) return this.u16(v);
      return this.u32(v);
    }
    const n = BigInt(v);
    if (n <= 127n) return this.byte(Number(n));
    if (n <= 0xffn) return this.u8(Number(n));
    if (n <= 0xffffn) return this.u16(Number(n));
    if (n <= 0xffffffffn) return this.u32(Number(n));
    this.u64(n);
  }

  str(s: string): void {
    // Most strings of the format (keys, names, paths, user names) are short ASCII: copying their
    // char codes is several times faster than a TextEncoder call and allocates nothing.
    const len = s.length;
    if (len <= 0xff) {
      let ascii = true;
      for (let i = 0; i < len; i++) {
        if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
      }
      if (ascii) {
        this.strHeader(len);
        this.ensure(len);
        const buf = this.buf;
        let pos = this.pos;
        for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
        this.pos = pos;
        return;
      }
    }
    const bytes = textEncoder.encode(s);
    this.strHeader(bytes.length);
    this.raw(bytes);
  }

  private strHeader(n: number): void {
    if (n < 32) this.byte(0xa0 | n);
    else if (n <= 0xff) { this.ensure(2); this.buf[this.pos++] = 0xd9; this.buf[this.pos++] = n; }
    else if (n <= 0xffff) { this.ensure(3); this.buf[this.pos] = 0xda; this.dv.setUint16(this.pos + 1, n); this.pos += 3; }
    else { this.ensure(5); this.buf[this.pos] = 0xdb; this.dv.setUint32(this.pos + 1, n); this.pos += 5; }
  }

  bin(b: Uint8Array): void {
    const n = b.length;
    if (n <= 0xff) { this.ensure(2); this.buf[this.pos++] = 0xc4; this.buf[this.pos++] = n; }
    else if (n <= 0xffff) { this.ensure(3); this.buf[this.pos] = 0xc5; this.dv.setUint16(this.pos + 1, n); this.pos += 3; }
    else { this.ensure(5); this.buf[this.pos] = 0xc6; this.dv.setUint32(this.pos + 1, n); this.pos += 5; }
    this.raw(b);
  }

  arrayHeader(n: number): void {
    if (n < 16) this.byte(0x90 | n);
    else if (n <= 0xffff) { this.ensure(3); this.buf[this.pos] = 0xdc; this.dv.setUint16(this.pos + 1, n); this.pos += 3; }
    else { this.ensure(5); this.buf[this.pos] = 0xdd; this.dv.setUint32(this.pos + 1, n); this.pos += 5; }
  }

  mapHeader(n: number): void {
    if (n < 16) this.byte(0x80 | n);
    else if (n <= 0xffff) { this.ensure(3); this.buf[this.pos] = 0xde; this.dv.setUint16(this.pos + 1, n); this.pos += 3; }
    else { this.ensure(5); this.buf[this.pos] = 0xdf; this.dv.setUint32(this.pos + 1, n); this.pos += 5; }
  }

  /** time.Time as ext −1, body chosen like vmihailenco's encodeTime. */
  time(t: GoTime): void {
    if (t.sec >= 0 && t.sec < 2 ** 34) {
      // Go: data = nsec<<34 | secs; the 4-byte form only when data fits in 32 bits
      if (t.nsec === 0 && t.sec <= 0xffffffff) {
        this.ensure(6);
        this.buf[this.pos] = 0xd6; this.buf[this.pos + 1] = 0xff;
        this.dv.setUint32(this.pos + 2, t.sec);
        this.pos += 6;
        return;
      }
      this.ensure(10);
      this.buf[this.pos] = 0xd7; this.buf[this.pos + 1] = 0xff;
      this.dv.setBigUint64(this.pos + 2, (BigInt(t.nsec) << 34n) | BigInt(t.sec));
      this.pos += 10;
      return;
    }
    this.ensure(15);
    this.buf[this.pos] = 0xc7; this.buf[this.pos + 1] = 12; this.buf[this.pos + 2] = 0xff;
    this.dv.setUint32(this.pos + 3, t.nsec);
    this.dv.setBigInt64(this.pos + 7, BigInt(t.sec));
    this.pos += 15;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/**
 * A BlobIndex as bytes, for the local index cache: reopening a store then costs one read and
 * copying the blob keys into a MacTable instead of decrypting, decompressing and merging every state (a store
 * of 100,000 files: ~1.0–1.8 s of merging, measured). The image is the index's own fields —
 * location slab, keys, packfiles, colours, configuration, states — little-endian, each array
 * with its length first. Reading it checks every length and slot number: a damaged image is
 * CORRUPT, never a wrong index (and the cache also authenticates it; see Repository).
 */
import { grown } from '../base/bytes.js';
import { corrupt } from '../base/errors.js';
import { MacTable } from './mac-table.js';

const MAGIC = 0x4b4c4958; // "KLIX"
const VERSION = 1;
/** blob keys: the type byte and the 32 MAC bytes as one-byte chars (blob-index.ts) */
const KEY_LENGTH = 33;

/** The fields of a BlobIndex, as it lays them out (blob-index.ts). */
export interface BlobIndexFields {
  count: number;
  top: number;
  freeSlot: number;
  slotPack: Uint32Array<ArrayBuffer>;
  slotOffset: Float64Array<ArrayBuffer>;
  slotLength: Uint32Array<ArrayBuffer>;
  slotVersion: Uint32Array<ArrayBuffer>;
  slotFlags: Uint32Array<ArrayBuffer>;
  slotNext: Int32Array<ArrayBuffer>;
  /** (type, blob) → first slot */
  heads: MacTable;
  snapshotKeys: Set<string>;
  packMacs: Uint8Array[];
  packBits: Uint8Array<ArrayBuffer>;
  packInfo: Map<number, { stateId: Uint8Array; timestamp: bigint }>;
  coloured: Map<string, bigint>;
  config: Map<string, { value: Uint8Array; createdAt: bigint }>;
  states: { id: Uint8Array; parent: Uint8Array | null; metadata: { version: number; timestamp: bigint; serial: Uint8Array } }[];
}

class Writer {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  /** `expected`: about the image's size, so a large index is not copied at every doubling */
  constructor(expected: number) {
    this.buf = new Uint8Array(Math.max(1 << 16, expected));
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.buf = grown(this.buf, this.pos, this.pos + n);
    this.view = new DataView(this.buf.buffer);
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  i64(v: bigint): void {
    this.room(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** a blob's type byte and MAC (bytes[offset…offset+32]): the same KEY_LENGTH bytes as its key */
  blobAddress(type: number, bytes: Uint8Array, offset: number): void {
    this.room(KEY_LENGTH);
    const buf = this.buf, p = this.pos;
    buf[p] = type;
    for (let i = 0; i < 32; i++) buf[p + 1 + i] = bytes[offset + i]!;
    this.pos += KEY_LENGTH;
  }

  /** a blob key: KEY_LENGTH one-byte chars */
  key(k: string): void {
    if (k.length !== KEY_LENGTH) throw new TypeError(`blob key of ${k.length} chars`);
    this.room(KEY_LENGTH);
    for (let i = 0; i < KEY_LENGTH; i++) this.buf[this.pos + i] = k.charCodeAt(i);
    this.pos += KEY_LENGTH;
  }

  typed(a: Uint32Array | Int32Array | Float64Array, n: number): void {
    this.raw(new Uint8Array(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT));
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

class Reader {
  private readonly view: DataView;
  pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (!(n >= 0) || this.pos + n > this.buf.length) throw corrupt('index cache image is truncated');
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  raw(n: number): Uint8Array {
    this.need(n);
    // a copy of its own (a Node Buffer's slice() would be a view into a larger buffer)
    const b = new Uint8Array(n);
    b.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  bytes(): Uint8Array {
    return this.raw(this.u32());
  }

  /** Stores the next blob address and the slot after it in `table`. */
  head(table: MacTable, top: number): void {
    this.need(KEY_LENGTH + 4);
    const p = this.pos;
    const s = this.view.getUint32(p + KEY_LENGTH, true);
    if (s >= top) throw corrupt('index cache image: head slot out of range');
    table.setAt(this.buf[p]!, this.buf, p + 1, s);
    this.pos += KEY_LENGTH + 4;
  }

  /** a blob key (spelled out: fromCharCode over a typed array's elements is ~10× slower) */
  key(): string {
    this.need(KEY_LENGTH);
    const b = this.buf;
    const p = this.pos;
    this.pos += KEY_LENGTH;
    return String.fromCharCode(
      b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!,
      b[p + 11]!, b[p + 12]!, b[p + 13]!, b[p + 14]!, b[p + 15]!, b[p + 16]!, b[p + 17]!, b[p + 18]!, b[p + 19]!, b[p + 20]!,
      b[p + 21]!, b[p + 22]!, b[p + 23]!, b[p + 24]!, b[p + 25]!, b[p + 26]!, b[p + 27]!, b[p + 28]!, b[p + 29]!, b[p + 30]!,
      b[p + 31]!, b[p + 32]!,
    );
  }

  /** n elements of a typed array (copied: aligned and owned) */
  typed<T>(make: new (b: ArrayBuffer) => T, size: number, n: number): T {
    return new make(this.raw(n * size).buffer as ArrayBuffer);
  }

  end(): void {
    if (this.pos !== this.buf.length) throw corrupt('index cache image has trailing bytes');
  }
}

export function writeIndexImage(f: BlobIndexFields): Uint8Array {
  // 28 bytes of slab per slot, a key and a slot number per head, a few more per packfile
  const w = new Writer(f.top * 28 + (f.heads.size + f.snapshotKeys.size + f.coloured.size) * (KEY_LENGTH + 8) + f.packMacs.length * 64 + 4096);
  w.u32(MAGIC);
  w.u32(VERSION);
  w.u32(f.count);
  w.u32(f.top);
  w.u32(f.freeSlot + 1); // NONE (−1) → 0
  w.typed(f.slotPack, f.top);
  w.typed(f.slotOffset, f.top);
  w.typed(f.slotLength, f.top);
  w.typed(f.slotVersion, f.top);
  w.typed(f.slotFlags, f.top);
  w.typed(f.slotNext, f.top);
  w.u32(f.heads.size);
  f.heads.forEach((type, bytes, offset, s) => {
    w.blobAddress(type, bytes, offset);
    w.u32(s);
  });
  w.u32(f.snapshotKeys.size);
  for (const k of f.snapshotKeys) w.key(k);
  w.u32(f.packMacs.length);
  for (const m of f.packMacs) w.bytes(m);
  w.raw(f.packBits.subarray(0, f.packMacs.length));
  w.u32(f.packInfo.size);
  for (const [p, i] of f.packInfo) {
    w.u32(p);
    w.bytes(i.stateId);
    w.i64(i.timestamp);
  }
  w.u32(f.coloured.size);
  for (const [k, when] of f.coloured) {
    w.key(k);
    w.i64(when);
  }
  w.u32(f.config.size);
  for (const [k, c] of f.config) {
    w.bytes(new TextEncoder().encode(k));
    w.bytes(c.value);
    w.i64(c.createdAt);
  }
  w.u32(f.states.length);
  for (const s of f.states) {
    w.bytes(s.id);
    w.u32(s.parent ? 1 : 0);
    if (s.parent) w.bytes(s.parent);
    w.u32(s.metadata.version);
    w.i64(s.metadata.timestamp);
    w.bytes(s.metadata.serial);
  }
  return w.done();
}

export function readIndexImage(bytes: Uint8Array): BlobIndexFields {
  const r = new Reader(bytes);
  if (r.u32() !== MAGIC || r.u32() !== VERSION) throw corrupt('not an index cache image of this version');
  const count = r.u32();
  const top = r.u32();
  const freeSlot = r.u32() - 1;
  if (count > top || freeSlot >= top) throw corrupt('index cache image: slot numbers out of range');
  const slotPack = r.typed(Uint32Array, 4, top);
  const slotOffset = r.typed(Float64Array, 8, top);
  const slotLength = r.typed(Uint32Array, 4, top);
  const slotVersion = r.typed(Uint32Array, 4, top);
  const slotFlags = r.typed(Uint32Array, 4, top);
  const slotNext = r.typed(Int32Array, 4, top);
  for (let s = 0; s < top; s++) if (slotNext[s]! < -1 || slotNext[s]! >= top) throw corrupt('index cache image: slot link out of range');
  const headCount = r.u32();
  if (headCount > top) throw corrupt('index cache image: more blobs than locations');
  const heads = new MacTable(headCount);
  for (let n = headCount; n > 0; n--) r.head(heads, top);
  const snapshotKeys = new Set<string>();
  for (let n = r.u32(); n > 0; n--) snapshotKeys.add(r.key());
  const packCount = r.u32();
  const packMacs: Uint8Array[] = [];
  for (let n = 0; n < packCount; n++) packMacs.push(r.bytes());
  const packBits = new Uint8Array(Math.max(64, packCount * 2));
  packBits.set(r.raw(packCount));
  const packInfo = new Map<number, { stateId: Uint8Array; timestamp: bigint }>();
  for (let n = r.u32(); n > 0; n--) {
    const p = r.u32();
    if (p >= packCount) throw corrupt('index cache image: packfile number out of range');
    packInfo.set(p, { stateId: r.bytes(), timestamp: r.i64() });
  }
  const coloured = new Map<string, bigint>();
  for (let n = r.u32(); n > 0; n--) coloured.set(r.key(), r.i64());
  const config = new Map<string, { value: Uint8Array; createdAt: bigint }>();
  for (let n = r.u32(); n > 0; n--) {
    const k = new TextDecoder().decode(r.bytes());
    config.set(k, { value: r.bytes(), createdAt: r.i64() });
  }
  const states: BlobIndexFields['states'] = [];
  for (let n = r.u32(); n > 0; n--) {
    const id = r.bytes();
    const parent = r.u32() ? r.bytes() : null;
    states.push({ id, parent, metadata: { version: r.u32(), timestamp: r.i64(), serial: r.bytes() } });
  }
  r.end();
  // every slot reachable from a head must name a known packfile
  heads.forEach((_type, _bytes, _offset, s0) => {
    let hops = 0;
    for (let s = s0; s !== -1; s = slotNext[s]!) {
      if (slotPack[s]! >= packCount) throw corrupt('index cache image: location names an unknown packfile');
      if (++hops > top) throw corrupt('index cache image: location chain loops');
    }
  });
  return { count, top, freeSlot, slotPack, slotOffset, slotLength, slotVersion, slotFlags, slotNext, heads, snapshotKeys, packMacs, packBits, packInfo, coloured, config, states };
}

/**
 * Schema-directed msgpack reading: decodes the bytes of a Kloset struct straight into its typed
 * value, in one pass, without building a generic msgpack tree first.
 *
 * Why not a generic decoder: listings, re-backups and restores decode an entry per file, and a
 * generic tree (an object per map, then a second object mapped from it, a BigInt or Date per
 * field) cost about twice the time and most of the garbage. Reading against the schema also
 * keeps Go's exact rules in one place:
 * - lenient as vmihailenco/msgpack v5's decoder: unknown keys skipped (whatever they hold),
 *   missing keys and nil at their zero value, a struct given as a positional array (extra
 *   values skipped), any integer width for any integer field, integers for a float;
 * - strict about ranges and shapes: a value out of range for its Go type, a wrong type, a
 *   truncated or malformed input, trailing bytes — each a CORRUPT error, never a crash;
 * - bounded: every length is checked against the bytes that remain before anything is
 *   allocated, and unknown values are skipped iteratively (no recursion on hostile nesting).
 */
import { corrupt } from '../base/errors.js';
import { GO_ZERO_TIME, type GoTime } from './go-time.js';
import type { FieldDef, Schema, WireType } from './schema.js';

const utf8 = new TextDecoder();

/**
 * Per schema, built once: fields by msgpack key, each key's encoded bytes (header included),
 * and a template with every property in declaration order, undefined, that each decoded value
 * starts as a copy of — so every value of a schema has one shape (one hidden class for the
 * code that reads them) whatever keys its bytes held, and in what order.
 */
interface Keys {
  byKey: Map<string, FieldDef>;
  encoded: Uint8Array[];
  fresh: () => Record<string, unknown>;
  /** the generated in-order decoder (inOrderDecoderOf), or null where code cannot be generated */
  inOrder: InOrderDecoder | null;
}
/** Decodes a map of `mapLen` pairs whose keys come in declaration order; null at any other key. */
type InOrderDecoder = (r: Reader, mapLen: number, path: string) => Record<string, unknown> | null;
const keyTables = new WeakMap<Schema<unknown>, Keys>();

function keysOf(schema: Schema<unknown>): Keys {
  let k = keyTables.get(schema);
  if (!k) {
    const enc = new TextEncoder();
    const encoded = schema.fields.map((f) => {
      const b = enc.encode(f.key);
      // keys are short: fixstr, or str8
      return b.length < 32 ? Uint8Array.of(0xa0 | b.length, ...b) : Uint8Array.of(0xd9, b.length, ...b);
    });
    keyTables.set(schema, (k = { byKey: new Map(schema.fields.map((f) => [f.key, f])), encoded, fresh: freshObjectOf(schema), inOrder: inOrderDecoderOf(schema, encoded) }));
  }
  return k;
}

/**
 * A function making a schema's values with every property present (undefined), in declaration
 * order. Generated per schema, so each makes its own object literal: one site copying a
 * template for every schema (`{ ...template }`) turned megamorphic and fell back to the
 * runtime — 2.6 s of a million-entry `ls`. Where code cannot be generated (a content security
 * policy), the template copy is the fallback.
 */
function freshObjectOf(schema: Schema<unknown>): () => Record<string, unknown> {
  const props = schema.fields.map((f) => f.prop);
  if (literalSafe(schema)) {
    try {
      return new Function(`return function fresh() { return { ${props.map((p) => `${p}: undefined`).join(', ')} }; };`)() as () => Record<string, unknown>;
    } catch {
      // no code generation here: the template copy below
    }
  }
  const template: Record<string, unknown> = {};
  for (const p of props) template[p] = undefined;
  return () => ({ ...template });
}

/**
 * A decoder generated per schema for what Go writes: the fields' keys in declaration order,
 * the empty omitempty ones left out. Each field is one test of the next key's bytes and, when
 * it matches, one read of its value into a local; the value is one object literal. The generic
 * loop of Reader.struct does the same through a shared function whose property stores
 * (`out[f.prop] = …`) see every schema — megamorphic, and slowest where it matters most for
 * a listing's first page: before V8 optimizes anything, when each of the first thousand
 * entries took ~25 µs. At any other key (another writer's order, an unknown or repeated key)
 * the generated decoder gives up and the generic loop decodes the map from its start: the two
 * give the same value for the same bytes, the generic loop being the reference.
 */
function inOrderDecoderOf(schema: Schema<unknown>, encoded: readonly Uint8Array[]): InOrderDecoder | null {
  const fields = schema.fields;
  if (!literalSafe(schema)) return null;
  const body: string[] = ['let n = 0;'];
  fields.forEach((f, i) => {
    body.push(`let v${i};`, `if (n < mapLen && r.matches(K[${i}])) { v${i} = r.value(T[${i}], path, P[${i}]); n++; }`);
  });
  body.push('if (n !== mapLen) return null;');
  body.push(`return { ${fields.map((f, i) => `${f.prop}: v${i} === undefined ? zero(T[${i}]) : v${i}`).join(', ')} };`);
  try {
    const make = new Function('K', 'T', 'P', 'zero', `return function inOrder_${schema.name.replace(/\W/g, '_')}(r, mapLen, path) {\n${body.join('\n')}\n};`);
    return make(encoded, fields.map((f) => f.type), fields.map((f) => f.key), zero) as InOrderDecoder;
  } catch {
    return null; // no code generation here (a content security policy): the generic loop
  }
}

/**
 * Whether generated code may name the schema's properties in an object literal: identifiers
 * only, and never __proto__ (in a literal it would set the prototype, not a property).
 */
function literalSafe(schema: Schema<unknown>): boolean {
  return schema.fields.every((f) => /^[A-Za-z_$][\w$]*$/.test(f.prop) && f.prop !== '__proto__');
}

export function readStructBytes<V>(schema: Schema<V>, bytes: Uint8Array): V {
  const r = new Reader(bytes, schema.name);
  if (r.peek() === 0xc0) throw corrupt(`${schema.name}: expected a map, got nil`);
  const v = r.struct(schema as Schema<unknown>, schema.name);
  if (r.pos !== bytes.length) r.malformed(`${bytes.length - r.pos} extra bytes after the value`);
  return v as V;
}

class Reader {
  pos = 0;
  private readonly dv: DataView;

  constructor(private readonly b: Uint8Array, private readonly what: string) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  malformed(why: string): never {
    throw corrupt(`malformed msgpack in ${this.what}: ${why}`);
  }

  private need(n: number): void {
    if (n > this.b.length - this.pos) this.malformed(`truncated at byte ${this.pos}`);
  }

  peek(): number {
    this.need(1);
    return this.b[this.pos]!;
  }

  private u8(): number { this.need(1); return this.b[this.pos++]!; }
  private u16(): number { this.need(2); const v = this.dv.getUint16(this.pos); this.pos += 2; return v; }
  private u32(): number { this.need(4); const v = this.dv.getUint32(this.pos); this.pos += 4; return v; }

  /** A container's item count, bounded by the bytes left (each item takes at least one). */
  private count(n: number, perItem: number): number {
    if (n * perItem > this.b.length - this.pos) this.malformed(`a container of ${n} items in ${this.b.length - this.pos} bytes`);
    return n;
  }

  // -------------------------------------------------------------- structs and values

  struct(schema: Schema<unknown>, path: string): Record<string, unknown> {
    const c = this.peek();
    const keys = keysOf(schema);
    const fields = schema.fields;
    if (c === 0xc0) {
      const out = keys.fresh();
      // Go decodes nil into a struct value as its zero value
      this.pos++;
      for (const f of fields) out[f.prop] = zero(f.type);
      return out;
    }
    const arrayLen = this.arrayHeader(c);
    if (arrayLen >= 0) {
      // a struct encoded as an array of its fields, in order; extra values skipped
      const out = keys.fresh();
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        out[f.prop] = i < arrayLen ? this.value(f.type, path, f.key) : zero(f.type);
      }
      for (let i = fields.length; i < arrayLen; i++) this.skip();
      return out;
    }
    const mapLen = this.mapHeader(c);
    if (mapLen < 0) throw corrupt(`${path}: expected a map, got ${this.describe(c)}`);
    if (keys.inOrder) {
      const start = this.pos;
      const v = keys.inOrder(this, mapLen, path);
      if (v) return v;
      this.pos = start; // a key out of order: the generic loop below, from the first pair
    }
    const out = keys.fresh();
    // Go writes fields in declaration order, leaving out the empty omitempty ones: the key that
    // comes is one of the fields after the last one read, found by comparing bytes; only a key
    // out of that order (another writer) or unknown is decoded as a string and looked up.
    let next = 0;
    for (let i = 0; i < mapLen; i++) {
      let f: FieldDef | undefined;
      let j = next;
      while (j < fields.length && !this.matches(keys.encoded[j]!)) j++;
      if (j < fields.length) {
        f = fields[j]!;
        next = j + 1;
      } else {
        const key = this.key();
        f = key === undefined ? undefined : keys.byKey.get(key);
        if (f) next = fields.indexOf(f) + 1;
      }
      if (f) out[f.prop] = this.value(f.type, path, f.key);
      else this.skip();
    }
    for (const f of fields) if (out[f.prop] === undefined) out[f.prop] = zero(f.type);
    return out;
  }

  /** Consumes `bytes` when the input continues with exactly them. */
  private matches(bytes: Uint8Array): boolean {
    const b = this.b, pos = this.pos, n = bytes.length;
    if (n > b.length - pos) return false;
    for (let i = 0; i < n; i++) if (b[pos + i] !== bytes[i]) return false;
    this.pos = pos + n;
    return true;
  }

  /** A map key: a string, or an integer taken as its decimal text (as JS objects do). */
  private key(): string | undefined {
    const c = this.peek();
    if (isStr(c)) return this.str();
    if (c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3)) return String(this.integer('map key', ''));
    this.malformed(`map key of type 0x${c.toString(16)}`);
  }

  private value(t: WireType, path: string, key: string | number): unknown {
    const c = this.peek();
    if (typeof t === 'string') {
      switch (t) {
        case 'u8': return this.ranged(0xff, path, key, t);
        case 'u16': return this.ranged(0xffff, path, key, t);
        case 'u32': return this.ranged(0xffffffff, path, key, t);
        case 'int': {
          const n = this.integer(path, key);
          if (typeof n === 'bigint') {
            if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw corrupt(`${at(path, key)}: ${n} out of range for int`);
            return Number(n);
          }
          return n;
        }
        case 'u64': {
          const n = this.integer(path, key);
          const v = typeof n === 'bigint' ? n : BigInt(n);
          if (v < 0n) throw corrupt(`${at(path, key)}: out of range for u64`);
          return v;
        }
        case 'i64': {
          const n = this.integer(path, key);
          if (typeof n === 'bigint') {
            if (n >= 2n ** 63n) throw corrupt(`${at(path, key)}: out of range for i64`);
            return n;
          }
          return BigInt(n);
        }
        case 'f64': return this.float(path, key);
        case 'bool':
          if (c === 0xc2 || c === 0xc3 || c === 0xc0) { this.pos++; return c === 0xc3; }
          throw corrupt(`${at(path, key)}: expected a bool, got ${this.describe(c)}`);
        case 'str':
          if (c === 0xc0) { this.pos++; return ''; }
          if (isStr(c)) return this.str();
          throw corrupt(`${at(path, key)}: expected a string, got ${this.describe(c)}`);
        case 'bin': {
          if (c === 0xc0) { this.pos++; return new Uint8Array(0); }
          const b = this.bin();
          if (b) return b;
          throw corrupt(`${at(path, key)}: expected bytes, got ${this.describe(c)}`);
        }
        case 'mac': case 'uuid': {
          const n = t === 'mac' ? 32 : 16;
          const start = this.pos;
          const b = c === 0xc0 ? undefined : this.bin();
          if (b && b.length === n) return b;
          this.pos = start;
          throw corrupt(`${at(path, key)}: expected ${n} bytes, got ${this.describe(c)}`);
        }
        case 'time': return this.time(path, key);
      }
    }
    if ('array' in t) {
      if (c === 0xc0) { this.pos++; return []; }
      const n = this.arrayHeader(c);
      if (n < 0) throw corrupt(`${at(path, key)}: expected a list, got ${this.describe(c)}`);
      const out = new Array<unknown>(n);
      const where = at(path, key);
      for (let i = 0; i < n; i++) out[i] = this.value(t.array, where, i);
      return out;
    }
    if ('struct' in t) return this.struct(t.struct, at(path, key));
    if (c === 0xc0) { this.pos++; return null; }
    return this.value(t.nullable, path, key);
  }

  private ranged(max: number, path: string, key: string | number, t: string): number {
    const v = this.integer(path, key);
    const n = typeof v === 'bigint' && v >= 0n && v <= BigInt(max) ? Number(v) : v;
    if (typeof n === 'bigint' || n < 0 || n > max) throw corrupt(`${at(path, key)}: ${n} out of range for ${t}`);
    return n;
  }

  /**
   * Any msgpack integer (uint64/int64 forms as bigint, the others as numbers), an integral
   * float, or nil (0).
   */
  private integer(path: string, key: string | number): number | bigint {
    const c = this.peek();
    if (c <= 0x7f) { this.pos++; return c; }
    if (c >= 0xe0) { this.pos++; return c - 0x100; }
    switch (c) {
      case 0xc0: this.pos++; return 0;
      case 0xcc: this.pos++; return this.u8();
      case 0xcd: this.pos++; return this.u16();
      case 0xce: this.pos++; return this.u32();
      case 0xcf: { this.pos++; this.need(8); const v = this.dv.getBigUint64(this.pos); this.pos += 8; return v; }
      case 0xd0: { this.pos++; this.need(1); const v = this.dv.getInt8(this.pos); this.pos += 1; return v; }
      case 0xd1: { this.pos++; this.need(2); const v = this.dv.getInt16(this.pos); this.pos += 2; return v; }
      case 0xd2: { this.pos++; this.need(4); const v = this.dv.getInt32(this.pos); this.pos += 4; return v; }
      case 0xd3: { this.pos++; this.need(8); const v = this.dv.getBigInt64(this.pos); this.pos += 8; return v; }
      case 0xca: case 0xcb: {
        const start = this.pos;
        const f = this.float(path, key);
        if (Number.isInteger(f)) return f;
        this.pos = start;
        throw corrupt(`${at(path, key)}: expected an integer, got number`);
      }
    }
    throw corrupt(`${at(path, key)}: expected an integer, got ${this.describe(c)}`);
  }

  private float(path: string, key: string | number): number {
    const c = this.peek();
    if (c === 0xca) { this.pos++; this.need(4); const v = this.dv.getFloat32(this.pos); this.pos += 4; return v; }
    if (c === 0xcb) { this.pos++; this.need(8); const v = this.dv.getFloat64(this.pos); this.pos += 8; return v; }
    if (c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3) || c === 0xc0) return Number(this.integer(path, key));
    throw corrupt(`${at(path, key)}: expected a float, got ${this.describe(c)}`);
  }

  private str(): string {
    const c = this.u8();
    const n = c >= 0xa0 && c <= 0xbf ? c & 0x1f : c === 0xd9 ? this.u8() : c === 0xda ? this.u16() : this.u32();
    this.need(n);
    const b = this.b, start = this.pos;
    this.pos += n;
    // short ASCII (names, keys, user names): char codes directly, no TextDecoder call
    if (n <= 64) {
      let s = '';
      for (let i = start; i < start + n; i++) {
        const ch = b[i]!;
        if (ch > 0x7f) return utf8.decode(b.subarray(start, start + n));
        s += String.fromCharCode(ch);
      }
      return s;
    }
    return utf8.decode(b.subarray(start, start + n));
  }

  /** A bin value as a view of the input, or undefined when the next value is not bin. */
  private bin(): Uint8Array | undefined {
    const c = this.peek();
    if (c !== 0xc4 && c !== 0xc5 && c !== 0xc6) return undefined;
    this.pos++;
    const n = c === 0xc4 ? this.u8() : c === 0xc5 ? this.u16() : this.u32();
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** time.Time: the timestamp extension (type −1) in its 4, 8 or 12 byte forms. */
  private time(path: string, key: string | number): GoTime {
    const c = this.peek();
    const ext = this.extHeader(c);
    if (!ext || ext.type !== -1) throw corrupt(`${at(path, key)}: expected a timestamp, got ${this.describe(c)}`);
    const start = this.pos;
    this.need(ext.length);
    this.pos += ext.length;
    if (ext.length === 4) return { sec: this.dv.getUint32(start), nsec: 0 };
    if (ext.length === 8) {
      const x = this.dv.getBigUint64(start);
      return { sec: Number(x & 0x3ffffffffn), nsec: checkNsec(Number(x >> 34n)) };
    }
    if (ext.length === 12) {
      const sec = this.dv.getBigInt64(start + 4);
      if (sec > BigInt(Number.MAX_SAFE_INTEGER) || sec < BigInt(Number.MIN_SAFE_INTEGER)) throw corrupt('timestamp out of range');
      return { sec: Number(sec), nsec: checkNsec(this.dv.getUint32(start)) };
    }
    throw corrupt(`timestamp extension of ${ext.length} bytes`);
  }

  /** Consumes an ext header; undefined (nothing consumed) when the next value is not an ext. */
  private extHeader(c: number): { type: number; length: number } | undefined {
    let length: number;
    const start = this.pos;
    this.pos++;
    switch (c) {
      case 0xd4: length = 1; break;
      case 0xd5: length = 2; break;
      case 0xd6: length = 4; break;
      case 0xd7: length = 8; break;
      case 0xd8: length = 16; break;
      case 0xc7: length = this.u8(); break;
      case 0xc8: length = this.u16(); break;
      case 0xc9: length = this.u32(); break;
      default: this.pos = start; return undefined;
    }
    this.need(1);
    const type = this.dv.getInt8(this.pos++);
    return { type, length };
  }

  /** An array header's count (consumed), or −1 when the next value is not an array. */
  private arrayHeader(c: number): number {
    if (c >= 0x90 && c <= 0x9f) { this.pos++; return c & 0x0f; }
    if (c === 0xdc) { this.pos++; return this.count(this.u16(), 1); }
    if (c === 0xdd) { this.pos++; return this.count(this.u32(), 1); }
    return -1;
  }

  /** A map header's count (consumed), or −1 when the next value is not a map. */
  private mapHeader(c: number): number {
    if (c >= 0x80 && c <= 0x8f) { this.pos++; return this.count(c & 0x0f, 2); }
    if (c === 0xde) { this.pos++; return this.count(this.u16(), 2); }
    if (c === 0xdf) { this.pos++; return this.count(this.u32(), 2); }
    return -1;
  }

  /** Skips one value of any type, nested ones included, without recursion. */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const c = this.u8();
      if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) continue;
      if (c >= 0xa0 && c <= 0xbf) { this.advance(c & 0x1f); continue; }
      if (c >= 0x90 && c <= 0x9f) { pending += c & 0x0f; continue; }
      if (c >= 0x80 && c <= 0x8f) { pending += 2 * (c & 0x0f); continue; }
      switch (c) {
        case 0xcc: case 0xd0: this.advance(1); break;
        case 0xcd: case 0xd1: this.advance(2); break;
        case 0xce: case 0xd2: case 0xca: this.advance(4); break;
        case 0xcf: case 0xd3: case 0xcb: this.advance(8); break;
        case 0xc4: case 0xd9: this.advance(this.u8()); break;
        case 0xc5: case 0xda: this.advance(this.u16()); break;
        case 0xc6: case 0xdb: this.advance(this.u32()); break;
        case 0xd4: this.advance(2); break;
        case 0xd5: this.advance(3); break;
        case 0xd6: this.advance(5); break;
        case 0xd7: this.advance(9); break;
        case 0xd8: this.advance(17); break;
        case 0xc7: this.advance(this.u8() + 1); break;
        case 0xc8: this.advance(this.u16() + 1); break;
        case 0xc9: this.advance(this.u32() + 1); break;
        case 0xdc: pending += this.count(this.u16(), 1); break;
        case 0xdd: pending += this.count(this.u32(), 1); break;
        case 0xde: pending += 2 * this.count(this.u16(), 2); break;
        case 0xdf: pending += 2 * this.count(this.u32(), 2); break;
        default: this.malformed(`reserved type byte 0x${c.toString(16)} at ${this.pos - 1}`);
      }
    }
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** What the next value is, for error messages (nothing consumed). */
  private describe(c: number): string {
    if (c === 0xc0) return 'nil';
    if (c === 0xc2 || c === 0xc3) return 'boolean';
    if (isStr(c)) return 'string';
    if ((c >= 0x90 && c <= 0x9f) || c === 0xdc || c === 0xdd) return 'a list';
    if (c === 0xc4 || c === 0xc5 || c === 0xc6) {
      const start = this.pos;
      const b = this.bin();
      this.pos = start;
      return `${b?.length ?? 0} bytes`;
    }
    if (c <= 0x7f || c >= 0xe0 || (c >= 0xca && c <= 0xd3)) return 'number';
    if (c === 0xc1) this.malformed(`reserved type byte 0xc1 at ${this.pos}`);
    return 'object'; // maps and extensions
  }
}

function isStr(c: number): boolean {
  return (c >= 0xa0 && c <= 0xbf) || c === 0xd9 || c === 0xda || c === 0xdb;
}

function at(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

function checkNsec(n: number): number {
  if (n > 999_999_999) throw corrupt('timestamp nanoseconds out of range');
  return n;
}

/**
 * The empty byte string and list that missing fields decode to, shared and frozen: a listing
 * decodes six of them per entry (0.3 s of a million-entry `ls` allocating them), and nothing
 * changes a decoded value in place — a change would throw here rather than leak into others.
 */
const EMPTY_BYTES = Object.freeze(new Uint8Array(0)) as Uint8Array;
const EMPTY_LIST = Object.freeze([]) as unknown as unknown[];

/** The zero value of a wire type (a missing key, nil, or a positional array too short). */
export function zero(t: WireType): unknown {
  if (typeof t === 'string') {
    switch (t) {
      case 'u64': case 'i64': return 0n;
      case 'str': return '';
      case 'bool': return false;
      case 'bin': return EMPTY_BYTES;
      case 'mac': return new Uint8Array(32);
      case 'uuid': return new Uint8Array(16);
      case 'time': return GO_ZERO_TIME;
      default: return 0;
    }
  }
  if ('array' in t) return EMPTY_LIST;
  if ('struct' in t) {
    const out: Record<string, unknown> = {};
    for (const f of t.struct.fields) out[f.prop] = zero(f.type);
    return out;
  }
  return null;
}

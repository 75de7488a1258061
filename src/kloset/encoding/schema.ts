/**
 * Struct schemas: how a Go struct of the Kloset format maps to msgpack, declared once and used
 * both to write Go's exact bytes and to read them back as typed values.
 *
 * A schema lists fields in Go declaration order with their msgpack key (the `msgpack:` tag, or
 * the Go field name when untagged), their Go wire type and `omitempty`. Reading is lenient the
 * way Go's decoder is (unknown keys skipped, any integer width accepted, a struct may arrive as
 * an array of its fields, nil accepted for a list) but strict about ranges and shapes: anything
 * else is a CORRUPT error, never a crash.
 */
import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import { corrupt, KlosetError } from '../base/errors.js';
import { GO_ZERO_TIME, type GoTime } from './go-time.js';
import { MsgpackWriter } from './msgpack-writer.js';

/** Go wire types. `int` is Go's int (compact encoding); sized types are written full-width. */
export type WireType =
  | 'u8' | 'u16' | 'u32' | 'u64' | 'i64' | 'int' | 'f64' | 'bool' | 'str'
  | 'bin'   // []byte: Uint8Array (nil ⇄ empty when nilIfEmpty)
  | 'mac'   // [32]byte: always bin 32
  | 'uuid'  // uuid.UUID: bin 16
  | 'time'  // time.Time: ext −1
  | { readonly array: WireType }
  | { readonly struct: Schema<any> }
  | { readonly nullable: WireType }; // Go pointer: null ⇄ nil

export interface FieldDef {
  /** msgpack key as Go writes it. */
  readonly key: string;
  /** Property name on the TypeScript value. */
  readonly prop: string;
  readonly type: WireType;
  /** Go `omitempty`: the field is left out when empty (Go's isEmptyValue rules). */
  readonly omitempty?: boolean;
  /** Write an empty list or byte slice as nil (c0), as Go does for a nil slice. */
  readonly nilIfEmpty?: boolean;
}

export interface Schema<V> {
  readonly name: string;
  readonly fields: readonly FieldDef[];
  /** phantom, for inference only */
  readonly __value?: V;
}

export function defineSchema<V>(name: string, fields: FieldDef[]): Schema<V> {
  return { name, fields };
}

// ---------------------------------------------------------------- writing

export function encodeStruct<V>(schema: Schema<V>, value: V): Uint8Array {
  const w = new MsgpackWriter();
  writeStruct(w, schema, value as Record<string, unknown>);
  return w.finish();
}

function writeStruct(w: MsgpackWriter, schema: Schema<unknown>, v: Record<string, unknown>): void {
  const present = schema.fields.filter((f) => !(f.omitempty && isEmpty(f.type, v[f.prop])));
  w.mapHeader(present.length);
  for (const f of present) {
    w.str(f.key);
    writeValue(w, f.type, v[f.prop], f, schema.name);
  }
}

function writeValue(w: MsgpackWriter, t: WireType, v: unknown, f: FieldDef | undefined, where: string): void {
  if (typeof t === 'string') {
    switch (t) {
      case 'u8': return w.u8(num(v, where));
      case 'u16': return w.u16(num(v, where));
      case 'u32': return w.u32(num(v, where));
      case 'u64': return w.u64(big(v, where));
      case 'i64': return w.i64(big(v, where));
      case 'int': return w.int(typeof v === 'bigint' ? v : num(v, where));
      case 'f64': return w.f64(num(v, where));
      case 'bool': return w.bool(Boolean(v));
      case 'str': return w.str(typeof v === 'string' ? v : '');
      case 'bin': {
        const b = (v as Uint8Array | null | undefined) ?? new Uint8Array(0);
        return b.length === 0 && f?.nilIfEmpty ? w.nil() : w.bin(b);
      }
      case 'mac': return w.bin(fixed(v, 32, where));
      case 'uuid': return w.bin(fixed(v, 16, where));
      case 'time': return w.time((v as GoTime | undefined) ?? GO_ZERO_TIME);
    }
  }
  if ('array' in t) {
    const list = (v as unknown[] | null | undefined) ?? [];
    if (list.length === 0 && f?.nilIfEmpty) return w.nil();
    w.arrayHeader(list.length);
    for (const item of list) writeValue(w, t.array, item, undefined, where);
    return;
  }
  if ('struct' in t) return writeStruct(w, t.struct, (v ?? {}) as Record<string, unknown>);
  if (v === null || v === undefined) return w.nil();
  return writeValue(w, t.nullable, v, f, where);
}

/** Go's isEmptyValue for the types the format uses. */
function isEmpty(t: WireType, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof t === 'string') {
    switch (t) {
      case 'mac': case 'uuid': return false; // arrays of fixed non-zero length
      case 'time': return (v as GoTime).sec === GO_ZERO_TIME.sec && (v as GoTime).nsec === 0;
      case 'bin': return (v as Uint8Array).length === 0;
      case 'str': return v === '';
      case 'bool': return v === false;
      default: return v === 0 || v === 0n;
    }
  }
  if ('array' in t) return (v as unknown[]).length === 0;
  if ('struct' in t) {
    // A struct is empty only when every field is omitempty and empty (msgpack v5 types.go).
    const r = v as Record<string, unknown>;
    return t.struct.fields.every((f) => f.omitempty && isEmpty(f.type, r[f.prop]));
  }
  return false; // non-null pointer
}

function num(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined) return 0;
  throw new TypeError(`${where}: expected a number, got ${typeof v}`);
}

function big(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (v === undefined) return 0n;
  throw new TypeError(`${where}: expected a bigint, got ${typeof v}`);
}

function fixed(v: unknown, n: number, where: string): Uint8Array {
  if (v === undefined || v === null) return new Uint8Array(n);
  if (!(v instanceof Uint8Array) || v.length !== n) throw new TypeError(`${where}: expected ${n} bytes`);
  return v;
}

// ---------------------------------------------------------------- reading

const timeExt = new ExtensionCodec();
timeExt.register({
  type: -1,
  encode: () => null,
  decode: (data: Uint8Array): GoTime => decodedTime(decodeTimeBody(data)),
});

/** Timestamps produced by the extension decoder carry this brand, so a map can't pass for one. */
const TIME_BRAND = Symbol('GoTime');
function decodedTime(t: GoTime): GoTime {
  return Object.defineProperty({ ...t }, TIME_BRAND, { value: true, enumerable: false });
}

function decodeTimeBody(data: Uint8Array): GoTime {
  {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length === 4) return { sec: dv.getUint32(0), nsec: 0 };
    if (data.length === 8) {
      const x = dv.getBigUint64(0);
      return { sec: Number(x & 0x3ffffffffn), nsec: checkNsec(Number(x >> 34n)) };
    }
    if (data.length === 12) {
      const sec = dv.getBigInt64(4);
      if (sec > BigInt(Number.MAX_SAFE_INTEGER) || sec < BigInt(Number.MIN_SAFE_INTEGER)) throw corrupt('timestamp out of range');
      return { sec: Number(sec), nsec: checkNsec(dv.getUint32(0)) };
    }
    throw corrupt(`timestamp extension of ${data.length} bytes`);
  }
}

function checkNsec(n: number): number {
  if (n > 999_999_999) throw corrupt('timestamp nanoseconds out of range');
  return n;
}

/** Decodes one msgpack value generically (bounded by the input size), for schemas to map. */
export function decodeMsgpack(bytes: Uint8Array, what: string): unknown {
  const dec = decoderFor(bytes.length);
  try {
    return dec.decode(bytes);
  } catch (e) {
    if (e instanceof KlosetError) throw e;
    throw corrupt(`malformed msgpack in ${what}: ${e instanceof Error ? e.message : String(e)}`, undefined, e);
  }
}

/**
 * Decoders are reused (building one per call dominated B-tree reads), one per power-of-two
 * input size: no container can hold more items than there are bytes, so each decoder's limits
 * — at most twice the input length — reject hostile headers before anything is allocated.
 */
const decoders = new Map<number, Decoder>();

function decoderFor(length: number): Decoder {
  const limit = 2 ** Math.max(6, Math.ceil(Math.log2(Math.max(1, length))));
  let dec = decoders.get(limit);
  if (dec) return dec;
  dec = new Decoder({
    extensionCodec: timeExt,
    useBigInt64: true,
    maxStrLength: limit,
    maxBinLength: limit,
    maxArrayLength: limit,
    maxMapLength: limit,
    maxExtLength: limit,
  });
  decoders.set(limit, dec);
  return dec;
}

export function decodeStruct<V>(schema: Schema<V>, bytes: Uint8Array): V {
  const raw = decodeMsgpack(bytes, schema.name);
  // A whole object that is nil is damage, not an empty struct (nested nil structs are zero values).
  if (raw === null) throw corrupt(`${schema.name}: expected a map, got nil`);
  return readStruct(schema, raw, schema.name) as V;
}

function readStruct(schema: Schema<unknown>, input: unknown, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(input)) {
    // vmihailenco accepts a struct encoded as an array of its fields, in order;
    // extra trailing values are skipped, as Go does
    const list: unknown[] = input;
    schema.fields.forEach((f, i) => {
      out[f.prop] = i < list.length ? readValue(f.type, list[i], `${path}.${f.key}`) : zero(f.type);
    });
    return out;
  }
  const raw: unknown = input === null ? {} : input; // Go decodes nil into a struct value as its zero value
  if (raw === null || typeof raw !== 'object' || raw instanceof Uint8Array || TIME_BRAND in raw) {
    throw corrupt(`${path}: expected a map, got ${describe(raw)}`);
  }
  const map = raw as Record<string, unknown>;
  for (const f of schema.fields) {
    out[f.prop] = Object.hasOwn(map, f.key) ? readValue(f.type, map[f.key], `${path}.${f.key}`) : zero(f.type);
  }
  return out;
}

const INT_RANGES = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
} as const;

function readValue(t: WireType, v: unknown, path: string): unknown {
  if (typeof t === 'string') {
    switch (t) {
      case 'u8': case 'u16': case 'u32': {
        const n = toSafeInt(v, path);
        const [lo, hi] = INT_RANGES[t];
        if (n < lo || n > hi) throw corrupt(`${path}: ${n} out of range for ${t}`);
        return n;
      }
      case 'int': return toSafeInt(v, path);
      case 'u64': {
        const n = toBig(v, path);
        if (n < 0n || n > 0xffffffffffffffffn) throw corrupt(`${path}: out of range for u64`);
        return n;
      }
      case 'i64': {
        const n = toBig(v, path);
        if (n < -(2n ** 63n) || n >= 2n ** 63n) throw corrupt(`${path}: out of range for i64`);
        return n;
      }
      case 'f64':
        if (typeof v === 'number') return v;
        if (typeof v === 'bigint') return Number(v);
        if (v === null) return 0;
        throw corrupt(`${path}: expected a float, got ${describe(v)}`);
      case 'bool':
        if (typeof v === 'boolean') return v;
        if (v === null) return false;
        throw corrupt(`${path}: expected a bool, got ${describe(v)}`);
      case 'str':
        if (typeof v === 'string') return v;
        if (v === null) return '';
        throw corrupt(`${path}: expected a string, got ${describe(v)}`);
      case 'bin':
        if (v instanceof Uint8Array) return v;
        if (v === null) return new Uint8Array(0);
        throw corrupt(`${path}: expected bytes, got ${describe(v)}`);
      case 'mac': case 'uuid': {
        const n = t === 'mac' ? 32 : 16;
        if (v instanceof Uint8Array && v.length === n) return v;
        throw corrupt(`${path}: expected ${n} bytes, got ${describe(v)}`);
      }
      case 'time':
        if (v !== null && typeof v === 'object' && TIME_BRAND in v) return v;
        throw corrupt(`${path}: expected a timestamp, got ${describe(v)}`);
    }
  }
  if ('array' in t) {
    if (v === null) return [];
    if (!Array.isArray(v)) throw corrupt(`${path}: expected a list, got ${describe(v)}`);
    return v.map((item, i) => readValue(t.array, item, `${path}[${i}]`));
  }
  if ('struct' in t) return readStruct(t.struct, v, path);
  if (v === null) return null;
  return readValue(t.nullable, v, path);
}

function zero(t: WireType): unknown {
  if (typeof t === 'string') {
    switch (t) {
      case 'u64': case 'i64': return 0n;
      case 'str': return '';
      case 'bool': return false;
      case 'bin': return new Uint8Array(0);
      case 'mac': return new Uint8Array(32);
      case 'uuid': return new Uint8Array(16);
      case 'time': return GO_ZERO_TIME;
      default: return 0;
    }
  }
  if ('array' in t) return [];
  if ('struct' in t) return readStruct(t.struct, {}, t.struct.name);
  return null;
}

function toSafeInt(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(v);
  if (v === null) return 0;
  throw corrupt(`${path}: expected an integer, got ${describe(v)}`);
}

function toBig(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (v === null) return 0n;
  throw corrupt(`${path}: expected an integer, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return 'a list';
  return typeof v;
}

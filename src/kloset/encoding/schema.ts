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
import { GO_ZERO_TIME, type GoTime } from './go-time.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { readStructBytes } from './struct-reader.js';

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

/** One writer for every call: encoding is synchronous, and its buffer only grows. */
const shared = new MsgpackWriter(4096);

export function encodeStruct<V>(schema: Schema<V>, value: V): Uint8Array {
  shared.reset();
  writeStruct(shared, schema, value as Record<string, unknown>);
  return shared.finish();
}

function writeStruct(w: MsgpackWriter, schema: Schema<unknown>, v: Record<string, unknown>): void {
  const fields = schema.fields;
  let present = fields.length;
  for (const f of fields) if (f.omitempty && isEmpty(f.type, v[f.prop])) present--;
  w.mapHeader(present);
  for (const f of fields) {
    const value = v[f.prop];
    if (f.omitempty && isEmpty(f.type, value)) continue;
    w.str(f.key);
    writeValue(w, f.type, value, f, schema.name);
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

/**
 * Whether two values of a schema would be written as the same bytes: lets a writer reuse the
 * stored bytes (and MAC) of an unchanged struct instead of encoding and hashing it again.
 */
export function sameStruct<V>(schema: Schema<V>, a: V, b: V): boolean {
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  for (const f of schema.fields) {
    if (!sameValue(f.type, x[f.prop], y[f.prop], f)) return false;
  }
  return true;
}

function sameValue(t: WireType, a: unknown, b: unknown, f: FieldDef | undefined): boolean {
  if (f?.omitempty && isEmpty(t, a) && isEmpty(t, b)) return true;
  if (typeof t === 'string') {
    switch (t) {
      case 'u64': case 'i64': return big(a, '') === big(b, '');
      case 'u8': case 'u16': case 'u32': case 'f64': return num(a, '') === num(b, '');
      case 'int': return typeof a === typeof b ? a === b : big(a, '') === big(b, '');
      case 'bool': return Boolean(a) === Boolean(b);
      case 'str': return (a ?? '') === (b ?? '');
      case 'bin': case 'mac': case 'uuid': return sameBytes(a as Uint8Array | null | undefined, b as Uint8Array | null | undefined);
      case 'time': {
        const p = (a as GoTime | undefined) ?? GO_ZERO_TIME, q = (b as GoTime | undefined) ?? GO_ZERO_TIME;
        return p.sec === q.sec && p.nsec === q.nsec;
      }
    }
  }
  if ('array' in t) {
    const p = (a as unknown[] | null | undefined) ?? [], q = (b as unknown[] | null | undefined) ?? [];
    if (p.length !== q.length) return false;
    for (let i = 0; i < p.length; i++) if (!sameValue(t.array, p[i], q[i], undefined)) return false;
    return true;
  }
  if ('struct' in t) return sameStruct(t.struct, (a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>);
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  return sameValue(t.nullable, a, b, f);
}

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  const p = a ?? EMPTY, q = b ?? EMPTY;
  if (p.length !== q.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return false;
  return true;
}

const EMPTY = new Uint8Array(0);

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

/** Reads a struct from its msgpack bytes (see struct-reader.ts for Go's rules it follows). */
export function decodeStruct<V>(schema: Schema<V>, bytes: Uint8Array): V {
  return readStructBytes(schema, bytes);
}

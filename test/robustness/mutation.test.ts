/**
 * Bad-input robustness: every decoder checks lengths before it allocates, and truncated,
 * bit-flipped or hostile input of each kind (wrapper, CONFIG, msgpack, encrypted stream, LZ4 /
 * ZSTD frame, blob pipeline) gives a typed KlosetError (INTEGRITY, CORRUPT or AUTH) — never a
 * crash, a hang or a huge allocation.
 *
 * Method: build a few valid encodings per decoder, mutate them at random with a seeded PRNG
 * (truncate, flip 1–3 bits, overwrite / insert / delete a byte, set a length field to a huge
 * value, append garbage) and check every call. A call may
 *   (a) return a result only when the mutated input is still valid for that layer: for layers
 *       with a MAC / tag / checksum the result must equal the original; for the unauthenticated
 *       msgpack layers the result must be a well-formed value (it re-encodes and decodes to itself,
 *       string contents compared as UTF-8 carries them);
 *   (b) throw a KlosetError whose code is in the layer's `allowed` set.
 * Anything else — TypeError, RangeError (including allocation failures), a native module's own
 * error, a code outside the set, a call slower than SLOW_MS, or a peak-RSS jump over
 * MAX_RSS_GROWTH during a batch — is collected as a failure and reported with the decoder, the
 * seed, the case index, the input and the mutation, so it reproduces:
 *
 *   KLOSET_MUTATION_SEED=0x1234 npx vitest run test/robustness/mutation.test.ts
 *
 * (KLOSET_MUTATION_SCALE=10 multiplies every case count for a longer local run; the 60 s
 * whole-file check is meant for the normal run.)
 *
 * UNSUPPORTED is accepted from peekConfigFile/openConfigFile only when it is justified by the
 * mutated bytes: the wrapper version became newer than CONFIG_VERSION, the hashing algorithm name
 * is no longer BLAKE3/SHA256, or (openConfigFile only) the KDF name/parameters changed to values
 * kdf.ts refuses (argon2id time/memory/threads/keyLen out of its bounds, unknown KDF). From the
 * LZ4 decoder it is accepted only for a frame whose header checksum is still right (a real frame
 * using linked blocks or a dictionary); a damaged header is CORRUPT. KDF parameters that a mutation
 * made expensive but kdf.ts still accepts (up to 1 GiB × 64 passes) are not run: they are counted
 * as "skipped (expensive KDF …)" in the summary (see guardedDeriveKey).
 *
 * Accepted format limitation: an encrypted object cut exactly at a 64 KiB record boundary (down
 * to its 40-byte wrapped-subkey prefix) decrypts to a shorter plaintext — the format has no
 * record count or final-record flag. `decrypt` and `BlobCodec.decode` cannot see it; the read
 * path `BlobCodec.decodeVerified` does (INTEGRITY), and that is asserted below.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { createXXHash32, xxhash32 } from 'hash-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../support/test-helpers.js';
import { KlosetError, type ErrorCode } from '../../src/kloset/base/errors.js';
import { lz4Codec } from '../../src/kloset/compression/node/lz4.js';
import { zstdCodec } from '../../src/kloset/compression/node/zstd.js';
import { deriveKey } from '../../src/kloset/crypto/kdf.js';
import type { KdfParams } from '../../src/kloset/crypto/kdf-params.js';
import { nodeCipherSuite } from '../../src/kloset/crypto/node/suite.js';
import { decrypt, encrypt } from '../../src/kloset/crypto/stream.js';
import { portableCipherSuite, type CipherSuite } from '../../src/kloset/crypto/suite.js';
import { decodeStruct, encodeStruct, type Schema } from '../../src/kloset/encoding/schema.js';
import { nodePrimitives } from '../../src/kloset/node/primitives.js';
import { BlobCodec } from '../../src/kloset/repository/blob-codec.js';
import { configurationSchema, type Configuration } from '../../src/kloset/repository/config.js';
import {
  CONFIG_VERSION,
  createConfiguration,
  encodeConfigFile,
  openConfigFile,
  peekConfigFile,
  type CreateOptions,
} from '../../src/kloset/repository/config-file.js';
import type { Primitives } from '../../src/kloset/repository/primitives.js';
import { ResourceType, unwrap, version, wrap, type ResourceTypeValue } from '../../src/kloset/repository/wrapper.js';
import { GoMode } from '../../src/kloset/snapshot/vfs/file-info.js';
import { entrySchema, VFS_ENTRY_VERSION, type Entry } from '../../src/kloset/snapshot/vfs/entry.js';

const FILE_START = performance.now();

// ------------------------------------------------------------------------------------ knobs

/** Base seed; every decoder and every case derives its own seed from it. */
const BASE_SEED = process.env.KLOSET_MUTATION_SEED ? Number(process.env.KLOSET_MUTATION_SEED) >>> 0 : 0x6b6c7374;
/** Case-count multiplier for longer local runs (KLOSET_MUTATION_SCALE=10); 1 in the normal run. */
const SCALE = Math.max(1, Number(process.env.KLOSET_MUTATION_SCALE ?? 1) || 1);
/** A single decode slower than this is a failure ("hang"). Generous for a loaded 2-core machine. */
const SLOW_MS = 1000;
/** Peak RSS growth allowed during one batch of cases (a huge allocation would exceed it). */
const MAX_RSS_GROWTH_MIB = 256;
/** Output bound passed to the bounded decoders. */
const MAX_SIZE = 1 << 20;

// ------------------------------------------------------------------------------------ PRNG


class Rng {
  private readonly f: () => number;
  constructor(readonly seed: number) {
    this.f = mulberry32(seed);
  }
  next(): number {
    return this.f();
  }
  int(n: number): number {
    return Math.floor(this.f() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const decoderSeed = (name: string) => {
  let h = BASE_SEED ^ 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
};
const caseSeed = (seed: number, i: number) => (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;

// ------------------------------------------------------------------------------------ mutations

/** A length (or size) field in a valid encoding that the "huge" mutation may rewrite. */
interface LengthField {
  name: string;
  at: number;
  apply(bytes: Uint8Array, value: number): Uint8Array;
}

interface Input {
  name: string;
  bytes: Uint8Array;
  fields: LengthField[];
}

interface Mutated {
  bytes: Uint8Array;
  desc: string;
}

const HUGE = [0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x10000000, 0x01000000, 0x00ffffff, 0x0001_0000];
const KINDS = ['truncate', 'flip', 'overwrite', 'insert', 'delete', 'huge', 'append'] as const;

function mutate(rng: Rng, src: Uint8Array, fields: readonly LengthField[]): Mutated {
  const len = src.length;
  let kind: (typeof KINDS)[number] = rng.pick(KINDS);
  if (len === 0 && kind !== 'insert' && kind !== 'huge') kind = 'append';
  switch (kind) {
    case 'truncate': {
      const n = rng.int(len);
      return { bytes: src.slice(0, n), desc: `truncate ${len}→${n}` };
    }
    case 'flip': {
      const out = src.slice();
      const k = 1 + rng.int(3);
      const where: string[] = [];
      for (let j = 0; j < k; j++) {
        const pos = rng.int(len);
        const bit = rng.int(8);
        out[pos]! ^= 1 << bit;
        where.push(`${pos}.${bit}`);
      }
      return { bytes: out, desc: `flip bits ${where.join(',')}` };
    }
    case 'overwrite': {
      const out = src.slice();
      const pos = rng.int(len);
      const v = rng.int(256);
      out[pos] = v;
      return { bytes: out, desc: `overwrite [${pos}] 0x${src[pos]!.toString(16)}→0x${v.toString(16)}` };
    }
    case 'insert': {
      const pos = rng.int(len + 1);
      const v = rng.int(256);
      const out = new Uint8Array(len + 1);
      out.set(src.subarray(0, pos), 0);
      out[pos] = v;
      out.set(src.subarray(pos), pos + 1);
      return { bytes: out, desc: `insert 0x${v.toString(16)} at ${pos}` };
    }
    case 'delete': {
      const pos = rng.int(len);
      const out = new Uint8Array(len - 1);
      out.set(src.subarray(0, pos), 0);
      out.set(src.subarray(pos + 1), pos);
      return { bytes: out, desc: `delete [${pos}]` };
    }
    case 'huge': {
      const value = rng.pick(HUGE);
      if (fields.length > 0 && rng.next() < 0.8) {
        const f = rng.pick(fields);
        return { bytes: f.apply(src, value), desc: `huge ${f.name}@${f.at} = ${hex32(value)}` };
      }
      // no known field (or by chance): four 0xff bytes at a random offset (clipped at the end)
      const pos = rng.int(Math.max(1, len));
      const out = src.slice();
      for (let j = pos; j < Math.min(len, pos + 4); j++) out[j] = 0xff;
      if (len === 0) return { bytes: new Uint8Array([0xff, 0xff, 0xff, 0xff]), desc: 'huge ff×4 into empty' };
      return { bytes: out, desc: `huge ff×4 at ${pos}` };
    }
    case 'append': {
      if (len > 0 && rng.next() < 0.2) {
        const out = new Uint8Array(len * 2);
        out.set(src, 0);
        out.set(src, len);
        return { bytes: out, desc: 'append a copy of itself' };
      }
      const g = rng.bytes(1 + rng.int(64));
      const out = new Uint8Array(len + g.length);
      out.set(src, 0);
      out.set(g, len);
      return { bytes: out, desc: `append ${g.length} random bytes` };
    }
  }
}

/** In-place little-endian u32 field. */
function u32leField(name: string, at: number): LengthField {
  return {
    name,
    at,
    apply(bytes, value) {
      const out = bytes.slice();
      new DataView(out.buffer).setUint32(at, value >>> 0, true);
      return out;
    },
  };
}

/** The wrapper's u32 fields (type at 8, version at 12). */
const wrapperFields = (): LengthField[] => [u32leField('wrapper type', 8), u32leField('wrapper version', 12)];

/**
 * Every str/bin/array/map/ext header of a msgpack value, as a field that rewrites the header into
 * its 32-bit form with a huge length (keeping the following bytes), e.g. fixstr a3 → db ffffffff.
 */
function msgpackFields(bytes: Uint8Array, base = 0): LengthField[] {
  const fields: LengthField[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = (at: number, hdrLen: number, family: 'str' | 'bin' | 'array' | 'map' | 'ext', extType?: number) => {
    fields.push({
      name: `msgpack ${family} header`,
      at: base + at,
      apply(src, value) {
        const h = new Uint8Array(family === 'ext' ? 6 : 5);
        h[0] = { str: 0xdb, bin: 0xc6, array: 0xdd, map: 0xdf, ext: 0xc9 }[family];
        new DataView(h.buffer).setUint32(1, value >>> 0);
        if (family === 'ext') h[5] = extType! & 0xff;
        const p = base + at;
        const out = new Uint8Array(src.length - hdrLen + h.length);
        out.set(src.subarray(0, p), 0);
        out.set(h, p);
        out.set(src.subarray(p + hdrLen), p + h.length);
        return out;
      },
    });
  };
  const walk = (p: number): number => {
    const b = bytes[p]!;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return p + 1;
    if (b >= 0x80 && b <= 0x8f) return items(p, 1, 2 * (b & 0x0f), 'map');
    if (b >= 0x90 && b <= 0x9f) return items(p, 1, b & 0x0f, 'array');
    if (b >= 0xa0 && b <= 0xbf) return header(p, 1, 'str'), p + 1 + (b & 0x1f);
    switch (b) {
      case 0xc4: return header(p, 2, 'bin'), p + 2 + bytes[p + 1]!;
      case 0xc5: return header(p, 3, 'bin'), p + 3 + dv.getUint16(p + 1);
      case 0xc6: return header(p, 5, 'bin'), p + 5 + dv.getUint32(p + 1);
      case 0xc7: return header(p, 3, 'ext', dv.getInt8(p + 2)), p + 3 + bytes[p + 1]!;
      case 0xc8: return header(p, 4, 'ext', dv.getInt8(p + 3)), p + 4 + dv.getUint16(p + 1);
      case 0xc9: return header(p, 6, 'ext', dv.getInt8(p + 5)), p + 6 + dv.getUint32(p + 1);
      case 0xca: return p + 5;
      case 0xcb: return p + 9;
      case 0xcc: case 0xd0: return p + 2;
      case 0xcd: case 0xd1: return p + 3;
      case 0xce: case 0xd2: return p + 5;
      case 0xcf: case 0xd3: return p + 9;
      case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        return header(p, 2, 'ext', dv.getInt8(p + 1)), p + 2 + (1 << (b - 0xd4));
      case 0xd9: return header(p, 2, 'str'), p + 2 + bytes[p + 1]!;
      case 0xda: return header(p, 3, 'str'), p + 3 + dv.getUint16(p + 1);
      case 0xdb: return header(p, 5, 'str'), p + 5 + dv.getUint32(p + 1);
      case 0xdc: return items(p, 3, dv.getUint16(p + 1), 'array');
      case 0xdd: return items(p, 5, dv.getUint32(p + 1), 'array');
      case 0xde: return items(p, 3, 2 * dv.getUint16(p + 1), 'map');
      case 0xdf: return items(p, 5, 2 * dv.getUint32(p + 1), 'map');
    }
    throw new Error(`msgpackFields: unexpected byte 0x${b.toString(16)} at ${p}`);
  };
  const items = (p: number, hdrLen: number, n: number, family: 'array' | 'map'): number => {
    header(p, hdrLen, family);
    let q = p + hdrLen;
    for (let i = 0; i < n; i++) q = walk(q);
    return q;
  };
  if (walk(0) !== bytes.length) throw new Error('msgpackFields: trailing bytes in a valid encoding');
  return fields;
}

/** LZ4 frame: the content-size field (if any) and every block-size word including the end mark. */
function lz4Fields(frame: Uint8Array): LengthField[] {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const flg = frame[4]!;
  const fields: LengthField[] = [];
  let pos = 6;
  if (flg & 0x08) {
    fields.push({
      name: 'lz4 content size',
      at: 6,
      apply(src, value) {
        const out = src.slice();
        const d = new DataView(out.buffer);
        d.setUint32(6, value >>> 0, true);
        d.setUint32(10, value >= 0x80000000 ? value >>> 0 : 0, true);
        return out;
      },
    });
    pos += 8;
  }
  if (flg & 0x01) pos += 4;
  pos += 1;
  for (;;) {
    const size = dv.getUint32(pos, true);
    fields.push(u32leField(size === 0 ? 'lz4 end mark' : 'lz4 block size', pos));
    if (size === 0) break;
    pos += 4 + (size & 0x7fffffff) + (flg & 0x10 ? 4 : 0);
  }
  return fields;
}

// ------------------------------------------------------------------------------------ runner

interface Failure {
  decoder: string;
  seed: string;
  case: number;
  input: string;
  mutation: string;
  problem: string;
  /** the mutated bytes, when short enough to paste */
  hex?: string;
}

interface Stats {
  decoder: string;
  seed: string;
  cases: number;
  outcomes: Record<string, number>;
  failures: Failure[];
  totalMs: number;
  slowestMs: number;
  slowestCase: string;
  rssGrowthMiB: number | null;
}

/** A result the harness chose not to compute (e.g. a KDF made expensive by the mutation). */
class Skip {
  constructor(readonly reason: string) {}
}

interface Layer<I extends Input> {
  decoder: string;
  inputs: readonly I[];
  count: number;
  /** allowed error codes */
  allowed: readonly ErrorCode[];
  run(input: I, mutated: Uint8Array): unknown;
  /** null when a successful result is acceptable, else the problem */
  checkResult(input: I, mutated: Uint8Array, result: unknown): string | null;
  /** for codes outside `allowed`: a justification (accepted, counted under it) or null (failure) */
  justify?(input: I, mutated: Uint8Array, err: KlosetError): string | null;
}

const allStats: Stats[] = [];

function readHwmKiB(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function resetHwm(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function runLayer<I extends Input>(layer: Layer<I>): Promise<Stats> {
  const seed = decoderSeed(layer.decoder);
  const stats: Stats = {
    decoder: layer.decoder, seed: hex32(seed), cases: 0, outcomes: {}, failures: [],
    totalMs: 0, slowestMs: 0, slowestCase: '', rssGrowthMiB: null,
  };
  const count = (k: string) => (stats.outcomes[k] = (stats.outcomes[k] ?? 0) + 1);
  const hwmOk = resetHwm();
  const rss0 = process.memoryUsage.rss();
  const start = performance.now();
  const total = Math.round(layer.count * SCALE);
  for (let i = 0; i < total; i++) {
    const rng = new Rng(caseSeed(seed, i));
    const input = layer.inputs[i % layer.inputs.length]!;
    const m = mutate(rng, input.bytes, input.fields);
    const fail = (problem: string) =>
      stats.failures.push({
        decoder: layer.decoder, seed: stats.seed, case: i, input: input.name, mutation: m.desc, problem,
        ...(m.bytes.length <= 160 ? { hex: Buffer.from(m.bytes).toString('hex') } : {}),
      });
    const t0 = performance.now();
    try {
      const result = await layer.run(input, m.bytes);
      if (result instanceof Skip) {
        count(`skipped (${result.reason})`);
      } else {
        const problem = layer.checkResult(input, m.bytes, result);
        if (problem) fail(`returned a result for invalid input: ${problem}`);
        else count('ok');
      }
    } catch (e) {
      if (e instanceof KlosetError) {
        if (layer.allowed.includes(e.code)) count(e.code);
        else {
          const why = layer.justify?.(input, m.bytes, e) ?? null;
          if (why) count(`${e.code} (${why})`);
          else fail(`KlosetError ${e.code} not in [${layer.allowed.join(', ')}]: ${e.message}`);
        }
      } else {
        const name = e instanceof Error ? e.constructor.name : typeof e;
        fail(`threw ${name} instead of a KlosetError: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const ms = performance.now() - t0;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestCase = `case ${i} (${input.name}; ${m.desc})`;
    }
    if (ms > SLOW_MS) fail(`took ${ms.toFixed(0)} ms (limit ${SLOW_MS} ms)`);
    stats.cases++;
  }
  stats.totalMs = performance.now() - start;
  const hwm = readHwmKiB();
  if (hwmOk && hwm !== null) {
    stats.rssGrowthMiB = Math.max(0, hwm * 1024 - rss0) / 2 ** 20;
    if (stats.rssGrowthMiB > MAX_RSS_GROWTH_MIB) {
      stats.failures.push({
        decoder: layer.decoder, seed: stats.seed, case: -1, input: '(batch)', mutation: '(all)',
        problem: `peak RSS grew by ${stats.rssGrowthMiB.toFixed(0)} MiB during the batch (limit ${MAX_RSS_GROWTH_MIB})`,
      });
    }
  }
  allStats.push(stats);
  return stats;
}

function summary(s: Stats): string {
  const outcomes = Object.entries(s.outcomes).map(([k, v]) => `${k}=${v}`).join(' ');
  return (
    `${s.decoder}: ${s.cases} cases (seed ${s.seed}) in ${s.totalMs.toFixed(0)} ms; ${outcomes}; ` +
    `slowest ${s.slowestMs.toFixed(1)} ms; peak RSS +${s.rssGrowthMiB?.toFixed(0) ?? '?'} MiB; failures ${s.failures.length}`
  );
}

function expectClean(s: Stats, minCases: number): void {
  console.log(summary(s));
  expect(s.cases).toBeGreaterThanOrEqual(minCases);
  // Failures carry decoder / seed / case / mutation / problem: the assertion diff is the report.
  expect(s.failures.slice(0, 20), `${s.failures.length} failure(s) in ${s.decoder}; ${summary(s)}`).toEqual([]);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function bytesProblem(expected: Uint8Array, got: unknown): string | null {
  if (!(got instanceof Uint8Array)) return `result is not bytes (${typeof got})`;
  if (equalBytes(expected, got)) return null;
  return `result differs from the original (${got.length} bytes, expected ${expected.length})`;
}

/**
 * A decoded struct is well formed when it re-encodes and decodes back to itself. String contents
 * are compared as UTF-8 would carry them: a mutation inside a string value (the brief's example of
 * a still-valid input) can leave invalid UTF-8, which decodes to U+FFFD or a lone surrogate and
 * re-encodes as U+FFFD — lossy, but not a decoder failure at this layer.
 */
function roundTripProblem<V>(schema: Schema<V>, value: V): string | null {
  let again: V;
  try {
    again = decodeStruct(schema, encodeStruct(schema, value));
  } catch (e) {
    return `decoded value does not re-encode: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
  }
  return isDeepStrictEqual(wellFormedStrings(again), wellFormedStrings(value)) ? null : 'decoded value changes when re-encoded';
}

function wellFormedStrings(v: unknown): unknown {
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('utf8');
  if (Array.isArray(v)) return v.map(wellFormedStrings);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wellFormedStrings(x)]));
  }
  return v;
}

// ------------------------------------------------------------------------------------ fixtures

const PASSPHRASE = new TextEncoder().encode('correct horse battery staple');
const CHEAP_KDF: CreateOptions['kdf'] = {
  kdf: 'ARGON2ID',
  argon2id: { saltSize: 16, time: 1, memory: 64, threads: 1, keyLen: 32 },
  scrypt: null,
  pbkdf2: null,
};

/**
 * In-thread Argon2id (no worker per call). A mutation can raise the memory/time cost to values
 * kdf.ts still accepts (up to 1 GiB × 64 passes): those are not run — they are inherent to the
 * format (the KDF parameters are read before the MAC can be checked) and bounded by kdf.ts — and
 * are counted as "skipped (expensive KDF)". Out-of-bounds values are passed on, so kdf.ts's own
 * refusal (UNSUPPORTED) is exercised.
 */
const CHEAP_KIB_PASSES = 16 * 1024;
async function guardedDeriveKey(params: KdfParams, passphrase: Uint8Array): Promise<Uint8Array> {
  const a = params.argon2id;
  if (params.kdf === 'ARGON2ID' && a) {
    const inBounds =
      a.time >= 1 && a.time <= 64 && a.threads >= 1 && a.threads <= 255 &&
      a.memory >= 8 * a.threads && a.memory <= 1024 * 1024 && a.keyLen >= 4 && a.keyLen <= 1024 && params.salt.length >= 8;
    if (inBounds && a.memory * a.time > CHEAP_KIB_PASSES) {
      throw new Skip(`expensive KDF m=${a.memory} KiB t=${a.time}`);
    }
  }
  return deriveKey(params, passphrase);
}

function seededSuite(base: CipherSuite, rng: Rng): CipherSuite {
  return { ...base, random: (n) => rng.bytes(n) };
}

function seededPrims(rng: Rng): Primitives {
  return {
    ...nodePrimitives,
    cipher: seededSuite(nodeCipherSuite, rng),
    deriveKey: guardedDeriveKey,
    random: (n) => rng.bytes(n),
    now: () => Date.UTC(2024, 4, 6, 7, 8, 9, 123),
  };
}

interface ConfigInput extends Input {
  config: Configuration;
  key: Uint8Array | null;
  passphrase: Uint8Array | null;
  payload: Uint8Array;
}

const fixtureRng = new Rng(decoderSeed('fixtures'));
const prims = seededPrims(fixtureRng);

async function makeConfig(name: string, options: CreateOptions): Promise<ConfigInput> {
  const { config, key } = await createConfiguration(prims, options.plaintext ? null : PASSPHRASE, options);
  const bytes = await encodeConfigFile(prims, config, key);
  const payload = encodeStruct(configurationSchema, config);
  return {
    name,
    bytes,
    fields: [...wrapperFields(), ...msgpackFields(payload, 16)],
    config: peekConfigFile(bytes),
    key,
    passphrase: config.encryption ? PASSPHRASE : null,
    payload,
  };
}

const configInputs: ConfigInput[] = [
  await makeConfig('encrypted LZ4 BLAKE3', { kdf: CHEAP_KDF }),
  await makeConfig('encrypted ZSTD SHA256', { kdf: CHEAP_KDF, compression: 'ZSTD', hashing: 'SHA256', packfileMaxSize: 1n << 40n }),
  await makeConfig('plaintext uncompressed', { plaintext: true, noCompression: true }),
  await makeConfig('plaintext ZSTD', { plaintext: true, compression: 'ZSTD' }),
];

/** An Entry from a partial value: encode (missing fields become zero values) and decode back. */
function entry(partial: Record<string, unknown>): Entry {
  return decodeStruct(entrySchema, encodeStruct(entrySchema, partial as unknown as Entry));
}

const entries: Array<[string, Entry]> = [
  ['file entry', entry({
    version: VFS_ENTRY_VERSION,
    parentPath: '/home/user/docs',
    fileInfo: {
      name: 'report.pdf', size: 123456n, mode: 0o644, modTime: { sec: 1_700_000_000, nsec: 123_456_789 },
      dev: 2049n, ino: 1_234_567n, uid: 1000n, gid: 1000n, nlink: 1, username: 'user', groupname: 'staff', flags: 0,
    },
    summary: null,
    object: fixtureRng.bytes(32),
    contentType: 'application/pdf',
    entropy: 7.25,
    chunks: 3n,
    extendedAttributes: ['user.comment', 'user.origin'],
    classifications: [{ analyzer: 'mime', classes: ['document', 'pdf'], scores: [{ key: 'confidence', value: 0.93 }] }],
    customMetadata: [{ key: 'origin', value: fixtureRng.bytes(20) }],
    tags: ['important', 'q4'],
  })],
  ['directory entry with summary', entry({
    version: VFS_ENTRY_VERSION,
    parentPath: '/home/user',
    fileInfo: {
      name: 'docs', size: 4096n, mode: GoMode.dir | 0o755, modTime: { sec: 1_600_000_000, nsec: 0 },
      dev: 2049n, ino: 42n, uid: 1000n, gid: 1000n, nlink: 3, username: 'user', groupname: 'staff', flags: 0,
    },
    summary: {
      directory: { directories: 2n, files: 10n, children: 12n, size: 987_654n, avgSize: 98_765n, minEntropy: 0.5, maxEntropy: 7.9, mimeText: 4n, errors: 0n },
      below: { directories: 5n, files: 40n, size: 12_345_678n, maxModTime: 1_700_000_000_000_000_000n, hiEntropy: 3n, errors: 1n },
    },
  })],
  ['symlink entry (pre-1970 mtime)', entry({
    version: VFS_ENTRY_VERSION,
    parentPath: '/',
    fileInfo: {
      name: 'link', size: 9n, mode: GoMode.symlink | 0o777, modTime: { sec: -86_400 * 365, nsec: 5 },
      dev: 1n, ino: 7n, uid: 0n, gid: 0n, nlink: 1, username: 'root', groupname: 'root', flags: 0,
    },
    summary: null,
    symlinkTarget: '../target/of/the/link',
    alternateDataStreams: ['stream:a'],
    securityDescriptor: fixtureRng.bytes(12),
    fileAttributes: 0x20,
  })],
];

// ------------------------------------------------------------------------------------ tests

describe('mutation robustness (seeded; KLOSET_MUTATION_SEED overrides the base seed)', () => {
  afterAll(() => {
    console.log(
      `\nmutation robustness, base seed ${hex32(BASE_SEED)}:\n` + allStats.map((s) => '  ' + summary(s)).join('\n') +
      `\n  whole file so far: ${((performance.now() - FILE_START) / 1000).toFixed(1)} s`,
    );
  });

  it('wrapper: unwrap with a keyed BLAKE3 MAC never returns a different payload', async () => {
    const key = fixtureRng.bytes(32);
    const mac = await nodePrimitives.macs('BLAKE3', key);
    const legacy = (payload: Uint8Array) => {
      // the legacy "_PLAKAR_" magic, MAC recomputed: also a valid wrapper
      const w = wrap(ResourceType.STATE, version(1, 1, 0), payload, mac);
      w.set(new TextEncoder().encode('_PLAKAR_'), 0);
      w.set(mac.sum(w.subarray(0, w.length - 32)), w.length - 32);
      return w;
    };
    const make = (name: string, type: ResourceTypeValue, ver: number, payload: Uint8Array, bytes?: Uint8Array) => ({
      name, type, ver, payload, fields: wrapperFields(), bytes: bytes ?? wrap(type, ver, payload, mac),
    });
    const inputs = [
      make('CONFIG, empty payload', ResourceType.CONFIG, version(1, 0, 0), new Uint8Array(0)),
      make('STATE, 1 byte', ResourceType.STATE, version(1, 1, 0), new Uint8Array([0x42])),
      make('LOCK, 100 bytes', ResourceType.LOCK, version(1, 0, 0), fixtureRng.bytes(100)),
      make('PACKFILE, 5000 bytes', ResourceType.PACKFILE, version(1, 1, 0), fixtureRng.bytes(5000)),
    ];
    const legacyPayload = fixtureRng.bytes(64);
    inputs.push(make('STATE, legacy magic', ResourceType.STATE, version(1, 1, 0), legacyPayload, legacy(legacyPayload)));
    for (const i of inputs) expect(unwrap(i.bytes, i.type, mac).payload).toEqual(i.payload);

    const s = await runLayer({
      decoder: 'wrapper unwrap (keyed BLAKE3)',
      inputs,
      count: 2500,
      allowed: ['CORRUPT', 'INTEGRITY'],
      run: (i, m) => unwrap(m, i.type, mac),
      checkResult: (i, _m, r) => {
        const u = r as ReturnType<typeof unwrap>;
        if (u.type !== i.type || u.version !== i.ver) return `type/version changed to ${u.type}/${hex32(u.version)}`;
        return bytesProblem(i.payload, u.payload);
      },
    });
    expectClean(s, 2000);
  });

  it('CONFIG: peekConfigFile on mutated CONFIG is CORRUPT (UNSUPPORTED only when justified)', async () => {
    const s = await runLayer({
      decoder: 'CONFIG peekConfigFile',
      inputs: configInputs,
      count: 3000,
      allowed: ['CORRUPT'],
      run: (_i, m) => peekConfigFile(m),
      // no MAC here: any well-formed Configuration is an acceptable answer
      checkResult: (_i, _m, r) => roundTripProblem(configurationSchema, r as Configuration),
      justify: (i, m, e) => justifyConfigUnsupported(i, m, e, false),
    });
    expectClean(s, 2000);
  });

  it('CONFIG: openConfigFile (cheap Argon2id, in-thread) returns only the original CONFIG', async () => {
    for (const i of configInputs) {
      const opened = await openConfigFile(prims, i.bytes, i.passphrase);
      expect(opened.config).toEqual(i.config);
      expect(opened.key).toEqual(i.key);
    }
    const s = await runLayer({
      decoder: 'CONFIG openConfigFile',
      inputs: configInputs,
      count: 2000,
      allowed: ['CORRUPT', 'INTEGRITY', 'AUTH'],
      run: async (i, m) => {
        try {
          return await openConfigFile(prims, m, i.passphrase);
        } catch (e) {
          if (e instanceof Skip) return e;
          throw e;
        }
      },
      checkResult: (i, _m, r) => {
        const o = r as Awaited<ReturnType<typeof openConfigFile>>;
        if (!isDeepStrictEqual(o.config, i.config)) return 'opened a Configuration different from the original';
        if (!(o.key === null ? i.key === null : i.key !== null && equalBytes(o.key, i.key))) return 'derived a different key';
        return null;
      },
      justify: (i, m, e) => justifyConfigUnsupported(i, m, e, true),
    });
    expectClean(s, 2000);
  });

  it('CONFIG: Argon2id KeyLen 4–15 (inside kdf.ts bounds) gives a KlosetError, in-thread and in the worker', async () => {
    // Found by the openConfigFile run above at scale 10 (KLOSET_MUTATION_SEED=3
    // KLOSET_MUTATION_SCALE=10, case 14544: "overwrite [521] 0x20→0xb", i.e. KeyLen 32 → 11).
    // The KDF runs before the MAC can be checked, so any damaged CONFIG reaches it.
    const unkeyed = await nodePrimitives.macs('BLAKE3', null);
    const failures: string[] = [];
    for (const keyLen of [4, 11, 15]) {
      const cfg = decodeStruct(configurationSchema, configInputs[0]!.payload);
      cfg.encryption!.kdfParams.argon2id!.keyLen = keyLen;
      const bytes = wrap(ResourceType.CONFIG, CONFIG_VERSION, encodeStruct(configurationSchema, cfg), unkeyed);
      for (const [label, p] of [['in-thread kdf.ts deriveKey', prims], ['kdf-worker (nodePrimitives)', nodePrimitives]] as const) {
        try {
          await openConfigFile(p, bytes, PASSPHRASE);
          failures.push(`${label}, KeyLen ${keyLen}: opened`);
        } catch (e) {
          if (!(e instanceof KlosetError && ['CORRUPT', 'AUTH', 'UNSUPPORTED'].includes(e.code))) {
            failures.push(`${label}, KeyLen ${keyLen}: threw ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  describe('msgpack decodeStruct', () => {
    it('Configuration schema: mutated encodings are CORRUPT or well-formed', async () => {
      const s = await runLayer({
        decoder: 'msgpack decodeStruct(Configuration)',
        inputs: configInputs.map((c) => ({ name: `${c.name} payload`, bytes: c.payload, fields: msgpackFields(c.payload) })),
        count: 2500,
        allowed: ['CORRUPT'],
        run: (_i, m) => decodeStruct(configurationSchema, m),
        checkResult: (_i, _m, r) => roundTripProblem(configurationSchema, r as Configuration),
      });
      expectClean(s, 2000);
    });

    it('VFS entry schema: mutated encodings are CORRUPT or well-formed', async () => {
      const inputs = entries.map(([name, e]) => {
        const bytes = encodeStruct(entrySchema, e);
        return { name, bytes, fields: msgpackFields(bytes) };
      });
      const s = await runLayer({
        decoder: 'msgpack decodeStruct(vfs.Entry)',
        inputs,
        count: 2500,
        allowed: ['CORRUPT'],
        run: (_i, m) => decodeStruct(entrySchema, m),
        checkResult: (_i, _m, r) => roundTripProblem(entrySchema, r as Entry),
      });
      expectClean(s, 2000);
    });

    it('hostile headers (32-bit lengths of 0xffffffff with almost no bytes, deep nesting) are CORRUPT, fast', async () => {
      const heads: Array<[string, number[]]> = [
        ['array16 0xffff', [0xdc, 0xff, 0xff]],
        ['array32 0xffffffff', [0xdd, 0xff, 0xff, 0xff, 0xff]],
        ['map16 0xffff', [0xde, 0xff, 0xff]],
        ['map32 0xffffffff', [0xdf, 0xff, 0xff, 0xff, 0xff]],
        ['str8 0xff', [0xd9, 0xff]],
        ['str16 0xffff', [0xda, 0xff, 0xff]],
        ['str32 0xffffffff', [0xdb, 0xff, 0xff, 0xff, 0xff]],
        ['bin8 0xff', [0xc4, 0xff]],
        ['bin16 0xffff', [0xc5, 0xff, 0xff]],
        ['bin32 0xffffffff', [0xc6, 0xff, 0xff, 0xff, 0xff]],
        ['ext32 0xffffffff type -1', [0xc9, 0xff, 0xff, 0xff, 0xff, 0xff]],
        ['ext32 0xffffffff type 5', [0xc9, 0xff, 0xff, 0xff, 0xff, 0x05]],
        ['array32 0x7fffffff', [0xdd, 0x7f, 0xff, 0xff, 0xff]],
        ['map32 0x80000000', [0xdf, 0x80, 0x00, 0x00, 0x00]],
      ];
      const enc = (s: string) => [0xa0 | s.length, ...new TextEncoder().encode(s)];
      const cases: Array<[string, Uint8Array]> = [];
      for (const [name, h] of heads) {
        for (const tail of [0, 1, 8]) {
          const filler = Array.from({ length: tail }, () => 0x00);
          cases.push([`top-level ${name} +${tail}`, new Uint8Array([...h, ...filler])]);
          // inside a map, where a struct field is expected
          cases.push([`{Timestamp: ${name}} +${tail}`, new Uint8Array([0x81, ...enc('Timestamp'), ...h, ...filler])]);
          cases.push([`{Encryption:{KDFParams:{Salt: ${name}}}} +${tail}`, new Uint8Array([
            0x81, ...enc('Encryption'), 0x81, ...enc('KDFParams'), 0x81, ...enc('Salt'), ...h, ...filler,
          ])]);
          cases.push([`{file_info:{name: ${name}}} +${tail}`, new Uint8Array([0x81, ...enc('file_info'), 0x81, ...enc('name'), ...h, ...filler])]);
        }
      }
      // a list of hostile lists: every level claims 4 G items
      const nested = new Uint8Array(5 * 1000);
      for (let i = 0; i < 1000; i++) nested.set([0xdd, 0xff, 0xff, 0xff, 0xff], i * 5);
      cases.push(['1000 nested array32 0xffffffff', nested]);
      // valid-looking but 100k levels deep (one-element arrays / maps)
      const deepArrays = new Uint8Array(100_001).fill(0x91);
      deepArrays[100_000] = 0xc0;
      cases.push(['100k nested fixarray(1)', deepArrays]);
      const deepMaps = new Uint8Array(3 * 50_000 + 1);
      for (let i = 0; i < 50_000; i++) deepMaps.set([0x81, 0xa1, 0x61], i * 3);
      deepMaps[150_000] = 0xc0;
      cases.push(['50k nested {a: …}', deepMaps]);

      // Deeply nested but well-formed values may decode (unknown keys are skipped, like Go's
      // decoder): for those only a crash or slowness is a failure.
      const mayDecode = new Set(['100k nested fixarray(1)', '50k nested {a: …}']);
      const unkeyed = await nodePrimitives.macs('BLAKE3', null);
      const failures: string[] = [];
      let n = 0;
      for (const [name, bytes] of cases) {
        const targets: Array<[string, () => unknown]> = [
          ['decodeStruct(Configuration)', () => decodeStruct(configurationSchema, bytes)],
          ['decodeStruct(vfs.Entry)', () => decodeStruct(entrySchema, bytes)],
        ];
        if (bytes.length <= 32 * 1024) {
          targets.push(['peekConfigFile(wrapped)', () => peekConfigFile(wrap(ResourceType.CONFIG, CONFIG_VERSION, bytes, unkeyed))]);
        }
        for (const [target, f] of targets) {
          n++;
          const t0 = performance.now();
          let outcome: string;
          try {
            f();
            outcome = 'returned a result';
          } catch (e) {
            outcome = e instanceof KlosetError ? e.code : `${e instanceof Error ? e.constructor.name : typeof e}: ${e instanceof Error ? e.message : String(e)}`;
          }
          const ms = performance.now() - t0;
          if (outcome !== 'CORRUPT' && !(mayDecode.has(name) && outcome === 'returned a result')) failures.push(`${target} on ${name}: ${outcome}`);
          if (ms > 200) failures.push(`${target} on ${name}: took ${ms.toFixed(0)} ms`);
        }
      }
      console.log(`msgpack hostile headers: ${n} cases, failures ${failures.length}`);
      expect(n).toBeGreaterThan(150);
      expect(failures).toEqual([]);
    });
  });

  describe('encrypted stream', () => {
    const key = fixtureRng.bytes(32);
    const streamRng = new Rng(decoderSeed('stream fixtures'));
    const sizes = [0, 1, 100, 65536, 65537, 200_000];
    const make = (suite: CipherSuite, size: number) => {
      const plain = size === 200_000 ? new Uint8Array(size).map((_, i) => i % 251) : streamRng.bytes(size);
      return { name: `${size}-byte object`, plain, bytes: encrypt(seededSuite(suite, streamRng), key, plain), fields: [] as LengthField[] };
    };

    it('decrypt (node suite): AUTH or CORRUPT, never a wrong plaintext', async () => {
      const inputs = sizes.map((n) => make(nodeCipherSuite, n));
      for (const i of inputs) expect(equalBytes(decrypt(nodeCipherSuite, key, i.bytes), i.plain)).toBe(true);
      const s = await runLayer({
        decoder: 'decrypt (nodeCipherSuite)',
        inputs,
        count: 2400,
        allowed: ['AUTH', 'CORRUPT'],
        run: (_i, m) => decrypt(nodeCipherSuite, key, m),
        checkResult: (i, m, r) => annotateStream(i.bytes, m, bytesProblem(i.plain, r)),
      });
      expectClean(s, 2000);
    });

    it('decrypt (portable suite), a few cases: AUTH or CORRUPT, never a wrong plaintext', async () => {
      const inputs = [0, 1, 100, 65537].map((n) => make(portableCipherSuite, n));
      const s = await runLayer({
        decoder: 'decrypt (portableCipherSuite)',
        inputs,
        count: 80,
        allowed: ['AUTH', 'CORRUPT'],
        run: (_i, m) => decrypt(portableCipherSuite, key, m),
        checkResult: (i, m, r) => annotateStream(i.bytes, m, bytesProblem(i.plain, r)),
      });
      expectClean(s, 80);
    });

    it('record-aligned truncation/reordering: undetectable by decrypt alone (format limitation, documented)', () => {
      // The format seals each 65 564-byte record independently (random nonce, no index, no
      // final-record flag), so cutting at a record boundary, dropping or swapping whole records
      // gives a valid stream with a different plaintext. The cut at record 0 (only the 40-byte
      // wrapped subkey left → empty plaintext) is hit by the random runs above and accepted there;
      // later boundaries and swaps are not reachable at random, so they are shown here. Only the blob MAC over the plaintext (or a compression frame inside) can catch them.
      // This test pins the current behaviour so a change is noticed.
      const plain = streamRng.bytes(200_000);
      const ct = encrypt(nodeCipherSuite, key, plain);
      const rec = 65536 + 28;
      const cut = ct.subarray(0, 40 + 2 * rec);
      expect(decrypt(nodeCipherSuite, key, cut)).toEqual(plain.subarray(0, 2 * 65536));
      const swapped = ct.slice();
      swapped.set(ct.subarray(40 + rec, 40 + 2 * rec), 40);
      swapped.set(ct.subarray(40, 40 + rec), 40 + rec);
      const out = decrypt(nodeCipherSuite, key, swapped);
      expect(equalBytes(out, plain)).toBe(false);
      expect(out.subarray(0, 65536)).toEqual(plain.subarray(65536, 2 * 65536));
      // …but inside the blob pipeline the LZ4 frame's structure / checksum catches it
      const blob = lz4Codec.compress(streamRng.bytes(200_000));
      const enc = encrypt(nodeCipherSuite, key, blob);
      expect(enc.length).toBeGreaterThan(40 + 2 * rec);
      const cutBlob = decrypt(nodeCipherSuite, key, enc.subarray(0, 40 + 2 * rec));
      expect(() => lz4Codec.decompress(cutBlob, MAX_SIZE)).toThrow(KlosetError);
    });
  });

  describe('LZ4 frame', () => {
    const lz4Rng = new Rng(decoderSeed('lz4 fixtures'));

    it('lz4Codec.decompress: CORRUPT or INTEGRITY, a result only for the intact frame', async () => {
      const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(1600));
      const originals: Array<[string, Uint8Array, Uint8Array]> = [];
      const native = (name: string, data: Uint8Array) => originals.push([`lz4Codec frame: ${name}`, data, lz4Codec.compress(data)]);
      native('compressible 70 KB text', text);
      native('300 KB zeros', new Uint8Array(300_000));
      native('random 1000 B', lz4Rng.bytes(1000));
      native('random 100 KB', lz4Rng.bytes(100_000));
      native('empty', new Uint8Array(0));
      // hand-made frames exercising the optional header fields: 64 KiB blocks, content size,
      // block checksums, uncompressed blocks
      const r150 = lz4Rng.bytes(150_000);
      originals.push(['crafted: 64K blocks, content size, block+content checksums', r150,
        await craftLz4Frame(r150, { contentSize: true, blockChecksums: true, contentChecksum: true })]);
      const t10 = text.subarray(0, 10_000);
      originals.push(['crafted: 64K blocks, content size, content checksum', t10,
        await craftLz4Frame(t10, { contentSize: true, blockChecksums: false, contentChecksum: true })]);
      for (const [, data, frame] of originals) expect(equalBytes(lz4Codec.decompress(frame, MAX_SIZE), data)).toBe(true);
      const inputs = originals.map(([name, data, frame]) => ({ name, data, bytes: frame, fields: lz4Fields(frame) }));

      const s = await runLayer({
        decoder: 'lz4Codec.decompress',
        inputs,
        count: 2800,
        allowed: ['CORRUPT', 'INTEGRITY'],
        run: (_i, m) => lz4Codec.decompress(m, MAX_SIZE),
        justify: (_i, m, e) => justifyLz4Unsupported(m, e),
        checkResult: (i, m, r) => {
          // documented special case (lz4.ts): a zero-length input is the empty chunk
          if (m.length === 0) return r instanceof Uint8Array && r.length === 0 ? null : 'empty input did not give an empty result';
          return bytesProblem(i.data, r);
        },
      });
      expectClean(s, 2000);
    });

    it('hostile frames (4 MiB blocks ×thousands, huge sizes) vs a small maxSize: CORRUPT, fast, without a large allocation', async () => {
      // Only the public decoder is used. "Without allocating" is checked from the outside: a
      // decoder that sized its output from blocks × blockMax (20 GB here) or from the declared
      // content size would throw a RangeError, take long, or grow RSS.
      const frame = async (opts: { bd?: number; contentSize?: bigint; blocks: Uint8Array[] }) => {
        const flg = 0x40 | 0x20 | (opts.contentSize !== undefined ? 0x08 : 0);
        const desc = [flg, opts.bd ?? 0x70];
        if (opts.contentSize !== undefined) {
          const cs = new Uint8Array(8);
          new DataView(cs.buffer).setBigUint64(0, opts.contentSize, true);
          desc.push(...cs);
        }
        const hc = ((await xxh32(new Uint8Array(desc))) >>> 8) & 0xff;
        return concat([u32le(0x184d2204), new Uint8Array(desc), new Uint8Array([hc]), ...opts.blocks, u32le(0)]);
      };
      const tiny = (n: number, payload: number) => {
        const blocks: Uint8Array[] = [];
        for (let i = 0; i < n; i++) blocks.push(concat([u32le(0x80000000 | payload), new Uint8Array(payload).fill(0x61)]));
        return blocks;
      };
      // a compressed block that claims a long match: token 0x1f (1 literal, match 15+…) then
      // 255-extensions — a few KB that decode to ~4 MiB
      const matchBomb = (() => {
        const ext = new Uint8Array(16_400).fill(255);
        const body = concat([new Uint8Array([0x1f, 0x61, 0x01, 0x00]), ext, new Uint8Array([0x00, 0x00])]);
        return concat([u32le(body.length), body]);
      })();
      const cases: Array<[string, Uint8Array, number]> = [
        ['4 MiB blocks × 5000 one-byte blocks', await frame({ blocks: tiny(5000, 1) }), 1000],
        ['4 MiB blocks × 3 one-byte blocks, maxSize 0', await frame({ blocks: tiny(3, 1) }), 0],
        ['64 KiB blocks × 20000 one-byte blocks', await frame({ bd: 0x40, blocks: tiny(20_000, 1) }), 1000],
        ['content size 2^40', await frame({ contentSize: 1n << 40n, blocks: tiny(1, 1) }), MAX_SIZE],
        ['content size 2^64-1', await frame({ contentSize: 0xffffffffffffffffn, blocks: tiny(1, 1) }), MAX_SIZE],
        ['block claiming 0x7fffffff bytes', await frame({ blocks: [u32le(0x7fffffff), new Uint8Array(16)] }), MAX_SIZE],
        ['block claiming 0xffffffff bytes', await frame({ blocks: [u32le(0xffffffff), new Uint8Array(16)] }), MAX_SIZE],
        ['block claiming 4 MiB + 1', await frame({ blocks: [u32le((4 << 20) + 1), new Uint8Array(16)] }), MAX_SIZE],
        ['4 MiB zero block (16 KB compressed) vs maxSize 1000', lz4Codec.compress(new Uint8Array(4 << 20)), 1000],
        ['long-match block (~4 MiB from 16 KB) vs maxSize 1000', await frame({ blocks: [matchBomb] }), 1000],
      ];
      // Well-formed but empty: thousands of zero-length stored blocks hold 0 bytes, so either an
      // empty result or CORRUPT is fine — only speed and memory matter.
      const emptyBlocks = await frame({ blocks: tiny(5000, 0) });
      const failures: string[] = [];
      const check = (name: string, bytes: Uint8Array, maxSize: number, emptyOk: boolean) => {
        const rss0 = process.memoryUsage.rss();
        const t0 = performance.now();
        let outcome: string;
        try {
          const r = lz4Codec.decompress(bytes, maxSize);
          outcome = emptyOk && r.length === 0 ? 'CORRUPT' : `returned ${r.length} bytes`;
        } catch (e) {
          outcome = e instanceof KlosetError ? e.code : `${e instanceof Error ? e.constructor.name : typeof e}: ${String(e)}`;
        }
        const ms = performance.now() - t0;
        const grown = (process.memoryUsage.rss() - rss0) / 2 ** 20;
        if (outcome !== 'CORRUPT') failures.push(`${name}: ${outcome}`);
        if (ms > 100) failures.push(`${name}: took ${ms.toFixed(0)} ms`);
        if (grown > 64) failures.push(`${name}: RSS grew by ${grown.toFixed(0)} MiB`);
      };
      for (const [name, bytes, maxSize] of cases) check(name, bytes, maxSize, false);
      check('4 MiB blocks × 5000 empty stored blocks', emptyBlocks, 1000, true);
      console.log(`lz4 hostile frames: ${cases.length + 1} cases, failures ${failures.length}`);
      expect(failures).toEqual([]);
    });

    it('LZ4 FLG damage: a header failing its checksum is CORRUPT; UNSUPPORTED only for an intact header', async () => {
      const frame = lz4Codec.compress(new TextEncoder().encode('hello hello hello hello hello'));
      const failures: string[] = [];
      const outcome = (b: Uint8Array) => {
        try {
          lz4Codec.decompress(b, MAX_SIZE);
          return 'returned a result';
        } catch (e) {
          return e instanceof KlosetError ? e.code : `${e instanceof Error ? e.constructor.name : typeof e}: ${String(e)}`;
        }
      };
      for (const [name, bit] of [['block-independence bit cleared (linked blocks)', 0x20], ['dictionary-id bit set', 0x01]] as const) {
        const damaged = frame.slice();
        damaged[4]! ^= bit;
        const hcEnd = 6 + (damaged[4]! & 0x08 ? 8 : 0) + (damaged[4]! & 0x01 ? 4 : 0);
        const hcOk = ((await xxh32(damaged.subarray(4, hcEnd))) >>> 8 & 0xff) === damaged[hcEnd];
        const got = outcome(damaged);
        if (!hcOk && got !== 'CORRUPT') failures.push(`${name}, header checksum now wrong: ${got} (expected CORRUPT)`);
      }
      // the same feature in a frame whose header checksum is right: UNSUPPORTED (or CORRUPT) is fine
      const linked = frame.slice();
      linked[4]! &= ~0x20;
      const end = 6 + (linked[4]! & 0x08 ? 8 : 0);
      linked[end] = ((await xxh32(linked.subarray(4, end))) >>> 8) & 0xff;
      const got = outcome(linked);
      if (got !== 'UNSUPPORTED' && got !== 'CORRUPT') failures.push(`well-formed linked-block frame: ${got}`);
      expect(failures).toEqual([]);
    });

    it('ZSTD (brief): zstdCodec.decompress is CORRUPT or INTEGRITY, a result only for the intact frame', async () => {
      const originals: Array<[string, Uint8Array]> = [
        ['compressible 300 KB', new Uint8Array(300_000).map((_, i) => (i >> 8) & 0x0f)],
        ['random 5000 B', lz4Rng.bytes(5000)],
        ['empty', new Uint8Array(0)],
      ];
      const inputs = originals.map(([name, data]) => ({ name, data, bytes: zstdCodec.compress(data), fields: [] as LengthField[] }));
      for (const i of inputs) expect(equalBytes(zstdCodec.decompress(i.bytes, MAX_SIZE), i.data)).toBe(true);
      const s = await runLayer({
        decoder: 'zstdCodec.decompress',
        inputs,
        count: 900,
        allowed: ['CORRUPT', 'INTEGRITY'],
        run: (_i, m) => zstdCodec.decompress(m, MAX_SIZE),
        checkResult: (i, _m, r) => bytesProblem(i.data, r),
      });
      // hostile headers: a declared 2^40-byte content size, a 2 GiB window
      const fcs = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x00, 0x41]);
      const window = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 31 << 3, 0x09, 0x00, 0x00, 0x41]);
      for (const [name, b] of [['content size 2^40', fcs], ['window 2^41', window]] as const) {
        try {
          zstdCodec.decompress(b, MAX_SIZE);
          s.failures.push({ decoder: s.decoder, seed: '-', case: -1, input: name, mutation: 'hostile header', problem: 'returned a result' });
        } catch (e) {
          if (!(e instanceof KlosetError && e.code === 'CORRUPT')) {
            s.failures.push({ decoder: s.decoder, seed: '-', case: -1, input: name, mutation: 'hostile header', problem: String(e) });
          }
        }
      }
      expectClean(s, 900);
    });

    it('BlobCodec pipeline (encrypted + LZ4, brief): decode and decodeVerified are CORRUPT, INTEGRITY or AUTH, never a different blob', async () => {
      const cfg = configInputs[0]!;
      expect(cfg.config.compression?.algorithm).toBe('LZ4');
      const codec = new BlobCodec(prims, cfg.config, cfg.key);
      const datas: Array<[string, Uint8Array]> = [
        ['empty blob', new Uint8Array(0)],
        ['random 1000 B', lz4Rng.bytes(1000)],
        ['random 150 KB (3 records)', lz4Rng.bytes(150_000)],
        ['300 KB zeros', new Uint8Array(300_000)],
      ];
      const inputs = datas.map(([name, data]) => ({ name, data, bytes: codec.encode(data), fields: [] as LengthField[] }));
      for (const i of inputs) expect(equalBytes(codec.decode(i.bytes, MAX_SIZE), i.data)).toBe(true);
      const s = await runLayer({
        decoder: 'BlobCodec.decode (AES-GCM-SIV + LZ4)',
        inputs,
        count: 800,
        allowed: ['CORRUPT', 'INTEGRITY', 'AUTH'],
        run: (_i, m) => codec.decode(m, MAX_SIZE),
        checkResult: (i, m, r) => annotateStream(i.bytes, m, bytesProblem(i.data, r)),
      });
      // decodeVerified (the checked read path) also MACs the cleartext against its address
      const mac = await nodePrimitives.macs('BLAKE3', cfg.key);
      const addressed = inputs.map((i) => ({ ...i, address: mac.sum(i.data) }));
      const v = await runLayer({
        decoder: 'BlobCodec.decodeVerified (AES-GCM-SIV + LZ4 + BLAKE3)',
        inputs: addressed,
        count: 800,
        allowed: ['CORRUPT', 'INTEGRITY', 'AUTH'],
        run: (i, m) => codec.decodeVerified(m, MAX_SIZE, mac, i.address),
        checkResult: (i, _m, r) => bytesProblem(i.data, r),
      });
      // the cut-to-40-bytes case that `decode` accepts (see the failure reported for it) is
      // caught by the address check
      const zeros = addressed[3]!;
      let cut: string;
      try {
        codec.decodeVerified(zeros.bytes.subarray(0, 40), MAX_SIZE, mac, zeros.address);
        cut = 'returned a result';
      } catch (e) {
        cut = e instanceof KlosetError ? e.code : String(e);
      }
      expect(cut, 'decodeVerified of a blob cut to its 40-byte prefix').toBe('INTEGRITY');
      expectClean(v, 800);
      expectClean(s, 800);
    });
  });

  it('the whole file runs in under 60 s', () => {
    const s = (performance.now() - FILE_START) / 1000;
    console.log(`whole file: ${s.toFixed(1)} s`);
    expect(s).toBeLessThan(60);
  });
});

// ------------------------------------------------------------------------------------ helpers

/**
 * UNSUPPORTED from peek/open is fine only when the mutated bytes ask for something this engine
 * does not handle: a newer wrapper version, an unknown hashing algorithm, or (open) KDF
 * parameters kdf.ts refuses.
 */
function justifyConfigUnsupported(i: ConfigInput, m: Uint8Array, e: KlosetError, kdf: boolean): string | null {
  if (e.code !== 'UNSUPPORTED') return null;
  if (m.length >= 16 && new DataView(m.buffer, m.byteOffset).getUint32(12, true) > CONFIG_VERSION && /newer/.test(e.message)) {
    return 'newer CONFIG version';
  }
  let c: Configuration;
  try {
    c = decodeStruct(configurationSchema, m.subarray(16, m.length - 32));
  } catch {
    return null;
  }
  const alg = c.hashing.algorithm.toUpperCase();
  if (alg !== 'BLAKE3' && alg !== 'SHA256' && /hashing algorithm/.test(e.message)) return 'hashing algorithm renamed';
  const orig = i.config.encryption?.kdfParams;
  const now = c.encryption?.kdfParams;
  if (kdf && orig && now && /argon2id|KDF|scrypt|PBKDF2/i.test(e.message)) {
    if (now.kdf !== orig.kdf || !isDeepStrictEqual(now.argon2id, orig.argon2id) || !isDeepStrictEqual(now.scrypt, orig.scrypt) || !isDeepStrictEqual(now.pbkdf2, orig.pbkdf2)) {
      return 'KDF parameters changed';
    }
  }
  return null;
}

const xxh32Sync = await createXXHash32(0);

/**
 * UNSUPPORTED from the LZ4 decoder is fine only for a frame whose header is intact (its header
 * checksum matches) and asks for a feature the reader does not implement (linked blocks, a
 * dictionary): a header that fails its checksum is damaged, i.e. CORRUPT.
 */
function justifyLz4Unsupported(m: Uint8Array, e: KlosetError): string | null {
  if (e.code !== 'UNSUPPORTED' || m.length < 7) return null;
  const flg = m[4]!;
  const end = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
  if (m.length <= end) return null;
  xxh32Sync.init();
  xxh32Sync.update(m.subarray(4, end));
  const hc = (parseInt(xxh32Sync.digest('hex'), 16) >>> 8) & 0xff;
  return hc === m[end] ? 'frame feature not implemented, header checksum valid' : null;
}

/**
 * Accepts a different result only when the encrypted stream was cut exactly at a record boundary
 * (spec §3.2 framing: nothing marks the end, so this layer cannot see it; decodeVerified does).
 */
function annotateStream(original: Uint8Array, m: Uint8Array, problem: string | null): string | null {
  if (!problem) return null;
  const rec = 65536 + 28;
  if (m.length >= 40 && m.length < original.length && (m.length - 40) % rec === 0 && equalBytes(m, original.subarray(0, m.length))) {
    return null;
  }
  return problem;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function xxh32(data: Uint8Array): Promise<number> {
  return parseInt(await xxhash32(data, 0), 16) >>> 0;
}

/** An LZ4 frame of uncompressed 64 KiB blocks with the optional fields asked for (frame format 1.6). */
async function craftLz4Frame(data: Uint8Array, o: { contentSize: boolean; blockChecksums: boolean; contentChecksum: boolean }): Promise<Uint8Array> {
  const flg = 0x40 | 0x20 | (o.blockChecksums ? 0x10 : 0) | (o.contentSize ? 0x08 : 0) | (o.contentChecksum ? 0x04 : 0);
  const desc: number[] = [flg, 0x40];
  if (o.contentSize) {
    const cs = new Uint8Array(8);
    new DataView(cs.buffer).setBigUint64(0, BigInt(data.length), true);
    desc.push(...cs);
  }
  const hc = ((await xxh32(new Uint8Array(desc))) >>> 8) & 0xff;
  const parts: Uint8Array[] = [u32le(0x184d2204), new Uint8Array(desc), new Uint8Array([hc])];
  for (let p = 0; p < data.length; p += 65536) {
    const block = data.subarray(p, Math.min(data.length, p + 65536));
    parts.push(u32le(0x80000000 | block.length), block);
    if (o.blockChecksums) parts.push(u32le(await xxh32(block)));
  }
  parts.push(u32le(0));
  if (o.contentChecksum) parts.push(u32le(await xxh32(data)));
  return concat(parts);
}

/**
 * Loads the native blob codec (native/codec: object encryption on libgcrypt, LZ4 frames on
 * liblz4, a Node-API addon that `npm run build:native` — run by scripts/setup.sh — builds
 * against the system libraries). It is optional: without it (another platform, libgcrypt older
 * than 1.10, no build) the engine keeps its portable WebAssembly and node:crypto paths, and
 * `nativeCodecProblem()` says why. KLOSET_NATIVE_CODEC=0 turns it off (benchmarks compare both
 * paths with one build); KLOSET_NATIVE_CODEC=/path/to/kloset_codec.node loads that file instead
 * (a bundled build, where the path relative to this module no longer holds).
 *
 * Every function works on caller-owned buffers; see native/codec/addon.c for the contracts.
 */
import { createRequire } from 'node:module';

export interface NativeCodec {
  sealObject(masterKey: Uint8Array, random: Uint8Array, plaintext: Uint8Array, chunkSize: number, out: Uint8Array): number;
  openObject(masterKey: Uint8Array, data: Uint8Array, chunkSize: number, out: Uint8Array): number;
  lz4FrameBound(length: number): number;
  lz4CompressFrame(input: Uint8Array, out: Uint8Array): number;
  /** 0, or [status, reason]: −1 corrupt, −2 checksum, −3 size, −4 trailing bytes, −5 truncated */
  lz4DecompressFrame(frame: Uint8Array, out: Uint8Array, skipChecksum: boolean): 0 | [number, string];
  /** Adds each byte value's count in `data` to counts[0..255]. */
  countBytes(data: Uint8Array, counts: Uint32Array): void;
  /**
   * lstat into nums (mode, nlink, uid, gid, mtime s, mtime ns) and big (dev, ino, size), and the
   * item's user.* xattr names (undefined: none); throws like Node's lstat. For the fs source
   * (connectors/fs/native-stat.ts); missing from builds older than it.
   */
  itemStat?(path: string, nums: Float64Array, big: BigUint64Array): string[] | undefined;
  /**
   * glibc's M_MMAP_THRESHOLD and M_ARENA_MAX through mallopt (≤ 0 leaves one alone) → 1 applied,
   * 0 not glibc, −1 refused. bin/process-tuning.js calls it before the CLI loads; missing from
   * builds older than it.
   */
  tuneMalloc?(mmapThreshold: number, arenaMax: number): number;
  /**
   * malloc_trim when more than `minFreeBytes` of the malloc heap are free → the free bytes
   * then, 0 when it did nothing, −1 not glibc. Missing from builds older than it.
   */
  trimFreeMemory?(minFreeBytes: number): number;
}

// src/kloset/base/node/ and dist/kloset/base/node/ are both four levels below the project root.
const ADDON = new URL('../../../../native/codec/build/Release/kloset_codec.node', import.meta.url);

let addon: NativeCodec | null | undefined;
let problem: string | undefined;

export function nativeCodec(): NativeCodec | null {
  if (addon === undefined) {
    addon = null;
    if (process.env.KLOSET_NATIVE_CODEC === '0') problem = 'turned off by KLOSET_NATIVE_CODEC=0';
    else {
      try {
        const path = process.env.KLOSET_NATIVE_CODEC?.endsWith('.node') ? process.env.KLOSET_NATIVE_CODEC : ADDON.pathname;
        addon = createRequire(import.meta.url)(path) as NativeCodec;
      } catch (e) {
        problem = `${(e as Error).message.split('\n')[0]} (run npm run build:native)`;
      }
    }
  }
  return addon;
}

/** Why the native codec is not in use, or undefined when it is. */
export function nativeCodecProblem(): string | undefined {
  return nativeCodec() ? undefined : problem;
}

/**
 * A per-thread buffer reused between calls (each thread has its own module instance), for
 * results the caller consumes at once: a compressed frame about to be encrypted, a decrypted
 * frame about to be decompressed. Reusing it spares a fresh allocation — and its page faults —
 * per blob.
 */
export class Scratch {
  private buf = new Uint8Array(0);

  /** A view of `n` bytes, valid until the next `take` on this scratch. */
  take(n: number): Uint8Array {
    if (this.buf.length < n) this.buf = new Uint8Array(Math.max(n, Math.min(2 * this.buf.length, 64 << 20)));
    return this.buf.subarray(0, n);
  }
}

/**
 * `n` uninitialised bytes as a plain Uint8Array (Buffer.allocUnsafe's memory without the Buffer
 * type, which callers compare and pass on as Uint8Array): output the native codec fills whole.
 */
export function uninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

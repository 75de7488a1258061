/**
 * FastCDC content-defined chunking, byte-exact with go-cdc-chunkers (spec §10), so our chunk
 * boundaries — and therefore dedup — match plakar's:
 *
 * - `fastcdc-v1.0.0` (plakar ≥ 1.1, default 512 KiB / 1 MiB / 8 MiB): masks computed from the
 *   normal size (bits+2 spaced bits before it, bits−2 after);
 * - `fastcdc` (CONFIG "FASTCDC", plakar 1.0, 64 KiB / 1 MiB / 4 MiB): fixed legacy masks, which
 *   v1.0.0 also uses when the sizes are exactly 2K/8K/64K.
 *
 * The 64-bit gear fingerprint loop runs in WebAssembly (i64; JS would need BigInt or two 32-bit
 * halves at a third of the speed). It restarts at 0 at `minSize` of every chunk and the byte
 * that matches the mask is not part of the chunk.
 */
import { unsupported } from '../base/errors.js';
import { CDC_DATA_OFFSET, FASTCDC_WASM_BASE64 } from './fastcdc-wasm.generated.js';
import { GEAR_HI, GEAR_LO } from './gear-table.js';

export interface ChunkerOptions {
  minSize: number;
  normalSize: number;
  maxSize: number;
}

export const FASTCDC_V1_DEFAULTS: ChunkerOptions = { minSize: 512 << 10, normalSize: 1 << 20, maxSize: 8 << 20 };
export const FASTCDC_LEGACY_DEFAULTS: ChunkerOptions = { minSize: 64 << 10, normalSize: 1 << 20, maxSize: 4 << 20 };

interface Masks { small: bigint; large: bigint }

const LEGACY: Masks = { small: 0x0003590703530000n, large: 0x0000d90003530000n };

/** Bit 63 − i·⌊64/k⌋ set for i < k (generateSpacedMask). */
export function spacedMask(k: number): bigint {
  const step = Math.floor(64 / k);
  let m = 0n;
  for (let i = 0; i < k; i++) m |= 1n << BigInt(63 - i * step);
  return m;
}

/** A mask no fingerprint but 0 passes: hashing without looking for a boundary. */
const ALL_BITS = (1n << 64n) - 1n;

/** Bytes hashed per kernel call (copied into WASM memory first). */
const WINDOW = 256 * 1024;

interface Kernel {
  mem: Uint8Array;
  reset(): void;
  scan(p: number, end: number, mask: bigint): number;
}

let shared: Kernel | undefined;

/** The WASM gear-hash kernel (scripts/build-wasm-kernels.ts), one per thread. */
function kernel(): Kernel {
  if (shared) return shared;
  const bin = Uint8Array.from(atob(FASTCDC_WASM_BASE64), (c) => c.charCodeAt(0));
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bin)).exports as unknown as {
    memory: WebAssembly.Memory; reset(): void; scan(p: number, end: number, mask: bigint): number;
  };
  ex.memory.grow(Math.ceil((CDC_DATA_OFFSET + WINDOW) / 65536));
  const mem = new Uint8Array(ex.memory.buffer);
  const gear = new DataView(ex.memory.buffer, 0, 2048);
  for (let i = 0; i < 256; i++) {
    gear.setUint32(i * 8, GEAR_LO[i]! >>> 0, true);
    gear.setUint32(i * 8 + 4, GEAR_HI[i]! >>> 0, true);
  }
  shared = { mem, reset: ex.reset, scan: ex.scan };
  return shared;
}

export class FastCdc {
  private readonly masks: Masks;

  constructor(readonly algorithm: string, readonly options: ChunkerOptions) {
    const { minSize, normalSize, maxSize } = options;
    if (!(minSize >= 64 && minSize < normalSize && normalSize < maxSize && maxSize <= 1 << 30)) {
      throw unsupported(`chunk sizes ${minSize}/${normalSize}/${maxSize} are not usable`);
    }
    const alg = algorithm.toLowerCase();
    const is2k8k64k = minSize === 2048 && normalSize === 8192 && maxSize === 65536;
    if (alg === 'fastcdc' || (alg === 'fastcdc-v1.0.0' && is2k8k64k)) {
      this.masks = LEGACY;
    } else if (alg === 'fastcdc-v1.0.0') {
      const bits = Math.floor(Math.log2(normalSize));
      this.masks = { small: spacedMask(bits + 2), large: spacedMask(bits - 2) };
    } else {
      throw unsupported(`unsupported chunking algorithm ${JSON.stringify(algorithm)}`);
    }
  }

  /**
   * Length of the next chunk of `data[offset, offset + available)`, where `available` is at
   * least `maxSize` unless the input ends there (go-cdc-chunkers' Algorithm(opts, data, n)).
   */
  cut(data: Uint8Array, offset: number, available: number): number {
    return this.boundary(data, offset, available, true, 0);
  }

  /**
   * The next chunk's length when it is known from `data[offset, offset + available)`: always
   * when `final` (the input ends there, or `available` ≥ maxSize), else only when a boundary
   * lies inside those bytes (−1 otherwise: more input is needed). A boundary found in a prefix
   * is the one the whole input has: the fingerprint at a byte depends only on the bytes before
   * it, and which mask applies only on the distance from the chunk's start (the one exception,
   * input ending before normalSize, is the `final` case). `scanned`: bytes after `offset`
   * already known to hold no boundary, so a growing buffer is not hashed again from the start.
   */
  private boundary(data: Uint8Array, offset: number, available: number, final: boolean, scanned: number): number {
    const { minSize, maxSize } = this.options;
    let normal = this.options.normalSize;
    let n = available;
    if (n >= maxSize) {
      n = maxSize;
      final = true;
    } else if (!final) {
      if (n <= minSize) return -1;
    } else {
      if (n <= minSize) return n;
      if (n <= normal) normal = n;
    }
    const k = kernel();
    const from = Math.max(minSize, Math.min(scanned, n));
    this.resume(k, data, offset + minSize, offset + from);
    const normalEnd = offset + normal;
    if (from < normal) {
      const found = this.scan(k, data, offset + from, offset + Math.min(normal, n), this.masks.small);
      if (found >= 0) return found - offset;
    }
    const found2 = this.scan(k, data, Math.max(normalEnd, offset + from), offset + n, this.masks.large);
    return found2 >= 0 ? found2 - offset : final ? n : -1;
  }

  /**
   * Sets the kernel's fingerprint to its value at `at` for a chunk whose hashing starts at
   * `start`: it shifts left one bit a byte, so only the last 64 bytes before `at` count.
   */
  private resume(k: Kernel, data: Uint8Array, start: number, at: number): void {
    k.reset();
    let p = Math.max(start, at - 64);
    if (p >= at) return;
    k.mem.set(data.subarray(p, at), CDC_DATA_OFFSET);
    const end = CDC_DATA_OFFSET + (at - p);
    // hash only: a mask that stops only on an all-zero fingerprint, and go on when it does
    for (let q = CDC_DATA_OFFSET; q < end;) q = k.scan(q, end, ALL_BITS) + 1;
  }

  /** Feeds data[from, to) to the kernel window by window; returns the cut position or −1. */
  private scan(k: Kernel, data: Uint8Array, from: number, to: number, mask: bigint): number {
    for (let p = from; p < to; p += WINDOW) {
      const len = Math.min(WINDOW, to - p);
      k.mem.set(data.subarray(p, p + len), CDC_DATA_OFFSET);
      const r = k.scan(CDC_DATA_OFFSET, CDC_DATA_OFFSET + len, mask);
      if (r < CDC_DATA_OFFSET + len) return p + (r - CDC_DATA_OFFSET);
    }
    return -1;
  }

  /** Chunk lengths of a whole buffer (an empty buffer has no chunks). */
  lengths(data: Uint8Array): number[] {
    const out: number[] = [];
    for (let o = 0; o < data.length;) {
      const len = this.cut(data, o, data.length - o);
      out.push(len);
      o += len;
    }
    return out;
  }

  /**
   * Buffers reused between calls: a backup chunks thousands of small files, a few at a time
   * (a fresh 1 MiB buffer per file cost more in allocation and GC than the chunking itself).
   */
  private readonly spares: Uint8Array[] = [];

  /**
   * Splits a stream into chunks. Chunks are fresh arrays the caller may keep (from `alloc` when
   * given). An empty stream yields no chunk. A chunk is cut as soon as its boundary is among
   * the bytes read, so the buffer holds one chunk and the piece being read (~2 MiB at the
   * default sizes) rather than maxSize ahead; it grows only for a longer stretch without a
   * boundary, to at most maxSize. `sizeHint` (the expected length, e.g. from stat) sizes a new
   * buffer. Concurrent calls each take their own buffer from a small pool.
   */
  async *chunks(source: AsyncIterable<Uint8Array>, sizeHint = Infinity, alloc?: (n: number) => Uint8Array): AsyncGenerator<Uint8Array> {
    const max = this.options.maxSize;
    let buf = this.takeBuffer(Math.min(max, INITIAL_BUFFER_CAP), sizeHint);
    /** A chunk copied out of the window, into memory from `alloc` when given (a recycling pool). */
    const copy = (from: number, len: number): Uint8Array => {
      if (!alloc) return buf.slice(from, from + len);
      const out = alloc(len);
      out.set(buf.subarray(from, from + len));
      return out;
    };
    /** buffered bytes: buf[start, end); the first `scanned` of them hold no boundary */
    let start = 0, end = 0, scanned = 0;
    let eof = false;
    let piece: Uint8Array = new Uint8Array(0);
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const have = end - start;
        // search what arrived since the last search (all of it when the input has ended)
        if (have > 0 && (eof || have > scanned)) {
          const len = this.boundary(buf, start, have, eof, scanned);
          if (len > 0) {
            yield copy(start, len);
            start += len;
            scanned = 0;
            if (start === end) start = end = 0;
            continue;
          }
          scanned = have;
        }
        if (eof) return;
        if (piece.length === 0) {
          const r = await it.next();
          if (r.done) eof = true;
          else piece = r.value;
          continue;
        }
        if (end === buf.length) {
          if (start > 0) {
            buf.copyWithin(0, start, end);
            end -= start;
            start = 0;
          } else {
            const grown = new Uint8Array(Math.min(max, buf.length * 2));
            grown.set(buf.subarray(0, end));
            buf = grown;
          }
        }
        // never more than maxSize buffered: a chunk can always be cut from that many
        const take = Math.min(piece.length, buf.length - end, max - have);
        buf.set(piece.subarray(0, take), end);
        end += take;
        piece = piece.subarray(take);
      }
    } finally {
      if (this.spares.length < MAX_SPARES) this.spares.push(buf);
      // a consumer that stopped early (an error, a cancelled backup): the source releases what
      // it holds (a file's handle) now rather than when the collector finds it
      if (!eof && it.return) await it.return().catch(() => undefined);
    }
  }

  /**
   * A buffer for a stream of about `sizeHint` bytes, at most `cap` (maxSize) long at first: with
   * maxSize bytes buffered a chunk can always be cut, and the loop then moves the rest down
   * instead of growing the buffer (starting at 2 × maxSize cost 8 MiB more per large file in
   * flight: ~60 MiB of a backup's peak memory).
   */
  private takeBuffer(cap: number, sizeHint: number): Uint8Array {
    const want = Math.min(cap, Math.max(MIN_BUFFER, Number.isFinite(sizeHint) ? sizeHint + 1 : 1 << 20));
    // the smallest spare that holds `want`, else the largest (it grows as the data needs)
    let best = -1;
    for (let i = 0; i < this.spares.length; i++) {
      const len = this.spares[i]!.length;
      if (best < 0) { best = i; continue; }
      const bestLen = this.spares[best]!.length;
      if (bestLen >= want ? len >= want && len < bestLen : len > bestLen) best = i;
    }
    return best >= 0 ? this.spares.splice(best, 1)[0]! : new Uint8Array(want);
  }
}

/** Spare buffers kept (the backup reads a few files at a time). */
const MAX_SPARES = 4;
/** Smallest buffer allocated (a larger one is taken when the data needs it). */
const MIN_BUFFER = 64 * 1024;
/**
 * Largest buffer a stream starts with: a chunk of the default sizes is 0.5–8 MiB, seldom over
 * 3 MiB (the boundary mask after normalSize passes one position in 256 Ki on random data), and
 * the buffer also holds the rest of the piece being read (1 MiB from a file).
 */
const INITIAL_BUFFER_CAP = 4 << 20;

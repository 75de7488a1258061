/**
 * Compression seam (spec §4): every blob, packfile index/footer, state and lock is compressed
 * as one frame before encryption. CONFIG's `Compression.Algorithm` names the codec; a store
 * without compression has `Compression: nil`.
 */
import { unsupported } from '../base/errors.js';

export interface Codec {
  readonly algorithm: string;
  compress(data: Uint8Array): Uint8Array;
  /**
   * `compress` into a per-thread scratch buffer: the view is valid until the next call on this
   * thread, for a caller that consumes it at once (encrypts it into the stored blob). Optional.
   */
  compressTransient?(data: Uint8Array): Uint8Array;
  /**
   * Decompresses one frame. The frame is checked before any output is allocated: malformed,
   * truncated or trailing bytes are CORRUPT, a failed checksum is INTEGRITY, and output beyond
   * `maxSize` bytes is refused (CORRUPT), so hostile input cannot force a large allocation.
   * `contentVerified`: the caller checks the output against a MAC of its own right after (a
   * blob's address), so a frame's content checksum, weaker and redundant, may be skipped.
   * `alloc`: where the output goes (n bytes, contents undefined) for a codec that knows the
   * output's size before writing it — recycled memory instead of a fresh allocation; others
   * ignore it.
   */
  decompress(data: Uint8Array, maxSize: number, contentVerified?: boolean, alloc?: (n: number) => Uint8Array): Uint8Array;
}

export type CodecRegistry = ReadonlyMap<string, Codec>;

export function codecFor(registry: CodecRegistry, algorithm: string): Codec {
  const c = registry.get(algorithm.toUpperCase());
  if (!c) throw unsupported(`unsupported compression algorithm ${JSON.stringify(algorithm)}`);
  return c;
}

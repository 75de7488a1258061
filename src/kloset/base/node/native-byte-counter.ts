/**
 * Chunk-entropy byte counting on the native codec (native/codec/byte_counts.c): the encoder
 * thread counts every small file and a sample of every large chunk, and JavaScript counted at
 * ~600 MB/s (`npm run bench:primitives`, entropy lines).
 */
import type { ByteCounter } from '../entropy.js';
import { nativeCodec } from './native-codec.js';

/** The native counter, or undefined without the addon (or with one built before it had it). */
export function nativeByteCounter(): ByteCounter | undefined {
  const a = nativeCodec();
  if (!a || typeof a.countBytes !== 'function') return undefined;
  return (data, counts) => a.countBytes(data, counts);
}

/**
 * ZSTD frames through zstd-napi (libzstd via N-API, ~950 MB/s compress at level 1–3 here).
 * Decompression streams into bounded chunks with our own limit: the library's one-shot call
 * trusts the frame's declared content size for its allocation and returns a truncated frame's
 * partial output without an error.
 */
import { createRequire } from 'node:module';
import { corrupt, integrity } from '../../base/errors.js';
import type { Codec } from '../codec.js';

// Native CommonJS addon: loaded with require so every loader (Node ESM, tsx, vitest, a bundle)
// sees the same exports object; and only when a ZSTD store is used (plakar's default is LZ4),
// which saves every other command its ~30 ms of loading.
const require = createRequire(import.meta.url);
let lib: { binding: typeof import('zstd-napi/binding.js'); compress: typeof import('zstd-napi')['compress']; outChunk: number } | undefined;
function zstd() {
  if (!lib) {
    const binding = require('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
    lib = { binding, compress: (require('zstd-napi') as typeof import('zstd-napi')).compress, outChunk: binding.dStreamOutSize() };
  }
  return lib;
}
const ZSTD_MAGIC = 0xfd2fb528;

export const zstdCodec: Codec = {
  algorithm: 'ZSTD',
  compress: (data) => zstd().compress(data, { compressionLevel: 3, checksumFlag: true }),
  decompress(data, maxSize) {
    if (data.length < 4 || new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true) !== ZSTD_MAGIC) {
      throw corrupt('not a ZSTD frame (bad magic)');
    }
    const { binding, outChunk } = zstd();
    const declared = safe(() => binding.getFrameContentSize(data));
    if (declared !== null && declared !== undefined && declared > maxSize) {
      throw corrupt(`ZSTD frame declares ${declared} bytes, over the ${maxSize}-byte limit`);
    }
    const dctx = new binding.DCtx();
    if (typeof declared === 'number') {
      // Fast path: the frame states its size (ours always do), which is now known to be in bounds.
      // The frame must span the input exactly: a short one is truncated, a long one has trailing bytes.
      const span = safe(() => binding.findFrameCompressedSize(data));
      if (span === null) throw corrupt('ZSTD frame truncated');
      if (span !== data.length) throw corrupt(`ZSTD frame followed by ${data.length - span} unexpected bytes`);
      const out = Buffer.allocUnsafe(declared);
      let n: number;
      try {
        n = dctx.decompress(out, data);
      } catch (e) {
        throw decodeError(e);
      }
      if (n !== declared) throw corrupt(`ZSTD frame decoded to ${n} bytes, not the ${declared} it declares`);
      return out;
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    let input: Uint8Array = data;
    let remaining = 1;
    while (input.length > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(outChunk, maxSize - total + 1));
      let produced: number, consumed: number;
      try {
        [remaining, produced, consumed] = dctx.decompressStream(chunk, input);
      } catch (e) {
        throw decodeError(e);
      }
      total += produced;
      if (total > maxSize) throw corrupt(`ZSTD output exceeds the ${maxSize}-byte limit`);
      parts.push(chunk.subarray(0, produced));
      input = input.subarray(consumed);
      if (remaining === 0 && input.length > 0) throw corrupt('ZSTD frame followed by unexpected bytes');
      if (produced === 0 && consumed === 0) break;
    }
    if (remaining !== 0) throw corrupt('ZSTD frame truncated');
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  },
};

/** libzstd's error as a KlosetError: a failed checksum is INTEGRITY, anything else CORRUPT. */
function decodeError(e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  return /checksum/i.test(msg) ? integrity(`ZSTD checksum mismatch: ${msg}`) : corrupt(`ZSTD frame could not be decoded: ${msg}`);
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

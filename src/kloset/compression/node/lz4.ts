/**
 * LZ4 for the Node engine. With the native codec (`base/node/native-codec.ts`), liblz4's frame
 * API compresses (1.3–2× the WebAssembly path on the local benchmark's files, a better ratio on text)
 * and decodes every frame that declares its content size, straight into its output. Otherwise,
 * and for frames without a content size, the frame layer of `../lz4-frame.ts` runs over
 * lz4_flex compiled to WebAssembly (lz4-wasm-nodejs) and hash-wasm's xxHash32. Both write the
 * same frame shape (independent 4 MiB blocks, content size, content checksum) and read any
 * conformant frame with independent blocks (plakar's pierrec/lz4 and the lz4 tool write those).
 */
import { createRequire } from 'node:module';
import { corrupt, integrity } from '../../base/errors.js';
import { nativeCodec, Scratch, uninitialized, type NativeCodec } from '../../base/node/native-codec.js';
import type { Codec } from '../codec.js';
import { compressLz4Frame, decompressLz4Frame, LZ4_MAGIC, type Lz4BlockCodec } from '../lz4-frame.js';

// The package's Node build reads its .wasm with fs at load time, hence this node/ folder.
const require = createRequire(import.meta.url);
const lz4 = require('lz4-wasm-nodejs') as {
  compress(input: Uint8Array): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
};
// hash-wasm's xxHash32 alone: this module loads before the store unlocks, and the full bundle
// (~40 ms more) is loaded later, while the key derives, for the small-input BLAKE3 of node/mac.ts
const { createXXHash32 } = require('hash-wasm/dist/xxhash32.umd.min.js') as Pick<typeof import('hash-wasm'), 'createXXHash32'>;
const xxh = await createXXHash32(0);

export const lz4BlockCodec: Lz4BlockCodec = {
  // lz4-wasm frames blocks as u32le(decompressed size) ‖ block
  compressBlock: (data) => lz4.compress(data).subarray(4),
  decompressBlock(block, size) {
    const prefixed = new Uint8Array(block.length + 4);
    new DataView(prefixed.buffer).setUint32(0, size, true);
    prefixed.set(block, 4);
    return lz4.decompress(prefixed);
  },
  xxh32(data) {
    xxh.init();
    if (data instanceof Uint8Array) xxh.update(data);
    else for (const d of data) xxh.update(d);
    const d = xxh.digest('binary');
    return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  },
};

/** The LZ4 codec on the WebAssembly block codec only (what runs without the native codec). */
export const wasmLz4Codec: Codec = {
  algorithm: 'LZ4',
  compress: (data) => compressLz4Frame(lz4BlockCodec, data),
  decompress(data, maxSize, contentVerified) {
    // A zero-length input is how Go may store the empty chunk of an empty file (spec §17).
    if (data.length === 0) return new Uint8Array(0);
    return decompressLz4Frame(lz4BlockCodec, data, maxSize, contentVerified);
  },
};

/** The content size a frame's header declares, or null (not stated, or not a frame we decode natively: the JS path decides). */
function declaredSize(frame: Uint8Array): number | null {
  // version 01, independent blocks (linked ones are refused by the JS path), content size stated
  if (frame.length < 15 || (frame[4]! & 0xe8) !== 0x68) return null;
  const dv = new DataView(frame.buffer, frame.byteOffset, 14);
  if (dv.getUint32(0, true) !== LZ4_MAGIC) return null;
  const n = dv.getBigUint64(6, true);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : null;
}

function nativeLz4Codec(n: NativeCodec): Codec {
  const scratch = new Scratch();
  const compressTransient = (data: Uint8Array): Uint8Array => {
    const out = scratch.take(n.lz4FrameBound(data.length));
    const len = n.lz4CompressFrame(data, out);
    if (len === 0) throw new Error('liblz4 could not compress into its bound');
    return out.subarray(0, len);
  };
  return {
    algorithm: 'LZ4',
    compress: (data) => compressTransient(data).slice(),
    compressTransient,
    decompress(data, maxSize, contentVerified, alloc) {
      if (data.length === 0) return new Uint8Array(0);
      const size = declaredSize(data);
      if (size === null) return wasmLz4Codec.decompress(data, maxSize, contentVerified);
      if (size > maxSize) throw corrupt(`LZ4 frame holds ${size} bytes, over the ${maxSize}-byte limit`);
      const out = alloc ? alloc(size) : uninitialized(size);
      const r = n.lz4DecompressFrame(data, out, contentVerified === true);
      if (r === 0) return out;
      out.fill(0);
      if (r[0] === -2) throw integrity(`LZ4 content checksum mismatch (${r[1]})`);
      throw corrupt(`LZ4 frame could not be decoded: ${r[1]}`);
    },
  };
}

const native = nativeCodec();
export const lz4Codec: Codec = native ? nativeLz4Codec(native) : wasmLz4Codec;

/**
 * LZ4 for the Node engine: the frame layer of `../lz4-frame.ts` over lz4_flex compiled to
 * WebAssembly (lz4-wasm-nodejs: no native addon, so nothing to rebuild for Electron) and
 * hash-wasm's xxHash32. Readers accept any conformant frame with independent blocks (plakar's
 * pierrec/lz4 and the lz4 tool write those).
 */
import { createRequire } from 'node:module';
import { createXXHash32 } from 'hash-wasm';
import type { Codec } from '../codec.js';
import { compressLz4Frame, decompressLz4Frame, type Lz4BlockCodec } from '../lz4-frame.js';

// The package's Node build reads its .wasm with fs at load time, hence this node/ folder.
const lz4 = createRequire(import.meta.url)('lz4-wasm-nodejs') as {
  compress(input: Uint8Array): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
};
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

export const lz4Codec: Codec = {
  algorithm: 'LZ4',
  compress: (data) => compressLz4Frame(lz4BlockCodec, data),
  decompress(data, maxSize, contentVerified) {
    // A zero-length input is how Go may store the empty chunk of an empty file (spec §17).
    if (data.length === 0) return new Uint8Array(0);
    return decompressLz4Frame(lz4BlockCodec, data, maxSize, contentVerified);
  },
};

/**
 * LZ4 frame structure check (lz4 Frame Format 1.6.x), run before a native decoder sees the
 * bytes: it walks the frame header and every block header, so truncation, trailing garbage and
 * oversized blocks are reported precisely and the output size is bounded up front.
 */
import { corrupt } from '../base/errors.js';

export const LZ4_MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

export interface Lz4FrameShape {
  blockMax: number;
  blocks: number;
  /** from the frame header when present */
  contentSize: bigint | null;
  /** upper bound of the decompressed size */
  maxOutput: number;
}

export function checkLz4Frame(data: Uint8Array): Lz4FrameShape {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 7) throw corrupt(`LZ4 frame truncated (${data.length} bytes)`);
  if (dv.getUint32(0, true) !== LZ4_MAGIC) throw corrupt('not an LZ4 frame (bad magic)');
  const flg = data[4]!;
  const bd = data[5]!;
  if (flg >> 6 !== 1) throw corrupt(`LZ4 frame version ${flg >> 6} unsupported`);
  if (flg & 0x02 || bd & 0x8f) throw corrupt('LZ4 frame reserved bits set');
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
  if (!blockMax) throw corrupt('LZ4 frame block size id invalid');
  let pos = 6;
  let contentSize: bigint | null = null;
  if (hasContentSize) {
    if (data.length < pos + 8) throw corrupt('LZ4 frame header truncated');
    contentSize = dv.getBigUint64(pos, true);
    pos += 8;
  }
  if (hasDictId) pos += 4;
  pos += 1; // header checksum (verified by the decoder)
  let blocks = 0;
  for (;;) {
    if (data.length < pos + 4) throw corrupt('LZ4 frame truncated (missing block header or end mark)');
    const size = dv.getUint32(pos, true);
    pos += 4;
    if (size === 0) break;
    const len = size & 0x7fffffff;
    if (len > blockMax) throw corrupt(`LZ4 block of ${len} bytes exceeds the frame's ${blockMax}`);
    pos += len + (blockChecksum ? 4 : 0);
    if (pos > data.length) throw corrupt('LZ4 frame truncated inside a block');
    blocks++;
  }
  if (contentChecksum) pos += 4;
  if (pos > data.length) throw corrupt('LZ4 frame truncated (content checksum)');
  if (pos !== data.length) throw corrupt(`LZ4 frame followed by ${data.length - pos} unexpected bytes`);
  return { blockMax, blocks, contentSize, maxOutput: blocks * blockMax };
}

/** Refuses frames whose output could exceed `maxSize` (checked before decoding). */
export function boundLz4Output(shape: Lz4FrameShape, maxSize: number): void {
  if (shape.contentSize !== null && shape.contentSize > BigInt(maxSize)) {
    throw corrupt(`LZ4 frame declares ${shape.contentSize} bytes, over the ${maxSize}-byte limit`);
  }
  // Writers fill every block but the last, so more than one block beyond the limit is hostile.
  if (shape.blocks > 0 && (shape.blocks - 1) * shape.blockMax >= maxSize + shape.blockMax) {
    throw corrupt(`LZ4 frame of ${shape.blocks} blocks exceeds the ${maxSize}-byte limit`);
  }
}

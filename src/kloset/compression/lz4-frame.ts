/**
 * LZ4 frame format (lz4 Frame Format 1.6.x) around an injected LZ4 *block* codec.
 *
 * Why our own framing: the block codec we measured fastest here (lz4_flex compiled to WASM,
 * ~1.1 GB/s compress and ~1.4 GB/s decompress on incompressible data) only speaks the block
 * format, while the N-API frame codec runs at 110–300 MB/s on incompressible data. The frame
 * layer is small and fully specified: a header, independent blocks (stored raw when they do not
 * shrink, or when probes say they would not: `looksIncompressible`) and an xxHash32 content
 * checksum. Frames are checked end to end before any output is
 * allocated: truncation, trailing bytes, bad header checksums and oversized output are CORRUPT;
 * checksum mismatches are INTEGRITY. Interoperability with the reference `lz4` tool is tested
 * both ways.
 */
import { corrupt, integrity, KlosetError, unsupported } from '../base/errors.js';

export const LZ4_MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
/** Blocks we write: 4 MiB, as pierrec/lz4 and the lz4 tool do by default. */
const WRITE_BLOCK_ID = 7;
const WRITE_BLOCK_SIZE = 4 << 20;

/** The raw LZ4 block codec and xxHash32 the frame layer needs. */
export interface Lz4BlockCodec {
  /** Compressed block (no size prefix). */
  compressBlock(data: Uint8Array): Uint8Array;
  /** Decompresses a block whose exact decompressed size is known. */
  decompressBlock(block: Uint8Array, size: number): Uint8Array;
  xxh32(data: Uint8Array | readonly Uint8Array[]): number;
}

interface BlockRef { offset: number; length: number; stored: boolean; size: number }

export interface Lz4FrameShape {
  blockMax: number;
  blocks: BlockRef[];
  contentSize: bigint | null;
  contentChecksum: number | null;
  blockChecksums: boolean;
  /** exact decompressed size */
  outputSize: number;
  /** compressed blocks' sizes were predicted (checkLz4Frame's `predict`), not read */
  predicted: boolean;
}

export function compressLz4Frame(codec: Lz4BlockCodec, data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(15);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, LZ4_MAGIC, true);
  header[4] = 0x6c; // version 01, independent blocks, content size, content checksum
  header[5] = WRITE_BLOCK_ID << 4;
  hv.setBigUint64(6, BigInt(data.length), true);
  header[14] = (codec.xxh32(header.subarray(4, 14)) >>> 8) & 0xff;
  parts.push(header);
  for (let o = 0; o < data.length; o += WRITE_BLOCK_SIZE) {
    const block = data.subarray(o, Math.min(data.length, o + WRITE_BLOCK_SIZE));
    const packed = looksIncompressible(codec, block) ? block : codec.compressBlock(block);
    const stored = packed.length >= block.length;
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, stored ? (block.length | 0x80000000) >>> 0 : packed.length, true);
    parts.push(size, stored ? block : packed);
  }
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(4, codec.xxh32(data), true);
  parts.push(tail);
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) { out.set(p, n); n += p.length; }
  return out;
}

/** Blocks at least this large are probed before they are compressed. */
const PROBE_ABOVE = 256 << 10;
/** Probes per block and bytes per probe: 8 × 32 KiB = 256 KiB of a 4 MiB block (6 %). */
const PROBES = 8;
const PROBE_SIZE = 32 << 10;
/** A probe that does not shrink by this fraction counts as incompressible. */
const PROBE_GAIN = 0.02;

/**
 * Whether a block is worth storing raw without trying to compress it: random or already
 * compressed data (media, archives, encrypted files) is a large share of many backups, and
 * compressing it only to store it raw cost as much as encrypting it. Eight windows spread over
 * the block are compressed; if none shrinks by 2 %, neither would the block (LZ4 only finds
 * matches within 64 KiB, so a window sees what the block's compression would see there). A
 * compressible stretch shorter than the gap between windows (512 KiB in a 4 MiB block) can be
 * missed: that block is then stored raw, still a valid frame, only larger.
 */
function looksIncompressible(codec: Lz4BlockCodec, block: Uint8Array): boolean {
  if (block.length < PROBE_ABOVE) return false;
  const step = Math.floor((block.length - PROBE_SIZE) / (PROBES - 1));
  for (let i = 0; i < PROBES; i++) {
    const window = block.subarray(i * step, i * step + PROBE_SIZE);
    if (codec.compressBlock(window).length < window.length * (1 - PROBE_GAIN)) return false;
  }
  return true;
}

/**
 * Walks the whole frame (header, every block, sizes) without decompressing anything. With
 * `predict`, a frame that declares its content size is taken to have full blocks but the last
 * (as every LZ4 writer makes them): compressed blocks' sizes are predicted instead of read from
 * their sequences (a JS walk of every sequence cost a restore ~0.9 s per GiB) and marked
 * `predicted`; the block decoder, which checks the exact size, then tells whether the
 * prediction held.
 */
export function checkLz4Frame(codec: Lz4BlockCodec, data: Uint8Array, predict = false): Lz4FrameShape {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 7) throw corrupt(`LZ4 frame truncated (${data.length} bytes)`);
  if (dv.getUint32(0, true) !== LZ4_MAGIC) throw corrupt('not an LZ4 frame (bad magic)');
  const flg = data[4]!;
  const bd = data[5]!;
  if (flg >> 6 !== 1) throw corrupt(`LZ4 frame version ${flg >> 6} unsupported`);
  if (flg & 0x02 || bd & 0x8f) throw corrupt('LZ4 frame reserved bits set');
  const blockChecksums = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const hasContentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
  if (!blockMax) throw corrupt('LZ4 frame block size id invalid');
  // The header checksum comes first: a damaged flag byte is damage (CORRUPT), not a feature.
  let pos = 6 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0);
  if (data.length < pos + 1) throw corrupt('LZ4 frame header truncated');
  if (((codec.xxh32(data.subarray(4, pos)) >>> 8) & 0xff) !== data[pos]) throw corrupt('LZ4 frame header checksum mismatch');
  // Linked blocks (lz4 -BD) need a streaming dictionary; neither plakar nor lz4 writes them by default.
  if (!(flg & 0x20)) throw unsupported('LZ4 frames with linked blocks are not supported');
  if (hasDictId) throw unsupported('LZ4 frames with a dictionary are not supported');
  const contentSize = hasContentSize ? dv.getBigUint64(6, true) : null;
  pos += 1;
  const blocks: BlockRef[] = [];
  let outputSize = 0;
  for (;;) {
    if (data.length < pos + 4) throw corrupt('LZ4 frame truncated (missing block header or end mark)');
    const word = dv.getUint32(pos, true);
    pos += 4;
    if (word === 0) break;
    const length = word & 0x7fffffff;
    const stored = word >>> 31 === 1;
    if (length > blockMax) throw corrupt(`LZ4 block of ${length} bytes exceeds the frame's ${blockMax}`);
    if (pos + length + (blockChecksums ? 4 : 0) > data.length) throw corrupt('LZ4 frame truncated inside a block');
    const block = data.subarray(pos, pos + length);
    const size = stored ? length : predict && hasContentSize ? -1 : lz4BlockOutputSize(block, blockMax);
    if (blockChecksums && codec.xxh32(block) !== dv.getUint32(pos + length, true)) throw integrity('LZ4 block checksum mismatch');
    blocks.push({ offset: pos, length, stored, size });
    if (size >= 0) outputSize += size;
    pos += length + (blockChecksums ? 4 : 0);
  }
  let contentChecksum: number | null = null;
  if (hasContentChecksum) {
    if (pos + 4 > data.length) throw corrupt('LZ4 frame truncated (content checksum)');
    contentChecksum = dv.getUint32(pos, true);
    pos += 4;
  }
  if (pos !== data.length) throw corrupt(`LZ4 frame followed by ${data.length - pos} unexpected bytes`);
  let predicted = false;
  if (blocks.some((b) => b.size < 0)) {
    // full blocks but the last, which holds the rest of the declared content size
    const n = Number(contentSize);
    const last = n - (blocks.length - 1) * blockMax;
    const fits = last > 0 && last <= blockMax && blocks.every((b, i) => b.size < 0 || b.size === (i === blocks.length - 1 ? last : blockMax));
    if (fits) {
      blocks.forEach((b, i) => { b.size = i === blocks.length - 1 ? last : blockMax; });
      predicted = true;
      outputSize = n;
    } else {
      outputSize = readBlockSizes(data, blocks, blockMax);
    }
  }
  if (contentSize !== null && contentSize !== BigInt(outputSize)) throw corrupt(`LZ4 frame declares ${contentSize} bytes but its blocks hold ${outputSize}`);
  return { blockMax, blocks, contentSize, contentChecksum, blockChecksums, outputSize, predicted };
}

/**
 * `contentVerified`: the caller checks the output against its MAC, so the content checksum
 * (xxHash32 over every byte: ~6 % of a restore's decoding time) is not computed again.
 */
export function decompressLz4Frame(codec: Lz4BlockCodec, data: Uint8Array, maxSize: number, contentVerified = false): Uint8Array {
  const shape = checkLz4Frame(codec, data, true);
  if (contentVerified) shape.contentChecksum = null;
  if (shape.predicted) {
    try {
      return decompressBlocks(codec, data, maxSize, shape);
    } catch (e) {
      if (!(e instanceof KlosetError) || e.code !== 'CORRUPT') throw e;
      // a writer that made short blocks (or damage): read the exact sizes, then decide
      const outputSize = readBlockSizes(data, shape.blocks, shape.blockMax);
      if (BigInt(outputSize) !== shape.contentSize) throw corrupt(`LZ4 frame declares ${shape.contentSize} bytes but its blocks hold ${outputSize}`);
      return decompressBlocks(codec, data, maxSize, { ...shape, outputSize, predicted: false });
    }
  }
  return decompressBlocks(codec, data, maxSize, shape);
}

/** Reads every compressed block's exact size from its sequences; returns the frame's total. */
function readBlockSizes(data: Uint8Array, blocks: BlockRef[], blockMax: number): number {
  let total = 0;
  for (const b of blocks) {
    if (!b.stored) b.size = lz4BlockOutputSize(data.subarray(b.offset, b.offset + b.length), blockMax);
    total += b.size;
  }
  return total;
}

function decompressBlocks(codec: Lz4BlockCodec, data: Uint8Array, maxSize: number, shape: Lz4FrameShape): Uint8Array {
  if (shape.outputSize > maxSize) throw corrupt(`LZ4 frame holds ${shape.outputSize} bytes, over the ${maxSize}-byte limit`);
  const only = shape.blocks.length === 1 ? shape.blocks[0]! : undefined;
  if (only && !only.stored) {
    // One compressed block (every chunk up to 4 MiB, as this module writes them): the block
    // codec's output is the content, without a second buffer and a copy into it.
    const plain = decodeBlock(codec, data.subarray(only.offset, only.offset + only.length), only.size);
    if (shape.contentChecksum !== null && codec.xxh32(plain) !== shape.contentChecksum) throw integrity('LZ4 content checksum mismatch');
    return plain;
  }
  const out = new Uint8Array(shape.outputSize);
  let o = 0;
  for (const b of shape.blocks) {
    const block = data.subarray(b.offset, b.offset + b.length);
    if (b.stored) out.set(block, o);
    else out.set(decodeBlock(codec, block, b.size), o);
    o += b.size;
  }
  if (shape.contentChecksum !== null && codec.xxh32(out) !== shape.contentChecksum) throw integrity('LZ4 content checksum mismatch');
  return out;
}

/** One compressed block, which must decode to exactly `size` bytes (else CORRUPT). */
function decodeBlock(codec: Lz4BlockCodec, block: Uint8Array, size: number): Uint8Array {
  let plain: Uint8Array;
  try {
    plain = codec.decompressBlock(block, size);
  } catch (e) {
    throw corrupt(`LZ4 block could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (plain.length !== size) throw corrupt('LZ4 block decoded to an unexpected size');
  return plain;
}

/**
 * Decompressed size of one LZ4 block, from its sequences (LZ4 Block Format): each sequence is a
 * token, an optional literal-length extension, the literals, then — except in the last
 * sequence — a 2-byte offset and an optional match-length extension. Only lengths are read, so
 * this is cheap, and every length is bounds-checked: a malformed block is CORRUPT here.
 */
export function lz4BlockOutputSize(block: Uint8Array, limit: number): number {
  let p = 0;
  let size = 0;
  const n = block.length;
  if (n === 0) throw corrupt('empty LZ4 block');
  for (;;) {
    const token = block[p++]!;
    let lit = token >>> 4;
    if (lit === 15) [lit, p] = extendedLength(block, p, lit, 'literal');
    p += lit;
    size += lit;
    if (p > n) throw corrupt('LZ4 block truncated in its literals');
    if (p === n) break; // last sequence: literals only
    if (p + 2 > n) throw corrupt('LZ4 block truncated in a match offset');
    const offset = block[p]! | (block[p + 1]! << 8);
    p += 2;
    if (offset === 0 || offset > size) throw corrupt('LZ4 match offset outside the decoded data');
    let match = token & 15;
    if (match === 15) [match, p] = extendedLength(block, p, match, 'match');
    size += match + 4;
    if (size > limit) throw corrupt(`LZ4 block decodes beyond the ${limit}-byte block size`);
    if (p >= n) throw corrupt('LZ4 block ends with a match (the last sequence must be literals)');
  }
  if (size > limit) throw corrupt(`LZ4 block decodes beyond the ${limit}-byte block size`);
  return size;
}

/** A length whose 4-bit field is 15 continues in bytes, each added, until one is not 255. */
function extendedLength(block: Uint8Array, p: number, base: number, what: string): [number, number] {
  let len = base;
  let b: number;
  do {
    if (p >= block.length) throw corrupt(`LZ4 block truncated in a ${what} length`);
    b = block[p++]!;
    len += b;
  } while (b === 255);
  return [len, p];
}

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codecFor } from '../../src/kloset/compression/codec.js';
import { checkLz4Frame } from '../../src/kloset/compression/lz4-frame.js';
import { nativeCodecProblem } from '../../src/kloset/base/node/native-codec.js';
import type { Codec } from '../../src/kloset/compression/codec.js';
import { lz4BlockCodec, lz4Codec as defaultLz4, wasmLz4Codec } from '../../src/kloset/compression/node/lz4.js';
import { nodeCodecs } from '../../src/kloset/compression/node/registry.js';
import { zstdCodec } from '../../src/kloset/compression/node/zstd.js';

/** Content fingerprint: comparing MB-sized buffers as hex strings would dominate the run. */
const digest = (b: Uint8Array) => `${b.length}:${createHash('sha256').update(b).digest('hex')}`;

const dir = mkdtempSync(join(tmpdir(), 'kloset-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function samples(): [string, Uint8Array][] {
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog\n'.repeat(50_000));
  const mixed = new Uint8Array(3 << 20);
  for (let o = 0; o < mixed.length; o += 1 << 20) mixed.set(o % (2 << 20) ? text.subarray(0, 1 << 20) : randomBytes(1 << 20), o);
  return [['empty', new Uint8Array(0)], ['one byte', Uint8Array.of(7)], ['text', text], ['random', new Uint8Array(randomBytes(300_000))], ['mixed 3 MiB', mixed], ['9 MiB zeros', new Uint8Array(9 << 20)]];
}

/** Runs a reference command-line tool from Debian (`lz4`, `zstd`) on a file. */
function tool(cmd: string, args: string[], input: Uint8Array): Uint8Array {
  const inFile = join(dir, 'in'), outFile = join(dir, 'out');
  writeFileSync(inFile, input);
  rmSync(outFile, { force: true });
  execFileSync(cmd, [...args, inFile, cmd === 'zstd' ? '-o' : '', outFile].filter(Boolean), { stdio: 'pipe' });
  return readFileSync(outFile);
}

it('the native codec (liblz4) is built and is the default LZ4 codec here', () => {
  expect(nativeCodecProblem()).toBeUndefined();
  expect(defaultLz4).not.toBe(wasmLz4Codec);
});

// Every LZ4 test runs on both codecs: liblz4 through the native codec, and the WebAssembly
// block codec under our frame layer (what runs where the native codec is not built).
describe.each([['native', defaultLz4], ['wasm', wasmLz4Codec]] as [string, Codec][])('LZ4 frames (%s) interoperate with the reference lz4 command', (_which, lz4Codec) => {
  it.each(samples())('%s: ours → `lz4 -d`', (_n, data) => {
    expect(digest(tool('lz4', ['-d', '-q', '-f'], lz4Codec.compress(data)))).toBe(digest(data));
  });
  it.each(samples())('%s: `lz4` (default, -9, --content-size, -BX, -B4..-B7) → ours', (_n, data) => {
    for (const flags of [[], ['-9'], ['--content-size'], ['-BX'], ['-B4'], ['-B5'], ['-B6'], ['--no-frame-crc']]) {
      const frame = tool('lz4', ['-z', '-q', '-f', ...flags], data);
      expect(digest(lz4Codec.decompress(frame, data.length)), flags.join(' ')).toBe(digest(data));
    }
  });
  it('refuses output over the limit and truncated frames', () => {
    const data = new Uint8Array(5 << 20);
    const frame = tool('lz4', ['-z', '-q', '-f', '--content-size'], data);
    expect(() => lz4Codec.decompress(frame, 1 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => lz4Codec.decompress(lz4Codec.compress(data), 1 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => lz4Codec.decompress(frame.subarray(0, frame.length - 5), 5 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(checkLz4Frame(lz4BlockCodec, frame).contentSize).toBe(BigInt(5 << 20));
  });
  it('detects a damaged block through the content checksum', () => {
    const data = new Uint8Array(randomBytes(100_000));
    const frame = lz4Codec.compress(data).slice();
    frame[frame.length >> 1]! ^= 0x01;
    expect(() => lz4Codec.decompress(frame, 1 << 20)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(INTEGRITY|CORRUPT)$/) }));
  });
  it('checks the content checksum unless the caller verifies the content itself (a blob MAC)', () => {
    const data = new Uint8Array(randomBytes(100_000));
    const frame = lz4Codec.compress(data).slice();
    expect(checkLz4Frame(lz4BlockCodec, frame).contentChecksum).not.toBeNull();
    frame[frame.length - 1]! ^= 0x01; // the content checksum itself
    expect(() => lz4Codec.decompress(frame, 1 << 20)).toThrow(expect.objectContaining({ code: 'INTEGRITY' }));
    expect(lz4Codec.decompress(frame, 1 << 20, true)).toEqual(data);
  });
  it('says plainly that linked-block frames (lz4 -BD) are not supported', () => {
    const frame = tool('lz4', ['-z', '-q', '-f', '-BD', '-B4'], new Uint8Array(300_000));
    expect(() => lz4Codec.decompress(frame, 300_000)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
  it('reads a zero-length input as empty (how Go may store an empty chunk)', () => {
    expect(lz4Codec.decompress(new Uint8Array(0), 0).length).toBe(0);
  });
  it('reads the other codec\'s frames; refuses trailing bytes and a cut at any point', () => {
    const other = lz4Codec === wasmLz4Codec ? defaultLz4 : wasmLz4Codec;
    for (const [, data] of samples()) expect(digest(lz4Codec.decompress(other.compress(data), data.length))).toBe(digest(data));
    const data = new Uint8Array(randomBytes(200_000));
    const frame = other.compress(data);
    expect(() => lz4Codec.decompress(Buffer.concat([frame, Uint8Array.of(0)]), data.length)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    for (const cut of [7, 15, 19, 100, frame.length - 4, frame.length - 1]) {
      expect(() => lz4Codec.decompress(frame.subarray(0, cut), data.length), `cut at ${cut}`).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    }
  });
  // With the content verified by the caller (every blob read), the native codec decodes blocks
  // straight into the output; a frame that path cannot take is decoded again by the frame API.
  it.each(samples())('%s: the same bytes when the caller verifies the content (ours and `lz4`, -BX -B4..-B7 -BD)', (_n, data) => {
    expect(digest(lz4Codec.decompress(lz4Codec.compress(data), data.length, true))).toBe(digest(data));
    for (const flags of [['--content-size'], ['--content-size', '-BX'], ['--content-size', '-B4'], ['--content-size', '-B5'], ['--content-size', '-B6'], ['--no-frame-crc', '--content-size']]) {
      const frame = tool('lz4', ['-z', '-q', '-f', ...flags], data);
      expect(digest(lz4Codec.decompress(frame, data.length, true)), flags.join(' ')).toBe(digest(data));
    }
  });
  it('refuses the same damage when the caller verifies the content: cuts, trailing bytes, sizes, linked blocks', () => {
    const data = new Uint8Array(randomBytes(200_000));
    const frame = lz4Codec.compress(data).slice();
    expect(() => lz4Codec.decompress(Buffer.concat([frame, Uint8Array.of(0)]), data.length, true)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    for (const cut of [7, 15, 19, 100, frame.length - 4, frame.length - 1]) {
      expect(() => lz4Codec.decompress(frame.subarray(0, cut), data.length, true), `cut at ${cut}`).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    }
    const text = new TextEncoder().encode('a compressible line of text\n'.repeat(10_000));
    for (const delta of [-1, 1]) {
      const lying = lz4Codec.compress(text).slice();
      new DataView(lying.buffer).setBigUint64(6, BigInt(text.length + delta), true);
      lying[14] = (lz4BlockCodec.xxh32(lying.subarray(4, 14)) >>> 8) & 0xff;
      expect(() => lz4Codec.decompress(lying, text.length + 1, true), `declared ${delta}`).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    }
    const damaged = lz4Codec.compress(text).slice();
    damaged[20]! ^= 0xff; // inside the first block's sequences
    expect(() => lz4Codec.decompress(damaged, text.length, true)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(INTEGRITY|CORRUPT)$/) }));
    const linked = tool('lz4', ['-z', '-q', '-f', '-BD', '-B4', '--content-size'], new Uint8Array(300_000));
    expect(() => lz4Codec.decompress(linked, 300_000, true)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
  it('a frame that declares fewer bytes than its blocks hold is CORRUPT', () => {
    const data = new Uint8Array(100_000).fill(3);
    const frame = wasmLz4Codec.compress(data).slice();
    // declare one byte less and fix the header checksum, so only the size is wrong
    new DataView(frame.buffer).setBigUint64(6, BigInt(data.length - 1), true);
    frame[14] = (lz4BlockCodec.xxh32(frame.subarray(4, 14)) >>> 8) & 0xff;
    expect(() => lz4Codec.decompress(frame, data.length)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

describe('ZSTD frames interoperate with the reference zstd command', () => {
  it.each(samples())('%s: both directions', (_n, data) => {
    expect(digest(tool('zstd', ['-d', '-q', '-f'], zstdCodec.compress(data)))).toBe(digest(data));
    expect(digest(zstdCodec.decompress(tool('zstd', ['-q', '-f', '-3'], data), data.length))).toBe(digest(data));
  });
  it('refuses declared sizes over the limit, truncation and trailing bytes', () => {
    const data = new Uint8Array(4 << 20);
    const frame = zstdCodec.compress(data);
    expect(() => zstdCodec.decompress(frame, 1 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => zstdCodec.decompress(frame.subarray(0, frame.length - 3), 4 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    const streamed = tool('zstd', ['-q', '-f', '--no-content-size'], data);
    expect(() => zstdCodec.decompress(streamed, 1 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(zstdCodec.decompress(streamed, 4 << 20).length).toBe(4 << 20);
    const trailing = new Uint8Array(frame.length + 3);
    trailing.set(frame);
    expect(() => zstdCodec.decompress(trailing, 4 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

describe('codec registry', () => {
  it('names LZ4, ZSTD and GZIP and refuses others', () => {
    for (const name of ['LZ4', 'lz4', 'ZSTD', 'GZIP']) {
      const c = codecFor(nodeCodecs, name);
      const data = new TextEncoder().encode('hello hello hello hello');
      expect(digest(c.decompress(c.compress(data), 100))).toBe(digest(data));
    }
    expect(() => codecFor(nodeCodecs, 'BROTLI')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});

// The frame layer's own writer and reader (lz4-frame.ts over the WebAssembly block codec).
const lz4Codec = wasmLz4Codec;

describe('LZ4 frames: incompressible blocks are stored raw without being compressed', () => {
  it('random data: raw blocks, round trip, the lz4 tool agrees; compressible and mixed data still compress', () => {
    const random = new Uint8Array(randomBytes(9 << 20));
    const frame = lz4Codec.compress(random);
    const shape = checkLz4Frame(lz4BlockCodec, frame);
    expect(shape.blocks.every((b) => b.stored)).toBe(true);
    expect(digest(lz4Codec.decompress(frame, random.length))).toBe(digest(random));
    expect(digest(tool('lz4', ['-d', '-q', '-f'], frame))).toBe(digest(random));

    const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(200_000));
    expect(lz4Codec.compress(text).length).toBeLessThan(text.length / 10);
    // random with a compressible megabyte inside a 4 MiB block: the probes find it
    const mixed = Buffer.concat([randomBytes(1 << 20), text.subarray(0, 1 << 20), randomBytes(2 << 20)]);
    const mixedFrame = lz4Codec.compress(mixed);
    expect(mixedFrame.length).toBeLessThan(mixed.length * 0.8);
    expect(digest(lz4Codec.decompress(mixedFrame, mixed.length))).toBe(digest(mixed));
    // a random 16 KiB pattern repeated: high byte entropy, yet LZ4 compresses it (no raw store)
    const pattern = randomBytes(16 << 10);
    const repeated = Buffer.concat(Array.from({ length: 256 }, () => pattern));
    expect(lz4Codec.compress(repeated).length).toBeLessThan(repeated.length / 3);
  });
});

describe('LZ4 frames: block sizes predicted from the content size', () => {
  it('frames with short blocks that are not last (other writers) still decode exactly, through the sequence walk', () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i} of a text file\n`).join(''));
    const pieces: Uint8Array[] = [];
    for (let o = 0; o < data.length; o += 10_000) pieces.push(data.subarray(o, o + 10_000)); // 64 KiB max, 10 kB blocks
    const header = new Uint8Array(15);
    const hv = new DataView(header.buffer);
    hv.setUint32(0, 0x184d2204, true);
    header[4] = 0x68; // version 01, independent blocks, content size, no content checksum
    header[5] = 4 << 4; // 64 KiB blocks
    hv.setBigUint64(6, BigInt(data.length), true);
    header[14] = (lz4BlockCodec.xxh32(header.subarray(4, 14)) >>> 8) & 0xff;
    const parts: Uint8Array[] = [header];
    for (const p of pieces) {
      const packed = lz4BlockCodec.compressBlock(p);
      const size = new Uint8Array(4);
      new DataView(size.buffer).setUint32(0, packed.length, true);
      parts.push(size, packed);
    }
    parts.push(new Uint8Array(4));
    const frame = Buffer.concat(parts);
    expect(checkLz4Frame(lz4BlockCodec, frame, true).predicted).toBe(false); // 10 kB blocks cannot be "full but the last"
    expect(digest(lz4Codec.decompress(frame, data.length))).toBe(digest(data));
    expect(digest(defaultLz4.decompress(frame, data.length))).toBe(digest(data));
    expect(digest(tool('lz4', ['-d', '-q', '-f'], frame))).toBe(digest(data));
  });

  it('our frames decode through predicted sizes; a prediction the blocks contradict falls back to reading them', () => {
    const text = Buffer.from('predictable text, compressible. '.repeat(300_000)); // 9.6 MB: three 4 MiB blocks
    const frame = lz4Codec.compress(text);
    expect(checkLz4Frame(lz4BlockCodec, frame, true).predicted).toBe(true);
    expect(digest(lz4Codec.decompress(frame, text.length))).toBe(digest(text));
    // same blocks, but a first block made short: sizes predicted from the content size are wrong
    const short = Buffer.from(text.subarray(0, 1 << 20));
    const rest = Buffer.from(text.subarray(0, 4 << 20)); // predicted 4 MiB + 1 MiB, really 1 MiB + 4 MiB
    const header = Buffer.from(frame.subarray(0, 15));
    header.writeBigUInt64LE(BigInt(short.length + rest.length), 6);
    header[14] = (lz4BlockCodec.xxh32(header.subarray(4, 14)) >>> 8) & 0xff;
    const blocks = [short, rest].flatMap((b) => { const p = lz4BlockCodec.compressBlock(b); const s = Buffer.alloc(4); s.writeUInt32LE(p.length); return [s, p]; });
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(lz4BlockCodec.xxh32(Buffer.concat([short, rest])), 4);
    const odd = Buffer.concat([header, ...blocks, tail]);
    expect(checkLz4Frame(lz4BlockCodec, odd, true).predicted).toBe(true);
    expect(digest(lz4Codec.decompress(odd, 8 << 20))).toBe(digest(Buffer.concat([short, rest])));
    expect(digest(defaultLz4.decompress(odd, 8 << 20))).toBe(digest(Buffer.concat([short, rest])));
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { countBytes, entropy } from '../../src/kloset/base/entropy.js';
import { nativeByteCounter } from '../../src/kloset/base/node/native-byte-counter.js';
import { sniffContentType } from '../../src/kloset/snapshot/content-type.js';
import { decodeDirpack, decodeDirpackPrefix, DirpackPieces, encodeDirpack } from '../../src/kloset/snapshot/dirpack.js';

describe('entropy', () => {
  it('is 0 for constant data, ~8 for random bytes, 1 for two equiprobable values', () => {
    expect(entropy(new Uint8Array(1000))).toBe(0);
    expect(entropy(new Uint8Array(0))).toBe(0);
    expect(entropy(randomBytes(1 << 20))).toBeGreaterThan(7.99);
    expect(entropy(Uint8Array.from({ length: 4096 }, (_, i) => i & 1))).toBeCloseTo(1, 10);
  });
  it('the sampled estimate stays close to the exact value on mixed data', () => {
    const text = Buffer.from('some english-like text with words and spaces. '.repeat(30_000));
    const mixed = Buffer.concat([text.subarray(0, 600_000), randomBytes(600_000)]);
    const exact = (() => {
      const c = new Array(256).fill(0);
      for (const b of mixed) c[b]++;
      return -c.filter(Boolean).reduce((h: number, n: number) => h + (n / mixed.length) * Math.log2(n / mixed.length), 0);
    })();
    expect(Math.abs(entropy(mixed) - exact)).toBeLessThan(0.2);
  });
});

describe('byte counters', () => {
  /** counts[0..255] summed over the four interleaved histograms the portable counter fills */
  const histogram = (counter: (d: Uint8Array, c: Uint32Array) => void, data: Uint8Array) => {
    const c = new Uint32Array(1024);
    counter(data, c);
    return Array.from({ length: 256 }, (_, b) => c[b]! + c[256 + b]! + c[512 + b]! + c[768 + b]!);
  };
  const naive = (data: Uint8Array) => {
    const c = new Array<number>(256).fill(0);
    for (const b of data) c[b]!++;
    return c;
  };
  const lengths = [0, 1, 2, 3, 4, 5, 7, 4095, 4096, 4097, 65535, 65536, 65537, 1_000_003];

  it('the portable counter counts every byte, tails included', () => {
    for (const n of lengths) {
      const data = randomBytes(n);
      expect(histogram(countBytes, data), `length ${n}`).toEqual(naive(data));
    }
  });

  it('the native counter gives the same counts, and so the same entropy to the last bit', () => {
    const native = nativeByteCounter();
    expect(native, 'the native codec is built by scripts/setup.sh').toBeDefined();
    for (const n of lengths) {
      const text = Buffer.from('entropy of text-like bytes, '.repeat(Math.ceil(n / 28) + 1)).subarray(0, n);
      for (const data of [randomBytes(n), text]) {
        expect(histogram(native!, data), `length ${n}`).toEqual(naive(data));
        expect(entropy(data, native)).toBe(entropy(data));
      }
    }
  });
});

describe('content type', () => {
  it('sniffs signatures first, then UTF-8 text, then the extension', async () => {
    expect(await sniffContentType('x.bin', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'))).toBe('image/gif');
    expect(await sniffContentType('x.txt', Buffer.from('%PDF-1.4\n%\xe2\xe3\n1 0 obj', 'latin1'))).toBe('application/pdf');
    expect(await sniffContentType('notes', Buffer.from('hello, wörld\n'))).toBe('text/plain; charset=utf-8');
    expect(await sniffContentType('page.html', Buffer.from('<p>hi</p>'))).toBe('text/html; charset=utf-8');
    expect(await sniffContentType('data.json', randomBytes(64))).toBe('application/json');
    expect(await sniffContentType('blob', randomBytes(64))).toBe('application/octet-stream');
    expect(await sniffContentType('empty.txt', new Uint8Array(0))).toBe('text/plain');
  });
});

describe('dirpack frames', () => {
  it('round-trip, parse across chunk boundaries, and reject damage', () => {
    const frames = [1, 2, 2].map((type, i) => ({ type, entry: randomBytes(100 + i), mac: randomBytes(32) }));
    const bytes = encodeDirpack(frames);
    expect(decodeDirpack(bytes).map((f) => Buffer.from(f.entry).toString('hex'))).toEqual(frames.map((f) => f.entry.toString('hex')));
    const cut = 150;
    const first = decodeDirpackPrefix(bytes.subarray(0, cut));
    expect(first.frames).toHaveLength(1);
    expect(first.used).toBe(5 + 100 + 32);
    expect(() => decodeDirpack(bytes.subarray(0, bytes.length - 1))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    const bad = bytes.slice();
    bad[0] = 9;
    expect(() => decodeDirpack(bad)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('a dirpack in pieces gives the same frames wherever the pieces are cut (1-byte pieces, cuts inside headers and MACs)', () => {
    const frames = Array.from({ length: 40 }, (_, i) => ({ type: i % 3 ? 2 : 1, entry: randomBytes(50 + ((i * 37) % 300)), mac: randomBytes(32) }));
    const bytes = encodeDirpack(frames);
    const expected = frames.map((f) => `${f.type} ${f.entry.toString('hex')} ${f.mac.toString('hex')}`);
    const cuttings: number[][] = [[1], [2, 3], [5], [7, 300, 1], [bytes.length]];
    for (let r = 0; r < 20; r++) cuttings.push(Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * 700)));
    for (const sizes of cuttings) {
      const pieces = new DirpackPieces();
      const got: string[] = [];
      for (let o = 0, k = 0; o < bytes.length; k++) {
        const piece = bytes.subarray(o, o + sizes[k % sizes.length]!);
        o += piece.length;
        pieces.push(piece);
        for (let f = pieces.next(); f; f = pieces.next()) got.push(`${f.type} ${Buffer.from(f.entry).toString('hex')} ${Buffer.from(f.mac).toString('hex')}`);
      }
      expect(got, `pieces of ${sizes.join(', ')} bytes`).toEqual(expected);
      expect(pieces.ended).toBe(true);
    }
    // cut short: not ended; a damaged header in a frame split across pieces: CORRUPT
    const all = (p: DirpackPieces, ...parts: Uint8Array[]) => parts.flatMap((part) => {
      p.push(part);
      const out = [];
      for (let f = p.next(); f; f = p.next()) out.push(f);
      return out;
    });
    const short = new DirpackPieces();
    expect(all(short, bytes.subarray(0, 200), bytes.subarray(200, 203))).toHaveLength(1);
    expect(short.ended).toBe(false);
    const bad = bytes.slice();
    const second = 5 + frames[0]!.entry.length + 32;
    new DataView(bad.buffer).setUint32(second + 1, 0xffffffff, true);
    const damaged = new DirpackPieces();
    expect(() => all(damaged, bad.subarray(0, second + 2), bad.subarray(second + 2))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

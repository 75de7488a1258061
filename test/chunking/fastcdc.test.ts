import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FastCdc, spacedMask, type ChunkerOptions } from '../../src/kloset/chunking/fastcdc.js';
import { goRandomBytes } from '../support/go-math-rand.js';

// go-cdc-chunkers tests/testdata/golden.json: fingerprint = chunk count and
// cuts_hash = sha256(concat(u64le(chunk length))). Inputs per the harness (spec §13).
const MAXMAX = 16 << 20;
const PROFILES: Record<string, ChunkerOptions> = {
  '256K-512K-1M': { minSize: 256 << 10, normalSize: 512 << 10, maxSize: 1 << 20 },
  '1M-4M-16M': { minSize: 1 << 20, normalSize: 4 << 20, maxSize: 16 << 20 },
  '2K-8K-64K': { minSize: 2 << 10, normalSize: 8 << 10, maxSize: 64 << 10 },
};
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function fingerprint(algorithm: string, profile: string, data: Uint8Array) {
  const lengths = new FastCdc(algorithm, PROFILES[profile]!).lengths(data);
  const cuts = Buffer.alloc(8 * lengths.length);
  lengths.forEach((l, i) => cuts.writeBigUInt64LE(BigInt(l), i * 8));
  return { chunks: lengths.length, cuts_hash: sha256(cuts) };
}

const random3x = goRandomBytes(0, 3 * MAXMAX);
const zeros2x = new Uint8Array(2 * MAXMAX);
const repeat2x = new Uint8Array(2 * MAXMAX);
const plakar = new TextEncoder().encode('plakar');
for (let i = 0; i < repeat2x.length; i++) repeat2x[i] = plakar[i % 6]!;

const GOLDEN: [string, string, Uint8Array, number, string][] = [
  ['fastcdc-v1.0.0', '256K-512K-1M', random3x, 83, '034713ea800ffc5fc5b12ca163b69f8ebac11de230078a0ce0f35689c939ec6a'],
  ['fastcdc-v1.0.0', '256K-512K-1M', zeros2x, 32, '6207c153ab65f7dd7da183e82ee7900c131f20f90e690d10e638d8896cee02e7'],
  ['fastcdc-v1.0.0', '256K-512K-1M', repeat2x, 32, '6207c153ab65f7dd7da183e82ee7900c131f20f90e690d10e638d8896cee02e7'],
  ['fastcdc-v1.0.0', '1M-4M-16M', random3x, 11, '205e7e572350d8b43eebc79c3cddb252bda97b84021590bee54c4e875d395a98'],
  ['fastcdc-v1.0.0', '1M-4M-16M', zeros2x, 2, '8a2e77537c324b8ecfa4a28090b2c315d294926af6265bfacf6584bc310ea93e'],
  ['fastcdc-v1.0.0', '1M-4M-16M', repeat2x, 2, '8a2e77537c324b8ecfa4a28090b2c315d294926af6265bfacf6584bc310ea93e'],
  ['fastcdc-v1.0.0', '2K-8K-64K', random3x, 5382, '545d89c340c72d930b35f982bf6c955062fa243ea1957031926d5b6538539f69'],
  ['fastcdc-v1.0.0', '2K-8K-64K', zeros2x, 512, 'b985af207b5cbf7a3e6dfd235fbfff680cfac9e3f6cc399930f1e791924cd8f1'],
  ['fastcdc', '256K-512K-1M', random3x, 174, 'e28d2268f839707ea5b79c5e4f2350e871ed3b857b0ecd289ce7de411717fd5a'],
  ['fastcdc', '1M-4M-16M', random3x, 47, '1afc38261446ad0cdc3fa28f1535caebd37b52db8769cd8c31ef7fc1e9b44316'],
  ['fastcdc', '2K-8K-64K', random3x, 5382, '545d89c340c72d930b35f982bf6c955062fa243ea1957031926d5b6538539f69'],
  ['fastcdc', '256K-512K-1M', zeros2x, 32, '6207c153ab65f7dd7da183e82ee7900c131f20f90e690d10e638d8896cee02e7'],
];

describe('FastCDC golden fingerprints (go-cdc-chunkers)', () => {
  it('inputs match the harness (Go math/rand seed 0)', () => {
    expect(sha256(random3x)).toBe('867237994656ede84fa9878ed0d15cb4bd009a9c560f3e15524a2e779f8c03fe');
    expect(sha256(zeros2x)).toBe('83ee47245398adee79bd9c0a8bc57b821e92aba10f5f9ade8a5d1fae4d8c4302');
    expect(sha256(repeat2x)).toBe('1fdc2b342ea4e199bc5cbdba27958680eb2103a6580a823439d90f7ea2a90dba');
  });

  it.each(GOLDEN.map(([a, p, d, c, h]) => [`${a}|${p}|${d === random3x ? 'random' : d === zeros2x ? 'zeros' : 'repeat'}`, a, p, d, c, h] as const))(
    '%s', (_name, alg, profile, data, chunks, cutsHash) => {
      expect(fingerprint(alg, profile, data)).toEqual({ chunks, cuts_hash: cutsHash });
    });

  it.each(['fastcdc-v1.0.0', 'fastcdc'])('%s: one-byte, tiny-64 and empty rows', (alg) => {
    for (const profile of Object.keys(PROFILES)) {
      expect(fingerprint(alg, profile, Uint8Array.of(0x42))).toEqual({ chunks: 1, cuts_hash: '7c9fa136d4413fa6173637e883b6998d32e1d675f88cddff9dcbcf331820f4b8' });
      expect(fingerprint(alg, profile, random3x.subarray(0, 64))).toEqual({ chunks: 1, cuts_hash: 'a06f129fc52abf6085679d7cd71dc41ec7580c7f5f73efef6d02dde22bb00994' });
      expect(fingerprint(alg, profile, new Uint8Array(0))).toEqual({ chunks: 0, cuts_hash: sha256(new Uint8Array(0)) });
    }
  });

  it('computes the masks of spec §10', () => {
    expect(spacedMask(22)).toBe(0xaaaaaaaaaaa00000n);
    expect(spacedMask(18)).toBe(0x9249249249249000n);
  });
});

describe('FastCDC streaming', () => {
  it('gives the same chunks as the whole-buffer cut, whatever the read sizes', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', PROFILES['2K-8K-64K']!);
    const data = new Uint8Array(randomBytes(3_000_000));
    const expected = cdc.lengths(data);
    for (const readSize of [1, 999, 65536, 200_000, 3_000_000]) {
      async function* source() { for (let o = 0; o < data.length; o += readSize) yield data.subarray(o, o + readSize); }
      const got: number[] = [];
      let offset = 0;
      for await (const chunk of cdc.chunks(source())) {
        expect(Buffer.compare(Buffer.from(chunk), Buffer.from(data.subarray(offset, offset + chunk.length)))).toBe(0);
        offset += chunk.length;
        got.push(chunk.length);
      }
      expect(got, `read size ${readSize}`).toEqual(expected);
    }
  });

  it('default sizes: same chunks as the whole-buffer cut across long stretches without a boundary', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', { minSize: 512 << 10, normalSize: 1 << 20, maxSize: 8 << 20 });
    // random, then 20 MiB of zeros (no boundary: maxSize cuts), then random again
    const data = new Uint8Array(38 << 20);
    data.set(randomBytes(10 << 20), 0);
    data.set(randomBytes(8 << 20), 30 << 20);
    const expected = cdc.lengths(data);
    expect(expected.filter((l) => l === 8 << 20).length).toBeGreaterThanOrEqual(2);
    for (const readSize of [1 << 20, 333_333, 5 << 20, 9 << 20]) {
      async function* source() { for (let o = 0; o < data.length; o += readSize) yield data.subarray(o, o + readSize); }
      const got: number[] = [];
      for await (const chunk of cdc.chunks(source(), data.length)) got.push(chunk.length);
      expect(got, `read size ${readSize}`).toEqual(expected);
    }
  });

  it('cuts a chunk as soon as its boundary has been read, not maxSize ahead', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', { minSize: 512 << 10, normalSize: 1 << 20, maxSize: 8 << 20 });
    const data = new Uint8Array(randomBytes(40 << 20));
    const readSize = 1 << 20;
    let pulled = 0;
    async function* source() {
      for (let o = 0; o < data.length; o += readSize) {
        pulled = Math.min(data.length, o + readSize);
        yield data.subarray(o, o + readSize);
      }
    }
    let end = 0, chunks = 0;
    for await (const chunk of cdc.chunks(source(), data.length)) {
      end += chunk.length;
      chunks++;
      // the chunk's last byte came with the last piece read
      expect(pulled - end, `chunk ${chunks} ends at ${end}, ${pulled} read`).toBeLessThanOrEqual(readSize);
    }
    expect(end).toBe(data.length);
    expect(chunks).toBeGreaterThan(20);
  });

  it('copies chunks into memory from the given allocator, with the same cuts and bytes', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', PROFILES['2K-8K-64K']!);
    const data = new Uint8Array(randomBytes(1_000_000));
    async function* source() { for (let o = 0; o < data.length; o += 70_000) yield data.subarray(o, o + 70_000); }
    const arena = new ArrayBuffer(2_000_000);
    let used = 0;
    const alloc = (n: number) => { const v = new Uint8Array(arena, used, n); used += n; return v; };
    let offset = 0;
    const got: number[] = [];
    for await (const chunk of cdc.chunks(source(), Infinity, alloc)) {
      expect(chunk.buffer).toBe(arena);
      expect(Buffer.compare(Buffer.from(chunk), Buffer.from(data.subarray(offset, offset + chunk.length)))).toBe(0);
      offset += chunk.length;
      got.push(chunk.length);
    }
    expect(got).toEqual(cdc.lengths(data));
    expect(used).toBe(data.length);
  });

  it('interleaved streams on one chunker (pooled buffers, wrong size hints) each get their own exact chunks', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', PROFILES['2K-8K-64K']!);
    const inputs = [3_000, 250_000, 70_000, 1_000_000, 10].map((n) => new Uint8Array(randomBytes(n)));
    const hints = [3_000, 1_000, Infinity, 100, 10];
    async function* source(d: Uint8Array) { for (let o = 0; o < d.length; o += 4096) yield d.subarray(o, o + 4096); }
    for (let round = 0; round < 3; round++) {
      // step every generator one chunk at a time, round-robin, so all hold a buffer at once
      const its = inputs.map((d, i) => cdc.chunks(source(d), hints[i])[Symbol.asyncIterator]());
      const got: Uint8Array[][] = inputs.map(() => []);
      let live = its.length;
      while (live > 0) {
        live = 0;
        for (let i = 0; i < its.length; i++) {
          const r = await its[i]!.next();
          if (!r.done) { got[i]!.push(r.value); live++; }
        }
      }
      inputs.forEach((d, i) => {
        expect(got[i]!.map((c) => c.length)).toEqual(cdc.lengths(d));
        expect(Buffer.compare(Buffer.concat(got[i]!), Buffer.from(d))).toBe(0);
      });
    }
  });

  it('keeps memory bounded on a large stream (its buffer never exceeds 2 × maxSize)', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', { minSize: 512 << 10, normalSize: 1 << 20, maxSize: 8 << 20 });
    const block = new Uint8Array(randomBytes(1 << 20));
    async function* source() { for (let i = 0; i < 512; i++) yield block; } // 512 MiB
    const before = process.memoryUsage().arrayBuffers;
    let total = 0, peak = 0;
    for await (const chunk of cdc.chunks(source())) {
      total += chunk.length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    expect(total).toBe(512 << 20);
    // Live buffers are the 16 MiB window plus the chunk handed out; the rest of what this
    // measures is yielded chunks the GC has not collected yet, so the bound is loose — but far
    // below the 512 MiB streamed, which a chunker holding its input would reach.
    expect(peak).toBeLessThan(160 << 20);
  });

  it('an empty stream yields nothing; unknown algorithms and bad sizes are refused', async () => {
    const cdc = new FastCdc('fastcdc-v1.0.0', PROFILES['2K-8K-64K']!);
    async function* empty() {}
    for await (const _ of cdc.chunks(empty())) expect.unreachable();
    expect(() => new FastCdc('rabin', PROFILES['2K-8K-64K']!)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => new FastCdc('fastcdc', { minSize: 10, normalSize: 5, maxSize: 1 })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});

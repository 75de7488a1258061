/** The packfile read cache of S3Storage: exact bytes, one fetch per block, bounded memory. */
import { describe, expect, it } from 'vitest';
import { BlockCache } from '../../src/connectors/s3/block-cache.js';

function remote(size: number) {
  const data = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
  const calls: [number, number][] = [];
  const fetch = async (offset: number, length: number) => {
    calls.push([offset, length]);
    await new Promise((r) => setTimeout(r, 1));
    return data.slice(offset, Math.min(size, offset + length));
  };
  return { data, calls, fetch };
}

describe('BlockCache', () => {
  it('returns exactly the asked bytes, within and across blocks and at the object end', async () => {
    const r = remote(1000);
    const c = new BlockCache(64, 100);
    for (const [o, l] of [[0, 1], [0, 64], [60, 10], [63, 130], [990, 10], [999, 1], [128, 64], [0, 1000]] as const) {
      expect(await c.read('k', { offset: o, length: l }, r.fetch), `${o}+${l}`).toEqual(r.data.slice(o, o + l));
    }
    // past the end: only what exists (the storage turns a short answer into CORRUPT)
    expect((await c.read('k', { offset: 995, length: 10 }, r.fetch)).length).toBe(5);
    expect((await c.read('k', { offset: 5000, length: 10 }, r.fetch)).length).toBe(0);
  });

  it('fetches each block once, also for concurrent readers', async () => {
    const r = remote(4096);
    const c = new BlockCache(1024, 10);
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.read('k', { offset: (i * 37) % 4000, length: 20 }, r.fetch)));
    expect(r.calls.length).toBeLessThanOrEqual(4);
    expect(new Set(r.calls.map(([o]) => o)).size).toBe(r.calls.length);
  });

  it('keeps at most maxBlocks, forgets a replaced object, and does not cache failures', async () => {
    const r = remote(100_000);
    const c = new BlockCache(100, 3);
    for (let i = 0; i < 10; i++) await c.read('k', { offset: i * 100, length: 10 }, r.fetch);
    r.calls.length = 0;
    await c.read('k', { offset: 0, length: 10 }, r.fetch); // evicted long ago
    await c.read('k', { offset: 900, length: 10 }, r.fetch); // still cached
    expect(r.calls).toEqual([[0, 100]]);
    c.forget('k');
    await c.read('k', { offset: 900, length: 10 }, r.fetch);
    expect(r.calls.length).toBe(2);
    let fail = true;
    const flaky = async (o: number, l: number) => {
      if (fail) throw new Error('network');
      return r.fetch(o, l);
    };
    await expect(c.read('x', { offset: 0, length: 5 }, flaky)).rejects.toThrow('network');
    fail = false;
    expect(await c.read('x', { offset: 0, length: 5 }, flaky)).toEqual(r.data.slice(0, 5));
  });
});

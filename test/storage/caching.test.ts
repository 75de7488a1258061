import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { CachingStorage, type ObjectCache } from '../../src/kloset/storage/caching.js';
import { FaultyStorage } from '../../src/kloset/storage/faulty.js';
import { DiskCache, sha256Hex } from '../../src/kloset/storage/node/disk-cache.js';
import { CHEAP_KDF, PASS, tempDir, testPrims } from '../support/engine.js';

describe('state cache (CachingStorage + DiskCache)', () => {
  it('reopening a store with 1,000 states reads none of them from the backend', async () => {
    const dir = tempDir('kloset-cache-');
    try {
      const backend = new MemoryStorage();
      const repo = await Repository.create(backend, testPrims, PASS, { kdf: CHEAP_KDF });
      for (let i = 0; i < 1000; i++) {
        const w = repo.writer(testPrims.random(32));
        const data = new TextEncoder().encode(`blob ${i}`);
        await w.putBlob(9, repo.mac.sum(data), data);
        await w.commit();
      }
      const counted = new FaultyStorage(backend);
      const first = await Repository.open(new CachingStorage(counted, new DiskCache(dir.path), sha256Hex), testPrims, PASS);
      expect(first.index.stateIds()).toHaveLength(1000);
      const firstGets = counted.calls.get ?? 0;
      expect(firstGets).toBe(1000);
      const t = performance.now();
      const second = await Repository.open(new CachingStorage(counted, new DiskCache(dir.path), sha256Hex), testPrims, PASS);
      const ms = performance.now() - t;
      expect((counted.calls.get ?? 0) - firstGets).toBe(0);
      expect(second.index.size).toBe(first.index.size);
      expect(ms).toBeLessThan(5000);
      // a copy damaged on disk is a miss: fetched again from the store, nothing fails (without
      // the index image, so that the states are read)
      const { readdirSync, rmSync, writeFileSync } = await import('node:fs');
      const storeDir = `${dir.path}/${readdirSync(dir.path)[0]}`;
      rmSync(`${storeDir}/index-image-v1`);
      writeFileSync(`${storeDir}/${readdirSync(storeDir).find((n) => /^[0-9a-f]{64}$/.test(n))}`, 'garbage');
      const before = counted.calls.get ?? 0;
      const third = await Repository.open(new CachingStorage(counted, new DiskCache(dir.path), sha256Hex), testPrims, PASS);
      expect(third.index.stateIds()).toHaveLength(1000);
      expect((counted.calls.get ?? 0) - before).toBe(1);
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});

/** An ObjectCache in memory that counts reads of state copies (64-hex names). */
class MemoryCache implements ObjectCache {
  readonly objects = new Map<string, Uint8Array>();
  stateReads = 0;
  async get(store: string, name: string) {
    if (/^[0-9a-f]{64}$/.test(name)) this.stateReads++;
    return this.objects.get(`${store}/${name}`)?.slice();
  }
  async put(store: string, name: string, bytes: Uint8Array) {
    this.objects.set(`${store}/${name}`, bytes.slice());
  }
  async delete(store: string, name: string) {
    this.objects.delete(`${store}/${name}`);
  }
  image(): [string, Uint8Array] {
    return [...this.objects].find(([k]) => k.endsWith('/index-image-v1'))!;
  }
}

describe('blob index image (kept with the state copies)', () => {
  async function storeWithStates(n: number) {
    const backend = new MemoryStorage();
    const repo = await Repository.create(backend, testPrims, PASS, { kdf: CHEAP_KDF });
    const stateIds: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const id = testPrims.random(32);
      const w = repo.writer(id);
      const data = new TextEncoder().encode(`blob ${i}`);
      await w.putBlob(9, repo.mac.sum(data), data);
      await w.commit();
      stateIds.push(id);
    }
    return { backend, repo, stateIds };
  }
  const open = (backend: MemoryStorage, cache: ObjectCache) => Repository.open(new CachingStorage(backend, cache, sha256Hex), testPrims, PASS);
  const answers = (r: Repository) => ({ size: r.index.size, states: r.index.stateIds().map(toHex).sort(), packs: r.index.packfiles().map(toHex).sort() });

  it('a reopened store starts from the image: no state is read or merged again, and the index is the same', async () => {
    const { backend, repo } = await storeWithStates(50);
    const cache = new MemoryCache();
    const first = await open(backend, cache);
    expect(cache.stateReads).toBe(50);
    expect(cache.image()).toBeDefined();
    const second = await open(backend, cache);
    expect(cache.stateReads).toBe(50); // none more
    expect(answers(second)).toEqual(answers(first));
    expect(answers(second)).toEqual(answers(repo));
    // a state written since: only that one is read, and the image is brought up to date
    const w = repo.writer(testPrims.random(32));
    const data = new TextEncoder().encode('one more');
    await w.putBlob(9, repo.mac.sum(data), data);
    await w.commit();
    const third = await open(backend, cache);
    expect(cache.stateReads).toBe(51);
    expect(third.index.lookup(9, repo.mac.sum(data))).toBeDefined();
    await open(backend, cache);
    expect(cache.stateReads).toBe(51);
  });

  it('a damaged or planted image is ignored (its MAC is the store key\'s) and the index comes from the states', async () => {
    const { backend, repo } = await storeWithStates(20);
    const cache = new MemoryCache();
    await open(backend, cache);
    const [name, bytes] = cache.image();
    for (const at of [0, 40, bytes.length >> 1, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at]! ^= 0x10;
      cache.objects.set(name, bad);
      const before = cache.stateReads;
      const r = await open(backend, cache);
      expect(cache.stateReads - before, `flip at ${at}`).toBe(20);
      expect(answers(r)).toEqual(answers(repo));
    }
    // an image made under another key (another store's, copied over) is ignored the same way
    const other = await storeWithStates(3);
    const otherCache = new MemoryCache();
    await open(other.backend, otherCache);
    cache.objects.set(name, otherCache.image()[1]);
    expect(answers(await open(backend, cache))).toEqual(answers(repo));
  });

  it('a state that left the store since the image was made is not kept: the index is merged again', async () => {
    const { backend, repo, stateIds } = await storeWithStates(10);
    const cache = new MemoryCache();
    await open(backend, cache);
    await backend.delete('state', stateIds[3]!);
    const r = await open(backend, cache);
    expect(r.index.stateIds().map(toHex)).not.toContain(toHex(stateIds[3]!));
    expect(r.index.stateIds()).toHaveLength(9);
    expect(repo.index.stateIds()).toHaveLength(10);
  });
});


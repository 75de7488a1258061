import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { CachingStorage } from '../../src/kloset/storage/caching.js';
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
      // a copy damaged on disk is a miss: fetched again from the store, nothing fails
      const { readdirSync, writeFileSync } = await import('node:fs');
      const storeDir = `${dir.path}/${readdirSync(dir.path)[0]}`;
      writeFileSync(`${storeDir}/${readdirSync(storeDir)[0]}`, 'garbage');
      const before = counted.calls.get ?? 0;
      const third = await Repository.open(new CachingStorage(counted, new DiskCache(dir.path), sha256Hex), testPrims, PASS);
      expect(third.index.stateIds()).toHaveLength(1000);
      expect((counted.calls.get ?? 0) - before).toBe(1);
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});

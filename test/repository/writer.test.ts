/**
 * RepositoryWriter's memory bound: blobs stored concurrently (as a backup stores chunks) never
 * fill a third packfile while one uploads — what it holds stays under two packfiles and a blob;
 * and putBlob's wait for an encoding slot costs the same however many encodings are pending.
 */
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { BlobType } from '../../src/kloset/repository/blob-types.js';
import { TARGET_PACKFILE_SIZE } from '../../src/kloset/repository/writer.js';
import { bodySize } from '../../src/kloset/storage/storage.js';
import { newRepo } from '../support/engine.js';

class SlowPackfiles extends MemoryStorage {
  uploaded = 0;
  /** packfiles stored so far */
  stored = 0;
  override async put(...a: Parameters<MemoryStorage['put']>): Promise<void> {
    if (a[0] === 'packfile') await new Promise((r) => setTimeout(r, 60));
    await super.put(...a);
    if (a[0] === 'packfile') { this.uploaded += bodySize(a[2]); this.stored++; }
  }
}

describe('RepositoryWriter', () => {
  it('holds at most two packfiles while uploads are slower than the producers', async () => {
    const storage = new SlowPackfiles();
    const repo = await newRepo({ plaintext: true, noCompression: true }, storage);
    try {
      const w = repo.writer(Uint8Array.from(randomBytes(32)));
      const blob = 1 << 20;
      let peakHeld = 0;
      const producer = async () => {
        for (let i = 0; i < 40; i++) {
          await w.putPrepared(BlobType.CHUNK, { mac: Uint8Array.from(randomBytes(32)), encoded: Uint8Array.from(randomBytes(blob)), entropy: 8 });
          peakHeld = Math.max(peakHeld, w.storedBytes - storage.uploaded);
        }
      };
      await Promise.all(Array.from({ length: 8 }, producer)); // 320 MiB through 8 concurrent producers
      await w.commit();
      expect(w.storedBytes).toBe(320 * blob);
      // two packfiles (one uploading, one filling), the blobs that overflowed them (one per
      // producer) and packfile overhead: a third packfile filling would pass 3 × the target
      const target = TARGET_PACKFILE_SIZE;
      expect(peakHeld).toBeLessThan(2 * target + 12 * blob);
      expect(peakHeld, 'the bound is reached: uploads are the slower side').toBeGreaterThan(target);
    } finally {
      await repo.close();
    }
  });

  it('offers the process a moment to give memory back after each packfile it stores (relieveMemory)', async () => {
    const storage = new SlowPackfiles();
    const repo = await newRepo({ plaintext: true, noCompression: true }, storage);
    try {
      let calls = 0, packfilesWhenCalled = 0;
      const r = repo as unknown as { prims: typeof repo.prims };
      r.prims = { ...repo.prims, relieveMemory: () => { calls++; packfilesWhenCalled = storage.stored; } };
      const w = repo.writer(Uint8Array.from(randomBytes(32)));
      const blob = 1 << 20;
      const n = Math.ceil((3 * TARGET_PACKFILE_SIZE) / blob) + 1; // three full packfiles and a last one
      for (let i = 0; i < n; i++) await w.putPrepared(BlobType.CHUNK, { mac: Uint8Array.from(randomBytes(32)), encoded: Uint8Array.from(randomBytes(blob)), entropy: 8 });
      await w.commit();
      const packfiles = (await storage.list('packfile')).length;
      expect(packfiles).toBe(4);
      expect(calls).toBe(packfiles); // once per stored packfile, after it was stored
      expect(packfilesWhenCalled).toBe(packfiles);
    } finally {
      await repo.close();
    }
  });

  it('putBlob waits for a free encoding slot without touching every pending encoding', async () => {
    const repo = await newRepo({ plaintext: true, noCompression: true });
    try {
      // encodings that end only when the test says so
      const gates: (() => void)[] = [];
      const encoder = repo.encoder as { encode?: (d: Uint8Array) => Promise<Uint8Array> };
      encoder.encode = (d) => new Promise((resolve) => gates.push(() => resolve(d)));
      const w = repo.writer(Uint8Array.from(randomBytes(32)));
      const blob = () => Uint8Array.from(randomBytes(64));
      const put = (b: Uint8Array) => w.putBlob(BlobType.VFS_ENTRY, repo.mac.sum(b), b);
      let started = 0;
      while (gates.length < 256 && started < 300) { void put(blob()); started++; await Promise.resolve(); }
      expect(started, 'the 256th call already waits (a full set of encodings)').toBe(256);
      // four more callers (a backup keeps a few items going): five wait, each with its
      // encoding already started, while 256 or more are pending
      const waiting = Array.from({ length: 4 }, () => put(blob()));
      await new Promise((r) => setImmediate(r));
      expect(gates.length).toBe(260);
      let through = 0;
      for (const p of waiting) void p.then(() => through++);
      // Ending encodings one by one lets the waiters through once fewer than 256 are pending.
      // Count the promises made meanwhile: a Promise.race over the pending set made ~260 per
      // waiter at each end (6,500 here); waking the waiters costs a few each.
      let promises = 0;
      const hook = createHook({ init: (_id, type) => { if (type === 'PROMISE') promises++; } }).enable();
      try {
        for (let i = 0; i < 5; i++) {
          gates[i]!();
          await new Promise((r) => setImmediate(r));
          if (i < 4) expect(through, 'none passes while 256 or more are pending').toBe(0);
        }
      } finally {
        hook.disable();
      }
      expect(await Promise.all(waiting)).toEqual(Array(4).fill(true));
      expect(promises).toBeLessThan(500);
      for (const g of gates.slice(5)) g();
      await w.commit();
    } finally {
      await repo.close();
    }
  });
});

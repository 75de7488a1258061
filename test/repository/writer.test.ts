/**
 * RepositoryWriter's memory bound: blobs stored concurrently (as a backup stores chunks) never
 * fill a third packfile while one uploads — what it holds stays under two packfiles and a blob.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { BlobType } from '../../src/kloset/repository/blob-types.js';
import { bodySize } from '../../src/kloset/storage/storage.js';
import { newRepo } from '../support/engine.js';

class SlowPackfiles extends MemoryStorage {
  uploaded = 0;
  override async put(...a: Parameters<MemoryStorage['put']>): Promise<void> {
    if (a[0] === 'packfile') await new Promise((r) => setTimeout(r, 60));
    await super.put(...a);
    if (a[0] === 'packfile') this.uploaded += bodySize(a[2]);
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
      // two 32 MiB packfiles (one uploading, one filling), the blobs that overflowed them, and
      // packfile overhead: a third packfile filling would pass 96 MiB
      expect(peakHeld).toBeLessThan(72 * blob);
      expect(peakHeld, 'the bound is reached: uploads are the slower side').toBeGreaterThan(32 * blob);
    } finally {
      await repo.close();
    }
  });
});

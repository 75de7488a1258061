/**
 * A backup into a storage that holds a single packfile (a ptar): the writer streams every blob
 * into that one packfile as the backup goes (no rotation, no padding blobs), ends it at the
 * commit, and the archive then opens, lists, checks and restores like any store. A backup that
 * fails leaves no archive.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { PtarStorage } from '../../src/connectors/ptar/storage.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { parsePackfile, RT_RANDOM } from '../../src/kloset/repository/packfile.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { ResourceType, unwrap } from '../../src/kloset/repository/wrapper.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import type { PackfileStream, Storage } from '../../src/kloset/storage/storage.js';
import { newRepo, PASS, tempDir, testPrims } from '../support/engine.js';

const work = tempDir('kloset-single-pack-');
afterAll(() => work.cleanup());

/** A PtarStorage that records, for each packfile write, how much of the stream had ended by then. */
class RecordingPtar extends PtarStorage {
  readonly writes: number[] = [];
  ended = false;
  putCalls = 0;
  override async openPackfileStream(mac: Uint8Array): Promise<PackfileStream> {
    const inner = await super.openPackfileStream(mac);
    return {
      write: async (b) => {
        this.writes.push(b.length);
        await inner.write(b);
      },
      end: async () => {
        this.ended = true;
        await inner.end();
      },
      abort: () => inner.abort(),
    };
  }
  override async put(...a: Parameters<Storage['put']>): Promise<void> {
    if (a[0] === 'packfile') this.putCalls++;
    return super.put(...a);
  }
}

/** 40 MiB of incompressible files (several stream writes) plus small ones. */
function sourceTree(name: string): { root: string; files: Record<string, Buffer> } {
  const root = join(work.path, name);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 5; i++) files[`big/${i}.bin`] = randomBytes(8 << 20);
  for (let i = 0; i < 50; i++) files[`small/${i}.txt`] = Buffer.from(`file ${i}\n`.repeat(i + 1));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  return { root, files };
}

describe('backup into a single-packfile storage (ptar)', () => {
  it('streams the one packfile while backing up, and the archive reads back whole', async () => {
    const { root, files } = sourceTree('src');
    const path = join(work.path, 'streamed.ptar');
    const storage = new RecordingPtar(path);
    const repo = await newRepo({ packfileMaxSize: (1n << 64n) - 1n }, storage);
    const result = await backup(repo, new FsImporter(root));
    await repo.close();
    // written out in pieces as it grew, not as one put at the end
    expect(storage.putCalls).toBe(0);
    expect(storage.ended).toBe(true);
    const bytes = storage.writes.reduce((a, b) => a + b, 0);
    expect(bytes).toBeGreaterThan(40 << 20);
    // no part near the whole packfile: a write is what one drain takes (8 MiB and the blob that
    // passed it; neighbours in the encoder's ring come as one part)
    expect(Math.max(...storage.writes)).toBeLessThan(17 << 20);
    expect(readdirSync(work.path).filter((n) => n.startsWith('streamed.ptar'))).toEqual(['streamed.ptar']);

    const reopened = await Repository.open(new PtarStorage(path), testPrims, PASS);
    try {
      expect(await reopened.storage.list('packfile')).toHaveLength(1);
      expect(await reopened.storage.list('state')).toHaveLength(1);
      const snap = await SnapshotReader.open(reopened, result.snapshotId);
      const report = await checkSnapshot(snap);
      expect(report.problems).toEqual([]);
      for (const [rel, data] of Object.entries(files)) {
        const e = (await snap.stat(`${root}/${rel}`))!;
        const parts: Uint8Array[] = [];
        for await (const c of snap.content(e)) parts.push(c);
        expect(Buffer.concat(parts).equals(data)).toBe(true);
      }
      // the streamed wrapper's MAC checks, and the index has no padding blobs (plakar's ptar writer adds none)
      const [packMac] = await reopened.storage.list('packfile');
      const { payload } = unwrap(await reopened.storage.get('packfile', packMac!), ResourceType.PACKFILE, reopened.mac);
      const { records } = parsePackfile(payload, reopened.codec, reopened.mac);
      expect(records.length).toBeGreaterThan(50);
      expect(records.filter((r) => r.type === RT_RANDOM)).toEqual([]);
    } finally {
      await reopened.close();
    }
    expect(readFileSync(path).subarray(0, 8).toString()).toBe('_PLATAR_');
  });

  it('a backup that fails midway leaves no archive and no temporary file', async () => {
    const { root } = sourceTree('src-fail');
    const path = join(work.path, 'failed.ptar');
    const storage = new RecordingPtar(path);
    const repo = await newRepo({ packfileMaxSize: (1n << 64n) - 1n }, storage);
    const controller = new AbortController();
    // cancelled once part of the packfile was written
    const failing = backup(repo, new FsImporter(root), {
      signal: controller.signal,
      onProgress: (p) => { if (p.bytes > 20 << 20) controller.abort(); },
    });
    await expect(failing).rejects.toThrow();
    await repo.close();
    expect(storage.writes.length).toBeGreaterThan(0);
    expect(readdirSync(work.path).filter((n) => n.startsWith('failed.ptar'))).toEqual([]);
  });

  it('a finished archive takes no second backup', async () => {
    const { root } = sourceTree('src-second');
    const path = join(work.path, 'once.ptar');
    const repo = await newRepo({ packfileMaxSize: (1n << 64n) - 1n }, new PtarStorage(path));
    await backup(repo, new FsImporter(root));
    await repo.close();
    const again = await Repository.open(new PtarStorage(path), testPrims, PASS);
    try {
      writeFileSync(join(root, 'new.txt'), 'new');
      await expect(backup(again, new FsImporter(root))).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      await again.close();
    }
    // the archive is unchanged and still opens
    const reopened = await Repository.open(new PtarStorage(path), testPrims, PASS);
    expect(reopened.snapshotIds()).toHaveLength(1);
    await reopened.close();
  });
});

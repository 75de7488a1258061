import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { removeSnapshot } from '../../src/kloset/repository/colour.js';
import { acquireLock, LOCK_TTL_MS } from '../../src/kloset/repository/lock.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { syncSnapshots } from '../../src/kloset/sync/sync.js';
import { makeTree, newRepo, PASS, tempDir, testPrims } from '../support/engine.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });
function tmp() { const t = tempDir(); cleanups.push(t.cleanup); return t.path; }
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
async function read(snap: SnapshotReader, path: string) {
  const parts: Uint8Array[] = [];
  for await (const p of snap.content((await snap.stat(path))!)) parts.push(p);
  return Buffer.concat(parts);
}

describe('rm', () => {
  it('hides the snapshot at once and after reopening; the others stay intact', async () => {
    const src = tmp();
    makeTree(src);
    const storage = new MemoryStorage();
    const repo = await newRepo({}, storage);
    const a = await backup(repo, new FsImporter(src));
    const b = await backup(repo, new FsImporter(src));
    await removeSnapshot(repo, a.snapshotId);
    expect(repo.snapshotIds().map(toHex)).toEqual([toHex(b.snapshotId)]);
    const reopened = await Repository.open(storage, testPrims, PASS);
    expect(reopened.snapshotIds().map(toHex)).toEqual([toHex(b.snapshotId)]);
    expect((await checkSnapshot(await SnapshotReader.open(reopened, b.snapshotId))).problems).toEqual([]);
    await expect(removeSnapshot(reopened, a.snapshotId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('sync', () => {
  it('copies snapshots to a store with another key and format options, keeping IDs; skips what is there', async () => {
    const src = tmp();
    const files = makeTree(src);
    const from = await newRepo({ plaintext: true });
    const first = await backup(from, new FsImporter(src), { tags: ['x'] });
    const second = await backup(from, new FsImporter(src));
    const to = await newRepo({ compression: 'ZSTD', hashing: 'SHA256' });
    const r = await syncSnapshots(from, to, [first.snapshotId, second.snapshotId]);
    expect(r.copied.map((c) => toHex(c.snapshotId))).toEqual([toHex(first.snapshotId), toHex(second.snapshotId)]);
    // the second snapshot has the same content: almost nothing new in the target
    expect(r.copied[1]!.storedBytes).toBeLessThan(r.copied[0]!.storedBytes / 20);
    const copy = await SnapshotReader.open(to, first.snapshotId);
    expect(copy.header.tags).toEqual(['x']);
    expect(copy.header.timestamp).toEqual((await SnapshotReader.open(from, first.snapshotId)).header.timestamp);
    for (const [rel, data] of Object.entries(files)) expect(sha(await read(copy, `${src}/${rel}`)), rel).toBe(sha(data));
    expect((await copy.stat(`${src}/link-to-a`))!.symlinkTarget).toBe('a.txt');
    expect((await checkSnapshot(copy)).problems).toEqual([]);
    const again = await syncSnapshots(from, to, [first.snapshotId]);
    expect(again.copied).toEqual([]);
    expect(again.skipped.map(toHex)).toEqual([toHex(first.snapshotId)]);
  });

  it('oneState: every copy in one state committed at the end (a ptar\'s shape); an ID given twice is copied once', async () => {
    const src = tmp();
    makeTree(src);
    const from = await newRepo();
    const first = await backup(from, new FsImporter(src));
    const second = await backup(from, new FsImporter(src), { tags: ['second'] });
    const storage = new MemoryStorage();
    const to = await newRepo({}, storage);
    const r = await syncSnapshots(from, to, [first.snapshotId, second.snapshotId, first.snapshotId], { oneState: true });
    expect(r.copied.map((c) => toHex(c.snapshotId))).toEqual([toHex(first.snapshotId), toHex(second.snapshotId)]);
    expect(r.skipped.map(toHex)).toEqual([toHex(first.snapshotId)]);
    expect(await storage.list('state')).toHaveLength(1);
    const reopened = await Repository.open(storage, testPrims, PASS);
    expect(reopened.snapshotIds().map(toHex).sort()).toEqual([toHex(first.snapshotId), toHex(second.snapshotId)].sort());
    for (const id of [first.snapshotId, second.snapshotId]) expect((await checkSnapshot(await SnapshotReader.open(reopened, id))).problems).toEqual([]);
  });
});

describe('locks', () => {
  it('a backup holds a shared lock only while it runs', async () => {
    const src = tmp();
    makeTree(src);
    const storage = new MemoryStorage();
    const repo = await newRepo({}, storage);
    let seen = 0;
    await backup(repo, new FsImporter(src), { onProgress: () => { void storage.list('lock').then((l) => { seen = Math.max(seen, l.length); }); } });
    expect(seen).toBe(1);
    expect(await storage.list('lock')).toEqual([]);
  });

  it('a fresh exclusive lock blocks a backup with CONFLICT; a stale one is removed', async () => {
    const src = tmp();
    makeTree(src);
    let now = Date.now();
    const storage = new MemoryStorage();
    const repo = await Repository.create(storage, { ...testPrims, now: () => now }, PASS, { kdf: (await import('../support/engine.js')).CHEAP_KDF });
    const held = await acquireLock(repo, new Uint8Array(32).fill(7), 'maintenance-host', true);
    await expect(backup(repo, new FsImporter(src))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/maintenance-host/) });
    expect((await storage.list('lock')).length).toBe(1); // the failed backup removed its own lock
    now += LOCK_TTL_MS + 1;
    await backup(repo, new FsImporter(src));
    expect(await storage.list('lock')).toEqual([]);
    await held.release();
  });
});

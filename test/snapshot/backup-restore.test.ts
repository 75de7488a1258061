import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsDestination } from '../../src/connectors/fs/destination.js';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import type { CreateOptions } from '../../src/kloset/repository/config-file.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { restore } from '../../src/kloset/restore/restore.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import type { Importer, ImportRecord } from '../../src/kloset/snapshot/importer.js';
import { isDir, resolveSnapshotId, SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { GoMode } from '../../src/kloset/snapshot/vfs/file-info.js';
import { makeTree, newRepo, PASS, tempDir, testPrims } from '../support/engine.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });
function tmp() { const t = tempDir(); cleanups.push(t.cleanup); return t.path; }

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

describe.each<[string, CreateOptions]>([
  ['encrypted, LZ4, BLAKE3', {}],
  ['plaintext, no compression, SHA256', { plaintext: true, noCompression: true, hashing: 'SHA256' }],
  ['encrypted, ZSTD', { compression: 'ZSTD' }],
])('backup → read → restore (%s)', (_name, options) => {
  it('round-trips a tree exactly, deduplicates, and checks clean', async () => {
    const src = tmp();
    const files = makeTree(src);
    const storage = new MemoryStorage();
    const repo = await newRepo(options, storage);
    const result = await backup(repo, new FsImporter(src), { tags: ['t1'] });
    expect(result.progress.errors).toBe(0);
    // the 3 MiB duplicate is stored once
    expect(result.storedBytes).toBeLessThan(4.5 * 2 ** 20);

    // a fresh open sees the snapshot through the states
    const reopened = await Repository.open(storage, testPrims, options.plaintext ? null : PASS);
    expect(reopened.snapshotIds().map(toHex)).toEqual([toHex(result.snapshotId)]);
    const id = resolveSnapshotId(reopened, toHex(result.snapshotId).slice(0, 6));
    const snap = await SnapshotReader.open(reopened, id);
    expect(snap.header.tags).toEqual(['t1']);
    expect(snap.header.sources[0]!.importer.directory).toBe(src);
    expect(snap.header.sources[0]!.summary.below.files + snap.header.sources[0]!.summary.directory.files).toBeGreaterThanOrEqual(BigInt(Object.keys(files).length));

    // every ancestor up to "/" exists, the root is "/"
    const root = await snap.stat('/');
    expect(root && isDir(root)).toBe(true);
    expect((await snap.stat(src))?.fileInfo.mode! & GoMode.dir).toBeTruthy();

    for (const [rel, data] of Object.entries(files)) {
      const e = await snap.stat(`${src}/${rel}`);
      expect(e, rel).toBeDefined();
      expect(e!.fileInfo.size).toBe(BigInt(data.length));
      expect(sha(await collect(snap.content(e!)))).toBe(sha(data));
    }
    const a = (await snap.stat(`${src}/a.txt`))!;
    expect(a.fileInfo.modTime).toEqual({ sec: 1_600_000_000, nsec: 250_000_000 });
    expect(a.contentType).toMatch(/^text\/plain/);
    expect((await snap.stat(`${src}/link-to-a`))!.symlinkTarget).toBe('a.txt');
    // byte ranges read only what they need
    const big = files['data/random.bin']!;
    expect(sha(await collect(snap.content((await snap.stat(`${src}/data/random.bin`))!, 1_000_000, 2_100_000)))).toBe(sha(big.subarray(1_000_000, 2_100_000)));

    const names: string[] = [];
    for await (const c of snap.children(src)) names.push(c.fileInfo.name);
    expect(names).toEqual(['a.txt', 'data', 'deep', 'docs', 'empty-dir', 'link-to-a', 'unicode']);

    const report = await checkSnapshot(snap);
    expect(report.problems).toEqual([]);

    const out = tmp();
    const p = await restore(snap, src, new FsDestination(out));
    expect(p.errors).toEqual([]);
    const base = join(out, src.split('/').pop()!);
    for (const [rel, data] of Object.entries(files)) expect(sha(readFileSync(join(base, rel))), rel).toBe(sha(data));
    expect(readlinkSync(join(base, 'link-to-a'))).toBe('a.txt');
    expect(readdirSync(join(base, 'empty-dir'))).toEqual([]);
    expect(statSync(join(base, 'a.txt')).mtimeMs).toBeCloseTo(statSync(join(src, 'a.txt')).mtimeMs, 0);
    expect(statSync(join(base, 'docs')).mode & 0o777).toBe(statSync(join(src, 'docs')).mode & 0o777);
  });
});

describe('backup edge cases', () => {
  it('an unreadable file becomes an error entry and the backup goes on', async () => {
    const repo = await newRepo();
    const importer: Importer = {
      type: 'test', origin: 'here', root: '/r',
      async *scan(): AsyncIterable<ImportRecord> {
        const fi = (name: string, mode: number, size = 0n) => ({ name, size, mode, modTime: { sec: 1, nsec: 0 }, dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 });
        yield { item: { path: '/r', fileInfo: fi('r', (GoMode.dir | 0o755) >>> 0) } };
        yield { item: { path: '/r/ok', fileInfo: fi('ok', 0o644, 2n), open: async function* () { yield new Uint8Array([1, 2]); } } };
        yield { item: { path: '/r/bad', fileInfo: fi('bad', 0o644, 5n), open: async function* () { throw new Error('EACCES: permission denied'); } } };
        yield { error: { path: '/r/gone', error: 'ENOENT: vanished during the walk' } };
      },
    };
    const result = await backup(repo, importer);
    expect(result.progress.errors).toBe(2);
    const snap = await SnapshotReader.open(repo, result.snapshotId);
    expect(await snap.stat('/r/bad')).toBeUndefined();
    expect((await snap.stat('/r/ok'))!.fileInfo.size).toBe(2n);
    const errors = [];
    for await (const e of snap.errors()) errors.push(e);
    expect(errors.map((e) => [e.name, e.error])).toEqual([['/r/bad', 'EACCES: permission denied'], ['/r/gone', 'ENOENT: vanished during the walk']]);
    expect(snap.header.sources[0]!.summary.directory.errors + snap.header.sources[0]!.summary.below.errors).toBe(2n);
  });

  it('hostile names in a snapshot are refused on restore and nothing lands outside the target', async () => {
    const repo = await newRepo();
    const fi = (name: string, mode: number) => ({ name, size: 4n, mode, modTime: { sec: 1, nsec: 0 }, dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 });
    const importer: Importer = {
      type: 'test', origin: 'evil', root: '/x',
      async *scan(): AsyncIterable<ImportRecord> {
        yield { item: { path: '/x', fileInfo: fi('x', (GoMode.dir | 0o755) >>> 0) } };
        yield { item: { path: '/x/..', fileInfo: fi('..', 0o644), open: async function* () { yield new TextEncoder().encode('evil'); } } };
        yield { item: { path: '/x/ok', fileInfo: fi('ok', 0o644), open: async function* () { yield new TextEncoder().encode('good'); } } };
      },
    };
    const { snapshotId } = await backup(repo, importer);
    const snap = await SnapshotReader.open(repo, snapshotId);
    const parent = tmp();
    const out = join(parent, 'target');
    const p = await restore(snap, '/x', new FsDestination(out));
    expect(p.errors.map((e) => e.path)).toEqual(['/x/..']);
    expect(p.errors[0]!.error).toMatch(/unsafe/);
    expect(readFileSync(join(out, 'x', 'ok'), 'utf8')).toBe('good');
    expect(readdirSync(parent)).toEqual(['target']);
    expect(readdirSync(out)).toEqual(['x']);
  });

  it('restore does not follow a symlink already at the destination', async () => {
    const src = tmp();
    makeTree(src);
    const repo = await newRepo();
    const { snapshotId } = await backup(repo, new FsImporter(join(src, 'docs')));
    const snap = await SnapshotReader.open(repo, snapshotId);
    const out = tmp();
    const elsewhere = tmp();
    const { symlinkSync } = await import('node:fs');
    symlinkSync(elsewhere, join(out, 'docs'));
    const p = await restore(snap, join(src, 'docs'), new FsDestination(out));
    expect(p.errors.length).toBeGreaterThan(0);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(lstatSync(join(out, 'docs')).isSymbolicLink()).toBe(true);
  });

  it('a second backup of the same tree stores almost nothing new', async () => {
    const src = tmp();
    makeTree(src);
    const repo = await newRepo();
    const first = await backup(repo, new FsImporter(src));
    const second = await backup(repo, new FsImporter(src));
    expect(second.storedBytes).toBeLessThan(first.storedBytes / 20);
    expect(repo.snapshotIds()).toHaveLength(2);
  });

  it('a re-backup reuses unchanged files from the previous snapshot and re-reads changed ones', async () => {
    const src = tmp();
    const files = makeTree(src);
    const repo = await newRepo();
    const first = await backup(repo, new FsImporter(src));
    const prev = await SnapshotReader.open(repo, first.snapshotId);
    // dirpack listing agrees with the VFS tree
    const viaTree: string[] = [];
    for await (const c of prev.children(`${src}/docs`)) viaTree.push(`${c.path} ${toHex(c.mac)}`);
    expect((await prev.directory(`${src}/docs`)).map((c) => `${c.path} ${toHex(c.mac)}`)).toEqual(viaTree);

    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(src, 'a.txt'), 'changed content, same mtime? no: a new one');
    const second = await backup(repo, new FsImporter(src), { previous: prev });
    const regular = Object.keys(files).length;
    expect(second.progress.unchanged).toBe(regular - 1);
    expect(second.progress.bytes).toBe(Buffer.byteLength('changed content, same mtime? no: a new one'));
    const snap = await SnapshotReader.open(repo, second.snapshotId);
    expect(Buffer.from(await collect(snap.content((await snap.stat(`${src}/a.txt`))!))).toString()).toBe('changed content, same mtime? no: a new one');
    expect(sha(await collect(snap.content((await snap.stat(`${src}/data/random.bin`))!)))).toBe(sha(files['data/random.bin']!));
    expect((await checkSnapshot(snap)).problems).toEqual([]);
  });

  it('an unchanged re-backup reuses every entry as stored; a chmod or touch yields a fresh, correct entry', async () => {
    const { chmodSync, utimesSync } = await import('node:fs');
    const src = tmp();
    makeTree(src);
    const repo = await newRepo();
    const first = await backup(repo, new FsImporter(src));
    const prev = await SnapshotReader.open(repo, first.snapshotId);
    const macs = async (s: SnapshotReader) => {
      const out = new Map<string, string>();
      for await (const e of s.walk(src)) out.set(e.path, toHex(e.mac));
      return out;
    };
    const again = await backup(repo, new FsImporter(src), { previous: prev });
    // same entries, same trees: the header is the only new metadata
    const snap2 = await SnapshotReader.open(repo, again.snapshotId);
    expect(await macs(snap2)).toEqual(await macs(prev));
    expect(snap2.header.sources[0]!.vfs.root).toEqual(prev.header.sources[0]!.vfs.root);
    expect(again.storedBytes).toBeLessThan(2000);

    chmodSync(join(src, 'a.txt'), 0o600);
    utimesSync(join(src, 'docs'), 1_600_000_000, 1_600_000_000.5); // a binary fraction: exact in seconds
    const third = await backup(repo, new FsImporter(src), { previous: snap2 });
    const snap3 = await SnapshotReader.open(repo, third.snapshotId);
    const before = await macs(snap2), after = await macs(snap3);
    const changed = [...after.keys()].filter((p) => after.get(p) !== before.get(p)).sort();
    expect(changed).toEqual([`${src}/a.txt`, `${src}/docs`]); // neither changes its parent's mtime
    const a = (await snap3.stat(`${src}/a.txt`))!;
    expect(a.fileInfo.mode & 0o777).toBe(0o600);
    const docs = (await snap3.stat(`${src}/docs`))!;
    expect(docs.fileInfo.modTime).toEqual({ sec: 1_600_000_000, nsec: 500_000_000 });
    expect((await checkSnapshot(snap3)).problems).toEqual([]);
  });

  it('the importer yields the same items whether stats are synchronous or on the thread pool', async () => {
    const src = tmp();
    makeTree(src);
    const scan = async (slowMs?: number) => {
      const out: string[] = [];
      for await (const r of new FsImporter(src, slowMs).scan()) out.push(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : typeof v === 'function' ? 'fn' : v)));
      return out;
    };
    const sync = await scan();
    expect(sync.length).toBeGreaterThan(5);
    expect(await scan(-1)).toEqual(sync);
  });

  it('user xattrs are backed up, listed per file (also for a sibling whose name extends it) and restored', async () => {
    const { createRequire } = await import('node:module');
    const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
    const src = tmp();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(src, 'b'), 'one');
    writeFileSync(join(src, 'bc'), 'two');
    try {
      xattr.setAttributeSync(join(src, 'b'), 'user.color', 'red');
    } catch (e) {
      console.warn(`skipped: this filesystem refuses user xattrs (${String(e)})`);
      return;
    }
    xattr.setAttributeSync(join(src, 'b'), 'user.tag', Buffer.from([0, 1, 2]));
    xattr.setAttributeSync(join(src, 'bc'), 'user.color', 'blue');
    const repo = await newRepo();
    const { snapshotId } = await backup(repo, new FsImporter(src));
    const snap = await SnapshotReader.open(repo, snapshotId);
    const b = (await snap.stat(`${src}/b`))!;
    expect(b.extendedAttributes).toEqual(['user.color', 'user.tag']);
    expect((await snap.xattrs(b)).map((x) => [x.entry.name, Buffer.from(x.value).toString('hex')])).toEqual([['user.color', '726564'], ['user.tag', '000102']]);
    expect((await snap.xattrs((await snap.stat(`${src}/bc`))!)).map((x) => Buffer.from(x.value).toString())).toEqual(['blue']);
    const out = tmp();
    expect((await restore(snap, src, new FsDestination(out))).errors).toEqual([]);
    const restored = join(out, src.split('/').pop()!);
    expect(xattr.getAttributeSync(join(restored, 'b'), 'user.tag')).toEqual(Buffer.from([0, 1, 2]));
    expect(xattr.getAttributeSync(join(restored, 'bc'), 'user.color')?.toString()).toBe('blue');
  });

  it('a wrong passphrase is AUTH', async () => {
    const storage = new MemoryStorage();
    await newRepo({}, storage);
    await expect(Repository.open(storage, testPrims, new TextEncoder().encode('nope'))).rejects.toMatchObject({ code: 'AUTH' });
  });
});

describe('restore cancelled mid-way', () => {
  it('settles only after every write under way has ended', async () => {
    const repo = await newRepo();
    const fi = (name: string, mode: number, size: bigint) => ({ name, size, mode, modTime: { sec: 1, nsec: 0 }, dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 });
    const importer: Importer = {
      type: 'test', origin: 'here', root: '/r',
      async *scan(): AsyncIterable<ImportRecord> {
        yield { item: { path: '/r', fileInfo: fi('r', (GoMode.dir | 0o755) >>> 0, 0n) } };
        for (let i = 0; i < 50; i++) yield { item: { path: `/r/f${i}`, fileInfo: fi(`f${i}`, 0o644, 1n), open: async function* () { yield new Uint8Array([i]); } } };
      },
    };
    const { snapshotId } = await backup(repo, importer);
    const snap = await SnapshotReader.open(repo, snapshotId);
    const controller = new AbortController();
    let writing = 0, started = 0;
    // a destination whose writes take a while, each finishing its clean-up after the cancel
    const slow = {
      parallelism: 8,
      mkdir: async () => {},
      symlink: async () => {},
      finish: async () => {},
      async writeFile(_rel: readonly string[], _e: unknown, content: AsyncIterable<Uint8Array>) {
        writing++;
        try {
          for await (const _ of content) { /* read it */ }
          if (++started === 10) controller.abort();
          await new Promise((r) => setTimeout(r, 100));
        } finally {
          writing--;
        }
      },
    };
    await expect(restore(snap, '/r', slow, { signal: controller.signal })).rejects.toThrow();
    expect(writing, 'writes still under way when restore() rejected').toBe(0);
    await repo.close();
  });
});

describe('restore lanes', () => {
  it('small files are restored while large ones are still being written, and a cancel starts no queued large file', async () => {
    const repo = await newRepo();
    const fi = (name: string, mode: number, size: bigint) => ({ name, size, mode, modTime: { sec: 1, nsec: 0 }, dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 });
    const big = (i: number) => new Uint8Array(1 << 20).fill(i + 1);
    const importer: Importer = {
      type: 'test', origin: 'here', root: '/r',
      async *scan(): AsyncIterable<ImportRecord> {
        yield { item: { path: '/r', fileInfo: fi('r', (GoMode.dir | 0o755) >>> 0, 0n) } };
        // in walk order a folder of large files comes first ("a" < "b")
        yield { item: { path: '/r/a', fileInfo: fi('a', (GoMode.dir | 0o755) >>> 0, 0n) } };
        for (let i = 0; i < 12; i++) yield { item: { path: `/r/a/l${String(i).padStart(2, '0')}`, fileInfo: fi(`l${String(i).padStart(2, '0')}`, 0o644, 1n << 20n), open: async function* () { yield big(i); } } };
        yield { item: { path: '/r/b', fileInfo: fi('b', (GoMode.dir | 0o755) >>> 0, 0n) } };
        for (let i = 0; i < 30; i++) yield { item: { path: `/r/b/s${i}`, fileInfo: fi(`s${i}`, 0o644, 1n), open: async function* () { yield new Uint8Array([i]); } } };
      },
    };
    const { snapshotId } = await backup(repo, importer);
    const snap = await SnapshotReader.open(repo, snapshotId);

    // large files block until released; small ones finish at once
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const written = new Map<string, string>();
    let largeStarted = 0;
    let smallDoneBeforeRelease = 0;
    let releasedYet = false;
    const dest = {
      mkdir: async () => {},
      symlink: async () => {},
      finish: async () => {},
      async writeFile(rel: readonly string[], _e: unknown, content: AsyncIterable<Uint8Array>) {
        const name = rel.join('/');
        const isLarge = name.startsWith('r/a/');
        if (isLarge) {
          largeStarted++;
          await released;
        }
        written.set(name, sha(await collect(content)));
        if (!isLarge && !releasedYet) smallDoneBeforeRelease++;
        if (!isLarge && written.size === 30 && !releasedYet) { releasedYet = true; release(); }
      },
    };
    // (a restore that holds small files back until the large ones end would wait forever)
    const safety = setTimeout(() => { releasedYet = true; release(); }, 3000);
    const done = await restore(snap, '/r', dest);
    clearTimeout(safety);
    expect(done.errors).toEqual([]);
    expect(smallDoneBeforeRelease, 'every small file was restored while the large ones waited').toBe(30);
    expect(largeStarted).toBe(12);
    for (let i = 0; i < 12; i++) expect(written.get(`r/a/l${String(i).padStart(2, '0')}`)).toBe(sha(big(i)));

    // a cancel while large files are queued: none of the queued ones starts afterwards
    const controller = new AbortController();
    let startedAfterCancel = 0;
    const cancelling = {
      ...dest,
      async writeFile(rel: readonly string[], _e: unknown, content: AsyncIterable<Uint8Array>) {
        if (controller.signal.aborted) startedAfterCancel++;
        if (rel.join('/').startsWith('r/a/')) {
          controller.abort();
          await new Promise((r) => setTimeout(r, 50));
        }
        for await (const _ of content) { /* read it */ }
      },
    };
    await expect(restore(snap, '/r', cancelling, { signal: controller.signal })).rejects.toThrow();
    expect(startedAfterCancel, 'files started after the cancel (the second of the first two large ones may already be under way)').toBeLessThanOrEqual(1);
    await repo.close();
  });
});


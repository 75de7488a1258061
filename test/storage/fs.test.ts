import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { FsStorage } from '../../src/connectors/fs/storage.js';
import { pattern, randomMac, rejectsWith, storageContract, streamBody } from './contract.js';

const posix = process.platform !== 'win32';

storageContract('fs', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kloset-fs-'));
  return { storage: new FsStorage(join(base, 'store')), cleanup: () => rm(base, { recursive: true, force: true }) };
});

describe('FsStorage', () => {
  let base: string;
  let root: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'kloset-fs-'));
    root = join(base, 'store');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
  const tmpFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith('tmp.'));

  it('lays the store out as plakar does (spec §1.2)', async () => {
    const s = new FsStorage(root);
    expect(s.location).toBe(`fs://${root}`);
    await s.create(new TextEncoder().encode('cfg'));
    expect((await readdir(root)).sort()).toEqual(['CONFIG', 'locks', 'packfiles', 'states']);
    expect(await readFile(join(root, 'CONFIG'), 'utf8')).toBe('cfg');
    const buckets = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
    for (const top of ['packfiles', 'states']) {
      const entries = await readdir(join(root, top), { withFileTypes: true });
      expect(entries.map((e) => e.name).sort()).toEqual(buckets);
      expect(entries.every((e) => e.isDirectory())).toBe(true);
    }
    expect(await readdir(join(root, 'locks'))).toEqual([]);
    if (posix) {
      for (const dir of [root, join(root, 'packfiles'), join(root, 'states'), join(root, 'locks'), join(root, 'packfiles/00'), join(root, 'states/ff')]) {
        expect(await modeOf(dir), dir).toBe(0o700);
      }
    }

    const mac = fromHex('9f68c360' + '11'.repeat(26) + '02f5');
    await s.put('packfile', mac, pattern(10));
    await s.put('state', mac, pattern(11));
    await s.put('lock', mac, streamBody(pattern(12), [5]));
    const hex = toHex(mac);
    expect(await readFile(join(root, 'packfiles/9f', hex))).toEqual(Buffer.from(pattern(10)));
    expect(await readFile(join(root, 'states/9f', hex))).toEqual(Buffer.from(pattern(11)));
    expect(await readFile(join(root, 'locks', hex))).toEqual(Buffer.from(pattern(12)));
    if (posix) expect(await modeOf(join(root, 'packfiles/9f', hex))).toBe(0o600);
    for (const dir of [root, join(root, 'packfiles'), join(root, 'states')]) expect(await tmpFiles(dir)).toEqual([]);
  });

  it('resolves a relative root to an absolute location', () => {
    expect(new FsStorage('some/rel').location).toBe(`fs://${join(process.cwd(), 'some/rel')}`);
  });

  it('creates in an existing empty directory; refuses a non-empty one or a file (CONFLICT)', async () => {
    await mkdir(root);
    await new FsStorage(root).create(new Uint8Array([1]));
    expect(await readFile(join(root, 'CONFIG'))).toEqual(Buffer.from([1]));

    const other = join(base, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    const e = await rejectsWith(new FsStorage(other).create(new Uint8Array([1])), 'CONFLICT');
    expect(e.message).toContain(other);
    expect(await readdir(other)).toEqual(['notes.txt']);

    const file = join(base, 'file');
    await writeFile(file, 'x');
    await rejectsWith(new FsStorage(file).create(new Uint8Array([1])), 'CONFLICT');
  });

  it('open: a directory without CONFIG, or no directory, is NOT_FOUND with a clear message', async () => {
    await mkdir(root);
    const e = await rejectsWith(new FsStorage(root).open(), 'NOT_FOUND');
    expect(e.message).toMatch(/not a Kloset store: it has no CONFIG file/);
    const e2 = await rejectsWith(new FsStorage(join(base, 'nothing')).open(), 'NOT_FOUND');
    expect(e2.message).toMatch(/directory does not exist/);
    const file = join(base, 'file');
    await writeFile(file, 'x');
    expect((await rejectsWith(new FsStorage(file).open(), 'NOT_FOUND')).message).toMatch(/not a directory/);
  });

  it('removes its temp file when a stream fails, is too long or too short', async () => {
    const s = new FsStorage(root);
    await s.create(new Uint8Array([1]));
    const data = pattern(3 << 20);
    const bodies = [
      streamBody(data, [1 << 20], data.length - 1),
      streamBody(data, [1 << 20], data.length + 1),
      { size: data.length, async *stream() { yield data.subarray(0, 2 << 20); throw new Error('source gone'); } },
    ];
    for (const r of ['packfile', 'state', 'lock'] as const) {
      for (const body of bodies) {
        await expect(s.put(r, randomMac(), body)).rejects.toThrow();
      }
    }
    for (const dir of [root, join(root, 'packfiles'), join(root, 'states')]) expect(await tmpFiles(dir)).toEqual([]);
    expect(await s.list('packfile')).toEqual([]);
  });

  it('streams a body to disk as it arrives (the temp file grows before the stream ends)', async () => {
    const s = new FsStorage(root);
    await s.create(new Uint8Array([1]));
    const data = pattern(6 << 20);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    const m = randomMac();
    const putting = s.put('packfile', m, {
      size: data.length,
      async *stream() {
        for (let o = 0; o < 3 << 20; o += 64 << 10) yield data.subarray(o, o + (64 << 10));
        reached();
        await gate;
        yield data.subarray(3 << 20);
      },
    });
    await atGate;
    const [tmp] = await tmpFiles(join(root, 'packfiles'));
    expect(tmp).toBeDefined();
    expect((await stat(join(root, 'packfiles', tmp!))).size).toBeGreaterThanOrEqual(2 << 20);
    await expect(stat(join(root, 'packfiles', toHex(m).slice(0, 2), toHex(m)))).rejects.toThrow();
    release();
    await putting;
    expect(await tmpFiles(join(root, 'packfiles'))).toEqual([]);
    expect((await s.get('packfile', m, { offset: 3 << 20, length: 10 }))).toEqual(data.slice(3 << 20, (3 << 20) + 10));
  });

  it('serves a range of a file larger than a whole read could return (positioned reads)', async () => {
    const s = new FsStorage(root);
    await s.create(new Uint8Array([1]));
    const m = randomMac();
    const path = join(root, 'packfiles', toHex(m).slice(0, 2), toHex(m));
    const size = 2 ** 31 + 4096; // sparse; readFile refuses files over 2 GiB
    const fh = await open(path, 'w');
    await fh.truncate(size);
    await fh.write(pattern(16), 0, 16, size - 16);
    await fh.close();
    expect(await s.get('packfile', m, { offset: size - 16, length: 16 })).toEqual(pattern(16));
    expect(await s.get('packfile', m, { offset: 2 ** 31, length: 8 })).toEqual(new Uint8Array(8));
    await rejectsWith(s.get('packfile', m, { offset: size - 15, length: 16 }), 'CORRUPT');
  });

  it('lists only regular files named by 64 lowercase hex chars in their own bucket', async () => {
    const s = new FsStorage(root);
    await s.create(new Uint8Array([1]));
    const good = randomMac();
    good[0] = 0xab;
    await s.put('packfile', good, pattern(3));
    const lock = randomMac();
    await s.put('lock', lock, pattern(3));
    const hex = toHex(randomMac());
    const junk = [
      join(root, 'packfiles', 'tmp.0123456789abcdef'),
      join(root, 'packfiles', 'ab', 'tmp.0123456789abcdef'),
      join(root, 'packfiles', '00', 'ff' + hex.slice(2)), // wrong bucket
      join(root, 'packfiles', 'ab', 'AB' + hex.slice(2).toUpperCase()),
      join(root, 'packfiles', 'ab', 'ab' + hex.slice(3)), // 63 chars
      join(root, 'packfiles', 'ab', 'ab' + hex.slice(2) + '0'), // 65 chars
      join(root, 'packfiles', 'ab', 'ab' + hex.slice(2) + '.bak'),
      join(root, 'locks', 'README'),
      join(root, 'locks', 'tmp.0123456789abcdef'),
    ];
    for (const p of junk) await writeFile(p, 'x');
    await mkdir(join(root, 'packfiles', 'zz'));
    await writeFile(join(root, 'packfiles', 'zz', 'zz' + hex.slice(2)), 'x');
    await mkdir(join(root, 'packfiles', 'ab', 'ab' + hex.slice(2))); // a directory with an object name
    await writeFile(join(root, 'packfiles', 'README'), 'x');
    if (posix) await symlink(join(root, 'packfiles', 'ab', toHex(good)), join(root, 'packfiles', 'ab', 'ab' + hex.slice(2, 63) + (hex.endsWith('9') ? '8' : '9')));
    expect((await s.list('packfile')).map(toHex)).toEqual([toHex(good)]);
    expect((await s.list('lock')).map(toHex)).toEqual([toHex(lock)]);
  });

  it('maps other errors to IO naming the path, and still removes the temp file', async () => {
    const s = new FsStorage(root);
    await s.create(new Uint8Array([1]));
    const m = randomMac();
    const target = join(root, 'packfiles', toHex(m).slice(0, 2), toHex(m));
    await mkdir(target); // a directory where the object should go: rename fails with EISDIR
    const e = await rejectsWith(s.put('packfile', m, pattern(10)), 'IO');
    expect(e.message).toContain(target);
    expect(e.details).toMatchObject({ path: target, errno: 'EISDIR' });
    expect(await tmpFiles(join(root, 'packfiles'))).toEqual([]);

    const e2 = await rejectsWith(s.get('packfile', m), 'IO');
    expect(e2.message).toContain(target);
  });

  it('a put into a store whose bucket is gone fails without leaving a temp file', async () => {
    const s = new FsStorage(root);
    await s.create(new Uint8Array([1]));
    const m = randomMac();
    await rm(join(root, 'states', toHex(m).slice(0, 2)), { recursive: true });
    await rejectsWith(s.put('state', m, pattern(10)), 'NOT_FOUND');
    expect(await tmpFiles(join(root, 'states'))).toEqual([]);
    expect(await s.list('state')).toEqual([]);
  });
});


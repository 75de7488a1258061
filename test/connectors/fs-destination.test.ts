import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsDestination } from '../../src/connectors/fs/destination.js';
import type { VfsEntry } from '../../src/kloset/snapshot/reader.js';
import { GoMode } from '../../src/kloset/snapshot/vfs/file-info.js';
import { tempDir } from '../support/engine.js';

const work = tempDir('kloset-fsdest-');
afterAll(() => work.cleanup());
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function entry(name: string, size: number, mode = 0o640): VfsEntry {
  return {
    path: `/${name}`,
    fileInfo: { name, size: BigInt(size), mode, modTime: { sec: 1_500_000_000, nsec: 0 }, dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 },
    extendedAttributes: [],
  } as unknown as VfsEntry;
}

async function* pieces(data: Uint8Array, size: number) {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
}

// both ways of writing: synchronous calls (small files on a fast filesystem) and the thread pool
describe.each([['synchronous calls', undefined], ['thread pool', -1]] as const)('FsDestination writes (%s)', (_mode, slowMs) => {
  it('content, mode and mtime of empty, small and large files', async () => {
    const dir = join(work.path, `a${slowMs ?? ''}`);
    const d = new FsDestination(dir, slowMs);
    await d.mkdir([], { ...entry('', 0), fileInfo: { ...entry('', 0).fileInfo, mode: (GoMode.dir | 0o755) >>> 0 } } as VfsEntry);
    for (const [name, n] of [['empty', 0], ['small', 3000], ['big', 3 << 20]] as const) {
      const data = randomBytes(n);
      await d.writeFile([name], entry(name, n), pieces(data, 64 << 10));
      expect(sha(readFileSync(join(dir, name))), name).toBe(sha(data));
      expect(statSync(join(dir, name)).mode & 0o777).toBe(0o640);
      expect(statSync(join(dir, name)).mtimeMs).toBe(1_500_000_000_000);
    }
    await d.finish();
  });

  it('an entry whose size is smaller than its content still gets all of it', async () => {
    const dir = join(work.path, `b${slowMs ?? ''}`);
    const d = new FsDestination(dir, slowMs);
    const data = randomBytes(3 << 20);
    await d.writeFile(['liar'], entry('liar', 10), pieces(data, 256 << 10));
    expect(sha(readFileSync(join(dir, 'liar')))).toBe(sha(data));
  });

  it('content that fails half-way leaves neither the file nor its temporary name', async () => {
    const dir = join(work.path, `c${slowMs ?? ''}`);
    const d = new FsDestination(dir, slowMs);
    await d.mkdir([], { ...entry('', 0), fileInfo: { ...entry('', 0).fileInfo, mode: (GoMode.dir | 0o755) >>> 0 } } as VfsEntry);
    async function* failing() {
      yield new Uint8Array(1000);
      throw new Error('damaged chunk');
    }
    await expect(d.writeFile(['half'], entry('half', 2000), failing())).rejects.toThrow('damaged chunk');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file already at the name is replaced whole, and kept as it was when the new content fails', async () => {
    const dir = join(work.path, `over${slowMs ?? ''}`);
    mkdirSync(dir, { recursive: true });
    const old = randomBytes(5000);
    writeFileSync(join(dir, 'f'), old);
    const d = new FsDestination(dir, slowMs);
    async function* failing() {
      yield new Uint8Array(100);
      throw new Error('damaged chunk');
    }
    await expect(d.writeFile(['f'], entry('f', 200), failing())).rejects.toThrow('damaged chunk');
    expect(sha(readFileSync(join(dir, 'f')))).toBe(sha(old)); // not truncated, not half-written
    expect(readdirSync(dir)).toEqual(['f']); // and no temporary name left behind
    const data = randomBytes(3000);
    await d.writeFile(['f'], entry('f', 3000), pieces(data, 1000));
    expect(sha(readFileSync(join(dir, 'f')))).toBe(sha(data));
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('a symlink at the name is replaced by the file, and what it points to is not written', async () => {
    const dir = join(work.path, `link${slowMs ?? ''}`);
    mkdirSync(dir, { recursive: true });
    const outside = join(work.path, `outside${slowMs ?? ''}`);
    writeFileSync(outside, 'keep me');
    symlinkSync(outside, join(dir, 'f'));
    const d = new FsDestination(dir, slowMs);
    const data = randomBytes(2000);
    await d.writeFile(['f'], entry('f', 2000), pieces(data, 500));
    expect(lstatSync(join(dir, 'f')).isFile()).toBe(true);
    expect(sha(readFileSync(join(dir, 'f')))).toBe(sha(data));
    expect(readFileSync(outside, 'utf8')).toBe('keep me');
  });
});

describe.each([['synchronous calls', undefined], ['thread pool', -1]] as const)('FsDestination: permissions and ownership with fewer calls (%s)', (_mode, slowMs) => {
  const asRoot = process.getuid?.() === 0;
  const withOwner = (e: VfsEntry, uid: number, gid: number): VfsEntry => ({ ...e, fileInfo: { ...e.fileInfo, uid: BigInt(uid), gid: BigInt(gid) } } as VfsEntry);

  it('every permission comes out as recorded, whatever the umask lets through at creation', async () => {
    const dir = join(work.path, `perm${slowMs ?? ''}`);
    const d = new FsDestination(dir, slowMs);
    // 0o666 is narrowed by a 022 umask at creation; the special bits never survive creation
    const perms: [number, number][] = [[0o600, 0o600], [0o644, 0o644], [0o755, 0o755], [0o666, 0o666], [0o777, 0o777]];
    if (asRoot) perms.push([(GoMode.setuid | 0o755) >>> 0, 0o4755], [(GoMode.sticky | 0o644) >>> 0, 0o1644]);
    for (const [mode, want] of perms) {
      const name = `m${want.toString(8)}`;
      await d.writeFile([name], entry(name, 3, mode), pieces(new Uint8Array([1, 2, 3]), 3));
      expect(statSync(join(dir, name)).mode & 0o7777, name).toBe(want);
    }
  });

  it.skipIf(!asRoot)('as root: recorded owners are applied, also in a setgid directory whose group new files would take', async () => {
    const dir = join(work.path, `own${slowMs ?? ''}`);
    mkdirSync(dir, { recursive: true });
    chownSync(dir, 0, 4321);
    chmodSync(dir, 0o2775);
    const d = new FsDestination(dir, slowMs);
    await d.writeFile(['other'], withOwner(entry('other', 1), 1234, 5678), pieces(new Uint8Array([9]), 1));
    expect([statSync(join(dir, 'other')).uid, statSync(join(dir, 'other')).gid]).toEqual([1234, 5678]);
    // recorded as root:root, like the process: without the chown the file would be root:4321
    await d.writeFile(['mine'], withOwner(entry('mine', 1), 0, 0), pieces(new Uint8Array([9]), 1));
    expect([statSync(join(dir, 'mine')).uid, statSync(join(dir, 'mine')).gid]).toEqual([0, 0]);
  });
});

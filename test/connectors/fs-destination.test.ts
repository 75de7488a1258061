import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
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

describe('FsDestination writes', () => {
  it('content, mode and mtime of empty, small and large files', async () => {
    const dir = join(work.path, 'a');
    const d = new FsDestination(dir);
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
    const dir = join(work.path, 'b');
    const d = new FsDestination(dir);
    const data = randomBytes(3 << 20);
    await d.writeFile(['liar'], entry('liar', 10), pieces(data, 256 << 10));
    expect(sha(readFileSync(join(dir, 'liar')))).toBe(sha(data));
  });
});

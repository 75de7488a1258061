import { describe, expect, it } from 'vitest';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { EntryLog } from '../../src/kloset/snapshot/entry-log.js';
import type { Importer, ImportRecord } from '../../src/kloset/snapshot/importer.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { GoMode, type FileInfo } from '../../src/kloset/snapshot/vfs/file-info.js';
import { newRepo } from '../support/engine.js';

describe('EntryLog', () => {
  it('gives back every MAC and entry as appended, across slabs and for an entry larger than a slab', () => {
    const log = new EntryLog();
    const refs: [number, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 20_000; i++) {
      const mac = new Uint8Array(32).fill(i & 0xff);
      mac[0] = i >> 8;
      const bytes = new Uint8Array(i === 7_777 ? 3 << 20 : i % 300);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (i + j) & 0xff;
      refs.push([log.append(mac, bytes), mac, bytes]);
    }
    expect(log.heldBytes).toBeGreaterThan(2 * (1 << 20) + (3 << 20)); // several slabs, one of its own
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
    const wrong = refs.filter(([ref, mac, bytes]) => !same(log.mac(ref), mac) || !same(log.bytes(ref), bytes));
    expect(wrong.length).toBe(0);
    expect(log.bytes(refs[7_777]![0]).length).toBe(3 << 20);
    expect(() => log.mac(99 * 2 ** 32)).toThrow(RangeError);
    // kept views come back as the same objects, beside copied entries
    const mac = new Uint8Array(32).fill(3), bytes = new Uint8Array([1, 2, 3]);
    const kept = log.keep(mac, bytes);
    expect(log.mac(kept)).toBe(mac);
    expect(log.bytes(kept)).toBe(bytes);
    expect(() => log.bytes(kept - 1)).toThrow(RangeError);
    expect(() => log.append(new Uint8Array(31), new Uint8Array(1))).toThrow(TypeError);
  });
});

function info(name: string, dir: boolean, size = 0): FileInfo {
  return {
    name, size: BigInt(size), mode: dir ? (GoMode.dir | 0o755) >>> 0 : 0o644, modTime: { sec: 1_700_000_000, nsec: 5 },
    dev: 1n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0,
  };
}

/** Items in a scrambled order, with names whose path order differs from a naive sort. */
function importer(paths: string[]): Importer {
  return {
    type: 'test', origin: 'here', root: '/r',
    async *scan(): AsyncIterable<ImportRecord> {
      for (const p of paths) {
        const dir = p.endsWith('/');
        const path = dir ? p.slice(0, -1) : p;
        const name = path.slice(path.lastIndexOf('/') + 1);
        const data = new TextEncoder().encode(`content of ${path}`);
        yield { item: { path, fileInfo: info(name, dir, dir ? 0 : data.length), open: dir ? undefined : async function* () { yield data; } } };
      }
    },
  };
}

describe('dirpacks made from the recorded entries', () => {
  it('list every directory in name order, the same as the VFS tree, for names around "/" in byte order', async () => {
    const paths = ['/r/a-b/z', '/r/a/', '/r/a.b', '/r/a/y', '/r/a-b/', '/r/B', '/r/a/x/', '/r/a/x/deep', '/r/é', '/r/a0', '/r/a/-', '/r/', '/r/missing-parent/child'];
    const repo = await newRepo();
    const { snapshotId } = await backup(repo, importer(paths));
    const snap = await SnapshotReader.open(repo, snapshotId);
    const expected: Record<string, string[]> = {
      '/': ['r'],
      '/r': ['B', 'a', 'a-b', 'a.b', 'a0', 'missing-parent', 'é'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      '/r/a': ['-', 'x', 'y'],
      '/r/a/x': ['deep'],
      '/r/a-b': ['z'],
      '/r/missing-parent': ['child'],
    };
    for (const [dir, names] of Object.entries(expected)) {
      const fromDirpack = (await snap.directory(dir)).map((e) => e.fileInfo.name);
      expect(fromDirpack, dir).toEqual(names);
      // the VFS tree's listing (taken when resuming after a child) agrees
      const fromTree: string[] = [];
      for await (const e of snap.children(dir, `${dir === '/' ? '' : dir}/`)) fromTree.push(e.fileInfo.name);
      expect(fromTree, dir).toEqual(names);
      for (const e of await snap.directory(dir)) expect((await snap.stat(e.path))?.mac, e.path).toEqual(e.mac);
    }
    // the content-type index holds each regular file once
    const file = await snap.stat('/r/a/x/deep');
    expect(file?.contentType).toMatch(/^text\/plain/);
  });
});

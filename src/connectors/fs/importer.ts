/**
 * Backs up a local folder: walks it depth-first without following symlinks, and yields every
 * directory, file, symlink and special file with Go-shaped stat data (nanosecond mtimes, Go
 * FileMode bits, uid/gid and their names) and user xattrs. Snapshot paths are the absolute
 * source paths, as plakar's fs importer records them. A file or directory that cannot be read
 * becomes an error record and the walk goes on.
 */
import { createReadStream, type BigIntStats } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import type { Importer, ImportRecord, ImportedItem } from '../../kloset/snapshot/importer.js';
import type { FileInfo } from '../../kloset/snapshot/vfs/file-info.js';
import { goModeFromPosix } from '../../kloset/snapshot/vfs/go-mode.js';
import { groupName, userName } from './user-names.js';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');

const SMALL_FILE = 1n << 20n;

async function* readWhole(path: string): AsyncIterable<Uint8Array> {
  yield await readFile(path);
}

/** Only the user namespace is portable between machines and readable without privileges. */
const XATTR_PREFIX = 'user.';

export function fileInfoFromStats(name: string, st: BigIntStats): FileInfo {
  const nsec = Number(st.mtimeNs % 1_000_000_000n);
  return {
    name,
    size: st.isFile() ? st.size : st.isSymbolicLink() ? st.size : 0n,
    mode: goModeFromPosix(Number(st.mode)),
    modTime: { sec: Number(st.mtimeNs / 1_000_000_000n) - (nsec < 0 ? 1 : 0), nsec: nsec < 0 ? nsec + 1_000_000_000 : nsec },
    dev: st.dev,
    ino: st.ino,
    uid: st.uid,
    gid: st.gid,
    nlink: Math.min(Number(st.nlink), 0xffff),
    username: userName(Number(st.uid)),
    groupname: groupName(Number(st.gid)),
    flags: 0,
  };
}

/** Local path → snapshot path ('/'-separated, absolute). */
function toSnapshotPath(local: string): string {
  const p = sep === '/' ? local : local.split(sep).join('/');
  return p.startsWith('/') ? p : `/${p}`;
}

export class FsImporter implements Importer {
  readonly type = 'fs';
  readonly origin = hostname();
  readonly root: string;
  private readonly localRoot: string;

  constructor(directory: string) {
    this.localRoot = resolve(directory);
    this.root = toSnapshotPath(this.localRoot);
  }

  async *scan(signal?: AbortSignal): AsyncIterable<ImportRecord> {
    // Each item carries its lstat result or failure: a directory's children are stat'ed
    // concurrently when it is read (one await per directory instead of one per file).
    const stack: { local: string; stat: Promise<Stat> }[] = [{ local: this.localRoot, stat: statOne(this.localRoot) }];
    while (stack.length > 0) {
      signal?.throwIfAborted();
      const { local, stat } = stack.pop()!;
      const path = toSnapshotPath(local);
      let st: BigIntStats, xattrNames: string[];
      try {
        ({ st, xattrNames } = await stat);
      } catch (e) {
        yield { error: { path, error: errorText(e) } };
        continue;
      }
      const name = local === '/' ? '/' : local.slice(local.lastIndexOf(sep) + 1);
      const item: ImportedItem = { path, fileInfo: fileInfoFromStats(name, st) };
      if (st.isSymbolicLink()) {
        try {
          item.symlinkTarget = await readlink(local);
        } catch (e) {
          yield { error: { path, error: errorText(e) } };
          continue;
        }
      } else {
        const names = xattrNames;
        if (names.length) {
          item.xattrs = names;
          item.readXattr = async (n) => (await xattr.getAttribute(local, n)) ?? new Uint8Array(0);
        }
      }
      // Small files are read in one call: a stream costs several syscalls and callbacks each.
      if (st.isFile()) item.open = st.size <= SMALL_FILE ? () => readWhole(local) : () => createReadStream(local, { highWaterMark: 1 << 20 });
      if (st.isDirectory()) {
        let children: string[];
        try {
          children = await readdir(local);
        } catch (e) {
          // the directory itself is recorded; its unreadable content is an error entry
          yield { item };
          yield { error: { path, error: errorText(e) } };
          continue;
        }
        children.sort();
        const paths = children.map((c) => (local === '/' ? `/${c}` : `${local}${sep}${c}`));
        const stats = await statAll(paths);
        for (let i = paths.length - 1; i >= 0; i--) stack.push({ local: paths[i]!, stat: stats[i]! });
      }
      yield { item };
    }
  }
}

interface Stat { st: BigIntStats; xattrNames: string[] }

/** lstat and the user xattr names, both on libuv's thread pool (off the event loop). */
async function statOne(path: string): Promise<Stat> {
  const st = await lstat(path, { bigint: true });
  // symlinks: Linux has no user xattrs on them, and listing would follow the link
  const xattrNames = st.isSymbolicLink() ? [] : await listUserXattrs(path);
  return { st, xattrNames };
}

/**
 * statOne of many paths, at most STAT_CONCURRENCY at a time; each result is a settled promise
 * (a failure is reported when its item comes up, like any unreadable item).
 */
async function statAll(paths: string[]): Promise<Promise<Stat>[]> {
  const out: Promise<Stat>[] = new Array(paths.length);
  for (let i = 0; i < paths.length; i += STAT_CONCURRENCY) {
    const batch = paths.slice(i, i + STAT_CONCURRENCY).map(statOne);
    await Promise.allSettled(batch);
    batch.forEach((p, k) => { p.catch(() => undefined); out[i + k] = p; });
  }
  return out;
}

const STAT_CONCURRENCY = 32;

async function listUserXattrs(local: string): Promise<string[]> {
  try {
    return (await xattr.listAttributes(local)).filter((n) => n.startsWith(XATTR_PREFIX)).sort();
  } catch {
    return []; // filesystems without xattr support
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

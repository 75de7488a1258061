/**
 * Backs up a local folder: walks it depth-first without following symlinks, and yields every
 * directory, file, symlink and special file with Go-shaped stat data (nanosecond mtimes, Go
 * FileMode bits, uid/gid and their names) and user xattrs. Snapshot paths are the absolute
 * source paths, as plakar's fs importer records them. A file or directory that cannot be read
 * becomes an error record and the walk goes on.
 */
import { open, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve, sep } from 'node:path';
import type { Importer, ImportRecord, ImportedItem } from '../../kloset/snapshot/importer.js';
import type { FileInfo } from '../../kloset/snapshot/vfs/file-info.js';
import { goModeFromPosix } from '../../kloset/snapshot/vfs/go-mode.js';
import { isDirectoryStat, isRegularStat, isSymlinkStat, type ItemStat } from './native-stat.js';
import { readXattr, StatWalk, type Pending } from './stat-walk.js';
import { groupName, userName } from './user-names.js';
import { fsError } from './storage.js';

const SMALL_FILE = 1n << 20n;

/**
 * Scratch buffers small files are read into, one per file being read (a backup reads a few at
 * once), reused from file to file: the chunker copies the content out before it asks for more.
 */
class ScratchBuffers {
  private readonly free: Uint8Array[] = [];
  take(): Uint8Array {
    // one byte more than the largest small file: a file that fills it has grown since its stat
    return this.free.pop() ?? new Uint8Array(Number(SMALL_FILE) + 1);
  }
  give(b: Uint8Array): void {
    this.free.push(b);
  }
}

async function* readWhole(stats: StatWalk, scratch: ScratchBuffers, path: string): AsyncIterable<Uint8Array> {
  const buf = scratch.take();
  try {
    const data = stats.readSmall(path, buf);
    yield data instanceof Promise ? await data : data; // valid until the next piece is asked for (Importer contract)
  } finally {
    scratch.give(buf);
  }
}

/** Larger files are read piece by piece into one buffer (a fresh one per read made the heap churn). */
const READ_SIZE = 1 << 20;

async function* readPieces(path: string): AsyncIterable<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(READ_SIZE);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead); // valid until the next piece is asked for (Importer contract)
    }
  } finally {
    await fh.close();
  }
}

export function fileInfoFromStats(name: string, st: ItemStat): FileInfo {
  return {
    name,
    size: isRegularStat(st) || isSymlinkStat(st) ? st.size : 0n,
    mode: goModeFromPosix(st.mode),
    modTime: { sec: st.mtimeSec, nsec: st.mtimeNsec },
    dev: st.dev,
    ino: st.ino,
    uid: BigInt(st.uid),
    gid: BigInt(st.gid),
    nlink: Math.min(st.nlink, 0xffff),
    username: userName(st.uid),
    groupname: groupName(st.gid),
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
  readonly walkAhead = true;
  readonly origin = hostname();
  readonly root: string;
  private readonly localRoot: string;

  /** `statSlowMs`: see StatWalk (tests pass −1 to use the thread pool throughout) */
  constructor(directory: string, private readonly statSlowMs?: number) {
    this.localRoot = resolve(directory);
    this.root = toSnapshotPath(this.localRoot);
  }

  async *scan(signal?: AbortSignal): AsyncIterable<ImportRecord> {
    const stats = new StatWalk(this.statSlowMs);
    const scratch = new ScratchBuffers();
    const stack: Pending[] = [{ local: this.localRoot }];
    while (stack.length > 0) {
      signal?.throwIfAborted();
      const next = stack.pop()!;
      const local = next.local;
      const path = toSnapshotPath(local);
      let st: ItemStat, xattrNames: string[];
      try {
        const s = stats.next(next, stack);
        ({ st, xattrNames } = s instanceof Promise ? await s : s);
      } catch (e) {
        // nothing to back up at all: a clear error rather than a snapshot of one error entry
        if (local === this.localRoot) throw fsError(e, 'back up', local);
        yield { error: { path, error: errorText(e) } };
        continue;
      }
      const name = local === '/' ? '/' : local.slice(local.lastIndexOf(sep) + 1);
      const item: ImportedItem = { path, fileInfo: fileInfoFromStats(name, st) };
      if (isSymlinkStat(st)) {
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
          item.readXattr = (n) => readXattr(local, n);
        }
      }
      // Small files are read in one call: a stream costs several syscalls and callbacks each.
      if (isRegularStat(st)) item.open = st.size <= SMALL_FILE ? () => readWhole(stats, scratch, local) : () => readPieces(local);
      if (isDirectoryStat(st)) {
        let children: string[];
        try {
          const listed = stats.list(local);
          children = listed instanceof Promise ? await listed : listed;
        } catch (e) {
          // the directory itself is recorded; its unreadable content is an error entry
          yield { item };
          yield { error: { path, error: errorText(e) } };
          continue;
        }
        children.sort();
        for (let i = children.length - 1; i >= 0; i--) stack.push({ local: local === '/' ? `/${children[i]}` : `${local}${sep}${children[i]}` });
      }
      yield { item };
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

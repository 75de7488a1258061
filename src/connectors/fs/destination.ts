/**
 * Restores into a local folder. Every path component below the target is created by us and
 * checked with lstat: an existing symlink or file where a directory is needed is an error, never
 * followed. A file is created exclusively at its name (O_CREAT|O_EXCL, which never follows a
 * symlink); when something is already there, the file is written to a temporary name and
 * renamed over it, so a restore never writes through a symlink at the destination name and an
 * existing file is replaced whole or not at all. A file this restore created and could not
 * finish is removed. Modes, mtimes (ns), and, when running as root, ownership are applied;
 * directory times are set last.
 */
import { closeSync, fchmodSync, fchownSync, futimesSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { chmod, lchown, lstat, lutimes, mkdir, open, rename, rm, symlink, unlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { KlosetError } from '../../kloset/base/errors.js';
import type { Destination } from '../../kloset/restore/restore.js';
import type { VfsEntry } from '../../kloset/snapshot/reader.js';
import { posixPermFromGo } from '../../kloset/snapshot/vfs/go-mode.js';
import { SyncGate } from './sync-gate.js';

/** Files up to this size are written with synchronous calls while the filesystem is fast. */
const SYNC_FILE_MAX = 256n << 10n;

/** An open file as writeFile uses it; each call answers at once (synchronous) or later. */
interface OpenFile {
  /** writes `b` from offset `from` on; the number of bytes written */
  write(b: Uint8Array, from: number): number | Promise<number>;
  /** best effort: a failure is ignored (ownership may not be ours to give) */
  chown(uid: number, gid: number): void | Promise<void>;
  chmod(mode: number): void | Promise<void>;
  /** access and modification time, seconds */
  utimes(t: number): void | Promise<void>;
  close(): void | Promise<void>;
}

/** The two calls of writeFile that take a path. */
interface FileCalls {
  /** creates `path` exclusively ('wx') with `mode` */
  open(path: string, mode: number): OpenFile | Promise<OpenFile>;
  rename(from: string, to: string): void | Promise<void>;
}

/** writeFile's calls through libuv's thread pool, on one handle. */
const asyncCalls: FileCalls = {
  async open(path, mode) {
    const fh = await open(path, 'wx', mode);
    return {
      write: async (b, from) => (await fh.write(b, from, b.length - from)).bytesWritten,
      chown: (uid, gid) => fh.chown(uid, gid).catch(() => undefined),
      chmod: (m) => fh.chmod(m),
      utimes: (t) => fh.utimes(t, t),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => rename(from, to),
};

// the native addon loads with the first use of extended attributes (~50 ms of loading)
let xattrLib: typeof import('@napi-rs/xattr') | undefined;
const xattr = () => (xattrLib ??= createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr'));

export class FsDestination implements Destination {
  readonly root: string;
  /** writeFile writes each piece before it asks for the next and keeps none */
  readonly consumesChunks = true;
  private readonly dirs: { path: string; e: VfsEntry }[] = [];
  private readonly asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  private readonly uid = process.geteuid?.() ?? -1;
  private readonly gid = process.getegid?.() ?? -1;
  /** directories of this restore with the setgid bit (new files there take the directory's group) */
  private readonly setgidDirs = new Set<string>();

  /** `syncSlowMs`: see SyncGate (tests pass −1 to use the thread pool throughout) */
  constructor(target: string, syncSlowMs?: number) {
    this.root = resolve(target);
    this.umask = processUmask();
    this.gate = new SyncGate(syncSlowMs);
  }

  /** the mask new files get */
  private readonly umask: number;

  /** Directories created or checked (with lstat) by this restore: safe to write into. */
  private readonly verified = new Set<string>();

  private async local(rel: readonly string[], forCreate: boolean): Promise<string> {
    let p = this.root;
    if (!this.verified.has(p)) {
      await mkdir(p, { recursive: true });
      if ((await lstat(p)).mode & 0o2000) this.setgidDirs.add(p);
      this.verified.add(p);
    }
    for (let i = 0; i < rel.length; i++) {
      const seg = rel[i]!;
      if (!seg || seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\0')) {
        throw new KlosetError('CORRUPT', `refusing unsafe name ${JSON.stringify(seg)}`);
      }
      p = join(p, seg);
      if ((i < rel.length - 1 || !forCreate) && !this.verified.has(p)) {
        const st = await lstat(p).catch(() => null);
        if (!st) throw new KlosetError('NOT_FOUND', `${p}: parent directory missing`);
        if (!st.isDirectory()) throw new KlosetError('CONFLICT', `${p} exists and is not a directory (not following it)`);
        if (st.mode & 0o2000) this.setgidDirs.add(p);
        this.verified.add(p);
      }
    }
    return p;
  }

  async mkdir(rel: readonly string[], e: VfsEntry): Promise<void> {
    const p = await this.local(rel, true);
    const st = await lstat(p).catch(() => null);
    if (st && !st.isDirectory()) throw new KlosetError('CONFLICT', `${p} exists and is not a directory`);
    if (!st) await mkdir(p, { mode: 0o700 });
    if (st ? st.mode & 0o2000 : this.setgidDirs.has(dirname(p))) this.setgidDirs.add(p); // setgid is inherited by new directories
    this.verified.add(p);
    this.dirs.push({ path: p, e });
  }

  async writeFile(rel: readonly string[], e: VfsEntry, content: AsyncIterable<Uint8Array>): Promise<void> {
    const p = await this.local(rel, true);
    const fi = e.fileInfo;
    const perm = posixPermFromGo(fi.mode);
    // Every call below is a thread-pool round trip, and a restore of small files is bound by
    // them: a file is created with its final permissions when the umask keeps them (no
    // special bits), and owned by us already needs no chown. A temporary name is never the
    // file's own, and its permissions are no wider than the final ones.
    const createdRight = (perm & ~0o777) === 0 && (perm & this.umask) === 0;
    const ownedRight = !this.asRoot || (Number(fi.uid) === this.uid && Number(fi.gid) === this.gid && !this.setgidDirs.has(dirname(p)));
    // One handle for content and metadata (no stream machinery, no path lookups per call);
    // 'wx' never opens something that already exists. A small file's calls are synchronous
    // while the filesystem answers fast (SyncGate): on this VM kind five thread-pool round
    // trips per file cost the event loop ~0.5 ms, the same calls made synchronously a fraction
    // of that.
    const calls = fi.size <= SYNC_FILE_MAX && !this.gate.usingThreadPool ? this.syncCalls : asyncCalls;
    if (calls === asyncCalls) this.gate.tookPool();
    const mode = createdRight ? perm : 0o600;
    // Into a fresh name directly (the usual case: a restore into an empty folder), which spares
    // a rename per file — 4,050 of them in the 1 GiB benchmark, each a directory update; over
    // an existing name through a temporary one, renamed over it at the end.
    const direct = await openExclusive(calls, p, mode);
    const path = direct ? p : `${p}.kloset-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const f = direct ?? await calls.open(path, mode);
    try {
      try {
        for await (const chunk of content) {
          let done = 0;
          while (done < chunk.length) done += await f.write(chunk, done);
        }
        if (!ownedRight) await f.chown(Number(fi.uid), Number(fi.gid));
        if (!createdRight) await f.chmod(perm);
        await f.utimes(fi.modTime.sec + fi.modTime.nsec / 1e9);
      } finally {
        await f.close();
      }
      if (!direct) await calls.rename(path, p);
    } catch (err) {
      await rm(path, { force: true }); // ours either way: created by this call
      throw err;
    }
  }

  /** writeFile's calls made synchronously, each timed by the gate */
  private readonly syncCalls: FileCalls = {
    open: (path, mode) => {
      const fd = this.gate.time(() => openSync(path, 'wx', mode));
      const timed = <T>(call: () => T) => this.gate.time(call);
      return {
        write: (b, from) => timed(() => writeSync(fd, b, from, b.length - from)),
        chown: (uid, gid) => timed(() => { try { fchownSync(fd, uid, gid); } catch { /* best effort */ } }),
        chmod: (mode) => timed(() => fchmodSync(fd, mode)),
        utimes: (t) => timed(() => futimesSync(fd, t, t)),
        close: () => closeSync(fd),
      };
    },
    rename: (from, to) => this.gate.time(() => renameSync(from, to)),
  };

  /** synchronous calls for small files while they stay fast (SyncGate) */
  private readonly gate: SyncGate;

  async symlink(rel: readonly string[], e: VfsEntry, target: string): Promise<void> {
    const p = await this.local(rel, true);
    const st = await lstat(p).catch(() => null);
    if (st?.isDirectory()) throw new KlosetError('CONFLICT', `${p} is a directory`);
    if (st) await unlink(p);
    await symlink(target, p);
    await this.applyMeta(p, e, true);
  }

  async setXattr(rel: readonly string[], name: string, value: Uint8Array): Promise<void> {
    const p = await this.local(rel, false).catch(() => join(this.root, ...rel));
    const st = await lstat(p);
    if (st.isSymbolicLink()) return; // user xattrs are not allowed on symlinks on Linux
    await xattr().setAttribute(p, name, Buffer.from(value));
  }

  async finish(): Promise<void> {
    // deepest first so setting a parent's mtime is not undone by its children
    for (const { path, e } of this.dirs.reverse()) await this.applyMeta(path, e, false);
  }

  private async applyMeta(p: string, e: VfsEntry, isLink: boolean): Promise<void> {
    const fi = e.fileInfo;
    const t = fi.modTime.sec + fi.modTime.nsec / 1e9;
    if (this.asRoot) await lchown(p, Number(fi.uid), Number(fi.gid)).catch(() => undefined);
    if (isLink) {
      await lutimes(p, t, t).catch(() => undefined);
      return;
    }
    await chmod(p, posixPermFromGo(fi.mode));
    await utimes(p, t, t);
  }
}

/** The file created at `path` by `calls.open`, or null when something already has that name. */
async function openExclusive(calls: FileCalls, path: string, mode: number): Promise<OpenFile | null> {
  try {
    return await calls.open(path, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw e;
  }
}

/**
 * The process's umask, read when the first destination is made (not at start-up: most commands
 * restore nothing). Linux reports it in /proc/self/status; elsewhere it is set and set back
 * (DEP0139's form) — a file created by another thread in between would get the temporary mask,
 * so that happens before this destination writes anything.
 */
function processUmask(): number {
  if (umask !== undefined) return umask;
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return (umask = parseInt(m[1]!, 8));
  } catch {
    // not Linux
  }
  const mask = process.umask(0o077);
  process.umask(mask);
  return (umask = mask);
}
let umask: number | undefined;

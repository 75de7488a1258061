/**
 * lstat + user xattr names of the items of a walk, directory listings and small files' content, synchronously
 * while the filesystem answers fast and through libuv's thread pool otherwise (SyncGate).
 *
 * Measured: 100,000 files re-backed up at ~24,000 files/s with synchronous calls, ~17,000
 * through the pool; a synchronous read of a cached 30 KiB file takes ~20 µs, fs/promises'
 * readFile four thread-pool round trips (open, fstat, read, close), ~200 µs of the event loop's
 * time in a backup of small files. In thread-pool mode, STAT_AHEAD items are stat'ed ahead of
 * the walk.
 */
import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isSymlinkStat, itemStatOf, nativeStatItem, type ItemStat, type StatItem } from './native-stat.js';
import { SyncGate } from './sync-gate.js';

// the native addon loads with the first use of extended attributes (~50 ms of loading)
let xattrLib: typeof import('@napi-rs/xattr') | undefined;
const xattr = () => (xattrLib ??= createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr'));

/** Only the user namespace is portable between machines and readable without privileges. */
const XATTR_PREFIX = 'user.';
/** Items whose stat is under way ahead of the walk, in thread-pool mode. */
const STAT_AHEAD = 32;

export interface Stat { st: ItemStat; xattrNames: string[] }

/** The synchronous stat: one native call when the module is built (native-stat.ts). */
let syncStat: StatItem | undefined;
const statSync: StatItem = (path) => (syncStat ??= nativeStatItem() ?? ((p) => {
  const st = itemStatOf(lstatSync(p, { bigint: true }));
  return { st, xattrNames: isSymlinkStat(st) ? [] : userXattrsSync(p) };
}))(path);

/** An item of the walk not yet yielded, with its stat once started. */
export interface Pending { local: string; stat?: Promise<Stat> }

export class StatWalk {
  private readonly gate: SyncGate;

  /** `slowMs` < 0 sends every call through the thread pool (tests compare both modes). */
  constructor(slowMs?: number) {
    this.gate = new SyncGate(slowMs);
  }

  /**
   * The stat of the next item, `stack` holding the items still to walk (the next one last);
   * rejects like lstat for an unreadable item.
   */
  next(item: Pending, stack: readonly Pending[]): Stat | Promise<Stat> {
    if (item.stat) return item.stat;
    if (this.gate.usingThreadPool) {
      this.gate.tookPool();
      for (let i = stack.length - 1; i >= Math.max(0, stack.length - STAT_AHEAD); i--) start(stack[i]!);
      return start(item);
    }
    return this.gate.time(() => statSync(item.local));
  }

  /**
   * A small file's whole content, synchronously while the filesystem answers fast: a view of
   * `scratch` when it fits (the caller reuses that memory for the next file), else a buffer of
   * its own (a file that grew past the scratch since its stat).
   */
  readSmall(path: string, scratch: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (this.gate.usingThreadPool) return readAsync(path, scratch);
    return this.gate.time(() => readSync_(path, scratch));
  }

  /** A directory's names, synchronously while the filesystem answers fast. */
  list(path: string): string[] | Promise<string[]> {
    if (this.gate.usingThreadPool) {
      this.gate.tookPool();
      return readdir(path);
    }
    return this.gate.time(() => readdirSync(path));
  }

  /** Whether the next calls go through the thread pool. */
  get usingThreadPool(): boolean {
    return this.gate.usingThreadPool;
  }

  /** Records how long a synchronous call took (public for tests). */
  observe(ms: number): void {
    this.gate.observe(ms);
  }
}

function start(p: Pending): Promise<Stat> {
  if (!p.stat) {
    p.stat = statAsync(p.local);
    p.stat.catch(() => undefined); // reported when the item comes up, like any unreadable item
  }
  return p.stat;
}

async function statAsync(path: string): Promise<Stat> {
  const st = itemStatOf(await lstat(path, { bigint: true }));
  // symlinks: Linux allows no user xattrs on them
  const xattrNames = isSymlinkStat(st) ? [] : await userXattrs(path);
  return { st, xattrNames };
}

function userXattrsSync(path: string): string[] {
  try {
    return xattr().listAttributesSync(path).filter((n) => n.startsWith(XATTR_PREFIX)).sort();
  } catch {
    return []; // filesystems without xattr support
  }
}

async function userXattrs(path: string): Promise<string[]> {
  try {
    return (await xattr().listAttributes(path)).filter((n) => n.startsWith(XATTR_PREFIX)).sort();
  } catch {
    return [];
  }
}

/** Reads one attribute's value (empty when it vanished meanwhile). */
export async function readXattr(path: string, name: string): Promise<Uint8Array> {
  return (await xattr().getAttribute(path, name)) ?? new Uint8Array(0);
}

/**
 * Reads a file into `scratch`, and past it into buffers of its own if it is larger.
 * Why not readFileSync: it returns a fresh buffer per file, and a backup of 16,000 small files
 * left that much dead memory behind for the collector and the malloc heap (docs/benchmarks.md,
 * session 15).
 */
function readSync_(path: string, scratch: Uint8Array): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const n = fill(scratch, (buf, at) => readSync(fd, buf, at, buf.length - at, null));
    if (n < scratch.length) return scratch.subarray(0, n);
    const parts = [scratch.slice()];
    for (;;) {
      const more = new Uint8Array(scratch.length);
      const m = fill(more, (buf, at) => readSync(fd, buf, at, buf.length - at, null));
      if (m > 0) parts.push(more.subarray(0, m));
      if (m < more.length) return Buffer.concat(parts);
    }
  } finally {
    closeSync(fd);
  }
}

async function readAsync(path: string, scratch: Uint8Array): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(scratch, n, scratch.length - n, null);
      if (bytesRead === 0) return scratch.subarray(0, n);
      n += bytesRead;
      if (n === scratch.length) break;
    }
    const rest = await fh.readFile();
    return Buffer.concat([scratch, rest]);
  } finally {
    await fh.close();
  }
}

/** Reads into `buf` until it is full or the input ends; returns the bytes read. */
function fill(buf: Uint8Array, read: (buf: Uint8Array, at: number) => number): number {
  let n = 0;
  while (n < buf.length) {
    const r = read(buf, n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

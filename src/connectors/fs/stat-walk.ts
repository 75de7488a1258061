/**
 * lstat + user xattr names of the items of a walk, choosing between a synchronous call and
 * libuv's thread pool as the filesystem answers.
 *
 * Why both: on a warm cache (the common re-backup) lstat and listxattr answer in a few µs and
 * a synchronous call costs about a third of a thread-pool round trip (measured: 100,000 files
 * re-backed up at ~24,000 files/s with synchronous calls, ~17,000 through the pool). On a cold
 * disk or a network filesystem a synchronous call would stall the whole pipeline for
 * milliseconds each. So calls are synchronous while they stay fast — on average (a moving
 * average over the last ~20 calls), since a VM's scheduler alone makes one call in a few hundred
 * take over a millisecond — and a single call that stalls for STALL_MS counts at once; then the
 * next items go through the pool, STAT_AHEAD of them at a time ahead of the walk, and
 * synchronous calls are tried again later. Small files are read the same way (`readSmall`): a synchronous
 * read of a cached 30 KiB file takes ~20 µs, fs/promises' readFile four thread-pool round trips
 * (open, fstat, read, close), ~200 µs of the event loop's time in a backup of small files.
 */
import { lstatSync, readFileSync, type BigIntStats } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');

/** Only the user namespace is portable between machines and readable without privileges. */
const XATTR_PREFIX = 'user.';
/** Synchronous calls slower than this (ms) on average mean the metadata is not cached. */
const SLOW_MS = 0.5;
/** One synchronous call this slow (ms) is a disk or network wait, not scheduling noise. */
const STALL_MS = 20;
/** Weight of the newest call in the moving average. */
const AVERAGE_WEIGHT = 0.05;
/** Items stat'ed through the thread pool after a slow synchronous call. */
const ASYNC_SPELL = 2000;
/** Items whose stat is under way ahead of the walk, in thread-pool mode. */
const STAT_AHEAD = 32;

export interface Stat { st: BigIntStats; xattrNames: string[] }

/** An item of the walk not yet yielded, with its stat once started. */
export interface Pending { local: string; stat?: Promise<Stat> }

export class StatWalk {
  private asyncLeft = 0;
  private averageMs = 0;

  /** `slowMs` < 0 sends every call through the thread pool (tests compare both modes). */
  constructor(private readonly slowMs = SLOW_MS) {
    if (slowMs < 0) this.asyncLeft = Infinity;
  }

  /**
   * The stat of the next item, `stack` holding the items still to walk (the next one last);
   * rejects like lstat for an unreadable item.
   */
  next(item: Pending, stack: readonly Pending[]): Stat | Promise<Stat> {
    if (item.stat) return item.stat;
    if (this.asyncLeft > 0) {
      this.asyncLeft--;
      for (let i = stack.length - 1; i >= Math.max(0, stack.length - STAT_AHEAD); i--) start(stack[i]!);
      return start(item);
    }
    const t0 = performance.now();
    const st = lstatSync(item.local, { bigint: true });
    const xattrNames = st.isSymbolicLink() ? [] : userXattrsSync(item.local);
    this.observe(performance.now() - t0);
    return { st, xattrNames };
  }

  /** A small file's whole content, synchronously while the filesystem answers fast. */
  readSmall(path: string): Uint8Array | Promise<Uint8Array> {
    if (this.asyncLeft > 0) return readFile(path);
    const t0 = performance.now();
    const data = readFileSync(path);
    this.observe(performance.now() - t0);
    return data;
  }

  /** Whether the next calls go through the thread pool. */
  get usingThreadPool(): boolean {
    return this.asyncLeft > 0;
  }

  /** Moves to the thread pool for a spell when synchronous calls are slow (public for tests). */
  observe(ms: number): void {
    this.averageMs += (ms - this.averageMs) * AVERAGE_WEIGHT;
    if (ms > Math.max(STALL_MS, this.slowMs) || this.averageMs > this.slowMs) {
      this.asyncLeft = ASYNC_SPELL;
      this.averageMs = 0;
    }
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
  const st = await lstat(path, { bigint: true });
  // symlinks: Linux allows no user xattrs on them
  const xattrNames = st.isSymbolicLink() ? [] : await userXattrs(path);
  return { st, xattrNames };
}

function userXattrsSync(path: string): string[] {
  try {
    return xattr.listAttributesSync(path).filter((n) => n.startsWith(XATTR_PREFIX)).sort();
  } catch {
    return []; // filesystems without xattr support
  }
}

async function userXattrs(path: string): Promise<string[]> {
  try {
    return (await xattr.listAttributes(path)).filter((n) => n.startsWith(XATTR_PREFIX)).sort();
  } catch {
    return [];
  }
}

/** Reads one attribute's value (empty when it vanished meanwhile). */
export async function readXattr(path: string, name: string): Promise<Uint8Array> {
  return (await xattr.getAttribute(path, name)) ?? new Uint8Array(0);
}

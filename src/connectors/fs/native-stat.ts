/**
 * An item's lstat and user.* xattr names in one call to the native module (native/codec,
 * item_stat.c), for the walk's synchronous path: lstatSync builds a BigIntStats of 18 BigInts
 * and @napi-rs/xattr lists the names with two system calls; together 17.7 µs an item on this
 * VM kind, most of an unchanged re-backup of small files. Undefined when the module is not
 * built (the walk then keeps lstatSync and @napi-rs/xattr; KLOSET_NATIVE_CODEC=0 does the same).
 */
import type { BigIntStats } from 'node:fs';
import { nativeCodec } from '../../kloset/base/node/native-codec.js';

/** What the walk keeps of an item's stat data (FileInfo's fields). */
export interface ItemStat {
  /** POSIX st_mode: type and permission bits */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** mtime as seconds (may be negative) and nanoseconds in [0, 1e9) */
  mtimeSec: number;
  mtimeNsec: number;
  dev: bigint;
  ino: bigint;
  size: bigint;
}

const S_IFMT = 0o170000;
export const isRegularStat = (st: ItemStat): boolean => (st.mode & S_IFMT) === 0o100000;
export const isDirectoryStat = (st: ItemStat): boolean => (st.mode & S_IFMT) === 0o040000;
export const isSymlinkStat = (st: ItemStat): boolean => (st.mode & S_IFMT) === 0o120000;

/** Node's BigIntStats (signed 64-bit fields) as an ItemStat (dev and ino unsigned, as Go's uint64). */
export function itemStatOf(st: BigIntStats): ItemStat {
  const ns = st.mtimeNs % 1_000_000_000n;
  const nsec = Number(ns < 0n ? ns + 1_000_000_000n : ns);
  return {
    mode: Number(st.mode), nlink: Number(st.nlink), uid: Number(st.uid), gid: Number(st.gid),
    mtimeSec: Number((st.mtimeNs - BigInt(nsec)) / 1_000_000_000n), mtimeNsec: nsec,
    dev: BigInt.asUintN(64, st.dev), ino: BigInt.asUintN(64, st.ino), size: st.size,
  };
}

/** lstat + user xattr names (sorted), throwing like lstatSync; undefined without the module. */
export type StatItem = (path: string) => { st: ItemStat; xattrNames: string[] };

export function nativeStatItem(): StatItem | undefined {
  const call = nativeCodec()?.itemStat;
  if (typeof call !== 'function') return undefined;
  // filled by each call, read at once (one walk runs on this thread at a time per call)
  const nums = new Float64Array(6);
  const big = new BigUint64Array(3);
  return (path) => {
    const names = call(path, nums, big);
    return {
      st: { mode: nums[0]!, nlink: nums[1]!, uid: nums[2]!, gid: nums[3]!, mtimeSec: nums[4]!, mtimeNsec: nums[5]!, dev: big[0]!, ino: big[1]!, size: big[2]! },
      xattrNames: names ? names.sort() : [],
    };
  };
}

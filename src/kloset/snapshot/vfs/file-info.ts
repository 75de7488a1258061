/**
 * FileInfo (spec §9.3, objects/fileinfo.go): stat data of one entry. `mode` holds Go
 * fs.FileMode bits (ModeDir = 1<<31, ModeSymlink = 1<<27, …), not POSIX st_mode.
 */
import { defineSchema, type Schema } from '../../encoding/schema.js';
import type { GoTime } from '../../encoding/go-time.js';

export interface FileInfo {
  name: string;
  size: bigint;
  mode: number;
  modTime: GoTime;
  dev: bigint;
  ino: bigint;
  uid: bigint;
  gid: bigint;
  nlink: number;
  username: string;
  groupname: string;
  flags: number;
}

export const fileInfoSchema: Schema<FileInfo> = defineSchema('objects.FileInfo', [
  { key: 'name', prop: 'name', type: 'str' },
  { key: 'size', prop: 'size', type: 'i64' },
  { key: 'mode', prop: 'mode', type: 'u32' },
  { key: 'mod_time', prop: 'modTime', type: 'time' },
  { key: 'dev', prop: 'dev', type: 'u64' },
  { key: 'ino', prop: 'ino', type: 'u64' },
  { key: 'uid', prop: 'uid', type: 'u64' },
  { key: 'gid', prop: 'gid', type: 'u64' },
  { key: 'nlink', prop: 'nlink', type: 'u16' },
  { key: 'username', prop: 'username', type: 'str' },
  { key: 'groupname', prop: 'groupname', type: 'str' },
  { key: 'flags', prop: 'flags', type: 'u32' },
]);

/** Go fs.FileMode type bits. */
export const GoMode = {
  dir: 0x80000000,
  append: 1 << 30,
  exclusive: 1 << 29,
  temporary: 1 << 28,
  symlink: 1 << 27,
  device: 1 << 26,
  namedPipe: 1 << 25,
  socket: 1 << 24,
  setuid: 1 << 23,
  setgid: 1 << 22,
  charDevice: 1 << 21,
  sticky: 1 << 20,
  irregular: 1 << 19,
  perm: 0o777,
} as const;

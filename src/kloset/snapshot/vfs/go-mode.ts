/**
 * POSIX st_mode ⇄ Go fs.FileMode (what FileInfo.mode stores; spec §9.3), as Go's os.Lstat
 * fills it: type bits move to the top of the word, setuid/setgid/sticky get their own bits.
 */
import { GoMode } from './file-info.js';

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000, S_IFLNK = 0o120000, S_IFREG = 0o100000, S_IFBLK = 0o060000;
const S_IFDIR = 0o040000, S_IFCHR = 0o020000, S_IFIFO = 0o010000;

export function goModeFromPosix(mode: number): number {
  let m = mode & 0o777;
  switch (mode & S_IFMT) {
    case S_IFDIR: m |= GoMode.dir; break;
    case S_IFLNK: m |= GoMode.symlink; break;
    case S_IFIFO: m |= GoMode.namedPipe; break;
    case S_IFSOCK: m |= GoMode.socket; break;
    case S_IFBLK: m |= GoMode.device; break;
    case S_IFCHR: m |= GoMode.device | GoMode.charDevice; break;
    case S_IFREG: break;
    default: m |= GoMode.irregular;
  }
  if (mode & 0o4000) m |= GoMode.setuid;
  if (mode & 0o2000) m |= GoMode.setgid;
  if (mode & 0o1000) m |= GoMode.sticky;
  return m >>> 0;
}

/** Permission bits for chmod (rwx plus setuid/setgid/sticky). */
export function posixPermFromGo(mode: number): number {
  let p = mode & 0o777;
  if (mode & GoMode.setuid) p |= 0o4000;
  if (mode & GoMode.setgid) p |= 0o2000;
  if (mode & GoMode.sticky) p |= 0o1000;
  return p;
}

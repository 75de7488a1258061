/**
 * Snapshot paths: absolute, '/'-separated, cleaned ("/", "/etc", "/etc/passwd"; no trailing
 * slash, no "." or ".." segments), as plakar stores them in the VFS tree.
 */
import { corrupt } from '../../base/errors.js';

/** Cleans a '/'-separated path like Go's path.Clean, always absolute. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

export function parentPath(p: string): string {
  if (p === '/') return '/';
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function baseName(p: string): string {
  if (p === '/') return '/';
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The ancestors of a path, nearest last, excluding the path itself: "/a/b" → ["/", "/a"]. */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let q = parentPath(p); ; q = parentPath(q)) {
    out.unshift(q);
    if (q === '/') break;
  }
  return p === '/' ? [] : out;
}

/**
 * Checks a path read from a snapshot before it is used to name anything on disk: it must be
 * absolute and already clean, and each segment must be a plain name. Hostile stores can hold
 * "..", empty segments, NUL bytes or backslashes; those are CORRUPT here, before any restore.
 */
export function assertSafeSnapshotPath(p: string): void {
  if (!p.startsWith('/')) throw corrupt(`snapshot path ${JSON.stringify(p)} is not absolute`);
  if (p === '/') return;
  for (const seg of p.slice(1).split('/')) {
    if (seg === '' || seg === '.' || seg === '..' || seg.includes('\0')) {
      throw corrupt(`snapshot path ${JSON.stringify(p)} has an unsafe segment ${JSON.stringify(seg)}`);
    }
  }
}

export function isSafeSnapshotPath(p: string): boolean {
  try {
    assertSafeSnapshotPath(p);
    return true;
  } catch {
    return false;
  }
}

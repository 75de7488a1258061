/**
 * Object keys ↔ snapshot paths. plakar records an object as the file `/<key>`; that is what we
 * do too — but S3 keys may hold what a path cannot: empty segments (`a//b`, a leading `/`, the
 * trailing `/` of a folder marker) and `.`/`..` segments. Those segments are escaped so the
 * mapping stays one-to-one and every key round-trips exactly:
 *
 *   a segment made only of '%' signs followed by '', '.' or '..'  →  one more '%' in front
 *   (so '' → '%', '.' → '%.', '..' → '%..', '%' → '%%', '%..' → '%%..'); any other segment is
 *   kept as it is (spaces, unicode, '+', '%41' and the like need nothing).
 *
 * Decoding strips that one '%'. An escaped segment is never empty, '.' or '..', so the snapshot
 * path is always clean and safe to restore into a folder.
 */
const NEEDS_ESCAPE = /^%*(?:|\.|\.\.)$/;
const ESCAPED = /^%+\.{0,2}$/;

export function keyToPath(key: string, prefix = ''): string {
  const rel = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return `/${rel.split('/').map((s) => (NEEDS_ESCAPE.test(s) ? `%${s}` : s)).join('/')}`;
}

export function pathToKey(path: string, prefix = ''): string {
  const rel = path.startsWith('/') ? path.slice(1) : path;
  return prefix + rel.split('/').map((s) => (ESCAPED.test(s) ? s.slice(1) : s)).join('/');
}

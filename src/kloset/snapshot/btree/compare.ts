/**
 * Key comparators of the persisted B+trees (spec §9.1). Go compares strings as UTF-8 byte
 * sequences; a reader or writer that ordered keys differently would descend into the wrong
 * subtree or emit a tree Go cannot search, so these must match Go exactly.
 */

/** A tree's key order: negative, zero or positive like Go's `func(a, b string) int`. */
export type KeyCompare = (a: string, b: string) => number;

/** Any UTF-16 surrogate, i.e. part of a character ≥ U+10000. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Go's `strings.Compare`: order of the UTF-8 encodings, returned as −1, 0 or 1.
 *
 * JavaScript strings are UTF-16, and UTF-16 code-unit order equals UTF-8 byte order (= code
 * point order) except in one case: a surrogate (U+D800–U+DFFF, half of a character ≥ U+10000)
 * sorts *below* U+E000–U+FFFF in UTF-16 but its character sorts *above* them in UTF-8. So when
 * neither string holds a surrogate the engine's native comparison is exact, and it is several
 * times faster than a JavaScript loop (the regex test is a quick scan, trivial on ASCII). Only
 * strings with surrogates take the slow path.
 */
export function compareBytewise(a: string, b: string): number {
  if (a === b) return 0;
  if (SURROGATE.test(a) || SURROGATE.test(b)) return compareCodePoints(a, b);
  return a < b ? -1 : 1;
}

/**
 * Code-unit comparison with the classic "code point order" fix-up: when both differing units are
 * ≥ U+D800, remap them so surrogates sort after U+E000–U+FFFF. Lone surrogates cannot come from
 * decoding UTF-8, so their relative order is merely kept consistent.
 */
function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Go's `vfs.PathCmp`, the order of the VFS tree (and of what Go writes in the xattr tree): paths
 * with fewer '/' come first, ties are broken bytewise. Counting UTF-16 '/' units equals counting
 * UTF-8 '/' bytes, since byte 0x2F never occurs inside a multi-byte UTF-8 sequence.
 */
export function pathCompare(a: string, b: string): number {
  if (a === b) return 0;
  const da = countSlashes(a);
  const db = countSlashes(b);
  if (da !== db) return da < db ? -1 : 1;
  return compareBytewise(a, b);
}

/** The '/' count PathCmp orders by first (exported for callers that sort many paths). */
export function countSlashes(s: string): number {
  let n = 0;
  // indexOf is a native scan, markedly faster than a charCodeAt loop over long paths
  for (let i = s.indexOf('/'); i !== -1; i = s.indexOf('/', i + 1)) n++;
  return n;
}

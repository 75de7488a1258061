/**
 * Content type of a file from its first chunk, as plakar records it (spec §9.8): sniffed
 * binary formats first (file-type's signatures), then UTF-8 text, then the extension, else
 * application/octet-stream. Non-regular entries are application/x-not-regular-file.
 */
// file-type and mime load on the first sniff (~80 ms of module loading that commands other
// than a backup never need).
let libraries: Promise<[typeof import('file-type/core'), typeof import('mime')['default']]> | undefined;
const load = () => (libraries ??= Promise.all([import('file-type/core'), import('mime').then((m) => m.default)]));

export const NOT_REGULAR_FILE = 'application/x-not-regular-file';
export const OCTET_STREAM = 'application/octet-stream';

export async function sniffContentType(name: string, head: Uint8Array): Promise<string> {
  const [{ fileTypeFromBuffer }, mime] = await load();
  if (head.length > 0) {
    const sniffed = await fileTypeFromBuffer(head.subarray(0, 4100));
    if (sniffed) return sniffed.mime;
    if (looksLikeText(head.subarray(0, 8192))) {
      const byExt = mime.getType(name);
      if (byExt && byExt.startsWith('text/')) return `${byExt}; charset=utf-8`;
      return 'text/plain; charset=utf-8';
    }
  }
  return mime.getType(name) ?? OCTET_STREAM;
}

/** UTF-8 without NULs or C0 controls other than tab, newline, carriage return, form feed. */
function looksLikeText(b: Uint8Array): boolean {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 27) return false;
      i++;
      continue;
    }
    const extra = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
    if (extra < 0 || c >= 0xf5) return false;
    if (i + extra >= n) return true; // a sequence cut by the sample's end
    for (let k = 1; k <= extra; k++) if ((b[i + k]! & 0xc0) !== 0x80) return false;
    i += extra + 1;
  }
  return true;
}

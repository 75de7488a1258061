/**
 * Content type of a file from its first chunk, as plakar records it (spec §9.8): sniffed
 * binary formats first (file-type's signatures), then UTF-8 text, then the extension, else
 * application/octet-stream. Non-regular entries are application/x-not-regular-file.
 */
import { fileTypeFromBuffer } from 'file-type/core';
import mime from 'mime';

export const NOT_REGULAR_FILE = 'application/x-not-regular-file';
export const OCTET_STREAM = 'application/octet-stream';

export async function sniffContentType(name: string, head: Uint8Array): Promise<string> {
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

/**
 * Shannon entropy of the bytes, in bits per byte (0..8), as Chunk.entropy stores it. Past
 * 64 KiB it is estimated from the first 16 KiB of every 64 KiB: the value only feeds
 * statistics (summaries' high/low-entropy counts), and the full histogram cost as much as
 * hashing the chunk.
 */
export function entropy(data: Uint8Array): number {
  if (data.length <= 65536) return exactEntropy(data);
  const sample = new Uint8Array(Math.ceil(data.length / 65536) * 16384);
  let n = 0;
  for (let o = 0; o < data.length; o += 65536) {
    const part = data.subarray(o, Math.min(data.length, o + 16384));
    sample.set(part, n);
    n += part.length;
  }
  return exactEntropy(sample.subarray(0, n));
}

function exactEntropy(data: Uint8Array): number {
  if (data.length === 0) return 0;
  // four interleaved histograms: consecutive equal bytes would otherwise serialize on one counter
  const counts = new Uint32Array(1024);
  const n = data.length;
  const end4 = n & ~3;
  for (let i = 0; i < end4; i += 4) {
    counts[data[i]!]!++;
    counts[256 + data[i + 1]!]!++;
    counts[512 + data[i + 2]!]!++;
    counts[768 + data[i + 3]!]!++;
  }
  for (let i = end4; i < n; i++) counts[data[i]!]!++;
  let h = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i]! + counts[256 + i]! + counts[512 + i]! + counts[768 + i]!;
    if (c) {
      const p = c / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

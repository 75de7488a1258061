/**
 * Byte entropy, as Chunk.entropy and Object.entropy record it (spec §9.4). Computed where the
 * chunk is hashed and encoded (a worker thread in Node), next to its MAC.
 */

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

export function exactEntropy(data: Uint8Array): number {
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

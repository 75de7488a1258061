/**
 * Byte entropy, as Chunk.entropy and Object.entropy record it (spec §9.4). Computed where the
 * chunk is hashed and encoded (a worker thread in Node), next to its MAC.
 */

/** Past this many bytes, entropy is estimated from a sample (see `entropy`). */
const EXACT_UP_TO = 65536;
/** Bytes counted from the start of every EXACT_UP_TO bytes of a larger input. */
const SAMPLE = 4096;

/**
 * Shannon entropy of the bytes, in bits per byte (0..8), as Chunk.entropy stores it. Past
 * 64 KiB it is estimated from the first 4 KiB of every 64 KiB (a 1 MiB chunk: 64 KiB counted):
 * the value only feeds statistics (summaries' high/low-entropy counts, the UI), and counting
 * every byte cost the encoder thread about as much as hashing the chunk. The sample is counted
 * in place, without copying it out.
 */
export function entropy(data: Uint8Array): number {
  if (data.length <= EXACT_UP_TO) return exactEntropy(data);
  const counts = new Uint32Array(1024);
  let n = 0;
  for (let o = 0; o < data.length; o += EXACT_UP_TO) {
    const end = Math.min(data.length, o + SAMPLE);
    count(data, o, end, counts);
    n += end - o;
  }
  return fromCounts(counts, n);
}

export function exactEntropy(data: Uint8Array): number {
  if (data.length === 0) return 0;
  const counts = new Uint32Array(1024);
  count(data, 0, data.length, counts);
  return fromCounts(counts, data.length);
}

/** Adds data[from, to) to four interleaved histograms (equal bytes in a row would otherwise serialize on one counter). */
function count(data: Uint8Array, from: number, to: number, counts: Uint32Array): void {
  const end4 = from + ((to - from) & ~3);
  let i = from;
  for (; i < end4; i += 4) {
    counts[data[i]!]!++;
    counts[256 + data[i + 1]!]!++;
    counts[512 + data[i + 2]!]!++;
    counts[768 + data[i + 3]!]!++;
  }
  for (; i < to; i++) counts[data[i]!]!++;
}

function fromCounts(counts: Uint32Array, n: number): number {
  if (n === 0) return 0;
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

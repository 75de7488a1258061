/**
 * Byte entropy, as Chunk.entropy and Object.entropy record it (spec §9.4). Computed where the
 * chunk is hashed and encoded (a worker thread in Node), next to its MAC.
 */

/** Past this many bytes, entropy is estimated from a sample (see `entropy`). */
const EXACT_UP_TO = 65536;
/** Bytes counted from the start of every EXACT_UP_TO bytes of a larger input. */
const SAMPLE = 4096;

/**
 * Adds each byte value's count in `data` to counts[0..255] (counts may be longer: the portable
 * counter uses four interleaved histograms in counts[0..1023], all of which are summed).
 */
export type ByteCounter = (data: Uint8Array, counts: Uint32Array) => void;

/**
 * Shannon entropy of the bytes, in bits per byte (0..8), as Chunk.entropy stores it. Past
 * 64 KiB it is estimated from the first 4 KiB of every 64 KiB (a 1 MiB chunk: 64 KiB counted):
 * the value only feeds statistics (summaries' high/low-entropy counts, the UI), and counting
 * every byte cost the encoder thread about as much as hashing the chunk. The sample is counted
 * in place, without copying it out. `counter` may be a native one (the counts, and so the
 * result, are the same).
 */
export function entropy(data: Uint8Array, counter: ByteCounter = countBytes): number {
  if (data.length <= EXACT_UP_TO) return exactEntropy(data, counter);
  const counts = new Uint32Array(1024);
  let n = 0;
  for (let o = 0; o < data.length; o += EXACT_UP_TO) {
    const end = Math.min(data.length, o + SAMPLE);
    counter(data.subarray(o, end), counts);
    n += end - o;
  }
  return fromCounts(counts, n);
}

export function exactEntropy(data: Uint8Array, counter: ByteCounter = countBytes): number {
  if (data.length === 0) return 0;
  const counts = new Uint32Array(1024);
  counter(data, counts);
  return fromCounts(counts, data.length);
}

/**
 * The portable counter: four interleaved histograms (equal bytes in a row would otherwise
 * serialize on one counter). The tail goes to histograms 0..2 by position, one access site
 * that the main loop's own sites warm up: a separate tail loop, rarely reached, was compiled
 * without type feedback and deoptimized hundreds of times per backup.
 */
export function countBytes(data: Uint8Array, counts: Uint32Array): void {
  const to = data.length;
  const end4 = to & ~3;
  let i = 0;
  for (; i < end4; i += 4) {
    counts[data[i]!]!++;
    counts[256 + data[i + 1]!]!++;
    counts[512 + data[i + 2]!]!++;
    counts[768 + data[i + 3]!]!++;
  }
  for (let k = 0; i + k < to; k++) counts[(k << 8) + data[i + k]!]!++;
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

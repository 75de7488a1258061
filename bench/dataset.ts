/**
 * Generates the mixed dataset the local benchmarks use (deterministic, seeded):
 * - many small files (1–64 KiB) in nested folders, half text-like (compressible), half random;
 * - a few large files (tens of MiB), random or compressible;
 * - duplicated content: some large files repeat others, some small files repeat each other.
 * `makeDataset(dir, totalBytes)` writes about `totalBytes` (small files take ~1/8 of it).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Fast deterministic bytes: SHA-256 in counter mode over a seed. */
export function randomBlock(seed: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let o = 0, i = 0; o < size; o += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, o, 0, Math.min(32, size - o));
  return out;
}

const WORDS = 'backup store snapshot chunk packfile state encrypted compressed restore kloset plakar file folder data the of and to in is'.split(' ');

export function textBlock(seed: number, size: number): Buffer {
  let x = seed >>> 0 || 1;
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const w = WORDS[x % WORDS.length]! + (x % 11 === 0 ? '.\n' : ' ');
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

export interface DatasetInfo { files: number; bytes: number }

export function makeDataset(dir: string, totalBytes: number): DatasetInfo {
  let files = 0, bytes = 0;
  const write = (rel: string, data: Buffer) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
    files++;
    bytes += data.length;
  };
  const smallBudget = totalBytes / 8;
  let small = 0;
  for (let i = 0; small < smallBudget; i++) {
    const size = 1024 + ((i * 2654435761) % (63 * 1024));
    const rel = `small/d${i % 40}/s${Math.floor(i / 40) % 25}/f${i}.${i % 2 ? 'txt' : 'bin'}`;
    // every 10th small file repeats an earlier one
    const data = i % 10 === 9 ? (i % 2 ? textBlock(i - 9, size) : randomBlock(`small${i - 9}`, size)) : i % 2 ? textBlock(i, size) : randomBlock(`small${i}`, size);
    write(rel, data);
    small += size;
  }
  const bigSize = 48 << 20;
  for (let i = 0; bytes < totalBytes; i++) {
    const kind = i % 4;
    // 0: random, 1: text, 2: half text half random, 3: a copy of the file two before (dedup)
    const data = kind === 0 ? randomBlock(`big${i}`, bigSize)
      : kind === 1 ? textBlock(i * 7919, bigSize)
      : kind === 2 ? Buffer.concat([textBlock(i, bigSize / 2), randomBlock(`big${i}`, bigSize / 2)])
      : randomBlock(`big${i - 3}`, bigSize);
    write(`large/l${i}.dat`, data);
  }
  return { files, bytes };
}

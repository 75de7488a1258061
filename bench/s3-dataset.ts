/**
 * The object set of the S3 benchmark's bucket scenarios (bench/s3.ts), written as local files whose
 * paths are the object keys (deterministic, seeded):
 * - `small/<d>/o<i>.txt|bin|mix`: `small` objects of 1–64 KiB (uniformly random sizes): a third
 *   text-like (compressible), a third random, a third half text and half random;
 * - `large/l<i>.dat`: `large` objects of `largeMiB` MiB, cycling random, text, half-and-half.
 * Returns a manifest with each object's size, MD5 (the ETag of a single-PUT object) and SHA-256,
 * the references the benchmark checks every download and restore against.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ObjectRef { key: string; size: number; md5: string; sha256: string }
export interface BucketManifest { small: number; large: number; largeMiB: number; objects: ObjectRef[]; bytes: number }

/** Deterministic random bytes: AES-256-CTR over zeros, keyed by the seed (GB/s). */
function randomBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

const WORDS = 'bucket object backup restore snapshot chunk packfile state encrypted compressed kloset plakar radosgw the of and to in is a'.split(' ');

/** Text-like bytes (compresses ~3–4×): a 64 KiB block of words, varied per seed, repeated with a counter. */
function textBytes(seed: number, size: number): Buffer {
  let x = (seed * 2654435761) >>> 0 || 1;
  const words: string[] = [];
  let n = 0;
  while (n < Math.min(size, 64 << 10)) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const w = WORDS[x % WORDS.length]! + (x % 13 === 0 ? '.\n' : ' ');
    words.push(w);
    n += w.length;
  }
  const block = Buffer.from(words.join(''));
  const out = Buffer.allocUnsafe(size);
  for (let o = 0, i = 0; o < size; o += block.length, i++) {
    block.copy(out, o, 0, Math.min(block.length, size - o));
    // a per-block counter so long text objects are not one repeated block (dedup would be unfair)
    if (o + 12 <= size) out.write(`#${String(i).padStart(10, '0')}\n`, o, 'latin1');
  }
  return out;
}

function mixed(seed: number, size: number, kind: number): Buffer {
  if (kind === 0) return textBytes(seed, size);
  if (kind === 1) return randomBytes(`r${seed}`, size);
  const half = size >> 1;
  return Buffer.concat([textBytes(seed, half), randomBytes(`m${seed}`, size - half)]);
}

export function makeBucketDataset(dir: string, small: number, large: number, largeMiB: number): BucketManifest {
  const objects: ObjectRef[] = [];
  let bytes = 0;
  const write = (key: string, data: Buffer) => {
    const p = join(dir, key);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
    objects.push({ key, size: data.length, md5: createHash('md5').update(data).digest('hex'), sha256: createHash('sha256').update(data).digest('hex') });
    bytes += data.length;
  };
  let x = 0x9e3779b9;
  const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  for (let i = 0; i < small; i++) {
    const size = 1024 + (rnd() % (63 * 1024 + 1));
    const kind = i % 3;
    write(`small/d${String(i % 100).padStart(2, '0')}/o${i}.${['txt', 'bin', 'mix'][kind]}`, mixed(i, size, kind));
  }
  for (let i = 0; i < large; i++) write(`large/l${i}.dat`, mixed(1_000_000 + i, largeMiB << 20, i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 2));
  return { small, large, largeMiB, objects, bytes };
}

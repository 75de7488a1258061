/**
 * The Node engine's primitives: OpenSSL-backed AEAD, key wrap and HMAC, native LZ4/ZSTD
 * codecs and byte counting, Argon2id in a child process so unlocking never blocks the event loop, and blob
 * encoding on a second thread.
 */
import { nativeByteCounter } from '../base/node/native-byte-counter.js';
import { nativeCodec } from '../base/node/native-codec.js';
import { secureRandom } from '../base/random.js';
import { nodeCodecs } from '../compression/node/registry.js';
import { deriveKeyInWorker } from '../crypto/node/kdf-worker.js';
import { nodeCipherSuite } from '../crypto/node/suite.js';
import { nodeMacFactory } from '../hashing/node/mac.js';
import type { Primitives } from '../repository/primitives.js';
import { workerEncoderFactory } from './worker-encoder.js';

/**
 * Free malloc-heap bytes above which a backup trims the heap between packfiles (relieveMemory):
 * the holes a backup of many small files leaves in glibc's main arena grew with the number of
 * files (system 49 → 80 MB, in use 26 → 35 MB, from 3.5 to 6.5 s of a 16,000-file backup).
 * 4 GiB backups peaked at 324 / 310 MiB without the trim, 311 / 289 with it above 24 MiB,
 * 295 / 299 above 8 MiB, no slower, with 20–40 % more page faults (docs/benchmarks.md, session
 * 15). KLOSET_MALLOC_TRIM_MIB overrides it (whole MiB; 0 turns the trim off).
 */
export function trimFreeAbove(env: Record<string, string | undefined> = process.env): number {
  const mib = Number(env.KLOSET_MALLOC_TRIM_MIB ?? 8);
  return (Number.isInteger(mib) && mib >= 0 ? mib : 8) * 2 ** 20;
}
const TRIM_FREE_ABOVE = trimFreeAbove();

export const nodePrimitives: Primitives = {
  cipher: nodeCipherSuite,
  macs: nodeMacFactory,
  codecs: nodeCodecs,
  deriveKey: deriveKeyInWorker,
  random: secureRandom,
  now: () => Date.now(),
  countBytes: nativeByteCounter(),
  encoder: workerEncoderFactory,
  relieveMemory: () => { if (TRIM_FREE_ABOVE > 0) nativeCodec()?.trimFreeMemory?.(TRIM_FREE_ABOVE); },
};

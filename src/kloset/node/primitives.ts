/**
 * The Node engine's primitives: OpenSSL-backed AEAD, key wrap and HMAC, native LZ4/ZSTD
 * codecs and byte counting, Argon2id in a child process so unlocking never blocks the event loop, and blob
 * encoding on a second thread.
 */
import { nativeByteCounter } from '../base/node/native-byte-counter.js';
import { secureRandom } from '../base/random.js';
import { nodeCodecs } from '../compression/node/registry.js';
import { deriveKeyInWorker } from '../crypto/node/kdf-worker.js';
import { nodeCipherSuite } from '../crypto/node/suite.js';
import { nodeMacFactory } from '../hashing/node/mac.js';
import type { Primitives } from '../repository/primitives.js';
import { workerEncoderFactory } from './worker-encoder.js';

export const nodePrimitives: Primitives = {
  cipher: nodeCipherSuite,
  macs: nodeMacFactory,
  codecs: nodeCodecs,
  deriveKey: deriveKeyInWorker,
  random: secureRandom,
  now: () => Date.now(),
  countBytes: nativeByteCounter(),
  encoder: workerEncoderFactory,
};

/**
 * Everything the repository layer needs from below, injected as one object so the engine core
 * stays portable and tests can pin time and randomness (`node/primitives.ts` builds the fast
 * Node set).
 */
import type { ByteCounter } from '../base/entropy.js';
import type { RandomSource } from '../base/random.js';
import type { CodecRegistry } from '../compression/codec.js';
import type { KdfParams } from '../crypto/kdf-params.js';
import type { CipherSuite } from '../crypto/suite.js';
import type { EncoderFactory } from './encoder.js';
import type { MacFactory } from '../hashing/mac.js';

export interface Primitives {
  readonly cipher: CipherSuite;
  readonly macs: MacFactory;
  readonly codecs: CodecRegistry;
  /** Passphrase → master key; may run off-thread. */
  readonly deriveKey: (params: KdfParams, passphrase: Uint8Array) => Promise<Uint8Array>;
  readonly random: RandomSource;
  /** Current time in milliseconds since the epoch. */
  readonly now: () => number;
  /** A faster byte counter for chunk entropy (native in Node); the portable one when absent. */
  readonly countBytes?: ByteCounter;
  /** Where blob encoding runs (a worker thread in Node); inline when absent. */
  readonly encoder?: EncoderFactory;
  /**
   * Called between packfiles of a backup: a moment to give memory the process no longer uses
   * back to the system (Node: the malloc heap's free pages, when many).
   */
  readonly relieveMemory?: () => void;
}

/**
 * The cryptographic building blocks an encrypted store needs, injected together so the
 * engine core stays portable: `portableCipherSuite` works anywhere (pure JS/WASM, slow AEAD),
 * `crypto/node/suite.ts` is the fast one the Node engine uses.
 */
import { secureRandom, type RandomSource } from '../base/random.js';
import type { AeadFactory } from './aead.js';
import { nobleKeyWrap, type KeyWrap } from './aes-kw.js';
import { nobleGcmSiv } from './aes-gcm-siv.js';
import type { ObjectCipher } from './object-cipher.js';

export interface CipherSuite {
  readonly aead: AeadFactory;
  readonly keyWrap: KeyWrap;
  readonly random: RandomSource;
  /** Whole-object encryption in one call, when the platform has one (`stream.ts` uses it first). */
  readonly objects?: ObjectCipher;
}

export const portableCipherSuite: CipherSuite = { aead: nobleGcmSiv, keyWrap: nobleKeyWrap, random: secureRandom };

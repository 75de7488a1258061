/**
 * The passphrase canary (spec §3.4): CONFIG stores encrypt(masterKey, 32 random bytes), 100
 * bytes. A key is right when it decrypts; nothing is compared with a stored plaintext.
 */
import { authError, isKlosetError } from '../base/errors.js';
import { decrypt, encrypt } from './stream.js';
import type { CipherSuite } from './suite.js';

export const CANARY_SIZE = 100;

export function makeCanary(suite: CipherSuite, masterKey: Uint8Array): Uint8Array {
  return encrypt(suite, masterKey, suite.random(32));
}

/** Throws AUTH ("wrong passphrase") unless `masterKey` opens the canary. */
export function verifyCanary(suite: CipherSuite, masterKey: Uint8Array, canary: Uint8Array): void {
  try {
    decrypt(suite, masterKey, canary);
  } catch (e) {
    if (isKlosetError(e, 'AUTH') || isKlosetError(e, 'CORRUPT')) throw authError('wrong passphrase: the key does not open this store');
    throw e;
  }
}

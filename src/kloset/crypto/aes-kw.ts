/**
 * AES-256 key wrap (RFC 3394, default IV A6A6A6A6A6A6A6A6). Kloset wraps each object's random
 * 32-byte subkey under the master key, giving the 40-byte prefix of every encrypted object.
 * This is the portable implementation (@noble/ciphers); `node/aes-kw.ts` uses OpenSSL.
 */
import { aeskw } from '@noble/ciphers/aes.js';
import { authError } from '../base/errors.js';

export interface KeyWrap {
  wrap(kek: Uint8Array, key: Uint8Array): Uint8Array;
  /** Throws KlosetError AUTH when the integrity check fails (wrong key or damaged bytes). */
  unwrap(kek: Uint8Array, wrapped: Uint8Array): Uint8Array;
}

export const nobleKeyWrap: KeyWrap = {
  wrap: (kek, key) => aeskw(kek).encrypt(key),
  unwrap: (kek, wrapped) => {
    try {
      return aeskw(kek).decrypt(wrapped);
    } catch {
      throw authError('AES key unwrap failed: wrong key or damaged data');
    }
  },
};

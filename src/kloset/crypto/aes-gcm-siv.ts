/**
 * Portable AES-256-GCM-SIV (RFC 8452) from @noble/ciphers: the reference implementation the
 * fast Node one (`crypto/node/aes-gcm-siv.ts`) is checked against. About 25 MB/s, so the Node
 * engine never uses it for bulk data.
 */
import { gcmsiv } from '@noble/ciphers/aes.js';
import { authError } from '../base/errors.js';
import type { AeadFactory } from './aead.js';

export const nobleGcmSiv: AeadFactory = (key) => ({
  seal: (nonce, plaintext) => gcmsiv(key, nonce).encrypt(plaintext),
  open: (nonce, sealed) => {
    try {
      return gcmsiv(key, nonce).decrypt(sealed);
    } catch (e) {
      throw authError('AES-GCM-SIV authentication failed', { cause: String(e) });
    }
  },
});

/**
 * AEAD seam. Kloset seals every 64 KiB record with AES-256-GCM-SIV under a per-object subkey;
 * the implementation is injected so the engine core stays portable (the Node build plugs in an
 * AES-NI backed one from `crypto/node/`).
 */
export const GCM_SIV_NONCE_SIZE = 12;
export const GCM_SIV_TAG_SIZE = 16;

export interface Aead {
  /** Returns ciphertext ‖ 16-byte tag (no nonce), empty associated data. */
  seal(nonce: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Inverse of `seal`; throws KlosetError AUTH when the tag does not verify. */
  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array;
}

/** Builds an AEAD bound to a 32-byte key. */
export type AeadFactory = (key: Uint8Array) => Aead;

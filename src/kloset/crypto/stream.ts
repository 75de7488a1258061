/**
 * Kloset's object encryption (spec §3.2, encryption/symmetric.go EncryptStream): a random
 * 32-byte subkey wrapped with AES-256-KW under the master key (40 bytes), then the plaintext in
 * records of `chunkSize` bytes (65536 in every store so far), each sealed with
 * AES-256-GCM-SIV(subkey) as nonce(12) ‖ ciphertext ‖ tag(16).
 */
import { corrupt } from '../base/errors.js';
import { GCM_SIV_NONCE_SIZE, GCM_SIV_TAG_SIZE } from './aead.js';
import type { CipherSuite } from './suite.js';

export const WRAPPED_KEY_SIZE = 40;
export const DEFAULT_RECORD_SIZE = 64 * 1024;
const RECORD_OVERHEAD = GCM_SIV_NONCE_SIZE + GCM_SIV_TAG_SIZE;

export function encryptedSize(plainLength: number, chunkSize = DEFAULT_RECORD_SIZE): number {
  return WRAPPED_KEY_SIZE + plainLength + Math.ceil(plainLength / chunkSize) * RECORD_OVERHEAD;
}

/**
 * `alloc`, when given, provides the memory the sealed object is written into (called once with
 * its exact size): a backup's encoding thread seals chunks straight into memory shared with
 * the thread that packs them.
 */
export function encrypt(suite: CipherSuite, masterKey: Uint8Array, plaintext: Uint8Array, chunkSize = DEFAULT_RECORD_SIZE, alloc?: (n: number) => Uint8Array): Uint8Array {
  checkChunkSize(chunkSize);
  const size = encryptedSize(plaintext.length, chunkSize);
  // a master key of another length (a damaged CONFIG's KDF) fails the per-record path's checks
  if (suite.objects && masterKey.length === 32) {
    const random = suite.random(32 + Math.ceil(plaintext.length / chunkSize) * GCM_SIV_NONCE_SIZE);
    const sealed = suite.objects.seal(masterKey, plaintext, random, chunkSize, alloc?.(size));
    random.fill(0);
    return sealed;
  }
  const subkey = suite.random(32);
  const out = alloc ? alloc(size) : new Uint8Array(size);
  out.set(suite.keyWrap.wrap(masterKey, subkey), 0);
  const aead = suite.aead(subkey);
  let o = WRAPPED_KEY_SIZE;
  for (let p = 0; p < plaintext.length; p += chunkSize) {
    const nonce = suite.random(GCM_SIV_NONCE_SIZE);
    out.set(nonce, o);
    const sealed = aead.seal(nonce, plaintext.subarray(p, Math.min(plaintext.length, p + chunkSize)));
    out.set(sealed, o + GCM_SIV_NONCE_SIZE);
    o += GCM_SIV_NONCE_SIZE + sealed.length;
  }
  subkey.fill(0);
  return out;
}

/**
 * Inverse of `encrypt`. A short or mis-sized input is CORRUPT; a wrong master key or a
 * damaged record is AUTH (the key unwrap or a GCM-SIV tag fails). Lengths are checked before
 * the output is allocated, so its size is bounded by the input. `transient`: the result may be
 * a per-thread scratch view valid until the next transient call (the caller consumes it at once).
 */
export function decrypt(suite: CipherSuite, masterKey: Uint8Array, data: Uint8Array, chunkSize = DEFAULT_RECORD_SIZE, transient = false): Uint8Array {
  checkChunkSize(chunkSize);
  if (data.length < WRAPPED_KEY_SIZE) throw corrupt(`encrypted object too short (${data.length} bytes)`);
  const body = data.length - WRAPPED_KEY_SIZE;
  const record = chunkSize + RECORD_OVERHEAD;
  const full = Math.floor(body / record);
  const tail = body - full * record;
  if (tail !== 0 && tail <= RECORD_OVERHEAD) throw corrupt(`encrypted object truncated (last record of ${tail} bytes)`);
  const plainLength = full * chunkSize + (tail ? tail - RECORD_OVERHEAD : 0);
  if (suite.objects && masterKey.length === 32) return suite.objects.open(masterKey, data, chunkSize, plainLength, transient);
  const subkey = suite.keyWrap.unwrap(masterKey, data.subarray(0, WRAPPED_KEY_SIZE));
  const aead = suite.aead(subkey);
  const out = new Uint8Array(plainLength);
  let o = 0;
  for (let i = WRAPPED_KEY_SIZE; i < data.length; i += record) {
    const rec = data.subarray(i, Math.min(data.length, i + record));
    const plain = aead.open(rec.subarray(0, GCM_SIV_NONCE_SIZE), rec.subarray(GCM_SIV_NONCE_SIZE));
    out.set(plain, o);
    o += plain.length;
  }
  subkey.fill(0);
  return out;
}

function checkChunkSize(n: number): void {
  if (!Number.isInteger(n) || n < 16 || n > 16 * 1024 * 1024) throw corrupt(`unsupported encryption chunk size ${n}`);
}

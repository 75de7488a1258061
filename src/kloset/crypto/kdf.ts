/**
 * Key derivation from a passphrase with the parameters CONFIG names (spec §3.1): Argon2id
 * (plakar's default, t=4, m=256 MiB, p=1), scrypt or PBKDF2-SHA256. The result is the 32-byte
 * master key.
 *
 * Argon2id backends, chosen per call: libsodium (fastest here: ~1.1–1.7 s at the defaults
 * against 1.5–2.2 s for hash-wasm) when p=1 and the salt is 16 bytes, which is every plakar
 * store; hash-wasm for other lane counts and salt sizes; @noble/hashes only when a secret or
 * associated data is given (never by Kloset; RFC 9106's vector uses them).
 *
 * Every backend runs on the calling thread. Under a UI, call `node/kdf-worker.ts`, which runs
 * the default Argon2id in a short-lived child process.
 */
// The backends are imported when a derivation needs one: most processes never do (the default
// Argon2id runs in the KDF child), and loading libsodium, hash-wasm and @noble's KDFs up front
// cost every command ~80 ms of start-up.
import { corrupt, unsupported } from '../base/errors.js';
import type { KdfParams } from './kdf-params.js';

/**
 * Bounds that refuse hostile CONFIGs before they allocate or spin (plakar uses 256 MiB, t=4).
 * CONFIG's KDF parameters are read before its MAC can be checked, so a damaged CONFIG could
 * otherwise ask for gigabytes.
 */
const MAX_ARGON2_MEMORY_KIB = 1024 * 1024;
const MAX_ARGON2_TIME = 64;
const MAX_SCRYPT_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_PBKDF2_ITERATIONS = 50_000_000;

export interface Argon2idInput {
  password: Uint8Array;
  salt: Uint8Array;
  time: number;
  /** KiB */
  memory: number;
  threads: number;
  keyLen: number;
  secret?: Uint8Array;
  associatedData?: Uint8Array;
}

export async function argon2id(p: Argon2idInput): Promise<Uint8Array> {
  if (!(p.time >= 1 && p.time <= MAX_ARGON2_TIME)) throw unsupported(`argon2id time=${p.time} out of range`);
  if (!(p.threads >= 1 && p.threads <= 255)) throw unsupported(`argon2id threads=${p.threads} out of range`);
  if (!(p.memory >= 8 * p.threads && p.memory <= MAX_ARGON2_MEMORY_KIB)) throw unsupported(`argon2id memory=${p.memory} KiB out of range`);
  if (!(p.keyLen >= 4 && p.keyLen <= 1024)) throw unsupported(`argon2id key length ${p.keyLen} out of range`);
  if (p.salt.length < 8) throw corrupt(`argon2id salt of ${p.salt.length} bytes (at least 8)`);
  if (p.secret || p.associatedData) {
    const { argon2idAsync } = await import('@noble/hashes/argon2.js');
    return argon2idAsync(p.password, p.salt, {
      t: p.time, m: p.memory, p: p.threads, dkLen: p.keyLen, key: p.secret, personalization: p.associatedData,
    });
  }
  try {
    // libsodium's crypto_pwhash fixes p=1 and a 16-byte salt, and wants at least 16 output bytes
    if (p.threads === 1 && p.salt.length === 16 && p.keyLen >= 16) {
      const sodium = (await import('libsodium-wrappers-sumo')).default;
      await sodium.ready;
      return sodium.crypto_pwhash(p.keyLen, p.password, p.salt, p.time, p.memory * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
    }
    const { argon2id: hashWasmArgon2id } = await import('hash-wasm');
    return await hashWasmArgon2id({
      password: p.password, salt: p.salt, iterations: p.time, memorySize: p.memory,
      parallelism: p.threads, hashLength: p.keyLen, outputType: 'binary',
    });
  } catch (e) {
    throw unsupported(`argon2id failed with these parameters: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Derives the master key named by CONFIG's KDFParams. */
export async function deriveKey(params: KdfParams, passphrase: Uint8Array): Promise<Uint8Array> {
  switch (params.kdf) {
    case 'ARGON2ID': {
      const a = params.argon2id;
      if (!a) throw corrupt('KDF ARGON2ID without its parameters');
      return argon2id({ password: passphrase, salt: params.salt, time: a.time, memory: a.memory, threads: a.threads, keyLen: a.keyLen });
    }
    case 'SCRYPT': {
      const s = params.scrypt;
      if (!s) throw corrupt('KDF SCRYPT without its parameters');
      const n = s.n;
      if (!(n > 1 && (n & (n - 1)) === 0) || s.r < 1 || s.p < 1 || 128 * n * s.r * s.p > MAX_SCRYPT_BYTES) {
        throw unsupported(`scrypt N=${n} r=${s.r} p=${s.p} out of range`);
      }
      if (!(s.keyLen >= 16 && s.keyLen <= 1024)) throw unsupported(`scrypt key length ${s.keyLen}`);
      const { scryptAsync } = await import('@noble/hashes/scrypt.js');
      return scryptAsync(passphrase, params.salt, { N: n, r: s.r, p: s.p, dkLen: s.keyLen, maxmem: MAX_SCRYPT_BYTES + 1024 });
    }
    case 'PBKDF2': {
      const p = params.pbkdf2;
      if (!p) throw corrupt('KDF PBKDF2 without its parameters');
      if (p.hashing !== 'SHA256') throw unsupported(`PBKDF2 with ${p.hashing} is not supported`);
      if (!(p.iterations >= 1 && p.iterations <= MAX_PBKDF2_ITERATIONS)) throw unsupported(`PBKDF2 iterations=${p.iterations} out of range`);
      if (!(p.keyLen >= 16 && p.keyLen <= 1024)) throw unsupported(`PBKDF2 key length ${p.keyLen}`);
      const [{ pbkdf2Async }, { sha256 }] = await Promise.all([import('@noble/hashes/pbkdf2.js'), import('@noble/hashes/sha2.js')]);
      return pbkdf2Async(sha256, passphrase, params.salt, { c: p.iterations, dkLen: p.keyLen });
    }
    default:
      throw unsupported(`unknown KDF ${JSON.stringify(params.kdf)}`);
  }
}


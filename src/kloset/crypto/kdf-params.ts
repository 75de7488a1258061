/**
 * KDF parameters as CONFIG stores them (spec §2.2, encryption/symmetric.go KDFParams). Exactly
 * one of the per-algorithm blocks is present, matching `kdf`.
 */
export type KdfName = 'ARGON2ID' | 'SCRYPT' | 'PBKDF2';

export interface Argon2idParams { saltSize: number; time: number; memory: number; threads: number; keyLen: number }
export interface ScryptParams { saltSize: number; n: number; r: number; p: number; keyLen: number }
export interface Pbkdf2Params { saltSize: number; iterations: number; keyLen: number; hashing: string }

export interface KdfParams {
  kdf: string;
  salt: Uint8Array;
  argon2id: Argon2idParams | null;
  scrypt: ScryptParams | null;
  pbkdf2: Pbkdf2Params | null;
}

/** plakar's defaults: Argon2id t=4, m=256 MiB, p=1, 32-byte key, 16-byte salt. */
export const DEFAULT_ARGON2ID: Argon2idParams = { saltSize: 16, time: 4, memory: 256 * 1024, threads: 1, keyLen: 32 };
export const DEFAULT_SCRYPT: ScryptParams = { saltSize: 16, n: 1 << 15, r: 8, p: 1, keyLen: 32 };
export const DEFAULT_PBKDF2: Pbkdf2Params = { saltSize: 16, iterations: 100_000, keyLen: 32, hashing: 'SHA256' };

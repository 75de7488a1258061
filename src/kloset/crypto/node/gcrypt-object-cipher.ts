/**
 * Object encryption on libgcrypt (native/gcrypt, a Node-API addon built at install when
 * libgcrypt ≥ 1.10 and its headers are present): AES-256-KW and AES-256-GCM-SIV on AES-NI and
 * PCLMUL, ~4 GB/s here against ~450–600 MB/s for the OpenSSL-ECB + WebAssembly POLYVAL path,
 * and ~3 µs against ~40 µs for a 4 KB object. Without the addon (another platform, or a build
 * without libgcrypt) the suite keeps the per-record path, so stores open everywhere.
 *
 * KLOSET_NATIVE_CRYPTO=0 turns it off (benchmarks compare both paths in one build).
 */
import { createRequire } from 'node:module';
import { authError } from '../../base/errors.js';
import type { ObjectCipher } from '../object-cipher.js';

interface Addon {
  sealObject(masterKey: Uint8Array, random: Uint8Array, plaintext: Uint8Array, chunkSize: number, out: Uint8Array): number;
  openObject(masterKey: Uint8Array, data: Uint8Array, chunkSize: number, out: Uint8Array): number;
}

let addon: Addon | null | undefined;
let loadError: string | undefined;

function load(): Addon | null {
  if (addon === undefined) {
    addon = null;
    if (process.env.KLOSET_NATIVE_CRYPTO === '0') loadError = 'turned off by KLOSET_NATIVE_CRYPTO=0';
    else {
      try {
        addon = createRequire(import.meta.url)('kloset-gcrypt') as Addon;
      } catch (e) {
        loadError = (e as Error).message.split('\n')[0];
      }
    }
  }
  return addon;
}

/** Why the native object cipher is not in use, or undefined when it is. */
export function nativeObjectCipherProblem(): string | undefined {
  return load() ? undefined : loadError;
}

function sealedLength(plainLength: number, chunkSize: number): number {
  return 40 + plainLength + Math.ceil(plainLength / chunkSize) * 28;
}

export function gcryptObjectCipher(): ObjectCipher | undefined {
  const a = load();
  if (!a) return undefined;
  return {
    seal(masterKey, plaintext, random, chunkSize) {
      const out = Buffer.allocUnsafe(sealedLength(plaintext.length, chunkSize));
      const rc = a.sealObject(masterKey, random, plaintext, chunkSize, out);
      if (rc !== 0) throw new Error(`libgcrypt object encryption failed (gpg error ${rc})`);
      return out;
    },
    open(masterKey, data, chunkSize, plainLength) {
      const out = Buffer.allocUnsafe(plainLength);
      const rc = a.openObject(masterKey, data, chunkSize, out);
      if (rc === -1) throw authError('AES key unwrap failed: wrong key or damaged data');
      if (rc > 0) throw authError('AES-GCM-SIV authentication failed', { record: rc - 1 });
      if (rc !== 0) throw new Error(`libgcrypt object decryption failed (gpg error ${-1000 - rc})`);
      return out;
    },
  };
}

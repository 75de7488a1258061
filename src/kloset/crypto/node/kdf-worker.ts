/**
 * Runs `deriveKey` in a worker thread so a 1–2 s Argon2id never blocks the calling event loop
 * (the engine host answers RPCs while a store unlocks). The worker is plain JS
 * (`kdf-worker.cjs`) so it loads the same way under tsx, vitest and a bundled build.
 */
import { Worker } from 'node:worker_threads';
import { KlosetError, type ErrorCode } from '../../base/errors.js';
import type { KdfParams } from '../kdf-params.js';
import { deriveKey } from '../kdf.js';

export async function deriveKeyInWorker(params: KdfParams, passphrase: Uint8Array): Promise<Uint8Array> {
  const a = params.argon2id;
  // Only the default Argon2id path is slow enough to matter; the others yield as they go.
  if (params.kdf !== 'ARGON2ID' || !a || a.threads !== 1 || params.salt.length !== 16 || a.keyLen < 16) return deriveKey(params, passphrase);
  const worker = new Worker(new URL('./kdf-worker.cjs', import.meta.url));
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      worker.once('message', (m: { key?: Uint8Array; code?: ErrorCode; error?: string }) =>
        m.key ? resolve(m.key) : reject(new KlosetError(m.code ?? 'UNSUPPORTED', m.error ?? 'KDF failed')));
      worker.once('error', reject);
      worker.postMessage({ password: passphrase, salt: params.salt, ...a });
    });
  } finally {
    void worker.terminate();
  }
}

/**
 * Runs the default Argon2id in a child process so a 1–2 s derivation never blocks the calling
 * event loop (the engine host answers RPCs while a store unlocks), and so its 256 MiB of
 * working memory belong to a process that exits right after (the engine's own peak memory
 * stays low). The child is plain JS (`kdf-worker.cjs`): it loads the same way under tsx,
 * vitest and a bundled build. The passphrase and key travel over the IPC channel only.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KlosetError, type ErrorCode } from '../../base/errors.js';
import type { KdfParams } from '../kdf-params.js';
import { deriveKey } from '../kdf.js';

export async function deriveKeyInWorker(params: KdfParams, passphrase: Uint8Array): Promise<Uint8Array> {
  const a = params.argon2id;
  // Only the default Argon2id path is slow enough to matter; the others yield as they go.
  if (params.kdf !== 'ARGON2ID' || !a || a.threads !== 1 || params.salt.length !== 16 || a.keyLen < 16) return deriveKey(params, passphrase);
  const child = fork(fileURLToPath(new URL('./kdf-worker.cjs', import.meta.url)), [], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    execArgv: [], // no loaders or inspector flags of the parent: it is plain JS
    serialization: 'json',
  });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      child.once('message', (m: { key?: string; code?: ErrorCode; error?: string }) =>
        m.key ? resolve(new Uint8Array(Buffer.from(m.key, 'base64'))) : reject(new KlosetError(m.code ?? 'UNSUPPORTED', m.error ?? 'KDF failed')));
      child.once('error', reject);
      child.once('exit', (code) => reject(new KlosetError('IO', `the key derivation process exited (${code}) without a key`)));
      child.send({
        password: Buffer.from(passphrase).toString('base64'),
        salt: Buffer.from(params.salt).toString('base64'),
        time: a.time, memory: a.memory, keyLen: a.keyLen,
      });
    });
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

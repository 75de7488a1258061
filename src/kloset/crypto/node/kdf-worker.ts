/**
 * Runs the default Argon2id in a child process so a 1–2 s derivation never blocks the calling
 * event loop (the engine host answers RPCs while a store unlocks), and so its 256 MiB of
 * working memory belong to a process that exits right after (the engine's own peak memory
 * stays low). The child is plain JS (`kdf-worker.cjs`): it loads the same way under tsx,
 * vitest and a bundled build. The passphrase and key travel over the IPC channel only.
 * The child uses the native Argon2id of @node-rs/argon2 (about 3× libsodium's WebAssembly)
 * and falls back to libsodium where the prebuilt binary is missing.
 *
 * A command that will unlock a store can start the child ahead of need (prestartKdfProcess):
 * unlocking is on the critical path of every store command, and the child's own start-up
 * (~70 ms) then overlaps the command's module loading and CONFIG read instead of following it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KlosetError, type ErrorCode } from '../../base/errors.js';
import type { KdfParams } from '../kdf-params.js';
import { deriveKey } from '../kdf.js';

export async function deriveKeyInWorker(params: KdfParams, passphrase: Uint8Array): Promise<Uint8Array> {
  return (await deriveKeyWithBackend(params, passphrase)).key;
}

/** Which code derived a key: the child's native Argon2id, its libsodium fallback, or kdf.ts in-thread. */
export type KdfBackend = 'native' | 'libsodium' | 'in-thread';

/** deriveKeyInWorker, also saying which backend ran (tests check the native one loads). */
export async function deriveKeyWithBackend(params: KdfParams, passphrase: Uint8Array): Promise<{ key: Uint8Array; backend: KdfBackend }> {
  const a = params.argon2id;
  // Only the default Argon2id path is slow enough to matter; the others yield as they go.
  if (params.kdf !== 'ARGON2ID' || !a || a.threads !== 1 || params.salt.length !== 16 || a.keyLen < 16) {
    return { key: await deriveKey(params, passphrase), backend: 'in-thread' };
  }
  const child = takeSpare() ?? forkKdfProcess();
  try {
    return await new Promise<{ key: Uint8Array; backend: KdfBackend }>((resolve, reject) => {
      child.once('message', (m: { key?: string; backend?: 'native' | 'libsodium'; code?: ErrorCode; error?: string }) =>
        m.key
          ? resolve({ key: new Uint8Array(Buffer.from(m.key, 'base64')), backend: m.backend ?? 'libsodium' })
          : reject(new KlosetError(m.code ?? 'UNSUPPORTED', m.error ?? 'KDF failed')));
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

/** A KDF child started by prestartKdfProcess and not used yet. */
let spare: ChildProcess | null = null;

/**
 * Starts the KDF child now, for the next derivation of this process to use. It never keeps the
 * process alive: unused, it is killed when the process exits, and it exits by itself when its
 * IPC channel closes (its parent died). It sees the environment of this moment.
 */
export function prestartKdfProcess(): void {
  if (spare) return;
  const child = forkKdfProcess();
  child.unref();
  child.channel?.unref();
  child.on('error', () => {}); // a child that fails to start: the derivation forks another
  child.once('exit', () => { if (spare === child) spare = null; });
  process.once('exit', () => { if (child.exitCode === null) child.kill(); });
  spare = child;
}

function takeSpare(): ChildProcess | null {
  const child = spare;
  spare = null;
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.connected) return null;
  child.ref(); // from now on the derivation keeps the process alive, as a fresh child would
  child.channel?.ref();
  return child;
}

function forkKdfProcess(): ChildProcess {
  return fork(fileURLToPath(new URL('./kdf-worker.cjs', import.meta.url)), [], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    execArgv: [], // no loaders or inspector flags of the parent: it is plain JS
    // glibc (2.35+) then asks for transparent huge pages for Argon2id's 256 MiB: fewer page
    // faults, ~0.55 s instead of ~0.7 s here; other C libraries ignore the variable
    env: { ...process.env, GLIBC_TUNABLES: [process.env.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':') },
    serialization: 'json',
  });
}

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
 * It can also start the derivation itself (startDerivationEarly), when it can read the store's
 * KDF parameters and the passphrase before loading the rest of its code: the derivation that
 * follows with the same parameters and passphrase takes that result instead of starting again.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KlosetError, type ErrorCode } from '../../base/errors.js';
import type { Argon2idParams, KdfParams } from '../kdf-params.js';
import { deriveKey } from '../kdf.js';

export async function deriveKeyInWorker(params: KdfParams, passphrase: Uint8Array): Promise<Uint8Array> {
  return (await deriveKeyWithBackend(params, passphrase)).key;
}

/** Which code derived a key: the child's native Argon2id, its libsodium fallback, or kdf.ts in-thread. */
export type KdfBackend = 'native' | 'libsodium' | 'in-thread';

/** deriveKeyInWorker, also saying which backend ran (tests check the native one loads). */
export async function deriveKeyWithBackend(params: KdfParams, passphrase: Uint8Array): Promise<Derived> {
  const started = takeEarly(params, passphrase);
  if (started) return started;
  // Only the default Argon2id path is slow enough to matter; the others yield as they go.
  if (!inChild(params)) return { key: await deriveKey(params, passphrase), backend: 'in-thread' };
  const child = takeSpare() ?? forkKdfProcess();
  child.ref(); // the derivation keeps the process alive (a spare child did not)
  child.channel?.ref();
  return deriveInChild(child, params.argon2id!, params.salt, passphrase);
}

type Derived = { key: Uint8Array; backend: KdfBackend };

/** The derivations the child runs: the default Argon2id shape (the others are fast enough in-thread). */
function inChild(params: KdfParams): boolean {
  const a = params.argon2id;
  return params.kdf === 'ARGON2ID' && !!a && a.threads === 1 && params.salt.length === 16 && a.keyLen >= 16;
}

async function deriveInChild(child: ChildProcess, a: Argon2idParams, salt: Uint8Array, passphrase: Uint8Array): Promise<Derived> {
  try {
    return await new Promise<Derived>((resolve, reject) => {
      child.once('message', (m: { key?: string; backend?: 'native' | 'libsodium'; code?: ErrorCode; error?: string }) =>
        m.key
          ? resolve({ key: new Uint8Array(Buffer.from(m.key, 'base64')), backend: m.backend ?? 'libsodium' })
          : reject(new KlosetError(m.code ?? 'UNSUPPORTED', m.error ?? 'KDF failed')));
      child.once('error', reject);
      child.once('exit', (code) => reject(new KlosetError('IO', `the key derivation process exited (${code}) without a key`)));
      child.send({
        password: Buffer.from(passphrase).toString('base64'),
        salt: Buffer.from(salt).toString('base64'),
        time: a.time, memory: a.memory, keyLen: a.keyLen,
      });
    });
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** A derivation started by startDerivationEarly and not taken yet. */
let early: { params: KdfParams; passphrase: Uint8Array; child: ChildProcess; result: Promise<Derived> } | null = null;

/**
 * Starts deriving the key for `params` and `passphrase` now, in the KDF child, for the
 * derivation this process asks for next: if that one has the same parameters and passphrase
 * it gets this result; otherwise this one is dropped (its child killed) and it derives on its
 * own. Like prestartKdfProcess, it does not keep the process alive until taken. Derivations
 * that would not go to the child are left to their caller.
 */
export function startDerivationEarly(params: KdfParams, passphrase: Uint8Array): void {
  if (early || !inChild(params)) return;
  const child = takeSpare() ?? forkKdfProcess();
  child.unref();
  child.channel?.unref();
  child.on('error', () => {}); // reported through the derivation's own 'error' listener
  process.once('exit', () => { if (child.exitCode === null) child.kill(); });
  const result = deriveInChild(child, params.argon2id!, params.salt, passphrase);
  result.catch(() => {}); // a failure reaches the caller that takes it, or no one
  early = { params: { ...params, salt: params.salt.slice() }, passphrase: passphrase.slice(), child, result };
}

/** Whether a derivation started early waits to be taken (for tests and diagnostics). */
export function earlyDerivationPending(): boolean {
  return early !== null;
}

function takeEarly(params: KdfParams, passphrase: Uint8Array): Promise<Derived> | null {
  const e = early;
  if (!e) return null;
  early = null;
  const a = e.params.argon2id!, b = params.argon2id;
  const same = e.params.kdf === params.kdf && !!b && a.time === b.time && a.memory === b.memory && a.threads === b.threads &&
    a.keyLen === b.keyLen && equalBytes(e.params.salt, params.salt) && equalBytes(e.passphrase, passphrase);
  e.passphrase.fill(0);
  if (!same) {
    if (e.child.exitCode === null) e.child.kill();
    return null;
  }
  e.child.ref(); // from now on the derivation keeps the process alive, as a fresh child would
  e.child.channel?.ref();
  return e.result;
}

/** Constant-time comparison (the passphrase is one of the inputs). */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
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
  return child;
}

function forkKdfProcess(): ChildProcess {
  return fork(fileURLToPath(new URL('./kdf-worker.cjs', import.meta.url)), [], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    execArgv: [], // no loaders or inspector flags of the parent: it is plain JS
    env: kdfChildEnv(process.env),
    serialization: 'json',
  });
}

/**
 * The child's environment: the parent's, with two changes for a faster start. glibc (2.35+)
 * asks for transparent huge pages for Argon2id's 256 MiB (fewer page faults; other C libraries
 * ignore the variable). NODE_EXTRA_CA_CERTS is left out: Node 20 parses that bundle and its own
 * root certificates when it starts (~35 ms measured here, on the unlock's critical path), and
 * the child never opens a TLS connection.
 */
export function kdfChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return { ...rest, GLIBC_TUNABLES: [env.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':') };
}

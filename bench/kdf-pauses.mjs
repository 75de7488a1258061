// Times the store's key derivation (Argon2id at plakar's defaults, in its child process) after
// pauses of 0–10 s: on a VM that hands freed memory back to its host, a derivation after a
// pause pays for faulting its 256 MiB in again (session 7, docs/benchmarks.md).
//
//   npm run build && node bench/kdf-pauses.mjs
import { deriveKeyWithBackend } from '../dist/kloset/crypto/node/kdf-worker.js';

const params = { kdf: 'ARGON2ID', salt: new Uint8Array(16), argon2id: { saltSize: 16, time: 4, memory: 256 * 1024, threads: 1, keyLen: 32 } };
const pass = new TextEncoder().encode('x');
await deriveKeyWithBackend(params, pass); // the first one also loads everything
for (const pause of [0, 2000, 0, 5000, 0, 10000, 0]) {
  await new Promise((r) => setTimeout(r, pause));
  const t = performance.now();
  await deriveKeyWithBackend(params, pass);
  console.log(`after a ${pause / 1000} s pause: ${(performance.now() - t).toFixed(0)} ms`);
}

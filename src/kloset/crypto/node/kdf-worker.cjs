// Worker half of kdf-worker.ts: Argon2id (p = 1, 16-byte salt) with libsodium.
// Plain CommonJS on purpose: worker threads load it without a TypeScript loader.
'use strict';
const { parentPort } = require('node:worker_threads');
const sodium = require('libsodium-wrappers-sumo');

parentPort.once('message', async (m) => {
  try {
    if (!(m.time >= 1 && m.time <= 64) || !(m.memory >= 8 && m.memory <= 1024 * 1024) || !(m.keyLen >= 16 && m.keyLen <= 1024)) {
      parentPort.postMessage({ code: 'UNSUPPORTED', error: `argon2id parameters out of range (t=${m.time}, m=${m.memory} KiB)` });
      return;
    }
    await sodium.ready;
    const key = sodium.crypto_pwhash(m.keyLen, m.password, m.salt, m.time, m.memory * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
    parentPort.postMessage({ key }, [key.buffer]);
  } catch (e) {
    parentPort.postMessage({ code: 'UNSUPPORTED', error: String(e && e.message ? e.message : e) });
  }
});

// Child-process half of kdf-worker.ts: Argon2id (p = 1, 16-byte salt) with libsodium.
// Plain CommonJS on purpose: it loads without a TypeScript loader. It runs as a separate
// process so Argon2id's 256 MiB live and die outside the engine's address space.
'use strict';
const sodium = require('libsodium-wrappers-sumo');

process.once('message', async (m) => {
  try {
    const password = Buffer.from(m.password, 'base64');
    const salt = Buffer.from(m.salt, 'base64');
    if (!(m.time >= 1 && m.time <= 64) || !(m.memory >= 8 && m.memory <= 1024 * 1024) || !(m.keyLen >= 16 && m.keyLen <= 1024)) {
      process.send({ code: 'UNSUPPORTED', error: `argon2id parameters out of range (t=${m.time}, m=${m.memory} KiB)` });
      return;
    }
    await sodium.ready;
    const key = sodium.crypto_pwhash(m.keyLen, password, salt, m.time, m.memory * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
    password.fill(0);
    process.send({ key: Buffer.from(key).toString('base64') }, () => process.exit(0));
  } catch (e) {
    process.send({ code: 'UNSUPPORTED', error: String(e && e.message ? e.message : e) }, () => process.exit(0));
  }
});

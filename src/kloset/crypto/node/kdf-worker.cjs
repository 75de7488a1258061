// Child-process half of kdf-worker.ts: Argon2id (p = 1, 16-byte salt).
// Plain CommonJS on purpose: it loads without a TypeScript loader. It runs as a separate
// process so Argon2id's 256 MiB live and die outside the engine's address space.
//
// Backend: @node-rs/argon2 (the Rust argon2 crate, prebuilt N-API binary: ~0.35 s at plakar's
// defaults on this machine kind) when it loads, else libsodium in WebAssembly (~1.0–1.3 s).
// Both compute RFC 9106 Argon2id v1.3; a test checks they agree.
'use strict';

function nativeArgon2() {
  if (process.env.KLOSET_KDF_BACKEND === 'libsodium') return null;
  try {
    return require('@node-rs/argon2');
  } catch {
    return null; // a platform without the prebuilt binary
  }
}

// Loaded at once: a child started ahead of need (prestartKdfProcess) has it ready when the
// parameters arrive.
const native = nativeArgon2();

async function derive(m, password, salt) {
  if (native) {
    const key = native.hashRawSync(password, {
      algorithm: native.Algorithm.Argon2id, version: native.Version.V0x13,
      salt, timeCost: m.time, memoryCost: m.memory, parallelism: 1, outputLen: m.keyLen,
    });
    return { key, backend: 'native' };
  }
  const sodium = require('libsodium-wrappers-sumo');
  await sodium.ready;
  const key = sodium.crypto_pwhash(m.keyLen, password, salt, m.time, m.memory * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
  return { key, backend: 'libsodium' };
}

// A parent that dies before sending parameters closes the channel: nothing left to do.
process.once('disconnect', () => process.exit(0));

process.once('message', async (m) => {
  try {
    const password = Buffer.from(m.password, 'base64');
    const salt = Buffer.from(m.salt, 'base64');
    if (!(m.time >= 1 && m.time <= 64) || !(m.memory >= 8 && m.memory <= 1024 * 1024) || !(m.keyLen >= 16 && m.keyLen <= 1024)) {
      process.send({ code: 'UNSUPPORTED', error: `argon2id parameters out of range (t=${m.time}, m=${m.memory} KiB)` });
      return;
    }
    const { key, backend } = await derive(m, password, salt);
    password.fill(0);
    process.send({ key: Buffer.from(key).toString('base64'), backend }, () => process.exit(0));
  } catch (e) {
    process.send({ code: 'UNSUPPORTED', error: String(e && e.message ? e.message : e) }, () => process.exit(0));
  }
});

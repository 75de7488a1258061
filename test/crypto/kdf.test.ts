import { argon2id as hashWasmArgon2id } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { DEFAULT_ARGON2ID, type KdfParams } from '../../src/kloset/crypto/kdf-params.js';
import { argon2id, deriveKey } from '../../src/kloset/crypto/kdf.js';
import { deriveKeyInWorker, deriveKeyWithBackend } from '../../src/kloset/crypto/node/kdf-worker.js';

const te = new TextEncoder();
const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

describe('Argon2id', () => {
  it('RFC 9106 §5.3 vector (secret and associated data; @noble/hashes path)', async () => {
    const key = await argon2id({
      password: fill(32, 1), salt: fill(16, 2), secret: fill(8, 3), associatedData: fill(12, 4),
      time: 3, memory: 32, threads: 4, keyLen: 32,
    });
    expect(toHex(key)).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });

  it('reference implementation vectors ("password"/"somesalt"; hash-wasm path)', async () => {
    const base = { password: te.encode('password'), salt: te.encode('somesalt'), keyLen: 32 };
    expect(toHex(await argon2id({ ...base, time: 2, memory: 65536, threads: 1 })))
      .toBe('09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7');
    expect(toHex(await argon2id({ ...base, time: 2, memory: 256, threads: 2 })))
      .toBe('6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037');
  });

  it("plakar's defaults (t=4, m=256 MiB, p=1, 16-byte salt): libsodium agrees with hash-wasm", async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    const password = te.encode('correct horse battery staple');
    const ours = await argon2id({ password, salt, ...DEFAULT_ARGON2ID });
    const second = await hashWasmArgon2id({
      password, salt, iterations: 4, memorySize: 256 * 1024, parallelism: 1, hashLength: 32, outputType: 'binary',
    });
    expect(toHex(ours)).toBe(toHex(second));
  }, 60_000);

  it('refuses hostile parameters before allocating', async () => {
    const p = { password: te.encode('x'), salt: fill(16, 1), keyLen: 32, threads: 1 };
    await expect(argon2id({ ...p, time: 4, memory: 64 * 1024 * 1024 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(argon2id({ ...p, time: 100_000, memory: 64 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(argon2id({ ...p, time: 1, memory: 64, salt: fill(4, 1) })).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});

describe('deriveKey from CONFIG parameters', () => {
  const params = (over: Partial<KdfParams>): KdfParams => ({ kdf: 'ARGON2ID', salt: te.encode('NaCl'), argon2id: null, scrypt: null, pbkdf2: null, ...over });

  it('scrypt: RFC 7914 §12 vector', async () => {
    const key = await deriveKey(params({ kdf: 'SCRYPT', scrypt: { saltSize: 4, n: 1024, r: 8, p: 16, keyLen: 64 } }), te.encode('password'));
    expect(toHex(key)).toBe('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640');
  });

  it('PBKDF2-HMAC-SHA256: RFC 7914 §11 vector', async () => {
    const key = await deriveKey(params({ kdf: 'PBKDF2', salt: te.encode('salt'), pbkdf2: { saltSize: 4, iterations: 1, keyLen: 64, hashing: 'SHA256' } }), te.encode('passwd'));
    expect(toHex(key)).toBe('55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783');
  });

  it('rejects unknown KDFs and missing parameter blocks', async () => {
    await expect(deriveKey(params({ kdf: 'BCRYPT' }), te.encode('x'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(deriveKey(params({ kdf: 'ARGON2ID' }), te.encode('x'))).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(deriveKey(params({ kdf: 'SCRYPT', scrypt: { saltSize: 16, n: 1000, r: 8, p: 1, keyLen: 32 } }), te.encode('x'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('the worker gives the same key as the in-thread KDF and leaves the event loop free', async () => {
    const p = params({ salt: fill(16, 9), argon2id: { ...DEFAULT_ARGON2ID, memory: 64 * 1024, time: 3 } });
    const pass = te.encode('hunter2');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const inWorker = await deriveKeyInWorker(p, pass);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    // a blocked loop would tick at most once; a free one ticks about every 5 ms
    expect(ticks).toBeGreaterThan(Math.min(10, elapsed / 20));
    expect(toHex(inWorker)).toBe(toHex(await deriveKey(p, pass)));
  });

  it("the child's native Argon2id loads here and agrees with its libsodium fallback and hash-wasm at plakar's defaults", async () => {
    const p = params({ salt: Uint8Array.from({ length: 16 }, (_, i) => 255 - i), argon2id: { ...DEFAULT_ARGON2ID } });
    const pass = te.encode('correct horse battery staple');
    const native = await deriveKeyWithBackend(p, pass);
    expect(native.backend).toBe('native');
    const saved = process.env.KLOSET_KDF_BACKEND;
    process.env.KLOSET_KDF_BACKEND = 'libsodium'; // the forked child inherits it
    try {
      const fallback = await deriveKeyWithBackend(p, pass);
      expect(fallback.backend).toBe('libsodium');
      expect(toHex(fallback.key)).toBe(toHex(native.key));
    } finally {
      if (saved === undefined) delete process.env.KLOSET_KDF_BACKEND;
      else process.env.KLOSET_KDF_BACKEND = saved;
    }
    const reference = await hashWasmArgon2id({
      password: pass, salt: p.salt, iterations: 4, memorySize: 256 * 1024, parallelism: 1, hashLength: 32, outputType: 'binary',
    });
    expect(toHex(native.key)).toBe(toHex(reference));
  }, 60_000);
});

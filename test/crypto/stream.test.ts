import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { CANARY_SIZE, makeCanary, verifyCanary } from '../../src/kloset/crypto/canary.js';
import { nativeCodecProblem } from '../../src/kloset/base/node/native-codec.js';
import { nodeCipherSuite } from '../../src/kloset/crypto/node/suite.js';
import { decrypt, encrypt, encryptedSize, WRAPPED_KEY_SIZE } from '../../src/kloset/crypto/stream.js';
import { portableCipherSuite, type CipherSuite } from '../../src/kloset/crypto/suite.js';

// The Node suite without its whole-object backend: the per-record (OpenSSL + WASM POLYVAL) path.
const perRecord: CipherSuite = { ...nodeCipherSuite, objects: undefined };

describe('object encryption (spec §3.2)', () => {
  it.each([0, 1, 28, 29, 65535, 65536, 65537, 3 * 65536, 200_000])('round-trips %i bytes with the exact framing', (n) => {
    const key = randomBytes(32);
    const pt = randomBytes(n);
    const ct = encrypt(nodeCipherSuite, key, pt);
    expect(ct.length).toBe(encryptedSize(n));
    expect(ct.length).toBe(WRAPPED_KEY_SIZE + n + Math.ceil(n / 65536) * 28);
    expect(toHex(decrypt(nodeCipherSuite, key, ct))).toBe(toHex(pt));
    // the Node and portable suites read each other's output
    expect(toHex(decrypt(portableCipherSuite, key, ct))).toBe(toHex(pt));
    if (n < 70_000) expect(toHex(decrypt(nodeCipherSuite, key, encrypt(portableCipherSuite, key, pt)))).toBe(toHex(pt));
  });

  it('lays out records as nonce ‖ ciphertext ‖ tag after the 40-byte wrapped subkey', () => {
    const key = randomBytes(32);
    const nonces: Uint8Array[] = [];
    const suite = { ...perRecord, random: (n: number) => { const r = new Uint8Array(randomBytes(n)); if (n === 12) nonces.push(r); return r; } };
    const ct = encrypt(suite, key, new Uint8Array(65536 + 5));
    expect(nonces).toHaveLength(2);
    expect(toHex(ct.subarray(40, 52))).toBe(toHex(nonces[0]!));
    expect(toHex(ct.subarray(40 + 65564, 40 + 65564 + 12))).toBe(toHex(nonces[1]!));
    expect(ct.length).toBe(40 + 65564 + 12 + 5 + 16);
  });

  it('wrong key → AUTH; truncation → CORRUPT or AUTH, never a partial plaintext', () => {
    const key = randomBytes(32);
    const ct = encrypt(nodeCipherSuite, key, randomBytes(100_000));
    expect(() => decrypt(nodeCipherSuite, randomBytes(32), ct)).toThrow(expect.objectContaining({ code: 'AUTH' }));
    expect(() => decrypt(nodeCipherSuite, key, ct.subarray(0, 39))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => decrypt(nodeCipherSuite, key, ct.subarray(0, 40 + 65564 + 20))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => decrypt(nodeCipherSuite, key, ct.subarray(0, ct.length - 1))).toThrow(expect.objectContaining({ code: 'AUTH' }));
    // The format has no record count or final-record flag: a cut exactly at a record boundary
    // decrypts to a shorter plaintext here. The wrapper MAC (states, packfiles) and the blob MAC
    // over the plaintext catch it one layer up (docs/format.md, "Encryption").
    const missingLast = ct.subarray(0, 40 + 65564);
    expect(decrypt(nodeCipherSuite, key, missingLast).length).toBe(65536);
  });
});

describe('object encryption on libgcrypt (native/codec)', () => {
  it('is built and loaded on this machine (scripts/setup.sh builds it)', () => {
    expect(nativeCodecProblem()).toBeUndefined();
    expect(nodeCipherSuite.objects).toBeDefined();
  });

  it('KLOSET_NATIVE_CODEC turns it off or names the file to load; without it the suite keeps the per-record path', () => {
    const probe = (value: string) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
        "const m = await import('./src/kloset/base/node/native-codec.ts'); const s = await import('./src/kloset/crypto/node/suite.ts'); console.log(JSON.stringify({ problem: m.nativeCodecProblem() ?? null, objects: !!s.nodeCipherSuite.objects }))"],
        { encoding: 'utf8', env: { ...process.env, KLOSET_NATIVE_CODEC: value } });
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { problem: string | null; objects: boolean };
    };
    expect(probe('0')).toEqual({ problem: 'turned off by KLOSET_NATIVE_CODEC=0', objects: false });
    const missing = probe('/nonexistent/kloset_codec.node');
    expect(missing.objects).toBe(false);
    expect(missing.problem).toMatch(/Cannot find module '\/nonexistent\/kloset_codec.node'/);
    expect(probe(new URL('../../native/codec/build/Release/kloset_codec.node', import.meta.url).pathname)).toEqual({ problem: null, objects: true });
  });

  /** The same bytes, drawn in the same order, whichever path asks for them. */
  const replay = (seed: Uint8Array) => {
    let at = 0;
    return (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = seed[(at + i) % seed.length]! ^ ((at + i) >>> 8);
      at += n;
      return out;
    };
  };

  it.each([[0, 65536], [1, 65536], [15, 65536], [16, 65536], [65535, 65536], [65536, 65536], [65537, 65536],
    [300_000, 65536], [1 << 20, 65536], [5000, 1024], [4096, 16]])('seals %i bytes (records of %i) byte for byte as the per-record path', (n, chunk) => {
    const key = randomBytes(32);
    const pt = randomBytes(n);
    const seed = randomBytes(997);
    const native = encrypt({ ...nodeCipherSuite, random: replay(seed) }, key, pt, chunk);
    const reference = encrypt({ ...perRecord, random: replay(seed) }, key, pt, chunk);
    expect(toHex(native)).toBe(toHex(reference));
    expect(toHex(decrypt(nodeCipherSuite, key, reference, chunk))).toBe(toHex(pt));
    expect(toHex(decrypt(portableCipherSuite, key, native, chunk))).toBe(toHex(pt));
  });

  it('a flipped byte in any record, the wrapped key or the tag is AUTH; a wrong key is AUTH', () => {
    const key = randomBytes(32);
    const ct = encrypt(nodeCipherSuite, key, randomBytes(3 * 65536 + 10));
    for (const at of [0, 39, 40, 52, 40 + 65564 - 1, 40 + 65564 + 100, ct.length - 1]) {
      const bad = new Uint8Array(ct);
      bad[at]! ^= 0x01;
      expect(() => decrypt(nodeCipherSuite, key, bad), `byte ${at}`).toThrow(expect.objectContaining({ code: 'AUTH' }));
    }
    expect(() => decrypt(nodeCipherSuite, randomBytes(32), ct)).toThrow(/unwrap failed/);
    expect(() => decrypt(nodeCipherSuite, key, ct.subarray(0, 40 + 65564 + 20))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('names the record whose tag failed', () => {
    const key = randomBytes(32);
    const ct = new Uint8Array(encrypt(nodeCipherSuite, key, randomBytes(3 * 65536)));
    ct[40 + 2 * 65564 + 30]! ^= 0x80;
    expect(() => decrypt(nodeCipherSuite, key, ct)).toThrow(expect.objectContaining({ code: 'AUTH', details: { record: 2 } }));
  });
});

describe('canary (spec §3.4)', () => {
  it('is 100 bytes and checks the key', () => {
    const key = randomBytes(32);
    const canary = makeCanary(nodeCipherSuite, key);
    expect(canary.length).toBe(CANARY_SIZE);
    expect(() => verifyCanary(nodeCipherSuite, key, canary)).not.toThrow();
    expect(() => verifyCanary(portableCipherSuite, key, canary)).not.toThrow();
    expect(() => verifyCanary(nodeCipherSuite, randomBytes(32), canary)).toThrow(/wrong passphrase/);
    expect(() => verifyCanary(nodeCipherSuite, randomBytes(32), canary)).toThrow(expect.objectContaining({ code: 'AUTH' }));
  });
});

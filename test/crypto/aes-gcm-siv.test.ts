import { randomBytes } from 'node:crypto';
import { gcmsiv } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { isKlosetError } from '../../src/kloset/base/errors.js';
import { nobleGcmSiv } from '../../src/kloset/crypto/aes-gcm-siv.js';
import { GcmSivKernel, KERNEL_DATA_OFFSET } from '../../src/kloset/crypto/gcm-siv-kernel.js';
import { nodeGcmSiv } from '../../src/kloset/crypto/node/aes-gcm-siv.js';
import { Polyval, polyvalSerial } from '../../src/kloset/crypto/polyval.js';

const K1 = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
const N1 = fromHex('030000000000000000000000');
const K0 = new Uint8Array(32);
const N0 = new Uint8Array(12);

// RFC 8452 Appendix C.2 (AEAD_AES_256_GCM_SIV, empty AAD) and C.3 (32-bit counter wrap).
const RFC8452 = [
  { key: K1, nonce: N1, pt: '', out: '07f5f4169bbf55a8400cd47ea6fd400f' },
  { key: K1, nonce: N1, pt: '0100000000000000', out: 'c2ef328e5c71c83b843122130f7364b761e0b97427e3df28' },
  { key: K1, nonce: N1, pt: '010000000000000000000000', out: '9aab2aeb3faa0a34aea8e2b18ca50da9ae6559e48fd10f6e5c9ca17e' },
  { key: K1, nonce: N1, pt: '01000000000000000000000000000000', out: '85a01b63025ba19b7fd3ddfc033b3e76c9eac6fa700942702e90862383c6c366' },
  {
    key: K1, nonce: N1, pt: '0100000000000000000000000000000002000000000000000000000000000000',
    out: '4a6a9db4c8c6549201b9edb53006cba821ec9cf850948a7c86c68ac7539d027fe819e63abcd020b006a976397632eb5d',
  },
  {
    key: K1, nonce: N1, pt: '010000000000000000000000000000000200000000000000000000000000000003000000000000000000000000000000',
    out: 'c00d121893a9fa603f48ccc1ca3c57ce7499245ea0046db16c53c7c66fe717e39cf6c748837b61f6ee3adcee17534ed5790bc96880a99ba804bd12c0e6a22cc4',
  },
  {
    key: K0, nonce: N0, pt: '000000000000000000000000000000004db923dc793ee6497c76dcc03a98e108',
    out: 'f3f80f2cf0cb2dd9c5984fcda908456cc537703b5ba70324a6793a7bf218d3eaffffffff000000000000000000000000',
  },
  {
    key: K0, nonce: N0, pt: 'eb3640277c7ffd1303c7a542d02d3e4c0000000000000000',
    out: '18ce4f0b8cb4d0cac65fea8f79257b20888e53e72299e56dffffffff000000000000000000000000',
  },
];

describe.each([
  ['node (OpenSSL AES + WASM POLYVAL)', nodeGcmSiv],
  ['portable (@noble/ciphers)', nobleGcmSiv],
])('AES-256-GCM-SIV %s', (_name, factory) => {
  it.each(RFC8452.map((v, i) => [i, v] as const))('RFC 8452 vector %i', (_i, v) => {
    const aead = factory(v.key);
    expect(toHex(aead.seal(v.nonce, fromHex(v.pt)))).toBe(v.out);
    expect(toHex(aead.open(v.nonce, fromHex(v.out)))).toBe(v.pt);
  });

  it('rejects a flipped bit, a wrong key and a short record with AUTH', () => {
    const key = randomBytes(32), nonce = randomBytes(12), pt = randomBytes(70_000);
    const sealed = factory(key).seal(nonce, pt);
    for (const pos of [0, 1000, 69_999, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[pos]! ^= 0x20;
      expect(() => factory(key).open(nonce, bad)).toThrow(expect.objectContaining({ code: 'AUTH' }));
    }
    expect(() => factory(randomBytes(32)).open(nonce, sealed)).toThrow(expect.objectContaining({ code: 'AUTH' }));
    try {
      factory(key).open(nonce, sealed.subarray(0, 10));
      expect.unreachable();
    } catch (e) {
      expect(isKlosetError(e, 'AUTH')).toBe(true);
    }
  });
});

describe('node AES-256-GCM-SIV against @noble/ciphers', () => {
  it('matches on random keys, nonces and lengths 0..200 KiB', () => {
    // every length up to 600 (both POLYVAL paths, every tail), then random lengths to 200 KiB
    const lengths = [...Array.from({ length: 600 }, (_, i) => i), 65535, 65536, 65537, 204800];
    for (let i = 0; i < 60; i++) lengths.push(Math.floor(Math.random() * 204801));
    for (const len of lengths) {
      const key = randomBytes(32), nonce = randomBytes(12), pt = randomBytes(len);
      const reference = gcmsiv(key, nonce).encrypt(pt);
      const ours = nodeGcmSiv(key).seal(nonce, pt);
      expect(toHex(ours), `length ${len}`).toBe(toHex(reference));
      expect(Buffer.compare(Buffer.from(nodeGcmSiv(key).open(nonce, reference)), pt), `open length ${len}`).toBe(0);
    }
  });
});

describe('POLYVAL', () => {
  it('matches RFC 8452 C.2 (8-byte plaintext)', () => {
    // Record authentication key and POLYVAL result from RFC 8452 C.2, second vector:
    // input = 0100000000000000 padded, then the length block 0000000000000000 4000000000000000.
    const h = fromHex('b5d3c529dfafac43136d2d11be284d7f');
    const out = new Uint8Array(16);
    new Polyval().hashWithLengthBlock(h, fromHex('0100000000000000'), out);
    expect(toHex(out)).toBe('05230f62f0eac8aa14fe4d646b59cd41');
  });

  it('the WASM table kernel agrees with the bit-serial reference', () => {
    const p = new Polyval();
    for (const len of [385, 400, 1000, 4095, 4096, 65536, 65552]) {
      const h = randomBytes(16), data = randomBytes(len);
      const tables = new Uint8Array(16), serial = new Uint8Array(16);
      p.hashWithLengthBlock(h, data, tables);
      polyvalSerial(h, data, serial);
      expect(toHex(tables), `length ${len}`).toBe(toHex(serial));
    }
  });

  it('counter blocks wrap the little-endian 32-bit word mod 2^32', () => {
    const k = new GcmSivKernel();
    const tag = fromHex('feffffff' + '11'.repeat(11) + '22');
    const dst = KERNEL_DATA_OFFSET;
    k.reserve(64);
    k.counters(tag, dst, 3);
    const mem = k.reserve(64);
    expect(toHex(mem.subarray(dst, dst + 48))).toBe(
      'feffffff' + '11'.repeat(11) + 'a2' + 'ffffffff' + '11'.repeat(11) + 'a2' + '00000000' + '11'.repeat(11) + 'a2',
    );
  });
});

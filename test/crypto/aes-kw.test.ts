import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { nobleKeyWrap } from '../../src/kloset/crypto/aes-kw.js';
import { nodeKeyWrap } from '../../src/kloset/crypto/node/aes-kw.js';

// RFC 3394 §4.3, §4.5, §4.6: KEK 256 bits wrapping 128, 192 and 256 bits of key data.
const KEK = fromHex('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
const VECTORS = [
  ['00112233445566778899AABBCCDDEEFF', '64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7'],
  ['00112233445566778899AABBCCDDEEFF0001020304050607', 'A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1'],
  ['00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21'],
];

describe.each([['node (OpenSSL id-aes256-wrap)', nodeKeyWrap], ['portable (@noble/ciphers)', nobleKeyWrap]])('AES-256-KW %s', (_n, kw) => {
  it.each(VECTORS)('RFC 3394 wraps %s', (key, wrapped) => {
    expect(toHex(kw.wrap(KEK, fromHex(key)))).toBe(wrapped.toLowerCase());
    expect(toHex(kw.unwrap(KEK, fromHex(wrapped)))).toBe(key.toLowerCase());
  });

  it('reports an integrity failure as AUTH', () => {
    const wrapped = kw.wrap(KEK, randomBytes(32));
    for (let i = 0; i < wrapped.length; i += 7) {
      const bad = wrapped.slice();
      bad[i]! ^= 1;
      expect(() => kw.unwrap(KEK, bad)).toThrow(expect.objectContaining({ code: 'AUTH' }));
    }
    expect(() => kw.unwrap(randomBytes(32), wrapped)).toThrow(expect.objectContaining({ code: 'AUTH' }));
    expect(() => kw.unwrap(KEK, wrapped.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'AUTH' }));
  });

  it('agrees with the other implementation on random keys', () => {
    for (let i = 0; i < 50; i++) {
      const kek = randomBytes(32), key = randomBytes(32);
      expect(toHex(kw.wrap(kek, key))).toBe(toHex(nobleKeyWrap.wrap(kek, key)));
      expect(toHex(nodeKeyWrap.unwrap(kek, kw.wrap(kek, key)))).toBe(toHex(key));
    }
  });
});

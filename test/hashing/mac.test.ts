import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { parseHashingAlgorithm, wasmMacFactory, type MacFactory } from '../../src/kloset/hashing/mac.js';
import { nativeBlake3Available, nodeMacFactory } from '../../src/kloset/hashing/node/mac.js';

const te = new TextEncoder();
// Official BLAKE3 test_vectors.json: input = bytes i % 251, key "whats the Elvish word for friend".
const input = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const BLAKE3_KEY = te.encode('whats the Elvish word for friend');
const KEYED: [number, string][] = [
  [0, '92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26'],
  [1, '6d7878dfff2f485635d39013278ae14f1454b8c0a3a2d34bc1ab38228a80c95b'],
  [1023, 'c951ecdf03288d0fcc96ee3413563d8a6d3589547f2c2fb36d9786470f1b9d6e'],
  [1024, '75c46f6f3d9eb4f55ecaaee480db732e6c2105546f1e675003687c31719c7ba4'],
  [1025, '357dc55de0c7e382c900fd6e320acc04146be01db6a8ce7210b7189bd664ea69'],
  [2048, '879cf1fa2ea0e79126cb1063617a05b6ad9d0b696d0d757cf053439f60a99dd1'],
  [2049, '9f29700902f7c86e514ddc4df1e3049f258b2472b6dd5267f61bf13983b78dd5'],
  [3072, '044a0e7b172a312dc02a4c9a818c036ffa2776368d7f528268d2e6b5df191770'],
  [4096, 'befc660aea2f1718884cd8deb9902811d332f4fc4a38cf7c7300d597a081bfc0'],
  [5121, '6ccf1c34753e7a044db80798ecd0782a8f76f33563accaddbfbb2e0ea4b2d024'],
  [7169, 'ed9b1a922c046fdb3d423ae34e143b05ca1bf28b710432857bf738bcedbfa511'],
];
const UNKEYED: [number, string][] = [
  [0, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
  [1, '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213'],
  [1024, '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7'],
];

describe.each([['wasm', wasmMacFactory], ['node', nodeMacFactory]] as [string, MacFactory][])('MACs (%s factory)', (_n, factory) => {
  it.each(KEYED)('keyed BLAKE3-256, official vector len %i', async (n, hex) => {
    const mac = await factory('BLAKE3', BLAKE3_KEY);
    expect(toHex(mac.sum(input(n)))).toBe(hex);
    const s = await mac.stream();
    const data = input(n);
    s.update(data.subarray(0, n >> 1)).update(data.subarray(n >> 1));
    expect(toHex(s.digest())).toBe(hex);
  });

  it.each(UNKEYED)('unkeyed BLAKE3-256 (plaintext CONFIG), official vector len %i', async (n, hex) => {
    expect(toHex((await factory('BLAKE3', null)).sum(input(n)))).toBe(hex);
  });

  it('HMAC-SHA256: RFC 4231 test cases 1 and 2', async () => {
    const m1 = await factory('SHA256', new Uint8Array(20).fill(0x0b));
    expect(toHex(m1.sum(te.encode('Hi There')))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    const m2 = await factory('SHA256', te.encode('Jefe'));
    expect(toHex(m2.sum(te.encode('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(toHex((await factory('SHA256', null)).sum(te.encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('interleaved streams stay independent', async () => {
    const mac = await factory('BLAKE3', BLAKE3_KEY);
    const a = await mac.stream(), b = await mac.stream();
    a.update(input(1000)); b.update(input(1)); a.update(input(25));
    expect(toHex(b.digest())).toBe(toHex(mac.sum(input(1))));
    const whole = new Uint8Array(1025); whole.set(input(1000)); whole.set(input(25), 1000);
    expect(toHex(a.digest())).toBe(toHex(mac.sum(whole)));
  });
});

it('native BLAKE3 is loaded on this platform and agrees with hash-wasm on large inputs, keyed and unkeyed', async () => {
  expect(nativeBlake3Available()).toBe(true);
  const { randomBytes } = await import('node:crypto');
  for (const key of [BLAKE3_KEY, null]) {
    const n = await nodeMacFactory('BLAKE3', key), w = await wasmMacFactory('BLAKE3', key);
    for (const size of [4095, 4096, 65537, (1 << 20) + 3]) {
      const data = randomBytes(size);
      expect(toHex(n.sum(data))).toBe(toHex(w.sum(data)));
      const s = await n.stream();
      s.update(data.subarray(0, 1000)).update(data.subarray(1000));
      expect(toHex(s.digest())).toBe(toHex(w.sum(data)));
    }
  }
});

it('hashing algorithm names', () => {
  expect(parseHashingAlgorithm('blake3')).toBe('BLAKE3');
  expect(parseHashingAlgorithm('SHA256')).toBe('SHA256');
  expect(() => parseHashingAlgorithm('MD5')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
});

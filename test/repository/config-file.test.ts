import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { deriveKey } from '../../src/kloset/crypto/kdf.js';
import { encodeStruct } from '../../src/kloset/encoding/schema.js';
import { nodePrimitives } from '../../src/kloset/node/primitives.js';
import { BlobCodec } from '../../src/kloset/repository/blob-codec.js';
import { configurationSchema } from '../../src/kloset/repository/config.js';
import { CONFIG_VERSION, createConfiguration, encodeConfigFile, openConfigFile, peekConfigFile } from '../../src/kloset/repository/config-file.js';
import type { Primitives } from '../../src/kloset/repository/primitives.js';
import { ResourceType, unwrap, version, wrap } from '../../src/kloset/repository/wrapper.js';

const te = new TextEncoder();
// Cheap KDF for tests that are not about the KDF (restic's TestUseLowSecurityKDFParameters habit).
const cheap = { kdf: 'ARGON2ID', argon2id: { saltSize: 16, time: 1, memory: 64, threads: 1, keyLen: 32 }, scrypt: null, pbkdf2: null };
const prims: Primitives = { ...nodePrimitives, deriveKey, now: () => Date.UTC(2026, 10, 22, 12, 0, 0) };

describe('storage wrapper', () => {
  it('lays out magic, type, version, payload and a MAC over all of it', async () => {
    const mac = await prims.macs('BLAKE3', new Uint8Array(32).fill(7));
    const bytes = wrap(ResourceType.STATE, version(1, 1, 0), te.encode('payload'), mac);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('_KLOSET_');
    expect(toHex(bytes.subarray(8, 16))).toBe('03000000' + '00010100');
    expect(toHex(bytes.subarray(bytes.length - 32))).toBe(toHex(mac.sum(bytes.subarray(0, bytes.length - 32))));
    expect(unwrap(bytes, ResourceType.STATE, mac)).toMatchObject({ version: 0x00010100 });
  });

  it('accepts the legacy _PLAKAR_ magic; refuses another type, a bad MAC and short input', async () => {
    const mac = await prims.macs('SHA256', new Uint8Array(32).fill(1));
    const bytes = wrap(ResourceType.LOCK, CONFIG_VERSION, te.encode('x'), mac);
    const legacy = bytes.slice();
    legacy.set(te.encode('_PLAKAR_'), 0);
    legacy.set(mac.sum(legacy.subarray(0, legacy.length - 32)), legacy.length - 32);
    expect(new TextDecoder().decode(unwrap(legacy, ResourceType.LOCK, mac).payload)).toBe('x');
    expect(() => unwrap(bytes, ResourceType.STATE, mac)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => unwrap(bytes, ResourceType.LOCK, null)).not.toThrow();
    const other = await prims.macs('SHA256', new Uint8Array(32).fill(2));
    expect(() => unwrap(bytes, ResourceType.LOCK, other)).toThrow(expect.objectContaining({ code: 'INTEGRITY' }));
    expect(() => unwrap(bytes.subarray(0, 47), ResourceType.LOCK, mac)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

describe('CONFIG', () => {
  it('encrypted: KDF parameters are readable before the key, the right passphrase opens it', async () => {
    const pass = te.encode('correct horse');
    const { config, key } = await createConfiguration(prims, pass, { kdf: cheap });
    const bytes = await encodeConfigFile(prims, config, key);
    const peeked = peekConfigFile(bytes);
    expect(peeked.encryption?.kdfParams.kdf).toBe('ARGON2ID');
    expect(peeked.encryption?.kdfParams.salt.length).toBe(16);
    expect(peeked.encryption?.canary.length).toBe(100);
    expect(peeked.chunking).toEqual({ algorithm: 'fastcdc-v1.0.0', minSize: 524288, normalSize: 1048576, maxSize: 8388608 });
    expect(peeked.hashing).toEqual({ algorithm: 'BLAKE3', bits: 256 });
    expect(peeked.compression?.algorithm).toBe('LZ4');
    expect(peeked.packfile.maxSize).toBe(64n << 20n);
    expect(peeked.repositoryId[6]! >> 4).toBe(4); // UUID v4
    const opened = await openConfigFile(prims, bytes, pass);
    expect(toHex(opened.key!)).toBe(toHex(key!));
  });

  it('a wrong passphrase is AUTH and says so', async () => {
    const { config, key } = await createConfiguration(prims, te.encode('right'), { kdf: cheap });
    const bytes = await encodeConfigFile(prims, config, key);
    await expect(openConfigFile(prims, bytes, te.encode('wrong'))).rejects.toMatchObject({ code: 'AUTH', message: expect.stringMatching(/wrong passphrase/) });
    await expect(openConfigFile(prims, bytes, null)).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/passphrase is required/) });
  });

  it('an altered CONFIG (re-wrapped without the key) is INTEGRITY even with the right passphrase', async () => {
    const pass = te.encode('pw');
    const { config, key } = await createConfiguration(prims, pass, { kdf: cheap });
    const tampered = { ...config, packfile: { ...config.packfile, maxSize: 1n } };
    const forged = wrap(ResourceType.CONFIG, CONFIG_VERSION, encodeStruct(configurationSchema, tampered), await prims.macs('BLAKE3', null));
    await expect(openConfigFile(prims, forged, pass)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(toHex((await openConfigFile(prims, await encodeConfigFile(prims, config, key), pass)).key!)).toBe(toHex(key!));
  });

  it('plaintext: unkeyed BLAKE3 trailer, no key; options for compression and hashing', async () => {
    const { config, key } = await createConfiguration(prims, null, { plaintext: true, noCompression: true, hashing: 'SHA256' });
    expect(key).toBeNull();
    const bytes = await encodeConfigFile(prims, config, null);
    expect(toHex(bytes.subarray(bytes.length - 32))).toBe(toHex((await prims.macs('BLAKE3', null)).sum(bytes.subarray(0, bytes.length - 32))));
    const opened = await openConfigFile(prims, bytes, null);
    expect(opened.key).toBeNull();
    expect(opened.config.compression).toBeNull();
    expect(opened.config.encryption).toBeNull();
    expect(opened.config.hashing.algorithm).toBe('SHA256');
  });

  it('refuses a newer CONFIG version and an unknown hashing algorithm', async () => {
    const { config } = await createConfiguration(prims, null, { plaintext: true });
    const mac = await prims.macs('BLAKE3', null);
    const newer = wrap(ResourceType.CONFIG, version(2, 0, 0), encodeStruct(configurationSchema, config), mac);
    expect(() => peekConfigFile(newer)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    const md5 = wrap(ResourceType.CONFIG, CONFIG_VERSION, encodeStruct(configurationSchema, { ...config, hashing: { algorithm: 'MD5', bits: 128 } }), mac);
    expect(() => peekConfigFile(md5)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('uses the injected clock and randomness', async () => {
    let n = 0;
    const fixed: Primitives = { ...prims, random: (len) => Uint8Array.from({ length: len }, () => n++ & 0xff) };
    const { config } = await createConfiguration(fixed, null, { plaintext: true });
    expect(config.timestamp).toEqual({ sec: Date.UTC(2026, 10, 22, 12, 0, 0) / 1000, nsec: 0 });
    // bytes 0..15 with the UUID v4 version (byte 6) and variant (byte 8) bits set
    expect(toHex(config.repositoryId)).toBe('000102030405460788090a0b0c0d0e0f');
  });
});

describe('blob codec (encode = encrypt(compress(x)))', () => {
  it.each([
    ['encrypted + LZ4', {}],
    ['encrypted + ZSTD', { compression: 'ZSTD' as const }],
    ['encrypted, no compression', { noCompression: true }],
    ['plaintext + LZ4', { plaintext: true }],
  ])('%s round-trips and verifies the address', async (_name, options) => {
    const { config, key } = await createConfiguration(prims, te.encode('pw'), { kdf: cheap, ...options });
    const codec = new BlobCodec(prims, config, key);
    const mac = await prims.macs('BLAKE3', key ?? new Uint8Array(32));
    for (const data of [new Uint8Array(0), te.encode('hello '.repeat(50_000)), crypto.getRandomValues(new Uint8Array(65536))]) {
      const enc = codec.encode(data);
      expect(toHex(codec.decodeVerified(enc, data.length, mac, mac.sum(data)))).toBe(toHex(data));
      expect(() => codec.decodeVerified(enc, data.length, mac, new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'INTEGRITY' }));
    }
  });
});

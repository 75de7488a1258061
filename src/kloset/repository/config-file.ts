/**
 * Reading, opening and creating CONFIG (spec §2): the wrapped, never-encrypted msgpack
 * Configuration. Its MAC is always BLAKE3 — keyed with the master key for encrypted stores,
 * unkeyed for plaintext ones — whatever `Hashing` says.
 *
 * Opening an encrypted store: parse CONFIG without the MAC to learn the KDF parameters, derive
 * the key, check the canary (a wrong passphrase is AUTH, said right after the KDF), then verify
 * the MAC with that key (INTEGRITY if CONFIG was altered).
 */
import { corrupt, integrity, isKlosetError } from '../base/errors.js';
import { makeCanary, verifyCanary } from '../crypto/canary.js';
import { DEFAULT_ARGON2ID, type KdfParams } from '../crypto/kdf-params.js';
import { goTimeFromDate } from '../encoding/go-time.js';
import { decodeStruct, encodeStruct } from '../encoding/schema.js';
import { parseHashingAlgorithm, type HashingAlgorithm } from '../hashing/mac.js';
import { configurationSchema, type Configuration } from './config.js';
import type { Primitives } from './primitives.js';
import { checkVersion, ResourceType, unwrap, version, wrap } from './wrapper.js';

export const CONFIG_VERSION = version(1, 0, 0);
/** Larger CONFIGs are refused before parsing (a real one is well under 1 KiB; ptar caps at 32 KiB). */
export const MAX_CONFIG_SIZE = 32 * 1024;

export interface CreateOptions {
  /** no encryption (plakar `-plaintext`) */
  plaintext?: boolean;
  /** no compression (plakar `-no-compression`) */
  noCompression?: boolean;
  compression?: 'LZ4' | 'ZSTD';
  hashing?: HashingAlgorithm;
  /** KDF parameters; defaults to plakar's Argon2id t=4, m=256 MiB, p=1 */
  kdf?: Omit<KdfParams, 'salt'>;
  /** packfile MaxSize; defaults to 64 MiB as kloset v1.1 */
  packfileMaxSize?: bigint;
}

/** Builds a new store's Configuration and master key (null for plaintext stores). */
export async function createConfiguration(
  prims: Primitives,
  passphrase: Uint8Array | null,
  options: CreateOptions = {},
): Promise<{ config: Configuration; key: Uint8Array | null }> {
  const repositoryId = prims.random(16);
  repositoryId[6] = (repositoryId[6]! & 0x0f) | 0x40; // UUID v4
  repositoryId[8] = (repositoryId[8]! & 0x3f) | 0x80;
  const config: Configuration = {
    timestamp: goTimeFromDate(new Date(prims.now())),
    repositoryId,
    packfile: { minSize: 0n, avgSize: 0n, maxSize: options.packfileMaxSize ?? 64n << 20n },
    chunking: { algorithm: 'fastcdc-v1.0.0', minSize: 512 << 10, normalSize: 1 << 20, maxSize: 8 << 20 },
    hashing: { algorithm: options.hashing ?? 'BLAKE3', bits: 256 },
    compression: options.noCompression
      ? null
      : options.compression === 'ZSTD'
        ? { algorithm: 'ZSTD', level: 3, windowSize: -1, chunkSize: -1, blockSize: -1, enableCRC: false }
        : { algorithm: 'LZ4', level: 131072, windowSize: -1, chunkSize: -1, blockSize: -1, enableCRC: false },
    encryption: null,
  };
  if (options.plaintext) return { config, key: null };
  if (!passphrase || passphrase.length === 0) throw corrupt('an encrypted store needs a passphrase');
  const kdf = options.kdf ?? { kdf: 'ARGON2ID', argon2id: DEFAULT_ARGON2ID, scrypt: null, pbkdf2: null };
  const saltSize = kdf.argon2id?.saltSize ?? kdf.scrypt?.saltSize ?? kdf.pbkdf2?.saltSize ?? 16;
  const kdfParams: KdfParams = { ...kdf, salt: prims.random(saltSize) };
  const key = await prims.deriveKey(kdfParams, passphrase);
  config.encryption = {
    subKeyAlgorithm: 'AES256-KW',
    dataAlgorithm: 'AES256-GCM-SIV',
    chunkSize: 65536,
    kdfParams,
    canary: makeCanary(prims.cipher, key),
  };
  return { config, key };
}

/** Serializes and wraps CONFIG with its MAC. */
export async function encodeConfigFile(prims: Primitives, config: Configuration, key: Uint8Array | null): Promise<Uint8Array> {
  const mac = await prims.macs('BLAKE3', config.encryption ? key : null);
  return wrap(ResourceType.CONFIG, CONFIG_VERSION, encodeStruct(configurationSchema, config), mac);
}

/** Parses CONFIG without verifying its MAC: for the KDF parameters and `info` before unlock. */
export function peekConfigFile(bytes: Uint8Array): Configuration {
  if (bytes.length > MAX_CONFIG_SIZE) throw corrupt(`CONFIG of ${bytes.length} bytes is too large`);
  const { version: v, payload } = unwrap(bytes, ResourceType.CONFIG, null);
  checkVersion(v, CONFIG_VERSION, 'CONFIG');
  const config = decodeStruct(configurationSchema, payload);
  parseHashingAlgorithm(config.hashing.algorithm);
  const enc = config.encryption;
  if (enc) {
    if (enc.dataAlgorithm !== 'AES256-GCM-SIV') throw corrupt(`unsupported data algorithm ${enc.dataAlgorithm}`);
    if (enc.subKeyAlgorithm !== 'AES256-KW') throw corrupt(`unsupported subkey algorithm ${enc.subKeyAlgorithm}`);
  }
  return config;
}

export interface OpenedConfig {
  config: Configuration;
  /** master key; null for plaintext stores */
  key: Uint8Array | null;
}

/**
 * Opens CONFIG: derives and checks the key for encrypted stores (AUTH on a wrong passphrase),
 * then verifies the MAC (INTEGRITY when CONFIG was altered).
 */
export async function openConfigFile(prims: Primitives, bytes: Uint8Array, passphrase: Uint8Array | null): Promise<OpenedConfig> {
  const config = peekConfigFile(bytes);
  let key: Uint8Array | null = null;
  if (config.encryption) {
    if (!passphrase) throw corrupt('this store is encrypted: a passphrase is required');
    // The MAC code loads while the key derives (its modules load on first use, ~60 ms), not
    // after: the key derivation is on the critical path of every command.
    const macsLoaded = prims.macs('BLAKE3', null).catch(() => undefined);
    key = await prims.deriveKey(config.encryption.kdfParams, passphrase);
    await macsLoaded;
    verifyCanary(prims.cipher, key, config.encryption.canary);
  }
  try {
    unwrap(bytes, ResourceType.CONFIG, await prims.macs('BLAKE3', key));
  } catch (e) {
    if (isKlosetError(e, 'INTEGRITY')) throw integrity('CONFIG failed its MAC check: it was altered or belongs to another store');
    throw e;
  }
  return { config, key };
}

/**
 * CONFIG: the store's one unencrypted, MAC-protected description (spec §2.2). It names the
 * chunking, hashing, compression and encryption the store uses, the KDF parameters and the
 * canary that checks a passphrase. Keys are Go field names (no msgpack tags on these structs).
 */
import type { KdfParams } from '../crypto/kdf-params.js';
import { defineSchema, type Schema } from '../encoding/schema.js';
import type { GoTime } from '../encoding/go-time.js';

export interface PackfileConfig { minSize: bigint; avgSize: bigint; maxSize: bigint }
export interface ChunkingConfig { algorithm: string; minSize: number; normalSize: number; maxSize: number }
export interface HashingConfig { algorithm: string; bits: number }
export interface CompressionConfig {
  algorithm: string;
  level: number;
  windowSize: number;
  chunkSize: number;
  blockSize: number;
  enableCRC: boolean;
}
export interface EncryptionConfig {
  subKeyAlgorithm: string;
  dataAlgorithm: string;
  chunkSize: number;
  kdfParams: KdfParams;
  canary: Uint8Array;
}
export interface Configuration {
  timestamp: GoTime;
  repositoryId: Uint8Array;
  packfile: PackfileConfig;
  chunking: ChunkingConfig;
  hashing: HashingConfig;
  compression: CompressionConfig | null;
  encryption: EncryptionConfig | null;
}

const argon2idSchema = defineSchema('Argon2idParams', [
  { key: 'SaltSize', prop: 'saltSize', type: 'u32' },
  { key: 'Time', prop: 'time', type: 'u32' },
  { key: 'Memory', prop: 'memory', type: 'u32' },
  { key: 'Threads', prop: 'threads', type: 'u8' },
  { key: 'KeyLen', prop: 'keyLen', type: 'u32' },
]);
const scryptSchema = defineSchema('ScryptParams', [
  { key: 'SaltSize', prop: 'saltSize', type: 'u32' },
  { key: 'N', prop: 'n', type: 'int' },
  { key: 'R', prop: 'r', type: 'int' },
  { key: 'P', prop: 'p', type: 'int' },
  { key: 'KeyLen', prop: 'keyLen', type: 'int' },
]);
const pbkdf2Schema = defineSchema('PBKDF2Params', [
  { key: 'SaltSize', prop: 'saltSize', type: 'u32' },
  { key: 'Iterations', prop: 'iterations', type: 'int' },
  { key: 'KeyLen', prop: 'keyLen', type: 'int' },
  { key: 'Hashing', prop: 'hashing', type: 'str' },
]);
export const kdfParamsSchema: Schema<KdfParams> = defineSchema('KDFParams', [
  { key: 'KDF', prop: 'kdf', type: 'str' },
  { key: 'Salt', prop: 'salt', type: 'bin', nilIfEmpty: true },
  { key: 'argon2id', prop: 'argon2id', type: { nullable: { struct: argon2idSchema } }, omitempty: true },
  { key: 'scrypt', prop: 'scrypt', type: { nullable: { struct: scryptSchema } }, omitempty: true },
  { key: 'pbkdf2', prop: 'pbkdf2', type: { nullable: { struct: pbkdf2Schema } }, omitempty: true },
]);
export const encryptionConfigSchema: Schema<EncryptionConfig> = defineSchema('encryption.Configuration', [
  { key: 'SubKeyAlgorithm', prop: 'subKeyAlgorithm', type: 'str' },
  { key: 'DataAlgorithm', prop: 'dataAlgorithm', type: 'str' },
  { key: 'ChunkSize', prop: 'chunkSize', type: 'int' },
  { key: 'KDFParams', prop: 'kdfParams', type: { struct: kdfParamsSchema } },
  { key: 'Canary', prop: 'canary', type: 'bin', nilIfEmpty: true },
]);
const packfileSchema = defineSchema('packfile.Configuration', [
  { key: 'MinSize', prop: 'minSize', type: 'u64' },
  { key: 'AvgSize', prop: 'avgSize', type: 'u64' },
  { key: 'MaxSize', prop: 'maxSize', type: 'u64' },
]);
const chunkingSchema = defineSchema('chunking.Configuration', [
  { key: 'Algorithm', prop: 'algorithm', type: 'str' },
  { key: 'MinSize', prop: 'minSize', type: 'u32' },
  { key: 'NormalSize', prop: 'normalSize', type: 'u32' },
  { key: 'MaxSize', prop: 'maxSize', type: 'u32' },
]);
const hashingSchema = defineSchema('hashing.Configuration', [
  { key: 'Algorithm', prop: 'algorithm', type: 'str' },
  { key: 'Bits', prop: 'bits', type: 'u32' },
]);
const compressionSchema = defineSchema('compression.Configuration', [
  { key: 'Algorithm', prop: 'algorithm', type: 'str' },
  { key: 'Level', prop: 'level', type: 'int' },
  { key: 'WindowSize', prop: 'windowSize', type: 'int' },
  { key: 'ChunkSize', prop: 'chunkSize', type: 'int' },
  { key: 'BlockSize', prop: 'blockSize', type: 'int' },
  { key: 'EnableCRC', prop: 'enableCRC', type: 'bool' },
]);
export const configurationSchema: Schema<Configuration> = defineSchema('storage.Configuration', [
  { key: 'Timestamp', prop: 'timestamp', type: 'time' },
  { key: 'RepositoryID', prop: 'repositoryId', type: 'uuid' },
  { key: 'Packfile', prop: 'packfile', type: { struct: packfileSchema } },
  { key: 'Chunking', prop: 'chunking', type: { struct: chunkingSchema } },
  { key: 'Hashing', prop: 'hashing', type: { struct: hashingSchema } },
  { key: 'Compression', prop: 'compression', type: { nullable: { struct: compressionSchema } } },
  { key: 'Encryption', prop: 'encryption', type: { nullable: { struct: encryptionConfigSchema } } },
]);

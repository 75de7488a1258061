/**
 * Golden bytes for the Kloset structs, hand-derived from vmihailenco/msgpack v5.4.1's rules
 * (spec §2.4) and the Go struct definitions (spec §2.2, §8, §9.1, §9.3, §9.4, §9.6):
 *  - struct → map, keys in declaration order (msgpack tag, else Go field name), fixstr keys;
 *  - sized ints full width (u8 cc, u16 cd, u32 ce, u64 cf, i64 d3), Go `int` compact;
 *  - [32]byte → c4 20 …, uuid → c4 10 …, nil slice / nil pointer → c0, empty slice → 90;
 *  - omitempty drops 0 / "" / false / empty slices / nil pointers, never a [N]byte, and a nested
 *    struct only when every one of its fields is omitempty and empty.
 * Every expected byte string below is written out by hand, one field per line; none of it is
 * produced by the encoder under test. Each case also decodes the golden bytes back and checks
 * that re-encoding the decoded value reproduces them exactly.
 */
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, type Schema } from '../../src/kloset/encoding/schema.js';
import { fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { configurationSchema, type Configuration } from '../../src/kloset/repository/config.js';
import { headerSchema, type Header } from '../../src/kloset/snapshot/header.js';
import { entrySchema, type Entry } from '../../src/kloset/snapshot/vfs/entry.js';
import type { FileInfo } from '../../src/kloset/snapshot/vfs/file-info.js';
import {
  belowSummarySchema,
  directorySummarySchema,
  type BelowSummary,
  type DirectorySummary,
} from '../../src/kloset/snapshot/vfs/summary.js';
import { objectSchema, type KObject } from '../../src/kloset/snapshot/object.js';
import {
  btreeDescriptorSchema,
  btreeNodeSchema,
  type BTreeDescriptor,
  type BTreeNode,
} from '../../src/kloset/snapshot/btree/node.js';

// ------------------------------------------------------------------ helpers

/** Annotated hex lines → compact lowercase hex. */
const hx = (...lines: string[]): string => lines.join(' ').replace(/\s+/g, '').toLowerCase();
/** `n` copies of one byte, as hex. */
const rep = (byteHex: string, n: number): string => `${byteHex} `.repeat(n);
/** The bytes 00 01 02 … (n−1), as hex. */
const seqHex = (n: number, start = 0): string =>
  Array.from({ length: n }, (_, i) => ((start + i) & 0xff).toString(16).padStart(2, '0')).join(' ');
const seqBytes = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const filled = (byte: number, n = 32): Uint8Array => new Uint8Array(n).fill(byte);

/** An all-zero summary block, as the decoder returns for an omitted one (u64/i64 → 0n, f64 → 0). */
function zeroOf<V>(schema: Schema<V>): V {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) out[f.prop] = f.type === 'f64' ? 0 : 0n;
  return out as V;
}

/**
 * The three checks of every golden case: exact bytes; decode(bytes) equals the expected value;
 * encode(decode(bytes)) gives the same bytes again.
 */
function checkGolden<V>(schema: Schema<V>, value: V, expectedHex: string, decoded: unknown = value): void {
  expect(toHex(encodeStruct(schema, value))).toBe(expectedHex);
  const back = decodeStruct(schema, fromHex(expectedHex));
  expect(back).toEqual(decoded);
  expect(toHex(encodeStruct(schema, back))).toBe(expectedHex);
}

// ------------------------------------------------------------------ (a) CONFIG

describe('golden: storage.Configuration (spec §2.2)', () => {
  const repositoryId = fromHex('00112233445566778899aabbccddeeff');
  const salt = seqBytes(16, 0xa0); // a0 a1 … af
  const canary = seqBytes(100); // 00 01 … 63

  it('plakar default: encrypted (AES256-KW / AES256-GCM-SIV, Argon2id), LZ4, BLAKE3', () => {
    const cfg: Configuration = {
      timestamp: { sec: 1700000000, nsec: 123456789 },
      repositoryId,
      packfile: { minSize: 0n, avgSize: 0n, maxSize: 64n << 20n },
      chunking: { algorithm: 'fastcdc-v1.0.0', minSize: 524288, normalSize: 1048576, maxSize: 8388608 },
      hashing: { algorithm: 'BLAKE3', bits: 256 },
      compression: { algorithm: 'LZ4', level: 131072, windowSize: -1, chunkSize: -1, blockSize: -1, enableCRC: false },
      encryption: {
        subKeyAlgorithm: 'AES256-KW',
        dataAlgorithm: 'AES256-GCM-SIV',
        chunkSize: 65536,
        kdfParams: {
          kdf: 'ARGON2ID',
          salt,
          argon2id: { saltSize: 16, time: 4, memory: 262144, threads: 1, keyLen: 32 },
          scrypt: null,
          pbkdf2: null,
        },
        canary,
      },
    };
    const expected = hx(
      '87', //                                          map, 7 fields (Version is msgpack:"-")
      'a9 54 69 6d 65 73 74 61 6d 70', //               "Timestamp"
      'd7 ff 1d 6f 34 54 65 53 f1 00', //               ext −1 fixext8: 123456789<<34 | 1700000000
      'ac 52 65 70 6f 73 69 74 6f 72 79 49 44', //      "RepositoryID"
      'c4 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff', // uuid → bin 16
      'a8 50 61 63 6b 66 69 6c 65', //                  "Packfile"
      '83', //                                          map, 3 fields
      'a7 4d 69 6e 53 69 7a 65', //                     "MinSize"
      'cf 00 00 00 00 00 00 00 00', //                  uint64 0
      'a7 41 76 67 53 69 7a 65', //                     "AvgSize"
      'cf 00 00 00 00 00 00 00 00', //                  uint64 0
      'a7 4d 61 78 53 69 7a 65', //                     "MaxSize"
      'cf 00 00 00 00 04 00 00 00', //                  uint64 64<<20
      'a8 43 68 75 6e 6b 69 6e 67', //                  "Chunking"
      '84', //                                          map, 4 fields
      'a9 41 6c 67 6f 72 69 74 68 6d', //               "Algorithm"
      'ae 66 61 73 74 63 64 63 2d 76 31 2e 30 2e 30', // "fastcdc-v1.0.0"
      'a7 4d 69 6e 53 69 7a 65', //                     "MinSize"
      'ce 00 08 00 00', //                              uint32 524288
      'aa 4e 6f 72 6d 61 6c 53 69 7a 65', //            "NormalSize"
      'ce 00 10 00 00', //                              uint32 1048576
      'a7 4d 61 78 53 69 7a 65', //                     "MaxSize"
      'ce 00 80 00 00', //                              uint32 8388608
      'a7 48 61 73 68 69 6e 67', //                     "Hashing"
      '82', //                                          map, 2 fields
      'a9 41 6c 67 6f 72 69 74 68 6d', //               "Algorithm"
      'a6 42 4c 41 4b 45 33', //                        "BLAKE3"
      'a4 42 69 74 73', //                              "Bits"
      'ce 00 00 01 00', //                              uint32 256
      'ab 43 6f 6d 70 72 65 73 73 69 6f 6e', //         "Compression"
      '86', //                                          map, 6 fields (non-nil pointer)
      'a9 41 6c 67 6f 72 69 74 68 6d', //               "Algorithm"
      'a3 4c 5a 34', //                                 "LZ4"
      'a5 4c 65 76 65 6c', //                           "Level"
      'ce 00 02 00 00', //                              int 131072 (lz4.Level9) → compact uint32
      'aa 57 69 6e 64 6f 77 53 69 7a 65', //            "WindowSize"
      'ff', //                                          int −1 → negative fixint
      'a9 43 68 75 6e 6b 53 69 7a 65', //               "ChunkSize"
      'ff', //                                          int −1
      'a9 42 6c 6f 63 6b 53 69 7a 65', //               "BlockSize"
      'ff', //                                          int −1
      'a9 45 6e 61 62 6c 65 43 52 43', //               "EnableCRC"
      'c2', //                                          false
      'aa 45 6e 63 72 79 70 74 69 6f 6e', //            "Encryption"
      '85', //                                          map, 5 fields
      'af 53 75 62 4b 65 79 41 6c 67 6f 72 69 74 68 6d', // "SubKeyAlgorithm"
      'a9 41 45 53 32 35 36 2d 4b 57', //               "AES256-KW"
      'ad 44 61 74 61 41 6c 67 6f 72 69 74 68 6d', //   "DataAlgorithm"
      'ae 41 45 53 32 35 36 2d 47 43 4d 2d 53 49 56', // "AES256-GCM-SIV"
      'a9 43 68 75 6e 6b 53 69 7a 65', //               "ChunkSize"
      'ce 00 01 00 00', //                              int 65536 → compact uint32
      'a9 4b 44 46 50 61 72 61 6d 73', //               "KDFParams"
      '83', //                                          map, 3 fields (scrypt, pbkdf2 nil → omitted)
      'a3 4b 44 46', //                                 "KDF"
      'a8 41 52 47 4f 4e 32 49 44', //                  "ARGON2ID"
      'a4 53 61 6c 74', //                              "Salt"
      'c4 10', seqHex(16, 0xa0), //                     bin 16: a0 … af
      'a8 61 72 67 6f 6e 32 69 64', //                  "argon2id"
      '85', //                                          map, 5 fields
      'a8 53 61 6c 74 53 69 7a 65', //                  "SaltSize"
      'ce 00 00 00 10', //                              uint32 16
      'a4 54 69 6d 65', //                              "Time"
      'ce 00 00 00 04', //                              uint32 4
      'a6 4d 65 6d 6f 72 79', //                        "Memory"
      'ce 00 04 00 00', //                              uint32 262144
      'a7 54 68 72 65 61 64 73', //                     "Threads"
      'cc 01', //                                       uint8 1
      'a6 4b 65 79 4c 65 6e', //                        "KeyLen"
      'ce 00 00 00 20', //                              uint32 32
      'a6 43 61 6e 61 72 79', //                        "Canary"
      'c4 64', seqHex(100), //                          bin 100: 00 … 63
    );
    checkGolden(configurationSchema, cfg, expected);
  });

  it('plaintext + no compression (v1.0 chunking): Compression and Encryption nil → c0', () => {
    const cfg: Configuration = {
      timestamp: { sec: 1700000000, nsec: 0 },
      repositoryId,
      packfile: { minSize: 0n, avgSize: 0n, maxSize: 20n << 20n },
      chunking: { algorithm: 'FASTCDC', minSize: 65536, normalSize: 1048576, maxSize: 4194304 },
      hashing: { algorithm: 'SHA256', bits: 256 },
      compression: null,
      encryption: null,
    };
    const expected = hx(
      '87', //                                          map, 7 fields: nil pointers are not omitempty
      'a9 54 69 6d 65 73 74 61 6d 70', //               "Timestamp"
      'd6 ff 65 53 f1 00', //                           ext −1 fixext4: 1700000000, nsec 0
      'ac 52 65 70 6f 73 69 74 6f 72 79 49 44', //      "RepositoryID"
      'c4 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff', // uuid
      'a8 50 61 63 6b 66 69 6c 65', //                  "Packfile"
      '83', //                                          map, 3
      'a7 4d 69 6e 53 69 7a 65', //                     "MinSize"
      'cf 00 00 00 00 00 00 00 00', //                  0
      'a7 41 76 67 53 69 7a 65', //                     "AvgSize"
      'cf 00 00 00 00 00 00 00 00', //                  0
      'a7 4d 61 78 53 69 7a 65', //                     "MaxSize"
      'cf 00 00 00 00 01 40 00 00', //                  20<<20
      'a8 43 68 75 6e 6b 69 6e 67', //                  "Chunking"
      '84', //                                          map, 4
      'a9 41 6c 67 6f 72 69 74 68 6d', //               "Algorithm"
      'a7 46 41 53 54 43 44 43', //                     "FASTCDC"
      'a7 4d 69 6e 53 69 7a 65', //                     "MinSize"
      'ce 00 01 00 00', //                              65536
      'aa 4e 6f 72 6d 61 6c 53 69 7a 65', //            "NormalSize"
      'ce 00 10 00 00', //                              1048576
      'a7 4d 61 78 53 69 7a 65', //                     "MaxSize"
      'ce 00 40 00 00', //                              4194304
      'a7 48 61 73 68 69 6e 67', //                     "Hashing"
      '82', //                                          map, 2
      'a9 41 6c 67 6f 72 69 74 68 6d', //               "Algorithm"
      'a6 53 48 41 32 35 36', //                        "SHA256"
      'a4 42 69 74 73', //                              "Bits"
      'ce 00 00 01 00', //                              256
      'ab 43 6f 6d 70 72 65 73 73 69 6f 6e', //         "Compression"
      'c0', //                                          nil (-no-compression)
      'aa 45 6e 63 72 79 70 74 69 6f 6e', //            "Encryption"
      'c0', //                                          nil (-plaintext)
    );
    checkGolden(configurationSchema, cfg, expected);
  });
});

// ------------------------------------------------------------------ (b) snapshot header

describe('golden: header.Header (spec §8)', () => {
  const zeroDirectory = zeroOf<DirectorySummary>(directorySummarySchema);
  const zeroBelow = zeroOf<BelowSummary>(belowSummarySchema);

  it('one source; all-zero `directory` omitted, `below` = {errors: 0}; nil public_key and data_classes', () => {
    const header: Header = {
      version: 0x00010000,
      identifier: filled(0xab),
      timestamp: { sec: 1700000000, nsec: 500 },
      duration: 2_000_000_000n,
      identity: { identifier: new Uint8Array(16), publicKey: new Uint8Array(0) },
      name: 'backup',
      category: '',
      environment: '',
      perimeter: '',
      job: '',
      replicas: 1,
      dataset: '',
      dataClasses: [],
      classifications: [{ analyzer: 'mime', classes: [{ name: 'text', probability: 0.5 }] }],
      tags: ['a'],
      context: [{ key: 'Hostname', value: 'host' }],
      sources: [
        {
          importer: { type: 'fs', origin: 'localhost', directory: '/tmp' },
          context: [{ key: 'k', value: 'v' }],
          vfs: { root: filled(0x11), xattrs: filled(0x22), errors: filled(0x33) },
          indexes: [{ name: 'summary', type: 'btree', value: filled(0x44) }],
          summary: { directory: zeroDirectory, below: zeroBelow },
        },
      ],
    };
    const expected = hx(
      'de 00 11', //                                    map16, 17 fields (> 15 → not a fixmap)
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 01 00 00', //                              uint32 0x00010000
      'aa 69 64 65 6e 74 69 66 69 65 72', //            "identifier"
      'c4 20', rep('ab', 32), //                        [32]byte
      'a9 74 69 6d 65 73 74 61 6d 70', //               "timestamp"
      'd7 ff 00 00 07 d0 65 53 f1 00', //               ext −1 fixext8: 500<<34 | 1700000000
      'a8 64 75 72 61 74 69 6f 6e', //                  "duration"
      'd3 00 00 00 00 77 35 94 00', //                  time.Duration (int64) 2 s
      'a8 69 64 65 6e 74 69 74 79', //                  "identity"
      '82', //                                          map, 2
      'aa 69 64 65 6e 74 69 66 69 65 72', //            "identifier"
      'c4 10', rep('00', 16), //                        zero uuid
      'aa 70 75 62 6c 69 63 5f 6b 65 79', //            "public_key"
      'c0', //                                          nil []byte
      'a4 6e 61 6d 65', //                              "name"
      'a6 62 61 63 6b 75 70', //                        "backup"
      'a8 63 61 74 65 67 6f 72 79', //                  "category"
      'a0', //                                          ""
      'ab 65 6e 76 69 72 6f 6e 6d 65 6e 74', //         "environment"
      'a0', //                                          ""
      'a9 70 65 72 69 6d 65 74 65 72', //               "perimeter"
      'a0', //                                          ""
      'a3 6a 6f 62', //                                 "job"
      'a0', //                                          ""
      'a8 72 65 70 6c 69 63 61 73', //                  "replicas"
      'ce 00 00 00 01', //                              uint32 1
      'a7 64 61 74 61 73 65 74', //                     "dataset"
      'a0', //                                          ""
      'ac 64 61 74 61 5f 63 6c 61 73 73 65 73', //      "data_classes"
      'c0', //                                          nil []string
      'af 63 6c 61 73 73 69 66 69 63 61 74 69 6f 6e 73', // "classifications"
      '91', //                                          array, 1
      '82', //                                            map, 2
      'a8 61 6e 61 6c 79 7a 65 72', //                    "analyzer"
      'a4 6d 69 6d 65', //                                "mime"
      'a7 63 6c 61 73 73 65 73', //                       "classes"
      '91', //                                            array, 1
      '82', //                                              map, 2
      'a4 6e 61 6d 65', //                                  "name"
      'a4 74 65 78 74', //                                  "text"
      'ab 70 72 6f 62 61 62 69 6c 69 74 79', //             "probability"
      'cb 3f e0 00 00 00 00 00 00', //                      float64 0.5
      'a4 74 61 67 73', //                              "tags"
      '91 a1 61', //                                    ["a"]
      'a7 63 6f 6e 74 65 78 74', //                     "context"
      '91', //                                          array, 1
      '82', //                                            map, 2
      'a3 6b 65 79', //                                   "key"
      'a8 48 6f 73 74 6e 61 6d 65', //                    "Hostname"
      'a5 76 61 6c 75 65', //                             "value"
      'a4 68 6f 73 74', //                                "host"
      'a7 73 6f 75 72 63 65 73', //                     "sources"
      '91', //                                          array, 1
      '85', //                                            Source: map, 5
      'a8 69 6d 70 6f 72 74 65 72', //                    "importer"
      '83', //                                            map, 3
      'a4 74 79 70 65', //                                  "type"
      'a2 66 73', //                                        "fs"
      'a6 6f 72 69 67 69 6e', //                            "origin"
      'a9 6c 6f 63 61 6c 68 6f 73 74', //                   "localhost"
      'a9 64 69 72 65 63 74 6f 72 79', //                   "directory"
      'a4 2f 74 6d 70', //                                  "/tmp"
      'a7 63 6f 6e 74 65 78 74', //                       "context"
      '91 82 a3 6b 65 79 a1 6b a5 76 61 6c 75 65 a1 76', //  [{key: "k", value: "v"}]
      'a4 72 6f 6f 74', //                                "root" (the VFS struct's key)
      '83', //                                            map, 3
      'a4 72 6f 6f 74', //                                  "root"
      'c4 20', rep('11', 32), //                            [32]byte
      'a6 78 61 74 74 72 73', //                            "xattrs"
      'c4 20', rep('22', 32), //                            [32]byte
      'a6 65 72 72 6f 72 73', //                            "errors"
      'c4 20', rep('33', 32), //                            [32]byte
      'a7 69 6e 64 65 78 65 73', //                       "indexes"
      '91', //                                            array, 1
      '83', //                                              map, 3
      'a4 6e 61 6d 65', //                                  "name"
      'a7 73 75 6d 6d 61 72 79', //                         "summary"
      'a4 74 79 70 65', //                                  "type"
      'a5 62 74 72 65 65', //                               "btree"
      'a5 76 61 6c 75 65', //                               "value"
      'c4 20', rep('44', 32), //                            [32]byte
      'a7 73 75 6d 6d 61 72 79', //                       "summary"
      '81', //                                            map, 1 (all-zero `directory` omitted)
      'a5 62 65 6c 6f 77', //                               "below"
      '81', //                                              map, 1 (only the non-omitempty field)
      'a6 65 72 72 6f 72 73', //                              "errors"
      'cf 00 00 00 00 00 00 00 00', //                        uint64 0
    );
    checkGolden(headerSchema, header, expected);
  });
});

// ------------------------------------------------------------------ (c) VFS entries

describe('golden: vfs.Entry + objects.FileInfo (spec §9.3)', () => {
  it('regular file: content_type / entropy / chunks present, summary nil, ns mtime', () => {
    const fileInfo: FileInfo = {
      name: 'hosts',
      size: 256n,
      mode: 0o644,
      modTime: { sec: 1700000000, nsec: 123456789 },
      dev: 64769n,
      ino: 123456n,
      uid: 1000n,
      gid: 1000n,
      nlink: 1,
      username: 'alice',
      groupname: 'users',
      flags: 0,
    };
    const entry: Entry = {
      version: 0x00010000,
      parentPath: '/etc',
      fileInfo,
      summary: null,
      symlinkTarget: '',
      object: filled(0x55),
      contentType: 'text/plain',
      entropy: 4.5,
      chunks: 1n,
      alternateDataStreams: [],
      securityDescriptor: new Uint8Array(0),
      fileAttributes: 0,
      extendedAttributes: [],
      classifications: [],
      customMetadata: [],
      tags: [],
    };
    const expected = hx(
      '88', //                                          map, 8 (8 omitempty fields empty)
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 01 00 00', //                              uint32 0x00010000
      'ab 70 61 72 65 6e 74 5f 70 61 74 68', //         "parent_path"
      'a4 2f 65 74 63', //                              "/etc"
      'a9 66 69 6c 65 5f 69 6e 66 6f', //               "file_info"
      '8c', //                                          map, 12
      'a4 6e 61 6d 65', //                                "name"
      'a5 68 6f 73 74 73', //                             "hosts"
      'a4 73 69 7a 65', //                                "size"
      'd3 00 00 00 00 00 00 01 00', //                    int64 256
      'a4 6d 6f 64 65', //                                "mode"
      'ce 00 00 01 a4', //                                fs.FileMode (uint32) 0o644
      'a8 6d 6f 64 5f 74 69 6d 65', //                    "mod_time"
      'd7 ff 1d 6f 34 54 65 53 f1 00', //                 ext −1 fixext8: 123456789<<34 | 1700000000
      'a3 64 65 76', //                                   "dev"
      'cf 00 00 00 00 00 00 fd 01', //                    uint64 64769
      'a3 69 6e 6f', //                                   "ino"
      'cf 00 00 00 00 00 01 e2 40', //                    uint64 123456
      'a3 75 69 64', //                                   "uid"
      'cf 00 00 00 00 00 00 03 e8', //                    uint64 1000
      'a3 67 69 64', //                                   "gid"
      'cf 00 00 00 00 00 00 03 e8', //                    uint64 1000
      'a5 6e 6c 69 6e 6b', //                             "nlink"
      'cd 00 01', //                                      uint16 1
      'a8 75 73 65 72 6e 61 6d 65', //                    "username"
      'a5 61 6c 69 63 65', //                             "alice"
      'a9 67 72 6f 75 70 6e 61 6d 65', //                 "groupname"
      'a5 75 73 65 72 73', //                             "users"
      'a5 66 6c 61 67 73', //                             "flags"
      'ce 00 00 00 00', //                                uint32 0
      'a7 73 75 6d 6d 61 72 79', //                     "summary"
      'c0', //                                          nil pointer (no omitempty)
      'a6 6f 62 6a 65 63 74', //                        "object"
      'c4 20', rep('55', 32), //                        [32]byte
      'ac 63 6f 6e 74 65 6e 74 5f 74 79 70 65', //      "content_type"
      'aa 74 65 78 74 2f 70 6c 61 69 6e', //            "text/plain"
      'a7 65 6e 74 72 6f 70 79', //                     "entropy"
      'cb 40 12 00 00 00 00 00 00', //                  float64 4.5
      'a6 63 68 75 6e 6b 73', //                        "chunks"
      'cf 00 00 00 00 00 00 00 01', //                  uint64 1
    );
    checkGolden(entrySchema, entry, expected);
  });

  it('directory: all-zero object still present ([32]byte never omitted), whole-second mtime', () => {
    const entry: Entry = {
      version: 0x00010000,
      parentPath: '/',
      fileInfo: {
        name: 'etc',
        size: 4096n,
        mode: 0x80000000 + 0o755, // ModeDir | 0o755 (kept non-negative; `|` would give a negative int32)
        modTime: { sec: 1700000000, nsec: 0 },
        dev: 64769n,
        ino: 2n,
        uid: 0n,
        gid: 0n,
        nlink: 2,
        username: 'root',
        groupname: 'root',
        flags: 0,
      },
      summary: null,
      symlinkTarget: '',
      object: new Uint8Array(32),
      contentType: '',
      entropy: 0,
      chunks: 0n,
      alternateDataStreams: [],
      securityDescriptor: new Uint8Array(0),
      fileAttributes: 0,
      extendedAttributes: [],
      classifications: [],
      customMetadata: [],
      tags: [],
    };
    const expected = hx(
      '85', //                                          map, 5
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 01 00 00', //                              uint32 0x00010000
      'ab 70 61 72 65 6e 74 5f 70 61 74 68', //         "parent_path"
      'a1 2f', //                                       "/"
      'a9 66 69 6c 65 5f 69 6e 66 6f', //               "file_info"
      '8c', //                                          map, 12
      'a4 6e 61 6d 65', //                                "name"
      'a3 65 74 63', //                                   "etc"
      'a4 73 69 7a 65', //                                "size"
      'd3 00 00 00 00 00 00 10 00', //                    int64 4096
      'a4 6d 6f 64 65', //                                "mode"
      'ce 80 00 01 ed', //                                ModeDir | 0o755
      'a8 6d 6f 64 5f 74 69 6d 65', //                    "mod_time"
      'd6 ff 65 53 f1 00', //                             ext −1 fixext4: 1700000000
      'a3 64 65 76', //                                   "dev"
      'cf 00 00 00 00 00 00 fd 01', //                    uint64 64769
      'a3 69 6e 6f', //                                   "ino"
      'cf 00 00 00 00 00 00 00 02', //                    uint64 2
      'a3 75 69 64', //                                   "uid"
      'cf 00 00 00 00 00 00 00 00', //                    uint64 0
      'a3 67 69 64', //                                   "gid"
      'cf 00 00 00 00 00 00 00 00', //                    uint64 0
      'a5 6e 6c 69 6e 6b', //                             "nlink"
      'cd 00 02', //                                      uint16 2
      'a8 75 73 65 72 6e 61 6d 65', //                    "username"
      'a4 72 6f 6f 74', //                                "root"
      'a9 67 72 6f 75 70 6e 61 6d 65', //                 "groupname"
      'a4 72 6f 6f 74', //                                "root"
      'a5 66 6c 61 67 73', //                             "flags"
      'ce 00 00 00 00', //                                uint32 0
      'a7 73 75 6d 6d 61 72 79', //                     "summary"
      'c0', //                                          nil
      'a6 6f 62 6a 65 63 74', //                        "object"
      'c4 20', rep('00', 32), //                        all-zero [32]byte, still written
    );
    checkGolden(entrySchema, entry, expected);
  });
});

// ------------------------------------------------------------------ (d) Object

describe('golden: objects.Object / objects.Chunk (spec §9.4)', () => {
  it('two chunks; Object entropy 0 omitted, Chunk entropy always written', () => {
    const obj: KObject = {
      version: 0x00010000,
      contentMac: filled(0x66),
      chunks: [
        { version: 0x00010000, contentMac: filled(0x77), length: 1048576, entropy: 7, flags: 0 },
        { version: 0x00010000, contentMac: filled(0x88), length: 256, entropy: 0, flags: 0 },
      ],
      contentType: 'text/plain; charset=utf-8',
      entropy: 0,
      flags: 0,
    };
    const expected = hx(
      '85', //                                          map, 5 (entropy omitted)
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 01 00 00', //                              uint32 0x00010000
      'aa 63 6f 6e 74 65 6e 74 4d 41 43', //            "contentMAC"
      'c4 20', rep('66', 32), //                        [32]byte
      'a6 63 68 75 6e 6b 73', //                        "chunks"
      '92', //                                          array, 2
      '85', //                                            Chunk: map, 5
      'a7 76 65 72 73 69 6f 6e', //                       "version"
      'ce 00 01 00 00', //                                uint32 0x00010000
      'aa 63 6f 6e 74 65 6e 74 4d 41 43', //              "contentMAC"
      'c4 20', rep('77', 32), //                          [32]byte
      'a6 6c 65 6e 67 74 68', //                          "length"
      'ce 00 10 00 00', //                                uint32 1048576
      'a7 65 6e 74 72 6f 70 79', //                       "entropy"
      'cb 40 1c 00 00 00 00 00 00', //                    float64 7.0
      'a5 66 6c 61 67 73', //                             "flags"
      'ce 00 00 00 00', //                                uint32 0
      '85', //                                            Chunk: map, 5
      'a7 76 65 72 73 69 6f 6e', //                       "version"
      'ce 00 01 00 00', //                                uint32 0x00010000
      'aa 63 6f 6e 74 65 6e 74 4d 41 43', //              "contentMAC"
      'c4 20', rep('88', 32), //                          [32]byte
      'a6 6c 65 6e 67 74 68', //                          "length"
      'ce 00 00 01 00', //                                uint32 256
      'a7 65 6e 74 72 6f 70 79', //                       "entropy"
      'cb 00 00 00 00 00 00 00 00', //                    float64 0 (not omitempty on Chunk)
      'a5 66 6c 61 67 73', //                             "flags"
      'ce 00 00 00 00', //                                uint32 0
      'ac 63 6f 6e 74 65 6e 74 5f 74 79 70 65', //      "content_type"
      'b9 74 65 78 74 2f 70 6c 61 69 6e 3b 20 63 68 61 72 73 65 74 3d 75 74 66 2d 38', // 25 bytes
      'a5 66 6c 61 67 73', //                           "flags"
      'ce 00 00 00 00', //                              uint32 0
    );
    checkGolden(objectSchema, obj, expected);
  });

  it('non-zero Object entropy is written; empty content_type omitted', () => {
    const obj: KObject = {
      version: 0x00010000,
      contentMac: filled(0x99),
      chunks: [{ version: 0x00010000, contentMac: filled(0x99), length: 0, entropy: 0, flags: 0 }],
      contentType: '',
      entropy: 1.5,
      flags: 0,
    };
    const expected = hx(
      '85', //                                          map, 5 (content_type omitted)
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 01 00 00', //                              uint32
      'aa 63 6f 6e 74 65 6e 74 4d 41 43', //            "contentMAC"
      'c4 20', rep('99', 32), //                        [32]byte
      'a6 63 68 75 6e 6b 73', //                        "chunks"
      '91', //                                          array, 1: the empty file's zero-length chunk
      '85', //                                            map, 5
      'a7 76 65 72 73 69 6f 6e', //                       "version"
      'ce 00 01 00 00', //                                uint32
      'aa 63 6f 6e 74 65 6e 74 4d 41 43', //              "contentMAC"
      'c4 20', rep('99', 32), //                          [32]byte
      'a6 6c 65 6e 67 74 68', //                          "length"
      'ce 00 00 00 00', //                                uint32 0
      'a7 65 6e 74 72 6f 70 79', //                       "entropy"
      'cb 00 00 00 00 00 00 00 00', //                    float64 0
      'a5 66 6c 61 67 73', //                             "flags"
      'ce 00 00 00 00', //                                uint32 0
      'a7 65 6e 74 72 6f 70 79', //                     "entropy"
      'cb 3f f8 00 00 00 00 00 00', //                  float64 1.5
      'a5 66 6c 61 67 73', //                           "flags"
      'ce 00 00 00 00', //                              uint32 0
    );
    checkGolden(objectSchema, obj, expected);
  });
});

// ------------------------------------------------------------------ (e) B-tree

describe('golden: btree.Node / btree.BTree (spec §9.1)', () => {
  // The schema also knows `prev` (never written: nil pointer, omitempty); the decoder returns it
  // as null although the BTreeNode interface does not declare it.
  const withPrev = (n: BTreeNode) => ({ ...n, prev: null });

  it('leaf: keys + values, pointers nil, next present', () => {
    const node: BTreeNode = {
      version: 0,
      keys: ['/', '/etc'],
      pointers: [],
      values: [filled(0xaa), filled(0xbb)],
      next: filled(0xcc),
    };
    const expected = hx(
      '85', //                                          map, 5 (prev omitted)
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 00 00 00', //                              uint32 0
      'a4 6b 65 79 73', //                              "keys"
      '92 a1 2f a4 2f 65 74 63', //                     ["/", "/etc"]
      'a8 70 6f 69 6e 74 65 72 73', //                  "pointers"
      'c0', //                                          nil slice
      'a6 76 61 6c 75 65 73', //                        "values"
      '92', //                                          array, 2
      'c4 20', rep('aa', 32), //                          [32]byte
      'c4 20', rep('bb', 32), //                          [32]byte
      'a4 6e 65 78 74', //                              "next"
      'c4 20', rep('cc', 32), //                        *[32]byte
    );
    checkGolden(btreeNodeSchema, node, expected, withPrev(node));
  });

  it('internal node: keys + pointers, values nil, no next key', () => {
    const node: BTreeNode = {
      version: 0,
      keys: ['/etc'],
      pointers: [filled(0x01), filled(0x02)],
      values: [],
      next: null,
    };
    const expected = hx(
      '84', //                                          map, 4 (prev, next omitted)
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 00 00 00', //                              uint32 0
      'a4 6b 65 79 73', //                              "keys"
      '91 a4 2f 65 74 63', //                           ["/etc"]
      'a8 70 6f 69 6e 74 65 72 73', //                  "pointers"
      '92', //                                          array, 2
      'c4 20', rep('01', 32), //                          [32]byte
      'c4 20', rep('02', 32), //                          [32]byte
      'a6 76 61 6c 75 65 73', //                        "values"
      'c0', //                                          nil slice
    );
    checkGolden(btreeNodeSchema, node, expected, withPrev(node));
  });

  it('empty root leaf: keys, pointers, values all nil', () => {
    const node: BTreeNode = { version: 0, keys: [], pointers: [], values: [], next: null };
    const expected = hx(
      '84', //                                          map, 4
      'a7 76 65 72 73 69 6f 6e', //                     "version"
      'ce 00 00 00 00', //                              uint32 0
      'a4 6b 65 79 73', //                              "keys"
      'c0', //                                          nil
      'a8 70 6f 69 6e 74 65 72 73', //                  "pointers"
      'c0', //                                          nil
      'a6 76 61 6c 75 65 73', //                        "values"
      'c0', //                                          nil
    );
    checkGolden(btreeNodeSchema, node, expected, withPrev(node));
  });

  it('descriptor (untagged BTree struct): Version u32 0, Order int 50, Count int 0, Root', () => {
    const desc: BTreeDescriptor = { version: 0, order: 50, count: 0, root: filled(0xdd) };
    const expected = hx(
      '84', //                                          map, 4
      'a7 56 65 72 73 69 6f 6e', //                     "Version"
      'ce 00 00 00 00', //                              uint32 0
      'a5 4f 72 64 65 72', //                           "Order"
      '32', //                                          int 50 → positive fixint
      'a5 43 6f 75 6e 74', //                           "Count"
      '00', //                                          int 0
      'a4 52 6f 6f 74', //                              "Root"
      'c4 20', rep('dd', 32), //                        [32]byte
    );
    checkGolden(btreeDescriptorSchema, desc, expected);
  });
});

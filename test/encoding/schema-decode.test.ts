/**
 * decodeStruct leniency and strictness. Lenient where vmihailenco/msgpack v5's decoder is
 * (unknown keys skipped, missing keys → zero values, a struct as a positional array, nil for a
 * list or a scalar, any integer width), strict about ranges and shapes: anything else is a
 * KlosetError with code CORRUPT, never a crash or a silently wrong value.
 * Inputs are hand-written msgpack.
 */
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, type Schema } from '../../src/kloset/encoding/schema.js';
import { GO_ZERO_TIME } from '../../src/kloset/encoding/go-time.js';
import { KlosetError } from '../../src/kloset/base/errors.js';
import { fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { configurationSchema, kdfParamsSchema } from '../../src/kloset/repository/config.js';
import { headerSchema } from '../../src/kloset/snapshot/header.js';
import { entrySchema } from '../../src/kloset/snapshot/vfs/entry.js';
import { fileInfoSchema } from '../../src/kloset/snapshot/vfs/file-info.js';
import { chunkSchema, objectSchema } from '../../src/kloset/snapshot/object.js';
import { btreeDescriptorSchema, btreeNodeSchema } from '../../src/kloset/snapshot/btree/node.js';

const hx = (...lines: string[]): string => lines.join(' ').replace(/\s+/g, '').toLowerCase();
const rep = (byteHex: string, n: number): string => `${byteHex} `.repeat(n);
const filled = (byte: number, n = 32): Uint8Array => new Uint8Array(n).fill(byte);
const dec = <V>(schema: Schema<V>, ...lines: string[]): V => decodeStruct(schema, fromHex(hx(...lines)));

function expectCorrupt(fn: () => unknown): KlosetError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KlosetError);
  expect((caught as KlosetError).code).toBe('CORRUPT');
  return caught as KlosetError;
}

// Reusable hand-written pieces.
const K = {
  Version: 'a7 56 65 72 73 69 6f 6e',
  Order: 'a5 4f 72 64 65 72',
  Count: 'a5 43 6f 75 6e 74',
  Root: 'a4 52 6f 6f 74',
  version: 'a7 76 65 72 73 69 6f 6e',
  contentMAC: 'aa 63 6f 6e 74 65 6e 74 4d 41 43',
  chunks: 'a6 63 68 75 6e 6b 73',
  length: 'a6 6c 65 6e 67 74 68',
  entropy: 'a7 65 6e 74 72 6f 70 79',
  flags: 'a5 66 6c 61 67 73',
  mod_time: 'a8 6d 6f 64 5f 74 69 6d 65',
  nlink: 'a5 6e 6c 69 6e 6b',
  size: 'a4 73 69 7a 65',
  keys: 'a4 6b 65 79 73',
  tags: 'a4 74 61 67 73',
  timestamp: 'a9 74 69 6d 65 73 74 61 6d 70',
  Packfile: 'a8 50 61 63 6b 66 69 6c 65',
  MinSize: 'a7 4d 69 6e 53 69 7a 65',
  AvgSize: 'a7 41 76 67 53 69 7a 65',
  MaxSize: 'a7 4d 61 78 53 69 7a 65',
  KDF: 'a3 4b 44 46',
  argon2id: 'a8 61 72 67 6f 6e 32 69 64',
  Threads: 'a7 54 68 72 65 61 64 73',
  Algorithm: 'a9 41 6c 67 6f 72 69 74 68 6d',
  Chunking: 'a8 43 68 75 6e 6b 69 6e 67',
};
const ROOT_DD = `c4 20 ${rep('dd', 32)}`;
const DESCRIPTOR = { version: 0, order: 50, count: 0, root: filled(0xdd) };

describe('decoder leniency (as Go’s)', () => {
  it('decodes keys in any order, subset and repetition to the same value, with one property order', () => {
    // Go's order (the generated in-order decoder) and every other order (the generic loop the
    // in-order one hands over to, possibly after reading some values) must agree
    const pairs: [string, string][] = [
      ['version', `${K.version} 05`],
      ['contentMac', `${K.contentMAC} c4 20 ${rep('ab', 32)}`],
      ['length', `${K.length} cd 12 34`],
      ['entropy', `${K.entropy} cb 3f f8 00 00 00 00 00 00`],
      ['flags', `${K.flags} 03`],
    ];
    const full = { version: 5, contentMac: filled(0xab), length: 0x1234, entropy: 1.5, flags: 3 };
    const zeroOf = { version: 0, contentMac: new Uint8Array(32), length: 0, entropy: 0, flags: 0 };
    const props = chunkSchema.fields.map((f) => f.prop);
    const orders = [[0, 1, 2, 3, 4], [1, 0, 2, 3, 4], [0, 1, 2, 4, 3], [4, 3, 2, 1, 0], [0, 2, 4], [2, 0], [3], [0, 1, 3, 2, 4]];
    for (const order of orders) {
      const hexMap = `${(0x80 | order.length).toString(16)} ${order.map((i) => pairs[i]![1]).join(' ')}`;
      const d = dec(chunkSchema, hexMap) as unknown as Record<string, unknown>;
      const want: Record<string, unknown> = { ...zeroOf };
      for (const i of order) want[pairs[i]![0]] = (full as Record<string, unknown>)[pairs[i]![0]];
      expect(d, order.join(',')).toEqual(want);
      expect(Object.keys(d), order.join(',')).toEqual(props);
    }
    // a repeated key: the last value wins (vmihailenco/msgpack), whichever decoder sees it
    expect(dec(chunkSchema, '83', K.version, '05', K.length, '07', K.version, '09')).toEqual({ ...zeroOf, version: 9, length: 7 });
    // an unknown key between known ones, after some values were read in order
    expect(dec(chunkSchema, '84', K.version, '05', K.length, '07', 'a3 7a 7a 7a', '01', K.flags, '02')).toEqual({ ...zeroOf, version: 5, length: 7, flags: 2 });
    // damage after the in-order values is still an error, not a partial value
    expectCorrupt(() => dec(chunkSchema, '83', K.version, '05', K.length, '07', K.flags));
  });

  it('skips unknown keys, whatever their value, in any position and order', () => {
    const d = dec(
      btreeDescriptorSchema,
      '87', //                               map, 7
      'a5 45 78 74 72 61', //                "Extra"
      '82 a1 61 01 a1 62 92 c0 c3', //       {a: 1, b: [nil, true]}
      K.Root, ROOT_DD,
      'a3 7a 7a 7a', //                      "zzz"
      'd6 ff 00 00 00 00', //                a timestamp
      K.Order, '32',
      K.version, 'ce 00 00 00 07', //        "version" ≠ "Version": keys are case-sensitive
      K.Version, 'ce 00 00 00 00',
      K.Count, '00',
    );
    expect(d).toEqual(DESCRIPTOR);
  });

  it('leaves missing keys at their zero values', () => {
    expect(dec(objectSchema, '80')).toEqual({
      version: 0,
      contentMac: new Uint8Array(32),
      chunks: [],
      contentType: '',
      entropy: 0,
      flags: 0,
    });
    const cfg = dec(configurationSchema, '81', K.Chunking, '81', K.Algorithm, 'a7 46 41 53 54 43 44 43');
    expect(cfg.timestamp).toEqual(GO_ZERO_TIME);
    expect(cfg.repositoryId).toEqual(new Uint8Array(16));
    expect(cfg.packfile).toEqual({ minSize: 0n, avgSize: 0n, maxSize: 0n });
    expect(cfg.chunking).toEqual({ algorithm: 'FASTCDC', minSize: 0, normalSize: 0, maxSize: 0 });
    expect(cfg.compression).toBeNull();
    expect(cfg.encryption).toBeNull();
  });

  it('accepts a struct encoded as an array of its fields, in declaration order', () => {
    expect(dec(btreeDescriptorSchema, '94', 'ce 00 00 00 00', '32', '00', ROOT_DD)).toEqual(DESCRIPTOR);
  });

  it('accepts a shorter positional array (remaining fields zero) and nested positional structs', () => {
    expect(dec(btreeDescriptorSchema, '92', 'ce 00 00 00 01', '32')).toEqual({
      version: 1,
      order: 50,
      count: 0,
      root: new Uint8Array(32),
    });
    const obj = dec(
      objectSchema,
      '96', //                                   Object as an array of 6
      'ce 00 01 00 00', //                       version
      'c4 20', rep('66', 32), //                 contentMAC
      '91', //                                   chunks: 1
      '95 ce 00 01 00 00', `c4 20 ${rep('77', 32)}`, 'ce 00 00 00 10 cb 3f f8 00 00 00 00 00 00 00', // Chunk as an array
      'a0', //                                   content_type ""
      'cb 00 00 00 00 00 00 00 00', //           entropy
      'ce 00 00 00 00', //                       flags
    );
    expect(obj).toEqual({
      version: 0x00010000,
      contentMac: filled(0x66),
      chunks: [{ version: 0x00010000, contentMac: filled(0x77), length: 16, entropy: 1.5, flags: 0 }],
      contentType: '',
      entropy: 0,
      flags: 0,
    });
  });

  it('decodes nil where a list is expected as []', () => {
    expect(dec(objectSchema, '81', K.chunks, 'c0').chunks).toEqual([]);
    expect(dec(headerSchema, '81', K.tags, 'c0').tags).toEqual([]);
    const node = dec(btreeNodeSchema, '82', K.keys, 'c0', 'a6 76 61 6c 75 65 73', 'c0');
    expect(node.keys).toEqual([]);
    expect(node.values).toEqual([]);
    expect(dec(entrySchema, '81', 'b6 61 6c 74 65 72 6e 61 74 65 5f 64 61 74 61 5f 73 74 72 65 61 6d 73', 'c0')
      .alternateDataStreams).toEqual([]); // "alternate_data_streams"
  });

  it('decodes nil for a scalar as its zero value', () => {
    expect(dec(btreeDescriptorSchema, '84', K.Version, 'c0', K.Order, 'c0', K.Count, 'c0', K.Root, ROOT_DD)).toEqual({
      ...DESCRIPTOR,
      order: 0,
    });
    const c = dec(chunkSchema, '83', K.length, 'c0', K.entropy, 'c0', K.flags, 'c0');
    expect([c.length, c.entropy, c.flags]).toEqual([0, 0, 0]);
    expect(dec(fileInfoSchema, '81', K.size, 'c0').size).toBe(0n);
  });

  it('accepts any integer width for a sized field (u32 given fixint, cc, cd, cf, d3…)', () => {
    const len = (valueHex: string) => dec(chunkSchema, '81', K.length, valueHex).length;
    expect(len('05')).toBe(5); //                    positive fixint
    expect(len('cc 05')).toBe(5); //                 uint8
    expect(len('cd 01 00')).toBe(256); //            uint16
    expect(len('ce ff ff ff ff')).toBe(0xffffffff); // uint32 max
    expect(len('cf 00 00 00 00 00 00 00 05')).toBe(5); // uint64
    expect(len('d0 05')).toBe(5); //                 int8
    expect(len('d3 00 00 00 00 00 00 00 05')).toBe(5); // int64
  });

  it('accepts any integer width for u8 / u16 / u64 / i64 / int fields', () => {
    const threads = (v: string) =>
      dec(kdfParamsSchema, '81', K.argon2id, '81', K.Threads, v).argon2id?.threads;
    expect(threads('01')).toBe(1);
    expect(threads('cd 00 ff')).toBe(255);
    expect(dec(fileInfoSchema, '81', K.nlink, '02').nlink).toBe(2);
    expect(dec(fileInfoSchema, '81', K.nlink, 'ce 00 00 ff ff').nlink).toBe(65535);
    const size = (v: string) => dec(fileInfoSchema, '81', K.size, v).size;
    expect(size('05')).toBe(5n); //                  i64 from fixint → bigint
    expect(size('ff')).toBe(-1n); //                 negative fixint
    expect(size('cc 80')).toBe(128n);
    expect(size('d2 80 00 00 00')).toBe(-2147483648n);
    expect(size('cf 7f ff ff ff ff ff ff ff')).toBe(2n ** 63n - 1n);
    const maxSize = (v: string) => dec(configurationSchema, '81', K.Packfile, '81', K.MaxSize, v).packfile.maxSize;
    expect(maxSize('05')).toBe(5n); //               u64 from fixint → bigint
    expect(maxSize('ce 04 00 00 00')).toBe(64n << 20n);
    const order = (v: string) => dec(btreeDescriptorSchema, '81', K.Order, v).order;
    expect(order('cc 32')).toBe(50); //              Go int from a wider form
    expect(order('cf 00 00 00 00 00 00 00 32')).toBe(50);
    expect(order('d3 ff ff ff ff ff ff ff ff')).toBe(-1);
  });

  it('accepts float32 and integers for a float64 field', () => {
    const entropy = (v: string) => dec(chunkSchema, '81', K.entropy, v).entropy;
    expect(entropy('ca 40 e0 00 00')).toBe(7); //    float32 7.0
    expect(entropy('07')).toBe(7);
  });

  it('keeps u64 values above 2^53 exact as bigint (ptar Packfile.MaxSize = 2^64 − 1), and re-encodes them', () => {
    const bytes = fromHex(
      hx(
        '81', K.Packfile, '83',
        K.MinSize, 'cf 00 00 00 00 00 00 00 00',
        K.AvgSize, 'cf 00 20 00 00 00 00 00 01', // 2^53 + 1
        K.MaxSize, 'cf ff ff ff ff ff ff ff ff', // 2^64 − 1
      ),
    );
    const cfg = decodeStruct(configurationSchema, bytes);
    expect(cfg.packfile).toEqual({ minSize: 0n, avgSize: 2n ** 53n + 1n, maxSize: 0xffffffffffffffffn });
    const again = encodeStruct(configurationSchema, cfg);
    expect(toHex(again)).toContain(hx(K.AvgSize, 'cf 00 20 00 00 00 00 00 01'));
    expect(toHex(again)).toContain(hx(K.MaxSize, 'cf ff ff ff ff ff ff ff ff'));
  });

  it('decodes every timestamp form, keeping nanoseconds', () => {
    const mt = (v: string) => dec(fileInfoSchema, '81', K.mod_time, v).modTime;
    expect(mt('d6 ff 65 53 f1 00')).toEqual({ sec: 1700000000, nsec: 0 });
    expect(mt('d7 ff 1d 6f 34 54 65 53 f1 00')).toEqual({ sec: 1700000000, nsec: 123456789 });
    expect(mt('d7 ff 00 00 00 01 00 00 00 00')).toEqual({ sec: 2 ** 32, nsec: 0 });
    expect(mt('c7 0c ff 00 00 00 00 ff ff ff f1 88 6e 09 00')).toEqual(GO_ZERO_TIME);
    expect(mt('c7 0c ff 1d cd 65 00 ff ff ff ff ff ff ff ff')).toEqual({ sec: -1, nsec: 500_000_000 });
  });
});

describe('decoder strictness: CORRUPT, never a crash', () => {
  it('out-of-range integers for sized fields', () => {
    // u8 given 300
    expectCorrupt(() => dec(kdfParamsSchema, '81', K.argon2id, '81', K.Threads, 'cd 01 2c'));
    // u8 given −1
    expectCorrupt(() => dec(kdfParamsSchema, '81', K.argon2id, '81', K.Threads, 'ff'));
    // u16 given 65536
    expectCorrupt(() => dec(fileInfoSchema, '81', K.nlink, 'ce 00 01 00 00'));
    // u32 given 2^32
    expectCorrupt(() => dec(chunkSchema, '81', K.length, 'cf 00 00 00 01 00 00 00 00'));
    // u32 given −1
    expectCorrupt(() => dec(chunkSchema, '81', K.length, 'ff'));
    // u64 given −1
    expectCorrupt(() => dec(configurationSchema, '81', K.Packfile, '81', K.MaxSize, 'd3 ff ff ff ff ff ff ff ff'));
    // i64 given 2^64 − 1
    expectCorrupt(() => dec(fileInfoSchema, '81', K.size, 'cf ff ff ff ff ff ff ff ff'));
    // Go int given a value a JS number cannot hold exactly
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Order, 'cf 00 20 00 00 00 00 00 01'));
  });

  it('wrong types', () => {
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Version, 'a1 78')); //   string for u32
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Order, 'cb 3f f8 00 00 00 00 00 00')); // 1.5 for int
    expectCorrupt(() => dec(fileInfoSchema, '81', K.size, 'a1 78')); //             string for i64
    expectCorrupt(() => dec(chunkSchema, '81', K.entropy, 'a1 78')); //             string for f64
    expectCorrupt(() => dec(kdfParamsSchema, '81', K.KDF, '01')); //                int for string
    expectCorrupt(() => dec(kdfParamsSchema, '81', 'a4 53 61 6c 74', 'a1 78')); //  string for []byte ("Salt")
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Root, `c4 10 ${rep('dd', 16)}`)); // 16 bytes for [32]byte
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Root, 'a1 78')); //      string for [32]byte
    expectCorrupt(() => dec(configurationSchema, '81', 'ac 52 65 70 6f 73 69 74 6f 72 79 49 44', ROOT_DD)); // 32 bytes for uuid
    expectCorrupt(() => dec(objectSchema, '81', K.chunks, '81 a1 61 01')); //       map for a list
    expectCorrupt(() => dec(objectSchema, '81', K.chunks, '91 a1 78')); //          string for a struct item
    expectCorrupt(() => dec(configurationSchema, '81', K.Packfile, 'a1 78')); //    string for a struct
    expectCorrupt(() => dec(fileInfoSchema, '81', K.mod_time, 'ce 65 53 f1 00')); // int for a timestamp
    expectCorrupt(() => dec(fileInfoSchema, '81', K.mod_time, 'd6 01 65 53 f1 00')); // ext 1, not −1
    expectCorrupt(() => dec(headerSchema, '81', 'a4 6e 61 6d 65', 'c3')); //        bool for string ("name")
  });

  it('top level that is not a map or an array', () => {
    expectCorrupt(() => dec(btreeDescriptorSchema, '01'));
    expectCorrupt(() => dec(btreeDescriptorSchema, 'a1 78'));
    expectCorrupt(() => dec(btreeDescriptorSchema, 'c4 01 00'));
    expectCorrupt(() => dec(btreeDescriptorSchema, 'c0'));
  });

  it('bad timestamp extension lengths', () => {
    const mt = (v: string) => dec(fileInfoSchema, '81', K.mod_time, v);
    expectCorrupt(() => mt('d4 ff 00')); //                               fixext1
    expectCorrupt(() => mt('d5 ff 00 00')); //                            fixext2
    expectCorrupt(() => mt(`d8 ff ${rep('00', 16)}`)); //                 fixext16
    expectCorrupt(() => mt('c7 05 ff 00 00 00 00 00')); //                ext8 of 5
    expectCorrupt(() => mt('c7 00 ff')); //                               ext8 of 0
  });

  it('timestamp nanoseconds ≥ 10^9', () => {
    const mt = (v: string) => dec(fileInfoSchema, '81', K.mod_time, v);
    // 8-byte form, nsec = 1000000000 (0x3b9aca00 << 34 = 0xee6b2800_00000000)
    expectCorrupt(() => mt('d7 ff ee 6b 28 00 00 00 00 00'));
    // 12-byte form, nsec = 1000000000
    expectCorrupt(() => mt('c7 0c ff 3b 9a ca 00 00 00 00 00 00 00 00 00'));
  });

  it('malformed or truncated msgpack', () => {
    const good = hx('84', K.Version, 'ce 00 00 00 00', K.Order, '32', K.Count, '00', K.Root, ROOT_DD);
    expect(decodeStruct(btreeDescriptorSchema, fromHex(good))).toEqual(DESCRIPTOR);
    for (const cut of [1, 2, 10, good.length / 2 - 1]) {
      expectCorrupt(() => decodeStruct(btreeDescriptorSchema, fromHex(good).subarray(0, cut)));
    }
    expectCorrupt(() => decodeStruct(btreeDescriptorSchema, new Uint8Array(0))); // empty
    expectCorrupt(() => dec(btreeDescriptorSchema, 'c1')); //                     reserved code
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Version, 'c1'));
  });

  it('hostile length headers are rejected before allocating', () => {
    expectCorrupt(() => dec(objectSchema, '81', K.chunks, 'dd ff ff ff ff')); //   array32 of 2^32 − 1
    expectCorrupt(() => dec(btreeDescriptorSchema, 'df ff ff ff ff')); //          map32 of 2^32 − 1
    expectCorrupt(() => dec(btreeDescriptorSchema, '81', K.Root, 'c6 ff ff ff ff')); // bin32 of 4 GiB
    expectCorrupt(() => dec(kdfParamsSchema, '81', K.KDF, 'db 7f ff ff ff')); //   str32 of 2 GiB
  });
});

describe("decoder agrees with Go on edge cases", () => {
  // Only values from the ext −1 decoder are timestamps: a msgpack *map* with `sec`/`nsec` keys is
  // not one. Go's DecodeTime rejects a map too (it accepts ext −1, the legacy [sec, nsec] array,
  // or an RFC 3339 string).
  it('a map {sec, nsec} is not a timestamp', () => {
    expectCorrupt(() =>
      dec(fileInfoSchema, '81', K.mod_time, '82 a3 73 65 63 a1 78 a4 6e 73 65 63 a1 79'), // {sec: "x", nsec: "y"}
    );
  });

  // Go (decodeStructValue): nil for a struct value sets the zero struct (`n == -1` branch).
  it('nil for a (non-pointer) struct field decodes as the zero struct', () => {
    const cfg = dec(configurationSchema, '81', K.Packfile, 'c0');
    expect(cfg.packfile).toEqual({ minSize: 0n, avgSize: 0n, maxSize: 0n });
  });

  // Go (decodeStructValue, isArray): "Skip extra values." — a longer positional array is accepted.
  it('a positional array longer than the field list skips the extra values', () => {
    expect(dec(btreeDescriptorSchema, '95', 'ce 00 00 00 00', '32', '00', ROOT_DD, 'c3')).toEqual(DESCRIPTOR);
  });
});

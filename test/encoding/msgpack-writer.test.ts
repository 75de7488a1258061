/**
 * MsgpackWriter: exact bytes of every method against the forms vmihailenco/msgpack v5.4.1
 * chooses (spec §2.4). Expected bytes are hand-derived from the msgpack spec and Go's
 * EncodeInt / EncodeUint / encodeStringLen / EncodeBytesLen / encodeArrayLen / EncodeMapLen /
 * encodeTime, never produced by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { MsgpackWriter } from '../../src/kloset/encoding/msgpack-writer.js';
import { GO_ZERO_TIME, type GoTime } from '../../src/kloset/encoding/go-time.js';
import { toHex } from '../../src/kloset/base/bytes.js';

/** Runs `fn` on a fresh writer and returns the written bytes as hex. */
function w(fn: (w: MsgpackWriter) => void): string {
  const wr = new MsgpackWriter();
  fn(wr);
  return toHex(wr.finish());
}

/** Space-separated hex (as written in the tests) → compact lowercase hex. */
const hx = (...parts: string[]): string => parts.join('').replace(/\s+/g, '').toLowerCase();

/** `n` bytes of ASCII 'x' (0x78), and its hex. */
const xs = (n: number) => 'x'.repeat(n);
const xsHex = (n: number) => '78'.repeat(n);

describe('MsgpackWriter: nil / bool', () => {
  it('nil → c0', () => expect(w((x) => x.nil())).toBe('c0'));
  it('false → c2, true → c3', () => {
    expect(w((x) => x.bool(false))).toBe('c2');
    expect(w((x) => x.bool(true))).toBe('c3');
  });
});

describe('MsgpackWriter: fixed-width integers (Go sized types, never compacted)', () => {
  it('u8 (uint8) → cc + 1 byte, even for small values', () => {
    expect(w((x) => x.u8(0))).toBe('cc00');
    expect(w((x) => x.u8(1))).toBe('cc01');
    expect(w((x) => x.u8(127))).toBe('cc7f');
    expect(w((x) => x.u8(255))).toBe('ccff');
  });

  it('u16 (uint16) → cd + 2 bytes BE', () => {
    expect(w((x) => x.u16(0))).toBe('cd0000');
    expect(w((x) => x.u16(1))).toBe('cd0001');
    expect(w((x) => x.u16(0x1234))).toBe('cd1234');
    expect(w((x) => x.u16(0xffff))).toBe('cdffff');
  });

  it('u32 (uint32) → ce + 4 bytes BE', () => {
    expect(w((x) => x.u32(0))).toBe('ce00000000');
    expect(w((x) => x.u32(0x00010000))).toBe('ce00010000'); // VERSION 1.0.0
    expect(w((x) => x.u32(0x80000000))).toBe('ce80000000'); // Go ModeDir
    expect(w((x) => x.u32(0xffffffff))).toBe('ceffffffff');
  });

  it('u64 (uint64) → cf + 8 bytes BE, exact above 2^53', () => {
    expect(w((x) => x.u64(0n))).toBe('cf0000000000000000');
    expect(w((x) => x.u64(64n << 20n))).toBe('cf0000000004000000');
    expect(w((x) => x.u64(2n ** 53n + 1n))).toBe('cf0020000000000001');
    expect(w((x) => x.u64(0xffffffffffffffffn))).toBe('cfffffffffffffffff'); // ptar Packfile.MaxSize
  });

  it('i32 (int32) → d2 + 4 bytes BE two’s complement', () => {
    expect(w((x) => x.i32(0))).toBe('d200000000');
    expect(w((x) => x.i32(-1))).toBe('d2ffffffff');
    expect(w((x) => x.i32(2147483647))).toBe('d27fffffff');
    expect(w((x) => x.i32(-2147483648))).toBe('d280000000');
  });

  it('i64 (int64, time.Duration) → d3 + 8 bytes BE two’s complement', () => {
    expect(w((x) => x.i64(0n))).toBe('d30000000000000000');
    expect(w((x) => x.i64(1n))).toBe('d30000000000000001');
    expect(w((x) => x.i64(-1n))).toBe('d3ffffffffffffffff');
    expect(w((x) => x.i64(2_000_000_000n))).toBe('d30000000077359400'); // 2 s as a Duration
    expect(w((x) => x.i64(2n ** 63n - 1n))).toBe('d37fffffffffffffff');
    expect(w((x) => x.i64(-(2n ** 63n)))).toBe('d38000000000000000');
  });
});

describe('MsgpackWriter: uint() (Go EncodeUint: smallest form)', () => {
  const cases: Array<[number | bigint, string]> = [
    [0, '00'],
    [1, '01'],
    [50, '32'], // B-tree order
    [127, '7f'], // last positive fixint
    [128, 'cc80'], // first uint8
    [255, 'ccff'],
    [256, 'cd0100'], // first uint16
    [32768, 'cd8000'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'], // first uint32
    [131072, 'ce00020000'],
    [0xffffffff, 'ceffffffff'],
    [0x100000000, 'cf0000000100000000'], // first uint64
    [2n ** 53n + 1n, 'cf0020000000000001'],
    [0xffffffffffffffffn, 'cfffffffffffffffff'],
  ];
  for (const [v, hex] of cases) {
    it(`${v} → ${hex}`, () => expect(w((x) => x.uint(v))).toBe(hex));
  }
});

describe('MsgpackWriter: int() (Go EncodeInt: unsigned forms for ≥ 0, signed for < 0)', () => {
  const cases: Array<[number | bigint, string]> = [
    [0, '00'],
    [50, '32'],
    [127, '7f'],
    [128, 'cc80'], // non-negative Go int uses the *unsigned* forms
    [32768, 'cd8000'], // scrypt N
    [65536, 'ce00010000'], // Encryption.ChunkSize
    [131072, 'ce00020000'], // LZ4 Level9
    [0x100000000, 'cf0000000100000000'],
    [-1, 'ff'], // negative fixint (Compression WindowSize/ChunkSize/BlockSize)
    [-32, 'e0'], // last negative fixint
    [-33, 'd0df'], // first int8
    [-128, 'd080'],
    [-129, 'd1ff7f'], // first int16
    [-32768, 'd18000'],
    [-32769, 'd2ffff7fff'], // first int32
    [-2147483648, 'd280000000'],
    [-2147483649, 'd3ffffffff7fffffff'], // first int64
    [-(2n ** 63n), 'd38000000000000000'],
    [2n ** 63n - 1n, 'cf7fffffffffffffff'],
  ];
  for (const [v, hex] of cases) {
    it(`${v} → ${hex}`, () => expect(w((x) => x.int(v))).toBe(hex));
  }
  it('accepts a bigint as well as a number for the same value', () => {
    expect(w((x) => x.int(-1n))).toBe('ff');
    expect(w((x) => x.int(131072n))).toBe('ce00020000');
  });
});

describe('MsgpackWriter: f64 (float64 → cb + IEEE 754 BE)', () => {
  it('0, 1.5, 4.5, 7, -2, -0', () => {
    expect(w((x) => x.f64(0))).toBe('cb0000000000000000');
    expect(w((x) => x.f64(1.5))).toBe('cb3ff8000000000000');
    expect(w((x) => x.f64(4.5))).toBe('cb4012000000000000');
    expect(w((x) => x.f64(7))).toBe('cb401c000000000000');
    expect(w((x) => x.f64(-2))).toBe('cbc000000000000000');
    expect(w((x) => x.f64(-0))).toBe('cb8000000000000000');
  });
  it('0.1 keeps every mantissa bit', () => {
    expect(w((x) => x.f64(0.1))).toBe('cb3fb999999999999a');
  });
  it('infinities', () => {
    expect(w((x) => x.f64(Infinity))).toBe('cb7ff0000000000000');
    expect(w((x) => x.f64(-Infinity))).toBe('cbfff0000000000000');
  });
});

describe('MsgpackWriter: str (fixstr < 32, str8 < 256, str16 ≤ 65535, str32)', () => {
  it('empty string → a0', () => expect(w((x) => x.str(''))).toBe('a0'));
  it('"Version" → a7 + ASCII', () => expect(w((x) => x.str('Version'))).toBe('a756657273696f6e'));
  it('31 bytes → fixstr bf', () => expect(w((x) => x.str(xs(31)))).toBe('bf' + xsHex(31)));
  it('32 bytes → str8 d9 20', () => expect(w((x) => x.str(xs(32)))).toBe('d920' + xsHex(32)));
  it('255 bytes → str8 d9 ff', () => expect(w((x) => x.str(xs(255)))).toBe('d9ff' + xsHex(255)));
  it('256 bytes → str16 da 01 00', () => expect(w((x) => x.str(xs(256)))).toBe('da0100' + xsHex(256)));
  it('65535 bytes → str16 da ff ff', () => expect(w((x) => x.str(xs(65535)))).toBe('daffff' + xsHex(65535)));
  it('65536 bytes → str32 db 00 01 00 00', () =>
    expect(w((x) => x.str(xs(65536)))).toBe('db00010000' + xsHex(65536)));
  it('length counts UTF-8 bytes, not UTF-16 code units', () => {
    expect(w((x) => x.str('é'))).toBe('a2c3a9'); // U+00E9 = c3 a9
    expect(w((x) => x.str('€'))).toBe('a3e282ac'); // U+20AC = e2 82 ac
    expect(w((x) => x.str('😀'))).toBe('a4f09f9880'); // 2 UTF-16 units, 4 bytes
    // 16 × "é" = 32 bytes (but only 16 JS chars) → str8
    expect(w((x) => x.str('é'.repeat(16)))).toBe('d920' + 'c3a9'.repeat(16));
  });
});

describe('MsgpackWriter: bin (bin8 < 256, bin16 ≤ 65535, bin32)', () => {
  const bytes = (n: number, b = 0xab) => new Uint8Array(n).fill(b);
  it('empty → c4 00 (Go non-nil empty []byte)', () => expect(w((x) => x.bin(new Uint8Array(0)))).toBe('c400'));
  it('16 bytes (uuid) → c4 10', () =>
    expect(w((x) => x.bin(bytes(16, 0x11)))).toBe(hx('c4 10', '11'.repeat(16))));
  it('32 bytes (MAC) → c4 20', () =>
    expect(w((x) => x.bin(bytes(32, 0x22)))).toBe(hx('c4 20', '22'.repeat(32))));
  it('255 bytes → c4 ff', () => expect(w((x) => x.bin(bytes(255)))).toBe(hx('c4 ff', 'ab'.repeat(255))));
  it('256 bytes → c5 01 00', () => expect(w((x) => x.bin(bytes(256)))).toBe(hx('c5 01 00', 'ab'.repeat(256))));
  it('65535 bytes → c5 ff ff', () =>
    expect(w((x) => x.bin(bytes(65535)))).toBe(hx('c5 ff ff', 'ab'.repeat(65535))));
  it('65536 bytes → c6 00 01 00 00', () =>
    expect(w((x) => x.bin(bytes(65536)))).toBe(hx('c6 00 01 00 00', 'ab'.repeat(65536))));
  it('respects the view of a subarray (offset and length)', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(w((x) => x.bin(backing.subarray(2, 5)))).toBe('c403010203');
  });
});

describe('MsgpackWriter: array / map headers (fix < 16, 16-bit ≤ 65535, 32-bit)', () => {
  const cases: Array<[number, string, string]> = [
    [0, '90', '80'],
    [1, '91', '81'],
    [15, '9f', '8f'],
    [16, 'dc0010', 'de0010'],
    [17, 'dc0011', 'de0011'], // snapshot Header has 17 fields → de 00 11
    [65535, 'dcffff', 'deffff'],
    [65536, 'dd00010000', 'df00010000'],
    [0x12345678, 'dd12345678', 'df12345678'],
  ];
  for (const [n, arr, map] of cases) {
    it(`${n} → array ${arr}, map ${map}`, () => {
      expect(w((x) => x.arrayHeader(n))).toBe(arr);
      expect(w((x) => x.mapHeader(n))).toBe(map);
    });
  }
});

describe('MsgpackWriter: time (ext −1, vmihailenco encodeTime)', () => {
  const t = (sec: number, nsec = 0): GoTime => ({ sec, nsec });

  it('Unix epoch → fixext4 d6 ff 00000000', () => expect(w((x) => x.time(t(0)))).toBe('d6ff00000000'));

  it('whole seconds below 2^32 → fixext4 d6 ff + u32 secs', () => {
    expect(w((x) => x.time(t(1700000000)))).toBe(hx('d6 ff', '65 53 f1 00')); // 1700000000 = 0x6553f100
    expect(w((x) => x.time(t(0xffffffff)))).toBe(hx('d6 ff', 'ff ff ff ff'));
  });

  it('nanoseconds present → fixext8 d7 ff + u64(nsec << 34 | secs)', () => {
    // 123456789 = 0x075bcd15; << 34 = 0x1d6f3454_00000000; | 0x6553f100
    expect(w((x) => x.time(t(1700000000, 123456789)))).toBe(hx('d7 ff', '1d 6f 34 54 65 53 f1 00'));
    // 1 ns at the epoch: 1 << 34 = 0x00000004_00000000
    expect(w((x) => x.time(t(0, 1)))).toBe(hx('d7 ff', '00 00 00 04 00 00 00 00'));
    // largest 8-byte form: secs = 2^34 − 1, nsec = 999999999 (0x3b9ac9ff << 34 = 0xee6b27fc_00000000)
    expect(w((x) => x.time(t(2 ** 34 - 1, 999_999_999)))).toBe(hx('d7 ff', 'ee 6b 27 ff ff ff ff ff'));
  });

  // Go: `if data&0xffffffff00000000 == 0` → 4 bytes. With nsec == 0 but secs ≥ 2^32 the
  // upper half is non-zero, so Go writes the 8-byte form. See the bug report: the writer checks
  // only nsec === 0 and DataView.setUint32 truncates secs modulo 2^32 (d6 ff 00 00 00 00 here).
  it('whole seconds in [2^32, 2^34) → fixext8 d7 ff (not a truncated fixext4)', () => {
    expect(w((x) => x.time(t(2 ** 32)))).toBe(hx('d7 ff', '00 00 00 01 00 00 00 00'));
    expect(w((x) => x.time(t(2 ** 34 - 1)))).toBe(hx('d7 ff', '00 00 00 03 ff ff ff ff'));
  });

  it('secs ≥ 2^34 → ext8 c7 0c ff + u32 nsec + i64 secs', () => {
    expect(w((x) => x.time(t(2 ** 34)))).toBe(hx('c7 0c ff', '00 00 00 00', '00 00 00 04 00 00 00 00'));
    expect(w((x) => x.time(t(2 ** 34, 5)))).toBe(hx('c7 0c ff', '00 00 00 05', '00 00 00 04 00 00 00 00'));
  });

  it('Go zero time (0001-01-01, sec −62135596800) → c7 0c ff 00000000 fffffff1886e0900', () => {
    expect(w((x) => x.time(GO_ZERO_TIME))).toBe(hx('c7 0c ff', '00 00 00 00', 'ff ff ff f1 88 6e 09 00'));
  });

  it('pre-1970 times → 12-byte form with negative i64 secs', () => {
    // 1969-07-20T20:17:40Z = −14182940 s = 0xffffffffff2795e4
    expect(w((x) => x.time(t(-14182940)))).toBe(hx('c7 0c ff', '00 00 00 00', 'ff ff ff ff ff 27 95 e4'));
    // 1969-12-31T23:59:59.5Z: sec −1, nsec 500000000 = 0x1dcd6500
    expect(w((x) => x.time(t(-1, 500_000_000)))).toBe(hx('c7 0c ff', '1d cd 65 00', 'ff ff ff ff ff ff ff ff'));
  });
});

describe('MsgpackWriter: raw, buffer growth, finish', () => {
  it('raw copies bytes verbatim', () => {
    expect(w((x) => x.raw(new Uint8Array([0xc1, 0x00, 0xff])))).toBe('c100ff');
  });

  it('sequences of writes concatenate', () => {
    expect(
      w((x) => {
        x.mapHeader(1);
        x.str('Bits');
        x.u32(256);
      }),
    ).toBe(hx('81', 'a4 42 69 74 73', 'ce 00 00 01 00'));
  });

  it('grows past a tiny initial buffer without losing bytes', () => {
    const wr = new MsgpackWriter(1);
    wr.u64(0x0102030405060708n);
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    wr.bin(big);
    wr.nil();
    const out = wr.finish();
    expect(out.length).toBe(9 + 3 + 1000 + 1);
    expect(toHex(out.subarray(0, 12))).toBe('cf0102030405060708c503e8');
    expect(out.subarray(12, 1012)).toEqual(big);
    expect(out[1012]).toBe(0xc0);
  });

  it('finish returns a copy; the writer can keep appending', () => {
    const wr = new MsgpackWriter();
    wr.u8(1);
    const first = wr.finish();
    first[0] = 0;
    wr.u8(2);
    expect(toHex(first)).toBe('0001');
    expect(toHex(wr.finish())).toBe('cc01cc02');
  });

  it('a fresh writer finishes empty', () => {
    expect(new MsgpackWriter().finish().length).toBe(0);
  });
});

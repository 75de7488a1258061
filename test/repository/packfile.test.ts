import { describe, expect, it } from 'vitest';
import { errorCode as code } from '../support/test-helpers.js';
import { concatBytes, fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { isKlosetError } from '../../src/kloset/base/errors.js';
import { deriveKey } from '../../src/kloset/crypto/kdf.js';
import type { Mac } from '../../src/kloset/hashing/mac.js';
import { nodePrimitives } from '../../src/kloset/node/primitives.js';
import { BlobCodec } from '../../src/kloset/repository/blob-codec.js';
import { createConfiguration, type CreateOptions } from '../../src/kloset/repository/config-file.js';
import {
  BLOB_RECORD_SIZE,
  blobRange,
  decodeFooter,
  decodeIndex,
  encodeFooter,
  encodeIndex,
  FOOTER_SIZE,
  PackfileWriter,
  parsePackfile,
  RT_RANDOM,
  SMALL_BLOB_SIZE,
  type BlobRecord,
} from '../../src/kloset/repository/packfile.js';
import type { Primitives } from '../../src/kloset/repository/primitives.js';
import { ResourceType, version, wrap } from '../../src/kloset/repository/wrapper.js';

const te = new TextEncoder();
const cheap = { kdf: 'ARGON2ID', argon2id: { saltSize: 16, time: 1, memory: 64, threads: 1, keyLen: 32 }, scrypt: null, pbkdf2: null };
const NOW_MS = Date.UTC(2026, 10, 22, 12, 0, 0);
const prims: Primitives = { ...nodePrimitives, deriveKey, now: () => NOW_MS };
const V1 = version(1, 0, 0);
const filled = (b: number) => new Uint8Array(32).fill(b);
const seq = (from: number, n = 32) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

async function store(options: CreateOptions): Promise<{ codec: BlobCodec; mac: Mac }> {
  const { config, key } = await createConfiguration(prims, te.encode('pw'), { kdf: cheap, ...options });
  return { codec: new BlobCodec(prims, config, key), mac: await prims.macs('BLAKE3', key ?? filled(9)) };
}


/** Assembles a payload by hand: blob section ‖ encode(index) ‖ encode(footer) ‖ u32le L. */
function assemble(codec: BlobCodec, mac: Mac, blobs: Uint8Array, records: BlobRecord[], footer: { count?: number; indexOffset?: number; rawIndex?: Uint8Array } = {}): Uint8Array {
  const rawIndex = footer.rawIndex ?? encodeIndex(records);
  const encIndex = codec.encode(rawIndex);
  const encFooter = codec.encode(
    encodeFooter({ timestamp: 1n, count: footer.count ?? records.length, indexOffset: footer.indexOffset ?? blobs.length, indexMac: mac.sum(encodeIndex(records)), flags: 0 }),
  );
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, encFooter.length, true);
  return concatBytes([blobs, encIndex, encFooter, len]);
}

describe('index records and footer: byte layout', () => {
  const rec: BlobRecord = { type: 9, version: 0x00010000, mac: seq(1), offset: 0x0102030405, length: 0xdeadbeef, flags: 7 };
  const recHex =
    '09000000' + '00000100' + '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20' + '0504030201000000' + 'efbeadde' + '07000000';

  it('a record is u32 type | u32 version | 32-byte MAC | u64 offset | u32 length | u32 flags, little-endian', () => {
    expect(BLOB_RECORD_SIZE).toBe(56);
    expect(toHex(encodeIndex([rec]))).toBe(recHex);
    const two = encodeIndex([rec, { ...rec, type: 255, mac: filled(0xaa), offset: 0, length: 1, flags: 0 }]);
    expect(toHex(two.subarray(56))).toBe('ff000000' + '00000100' + 'aa'.repeat(32) + '0000000000000000' + '01000000' + '00000000');
    const back = decodeIndex(fromHex(recHex));
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ type: 9, version: 0x00010000, offset: 0x0102030405, length: 0xdeadbeef, flags: 7 });
    expect(toHex(back[0]!.mac)).toBe(toHex(seq(1)));
    expect(decodeIndex(two).map((r) => r.type)).toEqual([9, 255]);
    expect(decodeIndex(new Uint8Array(0))).toEqual([]);
  });

  it('refuses a partial record and an offset past 2^53', () => {
    expect(code(() => decodeIndex(fromHex(recHex).subarray(0, 55)))).toBe('CORRUPT');
    expect(code(() => decodeIndex(concatBytes([fromHex(recHex), new Uint8Array(1)])))).toBe('CORRUPT');
    const huge = fromHex(recHex);
    huge.fill(0xff, 40, 48);
    expect(code(() => decodeIndex(huge))).toBe('CORRUPT');
    huge.set(fromHex('0000000000002000'), 40); // exactly 2^53: still refused (not a safe integer)
    expect(code(() => decodeIndex(huge))).toBe('CORRUPT');
    huge.set(fromHex('ffffffffffff1f00'), 40); // 2^53 - 1
    expect(decodeIndex(huge)[0]!.offset).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('the footer is i64 timestamp | u32 count | u64 index offset | 32-byte index MAC | u32 flags', () => {
    expect(FOOTER_SIZE).toBe(56);
    const f = { timestamp: 1700000000000000000n, count: 3, indexOffset: 0x1234, indexMac: filled(0xaa), flags: 0 };
    const hex = '00002a36fe9c9717' + '03000000' + '3412000000000000' + 'aa'.repeat(32) + '00000000';
    expect(toHex(encodeFooter(f))).toBe(hex);
    const back = decodeFooter(fromHex(hex));
    expect(back).toMatchObject({ timestamp: 1700000000000000000n, count: 3, indexOffset: 0x1234, flags: 0 });
    expect(toHex(back.indexMac)).toBe('aa'.repeat(32));
    // signed timestamp (Go int64), e.g. a pre-1970 clock
    expect(toHex(encodeFooter({ ...f, timestamp: -1n }).subarray(0, 8))).toBe('ffffffffffffffff');
    expect(decodeFooter(encodeFooter({ ...f, timestamp: -1n })).timestamp).toBe(-1n);
  });

  it('refuses a footer of the wrong size or with an index offset past 2^53', () => {
    const good = encodeFooter({ timestamp: 0n, count: 0, indexOffset: 0, indexMac: filled(0), flags: 0 });
    expect(code(() => decodeFooter(good.subarray(0, 55)))).toBe('CORRUPT');
    expect(code(() => decodeFooter(concatBytes([good, new Uint8Array(1)])))).toBe('CORRUPT');
    const bad = good.slice();
    bad.fill(0xff, 12, 20);
    expect(code(() => decodeFooter(bad))).toBe('CORRUPT');
  });

  it('encoders refuse values the layout cannot hold', () => {
    expect(() => encodeIndex([{ ...rec, mac: new Uint8Array(31) }])).toThrow(TypeError);
    expect(() => encodeIndex([{ ...rec, length: 2 ** 32 }])).toThrow(TypeError);
    expect(() => encodeIndex([{ ...rec, offset: 2 ** 53 }])).toThrow(TypeError);
    expect(() => encodeFooter({ timestamp: 2n ** 63n, count: 0, indexOffset: 0, indexMac: filled(0), flags: 0 })).toThrow(TypeError);
  });

  it('blobRange adds the 16-byte wrapper header to the payload offset', () => {
    expect(blobRange({ offset: 0, length: 10 })).toEqual({ offset: 16, length: 10 });
    expect(blobRange(rec)).toEqual({ offset: 0x0102030405 + 16, length: 0xdeadbeef });
  });
});

describe('PackfileWriter → parsePackfile', () => {
  const blobs = [te.encode('hello '.repeat(1000)), new Uint8Array(0), nodePrimitives.random(70_000), te.encode('x')];

  it.each([
    ['encrypted + LZ4, padding', {}, 4096],
    ['encrypted + LZ4, no padding (ptar)', {}, 0],
    ['plaintext + LZ4, padding', { plaintext: true }, 4096],
    ['plaintext, no compression, no padding', { plaintext: true, noCompression: true }, 0],
  ] as const)('%s round-trips', async (_name, options, paddingMax) => {
    const { codec, mac } = await store(options);
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => NOW_MS + 0.5, paddingMax });
    expect(w.size).toBe(0);
    const added: BlobRecord[] = [];
    for (const data of blobs) {
      const enc = codec.encode(data);
      const before = w.size;
      const r = w.addBlob(9, V1, mac.sum(data), enc);
      expect(r.length).toBe(enc.length);
      expect(r.offset + r.length).toBe(w.size);
      if (added.length > 0 || paddingMax === 0) expect(r.offset).toBe(before);
      added.push(r);
    }
    const blobSection = w.size;
    const out = w.finish();
    const payload = concatBytes(out.parts);
    expect(out.size).toBe(payload.length);

    const { footer, records } = parsePackfile(payload, codec, mac);
    const padding = records.filter((r) => r.type === RT_RANDOM);
    if (paddingMax > 0) {
      expect(records).toHaveLength(blobs.length + 2);
      expect(records[0]!.type).toBe(RT_RANDOM);
      expect(records.at(-1)!.type).toBe(RT_RANDOM);
      for (const p of padding) {
        expect(p.length).toBeGreaterThanOrEqual(1);
        expect(p.length).toBeLessThanOrEqual(paddingMax - 1);
      }
      expect(footer.indexOffset).toBe(blobSection + records.at(-1)!.length);
    } else {
      expect(padding).toHaveLength(0);
      expect(records).toHaveLength(blobs.length);
      expect(records[0]!.offset).toBe(0);
      expect(footer.indexOffset).toBe(blobSection);
    }
    expect(footer.count).toBe(records.length);
    expect(footer.timestamp).toBe(BigInt(NOW_MS) * 1_000_000n + 500_000n);
    expect(footer.flags).toBe(0);
    expect(records.map((r) => [r.type, r.offset, r.length, toHex(r.mac)])).toEqual(decodeIndex(out.index).map((r) => [r.type, r.offset, r.length, toHex(r.mac)]));
    // the blob section is contiguous: every byte before the index belongs to exactly one record
    expect(records.reduce((n, r) => n + r.length, 0)).toBe(footer.indexOffset);

    // Each blob decodes from its range, in the payload and (via blobRange) in the stored object.
    const stored = wrap(ResourceType.PACKFILE, V1, payload, mac);
    const real = records.filter((r) => r.type !== RT_RANDOM);
    real.forEach((r, i) => {
      const { offset, length } = blobRange(r);
      const fromStored = stored.subarray(offset, offset + length);
      expect(toHex(fromStored)).toBe(toHex(payload.subarray(r.offset, r.offset + r.length)));
      expect(toHex(codec.decodeVerified(fromStored, 1 << 20, mac, r.mac))).toBe(toHex(blobs[i]!));
    });
  });

  it('padding sizes follow 1 + rand[0, paddingMax-2] and MACs are random', async () => {
    const { codec, mac } = await store({ plaintext: true });
    const ones = (n: number) => new Uint8Array(n).fill(0xff);
    const zeros = (n: number) => new Uint8Array(n);
    // 0xffffffff % 9 = 3 → 4 bytes
    const w1 = new PackfileWriter({ codec, mac, random: ones, now: () => 0, paddingMax: 10 });
    expect(w1.addPadding()).toMatchObject({ type: 255, version: V1, length: 4, offset: 0 });
    expect(toHex(w1.records[0]!.mac)).toBe('ff'.repeat(32));
    const w0 = new PackfileWriter({ codec, mac, random: zeros, now: () => 0, paddingMax: 10 });
    expect(w0.addPadding().length).toBe(1);
    const w2 = new PackfileWriter({ codec, mac, random: ones, now: () => 0, paddingMax: 2 });
    expect(w2.addPadding().length).toBe(1);
    const sizes = new Set<number>();
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 6 });
    for (let i = 0; i < 300; i++) sizes.add(w.addPadding().length);
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5]);
    const macs = new Set(w.records.map((r) => toHex(r.mac)));
    expect(macs.size).toBe(300);
  });

  it('padding is added once at the first blob and once at finish; an empty packfile still parses', async () => {
    const { codec, mac } = await store({ plaintext: true });
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 64 });
    w.addBlob(9, V1, filled(1), te.encode('a'));
    w.addBlob(9, V1, filled(2), te.encode('b'));
    expect(w.records.map((r) => r.type)).toEqual([255, 9, 9]);
    expect(decodeIndex(w.finish().index).map((r) => r.type)).toEqual([255, 9, 9, 255]);

    const empty = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 0 }).finish();
    const parsed = parsePackfile(concatBytes(empty.parts), codec, mac);
    expect(parsed.records).toEqual([]);
    expect(parsed.footer).toMatchObject({ count: 0, indexOffset: 0, timestamp: 0n });
  });

  it('keeps blobs added by reference as given, neighbours in one buffer as one part, in order with the slab runs', async () => {
    const { codec, mac } = await store({ plaintext: true, noCompression: true });
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 0 });
    const ring = new Uint8Array(new SharedArrayBuffer(64));
    ring.set(te.encode('abcdefghijklmnop'));
    w.addBlob(7, V1, filled(1), ring.subarray(0, 3), true);
    w.addBlob(7, V1, filled(2), ring.subarray(3, 8), true); // continues the one before: merged
    w.addBlob(7, V1, filled(3), te.encode('XY')); // copied into a slab
    w.addBlob(7, V1, filled(4), ring.subarray(8, 10), true); // after a slab run: a part of its own
    w.addBlob(7, V1, filled(5), ring.subarray(12, 14), true); // not adjacent: another part
    const { parts, index } = w.finish();
    const text = (p: Uint8Array) => new TextDecoder().decode(Uint8Array.from(p));
    expect(parts.slice(0, 4).map(text)).toEqual(['abcdefgh', 'XY', 'ij', 'mn']);
    expect(parts[0]!.buffer).toBe(ring.buffer);
    expect(decodeIndex(index).map((r) => [r.offset, r.length])).toEqual([[0, 3], [3, 5], [8, 2], [10, 2], [12, 2]]);
    const parsed = parsePackfile(concatBytes(parts), codec, mac);
    expect(parsed.records.length).toBe(5);
  });

  it('copies the MAC and small blobs into its slabs, keeps large blobs as given, and cannot be used after finish', async () => {
    const { codec, mac } = await store({ plaintext: true, noCompression: true });
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 0 });
    const m = filled(5);
    const blob = te.encode('blob');
    const small2 = te.encode('more');
    const large = new Uint8Array(SMALL_BLOB_SIZE).fill(7);
    w.addBlob(7, V1, m, blob);
    w.addBlob(7, V1, filled(6), small2);
    w.addBlob(7, V1, filled(8), large);
    w.addBlob(7, V1, filled(9), blob);
    m.fill(6);
    blob.fill(0); // the caller may reuse a small blob's buffer at once
    expect(toHex(w.records[0]!.mac)).toBe('05'.repeat(32));
    const { parts, index } = w.finish();
    // two small blobs in one run of a slab, the large one by reference, then the next run
    expect(parts.slice(0, 3).map((p) => p.length)).toEqual([8, SMALL_BLOB_SIZE, 4]);
    expect(new TextDecoder().decode(parts[0])).toBe('blobmore');
    expect(parts[1]).toBe(large);
    expect(new TextDecoder().decode(parts[2])).toBe('blob');
    expect(index.length).toBe(4 * 56);
    expect(decodeIndex(index).map((r) => r.offset)).toEqual([0, 4, 8, 8 + SMALL_BLOB_SIZE]);
    expect(() => w.finish()).toThrow(TypeError);
    expect(() => w.addBlob(7, V1, m, blob)).toThrow(TypeError);
    const w2 = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 0 });
    expect(() => w2.addBlob(256, V1, m, blob)).toThrow(TypeError);
    expect(() => w2.addBlob(9, V1, new Uint8Array(16), blob)).toThrow(TypeError);
  });
});

describe('parsePackfile refuses damaged packfiles', () => {
  it('a tampered index is INTEGRITY (encrypted: re-encoded with the key; plaintext: flipped in place)', async () => {
    for (const options of [{}, { plaintext: true, noCompression: true }]) {
      const { codec, mac } = await store(options);
      const records: BlobRecord[] = [
        { type: 9, version: V1, mac: filled(1), offset: 0, length: 3, flags: 0 },
        { type: 9, version: V1, mac: filled(2), offset: 3, length: 4, flags: 0 },
      ];
      const blobs = te.encode('abcdefg');
      expect(parsePackfile(assemble(codec, mac, blobs, records), codec, mac).records).toHaveLength(2);
      const forged = encodeIndex(records);
      forged[48] = 2; // record 0 length 3 → 2: still inside the blob section
      expect(code(() => parsePackfile(assemble(codec, mac, blobs, records, { rawIndex: forged }), codec, mac))).toBe('INTEGRITY');
    }
    const { codec, mac } = await store({ plaintext: true, noCompression: true });
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 0 });
    w.addBlob(9, V1, filled(1), te.encode('abc'));
    const payload = concatBytes(w.finish().parts);
    payload[3 + 8]! ^= 1; // first MAC byte of record 0 (the index starts at offset 3)
    expect(code(() => parsePackfile(payload, codec, mac))).toBe('INTEGRITY');
  });

  it('records outside the blob section, a wrong count, or an index offset past the footer are CORRUPT', async () => {
    const { codec, mac } = await store({});
    const blobs = te.encode('abcdefg');
    const ok: BlobRecord = { type: 9, version: V1, mac: filled(1), offset: 0, length: 7, flags: 0 };
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [ok]), codec, mac))).toBe('no error');
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [{ ...ok, length: 8 }]), codec, mac))).toBe('CORRUPT');
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [{ ...ok, offset: 7, length: 1 }]), codec, mac))).toBe('CORRUPT');
    // an index offset inside the blob section makes the index undecodable or not match its MAC
    expect(['CORRUPT', 'AUTH', 'INTEGRITY']).toContain(code(() => parsePackfile(assemble(codec, mac, blobs, [ok], { indexOffset: 6 }), codec, mac)));
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [ok], { count: 2 }), codec, mac))).toBe('CORRUPT');
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [ok], { count: 0 }), codec, mac))).toBe('CORRUPT');
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [ok], { indexOffset: 10_000 }), codec, mac))).toBe('CORRUPT');
    // an index larger than the caller's limit is refused before it is decoded
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [ok]), codec, mac, 55))).toBe('CORRUPT');
    expect(code(() => parsePackfile(assemble(codec, mac, blobs, [ok], { count: 0xffffffff }), codec, mac))).toBe('CORRUPT');
  });

  it('a bad footer length, a short payload and every truncation are refused with a typed error', async () => {
    const { codec, mac } = await store({ plaintext: true, noCompression: true });
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 8 });
    w.addBlob(9, V1, filled(1), te.encode('some blob'));
    const payload = concatBytes(w.finish().parts);
    expect(code(() => parsePackfile(payload, codec, mac))).toBe('no error');
    expect(code(() => parsePackfile(new Uint8Array(3), codec, mac))).toBe('CORRUPT');
    const badLen = payload.slice();
    new DataView(badLen.buffer).setUint32(badLen.length - 4, badLen.length, true);
    expect(code(() => parsePackfile(badLen, codec, mac))).toBe('CORRUPT');
    for (let n = 0; n < payload.length; n++) {
      expect(['CORRUPT', 'INTEGRITY']).toContain(code(() => parsePackfile(payload.subarray(0, n), codec, mac)));
    }
  });

  it('encrypted: truncations and flipped bits never parse', async () => {
    const { codec, mac } = await store({});
    const w = new PackfileWriter({ codec, mac, random: prims.random, now: () => 0, paddingMax: 8 });
    w.addBlob(9, V1, filled(1), codec.encode(te.encode('some blob')));
    const payload = concatBytes(w.finish().parts);
    const footerStart = payload.length - 4 - new DataView(payload.buffer, payload.byteOffset).getUint32(payload.length - 4, true);
    for (let n = footerStart - 60; n < payload.length; n++) {
      expect(['CORRUPT', 'INTEGRITY', 'AUTH']).toContain(code(() => parsePackfile(payload.subarray(0, n), codec, mac)));
    }
    for (let i = footerStart - 60; i < payload.length - 4; i++) {
      const bad = payload.slice();
      bad[i]! ^= 0x10;
      expect(['CORRUPT', 'INTEGRITY', 'AUTH']).toContain(code(() => parsePackfile(bad, codec, mac)));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { errorCode as code } from '../support/test-helpers.js';
import { concatBytes, fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { isKlosetError } from '../../src/kloset/base/errors.js';
import {
  ET_DELETE,
  parseState,
  serializeState,
  STATE_VERSION_1_0,
  STATE_VERSION_1_1,
  type StateEntry,
  type StateStream,
} from '../../src/kloset/repository/state.js';
import { version } from '../../src/kloset/repository/wrapper.js';

const te = new TextEncoder();
const filled = (b: number) => new Uint8Array(32).fill(b);
const hx = (b: number) => toHex(filled(b));
const T0 = 1700000000000000000n;
const T1 = 1700000001000000000n;
const T3 = 1700000003000000000n;
// hand-derived little-endian i64 of the times above
const T0_HEX = '00002a36fe9c9717';
const T1_HEX = '00cac471fe9c9717';
const T3_HEX = '005efae8fe9c9717';
const SERIAL = fromHex('6ba7b8109dad11d180b400c04fd430c8');


const location: StateEntry = { kind: 'location', blobType: 9, blobVersion: 0x00010000, blob: filled(0xc1), packfile: filled(0xb1), offset: 100, length: 50, flags: 7 };
const coloured: StateEntry = { kind: 'coloured', type: 5, mac: filled(0x52), when: T1 };
const packfile: StateEntry = { kind: 'packfile', packfile: filled(0xb1), stateId: filled(0xa1), timestamp: T0 };
const configuration: StateEntry = { kind: 'configuration', key: 'fixture-key', value: te.encode('fixture-value'), createdAt: T3 };
const del: StateEntry = { kind: 'delete', entryType: 2, blobType: 9, blob: filled(0xc2), packfile: filled(0xb2) };

// Hand-derived entry bytes: u8 type | u32le length | body.
const LOCATION_HEX = '02' + '55000000' + '09' + '00000100' + hx(0xc1) + hx(0xb1) + '6400000000000000' + '32000000' + '07000000';
const COLOURED_HEX = '03' + '29000000' + '05' + hx(0x52) + T1_HEX;
const PACKFILE_HEX = '04' + '48000000' + hx(0xb1) + hx(0xa1) + T0_HEX;
const CONFIGURATION_HEX = '05' + '23000000' + '0b' + '666978747572652d6b6579' + '0d00' + '666978747572652d76616c7565' + T3_HEX;
const DELETE_HEX = '06' + '42000000' + '02' + '09' + hx(0xc2) + hx(0xb2);
const METADATA_V11_HEX = '01' + '00010100' + T3_HEX + '6ba7b8109dad11d180b400c04fd430c8';

function stream(entries: StateEntry[], parent: Uint8Array | null = filled(0xa3), v = STATE_VERSION_1_1): StateStream {
  return { parent, entries, metadata: { version: v, timestamp: T3, serial: SERIAL } };
}

describe('state stream bytes (v1.1.0)', () => {
  it.each([
    ['ET_LOCATIONS (85 bytes)', location, LOCATION_HEX],
    ['ET_COLOURED (41 bytes)', coloured, COLOURED_HEX],
    ['ET_PACKFILE (72 bytes)', packfile, PACKFILE_HEX],
    ['ET_CONFIGURATION (variable)', configuration, CONFIGURATION_HEX],
    ['ET_DELETE (66 bytes)', del, DELETE_HEX],
  ])('%s matches its hand-derived layout and parses back', (_name, entry, hex) => {
    const bytes = serializeState(stream([entry]), STATE_VERSION_1_1);
    expect(toHex(bytes)).toBe(hx(0xa3) + hex + METADATA_V11_HEX);
    expect(parseState(bytes, STATE_VERSION_1_1)).toEqual(stream([entry]));
    expect(parseState(fromHex(hx(0xa3) + hex + METADATA_V11_HEX), STATE_VERSION_1_1).entries).toEqual([entry]);
  });

  it('writes deletes, locations, coloured, packfiles, configuration, then metadata, keeping order within a kind', () => {
    const loc2 = { ...location, blob: filled(0xc3) } as StateEntry;
    const s = stream([configuration, packfile, location, coloured, del, loc2]);
    const bytes = serializeState(s, STATE_VERSION_1_1);
    const loc2Hex = LOCATION_HEX.replace(hx(0xc1), hx(0xc3));
    expect(toHex(bytes)).toBe(hx(0xa3) + DELETE_HEX + LOCATION_HEX + loc2Hex + COLOURED_HEX + PACKFILE_HEX + CONFIGURATION_HEX + METADATA_V11_HEX);
    expect(parseState(bytes, STATE_VERSION_1_1).entries).toEqual([del, location, loc2, coloured, packfile, configuration]);
  });

  it('an all-zero parent is "no parent"; an empty state is parent + terminator', () => {
    const bytes = serializeState(stream([], null), STATE_VERSION_1_1);
    expect(toHex(bytes)).toBe('00'.repeat(32) + METADATA_V11_HEX);
    expect(parseState(bytes, STATE_VERSION_1_1)).toEqual(stream([], null));
    expect(toHex(parseState(serializeState(stream([]), STATE_VERSION_1_1), STATE_VERSION_1_1).parent!)).toBe(hx(0xa3));
  });

  it('round-trips edge values: negative times, offsets up to 2^53-1, empty and maximal configuration', () => {
    const s = stream([
      { ...location, offset: Number.MAX_SAFE_INTEGER, length: 0xffffffff, flags: 0xffffffff, blobVersion: 0xffffffff, blobType: 255 },
      { ...coloured, when: -1n, type: 4 },
      { ...packfile, timestamp: -(2n ** 63n) },
      { kind: 'configuration', key: '', value: new Uint8Array(0), createdAt: 2n ** 63n - 1n },
      { kind: 'configuration', key: 'k'.repeat(255), value: new Uint8Array(65535).fill(3), createdAt: 0n },
    ]);
    s.metadata.timestamp = -5n;
    expect(parseState(serializeState(s, STATE_VERSION_1_1), STATE_VERSION_1_1)).toEqual(s);
  });

  it('refuses to serialize what the layout cannot carry', () => {
    expect(() => serializeState(stream([{ ...configuration, key: 'k'.repeat(256) } as StateEntry]), STATE_VERSION_1_1)).toThrow(TypeError);
    expect(() => serializeState(stream([{ ...configuration, value: new Uint8Array(65536) } as StateEntry]), STATE_VERSION_1_1)).toThrow(TypeError);
    expect(() => serializeState(stream([{ ...location, blob: new Uint8Array(31) } as StateEntry]), STATE_VERSION_1_1)).toThrow(TypeError);
    expect(() => serializeState(stream([{ ...location, blobType: 256 } as StateEntry]), STATE_VERSION_1_1)).toThrow(TypeError);
    expect(() => serializeState(stream([{ ...del, entryType: 5 } as StateEntry]), STATE_VERSION_1_1)).toThrow(TypeError);
    expect(() => serializeState(stream([{ ...coloured, when: 2n ** 63n } as StateEntry]), STATE_VERSION_1_1)).toThrow(TypeError);
  });
});

describe('v1.0.0 streams', () => {
  it('have no parent header: the same entries are the v1.1.0 bytes without the first 32', () => {
    const entries = [location, coloured, packfile, configuration];
    const v11 = serializeState(stream(entries), STATE_VERSION_1_1);
    const v10 = serializeState(stream(entries, null), STATE_VERSION_1_0);
    expect(toHex(v10)).toBe(toHex(v11.subarray(32)));
    expect(toHex(v10)).toBe(LOCATION_HEX + COLOURED_HEX + PACKFILE_HEX + CONFIGURATION_HEX + METADATA_V11_HEX);
    expect(parseState(v10, STATE_VERSION_1_0)).toEqual(stream(entries, null));
    // read as 1.1.0, the first 32 bytes would be taken for a parent: the version decides
    expect(code(() => parseState(v10, STATE_VERSION_1_1))).toBe('CORRUPT');
  });

  it('cannot carry ET_DELETE or a parent (UNSUPPORTED); type 6 in a v1.0 stream is an unknown entry, skipped', () => {
    expect(code(() => serializeState(stream([del], null), STATE_VERSION_1_0))).toBe('UNSUPPORTED');
    expect(code(() => serializeState(stream([location]), STATE_VERSION_1_0))).toBe('UNSUPPORTED');
    const bytes = fromHex(DELETE_HEX + LOCATION_HEX + METADATA_V11_HEX);
    expect(parseState(bytes, STATE_VERSION_1_0).entries).toEqual([location]);
  });

  it('versions newer than 1.1.0 are UNSUPPORTED both ways', () => {
    const bytes = serializeState(stream([location]), STATE_VERSION_1_1);
    expect(code(() => parseState(bytes, version(1, 1, 1)))).toBe('UNSUPPORTED');
    expect(code(() => parseState(bytes, version(2, 0, 0)))).toBe('UNSUPPORTED');
    expect(code(() => serializeState(stream([location]), version(1, 2, 0)))).toBe('UNSUPPORTED');
  });
});

describe('parseState refuses malformed streams', () => {
  const full = serializeState(stream([del, location, coloured, packfile, configuration]), STATE_VERSION_1_1);

  it('every truncation is CORRUPT, and so are trailing bytes', () => {
    for (let n = 0; n < full.length; n++) expect(code(() => parseState(full.subarray(0, n), STATE_VERSION_1_1)), `cut at ${n}`).toBe('CORRUPT');
    const v10 = serializeState(stream([location, configuration], null), STATE_VERSION_1_0);
    for (let n = 0; n < v10.length; n++) expect(code(() => parseState(v10.subarray(0, n), STATE_VERSION_1_0)), `cut at ${n}`).toBe('CORRUPT');
    expect(code(() => parseState(concatBytes([full, new Uint8Array(1)]), STATE_VERSION_1_1))).toBe('CORRUPT');
  });

  it('skips unknown entry types by their length (as kloset\'s golden "unknown entry" fixture)', () => {
    const unknown = fromHex('2a' + '07000000' + toHex(te.encode('garbage')));
    const spliced = concatBytes([full.subarray(0, 32), unknown, full.subarray(32)]);
    expect(parseState(spliced, STATE_VERSION_1_1)).toEqual(parseState(full, STATE_VERSION_1_1));
    const zeroLength = concatBytes([full.subarray(0, 32), fromHex('00' + '00000000'), full.subarray(32)]);
    expect(parseState(zeroLength, STATE_VERSION_1_1)).toEqual(parseState(full, STATE_VERSION_1_1));
    const overlong = concatBytes([full.subarray(0, 32), fromHex('2a' + 'ffffffff'), full.subarray(32)]);
    expect(code(() => parseState(overlong, STATE_VERSION_1_1))).toBe('CORRUPT');
  });

  it('wrong fixed lengths are CORRUPT', () => {
    for (const [hex, len] of [[LOCATION_HEX, 85], [COLOURED_HEX, 41], [PACKFILE_HEX, 72], [DELETE_HEX, 66]] as const) {
      for (const wrong of [len - 1, len + 1]) {
        const body = fromHex(hex).subarray(5);
        const entry = new Uint8Array(5 + wrong);
        entry[0] = fromHex(hex)[0]!;
        new DataView(entry.buffer).setUint32(1, wrong, true);
        entry.set(body.subarray(0, Math.min(wrong, body.length)), 5);
        expect(code(() => parseState(fromHex(hx(0) + toHex(entry) + METADATA_V11_HEX), STATE_VERSION_1_1))).toBe('CORRUPT');
      }
    }
  });

  it('a configuration entry whose key or value lengths disagree with its length is CORRUPT', () => {
    const good = fromHex(hx(0) + CONFIGURATION_HEX + METADATA_V11_HEX);
    expect(parseState(good, STATE_VERSION_1_1).entries).toEqual([configuration]);
    const longKey = good.slice();
    longKey[32 + 5] = 0x0c; // keyLen 11 → 12
    expect(code(() => parseState(longKey, STATE_VERSION_1_1))).toBe('CORRUPT');
    const hugeKey = good.slice();
    hugeKey[32 + 5] = 0xff;
    expect(code(() => parseState(hugeKey, STATE_VERSION_1_1))).toBe('CORRUPT');
    const shortValue = good.slice();
    shortValue[32 + 5 + 12] = 0x0c; // valueLen 13 → 12
    expect(code(() => parseState(shortValue, STATE_VERSION_1_1))).toBe('CORRUPT');
    const tiny = fromHex(hx(0) + '05' + '0a000000' + '00'.repeat(10) + METADATA_V11_HEX);
    expect(code(() => parseState(tiny, STATE_VERSION_1_1))).toBe('CORRUPT');
  });

  it('a delete of an unknown entry kind and a location offset past 2^53 are CORRUPT', () => {
    const badDelete = fromHex(hx(0) + DELETE_HEX.replace(/^06420000000209/, '06420000000509') + METADATA_V11_HEX);
    expect(code(() => parseState(badDelete, STATE_VERSION_1_1))).toBe('CORRUPT');
    for (const t of [2, 3, 4]) {
      const ok = fromHex(hx(0) + '06' + '42000000' + `0${t}` + '09' + hx(1) + hx(2) + METADATA_V11_HEX);
      expect(parseState(ok, STATE_VERSION_1_1).entries[0]).toMatchObject({ kind: 'delete', entryType: t, blobType: 9 });
    }
    expect(ET_DELETE).toBe(6);
    const far = fromHex(hx(0) + LOCATION_HEX.replace('6400000000000000', '0000000000002000') + METADATA_V11_HEX);
    expect(code(() => parseState(far, STATE_VERSION_1_1))).toBe('CORRUPT');
  });

  it('a stream without its terminator is CORRUPT', () => {
    expect(code(() => parseState(fromHex(hx(0) + LOCATION_HEX), STATE_VERSION_1_1))).toBe('CORRUPT');
    expect(code(() => parseState(new Uint8Array(32), STATE_VERSION_1_1))).toBe('CORRUPT');
    expect(code(() => parseState(new Uint8Array(0), STATE_VERSION_1_0))).toBe('CORRUPT');
  });
});

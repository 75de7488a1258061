import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../src/kloset/base/bytes.js';
import { PTAR_PACKFILE_MAC, PTAR_STATE_MAC, PtarStorage } from '../../src/connectors/ptar/storage.js';
import { pattern, randomMac, rejectsWith, storageContract, streamBody } from './contract.js';

storageContract(
  'ptar',
  async () => {
    const base = await mkdtemp(join(tmpdir(), 'kloset-ptar-'));
    return { storage: new PtarStorage(join(base, 'store.ptar')), cleanup: () => rm(base, { recursive: true, force: true }) };
  },
  { singlePackfileAndState: true },
);

/** The trailer as the spec writes it, built by hand: 6 × int64 little-endian. */
function trailer(fields: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(48);
  const dv = new DataView(out.buffer);
  fields.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

const te = new TextEncoder();
const MAGIC_AND_VERSION = concatBytes([te.encode('_PLATAR_'), Uint8Array.from([0x00, 0x00, 0x01, 0x00])]);

describe('PtarStorage', () => {
  let base: string;
  let path: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'kloset-ptar-'));
    path = join(base, 'backup.ptar');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const config = te.encode('the CONFIG');
  const packfile = pattern(100_000, 21);
  const state = pattern(777, 22);

  async function writePtar(): Promise<void> {
    const w = new PtarStorage(path);
    await w.create(config);
    await w.put('packfile', randomMac(), streamBody(packfile, [4096, 1, 30_000]));
    await w.put('state', randomMac(), state);
    await w.close();
  }

  /** A valid file, byte by byte as spec §1.4 lays it out. */
  function expectedFile(): Uint8Array {
    const packOff = 12 + config.length;
    const stateOff = packOff + packfile.length;
    return concatBytes([MAGIC_AND_VERSION, config, packfile, state, trailer([12, config.length, packOff, packfile.length, stateOff, state.length])]);
  }

  it('the fixed MACs are plakar\'s', () => {
    expect(toHex(PTAR_STATE_MAC)).toBe('0f0e0d0c0b0a09080706050403020100' + '00'.repeat(16));
    expect(toHex(PTAR_PACKFILE_MAC)).toBe('000102030405060708090a0b0c0d0e0f' + '00'.repeat(16));
    expect(new PtarStorage(path).location).toBe(`ptar://${path}`);
  });

  it('writes magic, version, CONFIG, packfile, state and the trailer exactly', async () => {
    await writePtar();
    const bytes = new Uint8Array(await readFile(path));
    expect(bytes.length).toBe(12 + config.length + packfile.length + state.length + 48);
    expect(toHex(bytes.subarray(0, 12))).toBe('5f504c415441525f' + '00000100');
    expect(Buffer.from(bytes).equals(Buffer.from(expectedFile()))).toBe(true);
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('reads a ptar: CONFIG, constant MACs, the packfile under any MAC, the state under its MAC', async () => {
    await writeFile(path, expectedFile());
    const r = new PtarStorage(path);
    expect(await r.open()).toEqual(config);
    expect((await r.list('state')).map(toHex)).toEqual([toHex(PTAR_STATE_MAC)]);
    expect((await r.list('packfile')).map(toHex)).toEqual([toHex(PTAR_PACKFILE_MAC)]);
    expect(await r.list('lock')).toEqual([]);
    expect(Buffer.from(await r.get('packfile', randomMac())).equals(Buffer.from(packfile))).toBe(true);
    expect(await r.get('packfile', PTAR_PACKFILE_MAC, { offset: 99_990, length: 10 })).toEqual(packfile.slice(99_990));
    await rejectsWith(r.get('packfile', PTAR_PACKFILE_MAC, { offset: 99_995, length: 10 }), 'CORRUPT'); // would read into the state
    expect(await r.get('state', PTAR_STATE_MAC)).toEqual(state);
    expect(await r.get('state', PTAR_STATE_MAC, { offset: 700, length: 77 })).toEqual(state.slice(700));
    await rejectsWith(r.get('state', PTAR_PACKFILE_MAC), 'NOT_FOUND');
    await r.close();
  });

  it('is read-only once written; locks are no-ops', async () => {
    await writePtar();
    const r = new PtarStorage(path);
    await r.open();
    const e = await rejectsWith(r.put('packfile', randomMac(), pattern(3)), 'CONFLICT');
    expect(e.message).toMatch(/ptar files are read-only once written/);
    await rejectsWith(r.put('state', randomMac(), pattern(3)), 'CONFLICT');
    await rejectsWith(r.delete('packfile', randomMac()), 'CONFLICT');
    await rejectsWith(r.delete('state', PTAR_STATE_MAC), 'CONFLICT');
    await r.delete('state', randomMac()); // not there: fine
    await r.put('lock', randomMac(), pattern(3));
    await r.delete('lock', randomMac());
    expect(await r.list('lock')).toEqual([]);
    await rejectsWith(r.create(config), 'CONFLICT');
    await r.close();
    await rejectsWith(new PtarStorage(path).create(config), 'CONFLICT');
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(expectedFile()))).toBe(true);
  });

  it('nothing exists at the target path until close(); the temp file sits next to it', async () => {
    const w = new PtarStorage(path);
    await w.create(config);
    await w.put('packfile', randomMac(), packfile);
    await w.put('state', randomMac(), state);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    const names = await readdir(base);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^backup\.ptar\.tmp\.[0-9a-f]+$/);
    await w.close();
    expect(await readdir(base)).toEqual(['backup.ptar']);
    expect(await new PtarStorage(path).open()).toEqual(config);
  });

  it('close() before the state was put abandons the write', async () => {
    const w = new PtarStorage(path);
    await w.create(config);
    await w.put('packfile', randomMac(), packfile);
    await w.close();
    expect(await readdir(base)).toEqual([]);
    await rejectsWith(new PtarStorage(path).open(), 'NOT_FOUND');
  });

  it('takes exactly one packfile then one state', async () => {
    const w = new PtarStorage(path);
    await w.create(config);
    await rejectsWith(w.put('state', randomMac(), state), 'CONFLICT');
    await w.put('packfile', randomMac(), packfile);
    await rejectsWith(w.put('packfile', randomMac(), packfile), 'CONFLICT');
    await w.put('state', randomMac(), state);
    await rejectsWith(w.put('state', randomMac(), state), 'CONFLICT');
    await rejectsWith(w.put('packfile', randomMac(), packfile), 'CONFLICT');
    await w.close();
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(expectedFile()))).toBe(true);
  });

  it('a failed packfile put is cut back, so a retry writes the same file', async () => {
    const w = new PtarStorage(path);
    await w.create(config);
    const failing = {
      size: packfile.length,
      async *stream() {
        yield packfile.subarray(0, 50_000);
        throw new Error('source gone');
      },
    };
    await expect(w.put('packfile', randomMac(), failing)).rejects.toThrow('source gone');
    await rejectsWith(w.put('packfile', randomMac(), streamBody(packfile, [1000], packfile.length + 5)), 'CORRUPT');
    await w.put('packfile', randomMac(), streamBody(packfile, [7000]));
    await w.put('state', randomMac(), state);
    await w.close();
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(expectedFile()))).toBe(true);
  });

  it('refuses a CONFIG outside 1..32768 bytes, and a missing directory', async () => {
    await rejectsWith(new PtarStorage(path).create(new Uint8Array(0)), 'CORRUPT');
    await rejectsWith(new PtarStorage(path).create(new Uint8Array(32 * 1024 + 1)), 'CORRUPT');
    await rejectsWith(new PtarStorage(join(base, 'no/such/dir.ptar')).create(config), 'NOT_FOUND');
    expect(await readdir(base)).toEqual([]);
  });

  describe('damaged files are CORRUPT on open', () => {
    const cases: Array<[string, () => Uint8Array]> = [];
    const good = () => expectedFile();
    for (const keep of [0, 5, 8, 11, 12, 40, 60]) cases.push([`truncated to ${keep} bytes`, () => good().slice(0, keep)]);
    cases.push(['missing its last byte', () => good().slice(0, -1)]);
    cases.push(['missing its trailer', () => good().slice(0, -48)]);
    cases.push(['with a byte appended', () => concatBytes([good(), new Uint8Array(1)])]);
    cases.push(['garbage', () => pattern(4096, 99)]);
    cases.push(['with a bad magic', () => {
      const b = good();
      b[1] = 0x51; // "_QLATAR_"
      return b;
    }]);
    const packOff = 12 + 10; // config is 10 bytes
    const stateOff = packOff + 100_000;
    const withTrailer = (fields: Array<number | bigint>) => () => concatBytes([good().slice(0, -48), trailer(fields)]);
    cases.push(['configOffset ≠ 12', withTrailer([13, 10, packOff, 100_000, stateOff, 777])]);
    cases.push(['configLength 0', withTrailer([12, 0, packOff, 100_000, stateOff, 777])]);
    cases.push(['negative packfileLength', withTrailer([12, 10, packOff, -1, stateOff, 777])]);
    cases.push(['packfileOffset inside CONFIG', withTrailer([12, 10, packOff - 1, 100_001, stateOff, 777])]);
    cases.push(['state running into the trailer', withTrailer([12, 10, packOff, 100_000, stateOff, 778])]);
    cases.push(['state past the end', withTrailer([12, 10, packOff, 100_000, stateOff, 10_000_000])]);
    cases.push(['a 2^62 length', withTrailer([12, 10, packOff, 1n << 62n, stateOff, 777])]);
    cases.push(['configLength over 32 KiB', () => {
      const big = new Uint8Array(40_000);
      return concatBytes([MAGIC_AND_VERSION, big, trailer([12, 40_000, 40_012, 0, 40_012, 0])]);
    }]);

    it('the untouched file opens (control)', async () => {
      await writeFile(path, good());
      expect(await new PtarStorage(path).open()).toEqual(config);
    });

    it.each(cases)('%s', async (_what, bytes) => {
      await writeFile(path, bytes());
      const r = new PtarStorage(path);
      await rejectsWith(r.open(), 'CORRUPT');
      await rejectsWith(r.list('packfile'), 'CORRUPT');
    });

    it('a file cut short after it was opened reads as CORRUPT, not as short data', async () => {
      await writeFile(path, good());
      const r = new PtarStorage(path);
      await r.open();
      await truncate(path, 12 + 10 + 50_000);
      await rejectsWith(r.get('packfile', randomMac(), { offset: 40_000, length: 20_000 }), 'CORRUPT');
      await r.close();
    });

    it('another major version is UNSUPPORTED', async () => {
      const b = good();
      b.set(fromHex('00000200'), 8);
      await writeFile(path, b);
      await rejectsWith(new PtarStorage(path).open(), 'UNSUPPORTED');
    });
  });
});

/**
 * The Storage contract suite (src/kloset/storage/storage.ts): one set of tests every backend
 * passes — memory, fs, ptar, S3 — so the layers above can rely on the contract, not on a backend.
 *
 * `make()` returns a storage at a location where nothing exists yet (each test makes its own,
 * creates the store itself, and closes it before `cleanup`).
 *
 * `caps.singlePackfileAndState` is the ptar shape: one packfile, then one state, each listed
 * under a fixed name chosen by the backend (so objects are read back by the name `list`
 * reports), and locks that are accepted but never stored. Tests that need several objects of
 * one kind are skipped for it; everything else is checked the same way.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { KlosetError, type ErrorCode } from '../../src/kloset/base/errors.js';
import { STORAGE_RESOURCES, type PutBody, type Storage, type StorageResource } from '../../src/kloset/storage/storage.js';

export interface ContractStore {
  storage: Storage;
  cleanup(): Promise<void>;
}

export interface ContractCaps {
  /** ptar: exactly one packfile then one state, listed under fixed names; locks are no-ops */
  singlePackfileAndState?: boolean;
}

const te = new TextEncoder();

export function randomMac(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** Deterministic, incompressible-looking bytes (xorshift32), so offsets are easy to check. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, length >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** A sized stream yielding `data` in parts of the given sizes (cycled), empty parts included. */
export function streamBody(data: Uint8Array, partSizes: readonly number[] = [65536], size = data.length): PutBody & { streams: number } {
  const body = {
    size,
    streams: 0,
    async *stream() {
      body.streams++;
      let o = 0;
      for (let i = 0; o < data.length; i++) {
        const n = partSizes[i % partSizes.length]!;
        yield data.subarray(o, Math.min(data.length, o + n));
        o += n;
      }
    },
  };
  return body;
}

export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<KlosetError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected a KlosetError ${code}`).toBeInstanceOf(KlosetError);
  expect((e as KlosetError).code, (e as Error).message).toBe(code);
  return e as KlosetError;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const hexes = (macs: readonly Uint8Array[]) => macs.map(toHex).sort();

export function storageContract(name: string, make: () => Promise<ContractStore>, caps: ContractCaps = {}): void {
  const single = caps.singlePackfileAndState === true;
  const CONFIG = te.encode('CONFIG bytes: opaque to storage \u0000\u00ff');

  /** Runs `fn` on a fresh storage (created unless `create: false`), then closes and cleans up. */
  async function withStore(fn: (s: Storage) => Promise<void>, opts: { create?: boolean } = {}): Promise<void> {
    const { storage, cleanup } = await make();
    let failed = true;
    try {
      if (opts.create !== false) await storage.create(CONFIG);
      await fn(storage);
      failed = false;
    } finally {
      try {
        await storage.close().catch((e: unknown) => {
          if (!failed) throw e;
        });
      } finally {
        await cleanup();
      }
    }
  }

  /** The name an object is read back by: the one put, or for the ptar shape the one listed. */
  async function nameOf(s: Storage, resource: StorageResource, put: Uint8Array): Promise<Uint8Array> {
    if (!single || resource === 'lock') return put;
    const listed = await s.list(resource);
    expect(listed).toHaveLength(1);
    return listed[0]!;
  }

  /** Resources that can hold objects read back by name in this backend. */
  const readable: StorageResource[] = single ? ['packfile'] : [...STORAGE_RESOURCES];

  describe(`storage contract: ${name}`, () => {
    describe('create and open', () => {
      it('has a location string', async () => {
        await withStore(async (s) => {
          expect(typeof s.location).toBe('string');
          expect(s.location.length).toBeGreaterThan(0);
        });
      });

      it('open of a store that was never created is NOT_FOUND', async () => {
        await withStore(async (s) => {
          await rejectsWith(s.open(), 'NOT_FOUND');
        }, { create: false });
      });

      it('create then open returns CONFIG; both sides are copies', async () => {
        await withStore(async (s) => {
          const config = CONFIG.slice();
          await s.create(config);
          config.fill(0);
          const opened = await s.open();
          expect(opened).toEqual(CONFIG);
          opened.fill(0);
          expect(await s.open()).toEqual(CONFIG);
        }, { create: false });
      });

      it('a second create is CONFLICT and keeps the first CONFIG', async () => {
        await withStore(async (s) => {
          await rejectsWith(s.create(te.encode('another CONFIG')), 'CONFLICT');
          expect(await s.open()).toEqual(CONFIG);
        });
      });
    });

    describe('objects', () => {
      if (!single) {
        for (const r of STORAGE_RESOURCES) {
          it(`${r}: put, get, list and delete round trip`, async () => {
            await withStore(async (s) => {
              const [a, b] = [randomMac(), randomMac()];
              const [da, db] = [pattern(100, 1), pattern(3000, 2)];
              expect(await s.list(r)).toEqual([]);
              await s.put(r, a, da);
              await s.put(r, b, db);
              expect(hexes(await s.list(r))).toEqual(hexes([a, b]));
              expect(await s.get(r, a)).toEqual(da);
              expect(await s.get(r, b)).toEqual(db);
              await s.delete(r, a);
              expect(hexes(await s.list(r))).toEqual(hexes([b]));
              await rejectsWith(s.get(r, a), 'NOT_FOUND');
              await s.delete(r, a);
              expect(await s.get(r, b)).toEqual(db);
            });
          });

          it(`${r}: a missing object is NOT_FOUND on get; deleting it is fine`, async () => {
            await withStore(async (s) => {
              const m = randomMac();
              await rejectsWith(s.get(r, m), 'NOT_FOUND');
              await rejectsWith(s.get(r, m, { offset: 0, length: 1 }), 'NOT_FOUND');
              await s.delete(r, m);
              expect(await s.list(r)).toEqual([]);
            });
          });

          it(`${r}: putting an existing name replaces the object`, async () => {
            await withStore(async (s) => {
              const m = randomMac();
              await s.put(r, m, pattern(500, 3));
              await s.put(r, m, pattern(500, 3));
              expect(hexes(await s.list(r))).toEqual(hexes([m]));
              await s.put(r, m, pattern(70, 4));
              expect(await s.get(r, m)).toEqual(pattern(70, 4));
              expect(await s.list(r)).toHaveLength(1);
            });
          });

          it(`${r}: resource kinds are separate namespaces`, async () => {
            await withStore(async (s) => {
              const m = randomMac();
              await s.put(r, m, pattern(10));
              for (const other of STORAGE_RESOURCES.filter((x) => x !== r)) {
                expect(await s.list(other)).toEqual([]);
                await rejectsWith(s.get(other, m), 'NOT_FOUND');
              }
            });
          });
        }
      } else {
        it('packfile then state: each listed under one name that reads it back', async () => {
          await withStore(async (s) => {
            expect(await s.list('packfile')).toEqual([]);
            expect(await s.list('state')).toEqual([]);
            const [pack, state] = [pattern(5000, 5), pattern(300, 6)];
            await s.put('packfile', randomMac(), pack);
            expect(await s.get('packfile', await nameOf(s, 'packfile', randomMac()))).toEqual(pack);
            expect(await s.list('state')).toEqual([]);
            await s.put('state', randomMac(), state);
            expect(await s.get('state', await nameOf(s, 'state', randomMac()))).toEqual(state);
            expect(await s.get('packfile', await nameOf(s, 'packfile', randomMac()))).toEqual(pack);
          });
        });

        it('locks are accepted and never stored', async () => {
          await withStore(async (s) => {
            const m = randomMac();
            await s.put('lock', m, pattern(40));
            expect(await s.list('lock')).toEqual([]);
            await rejectsWith(s.get('lock', m), 'NOT_FOUND');
            await s.delete('lock', m);
          });
        });

        it('missing objects are NOT_FOUND on get; deleting them is fine', async () => {
          await withStore(async (s) => {
            await rejectsWith(s.get('packfile', randomMac()), 'NOT_FOUND');
            await rejectsWith(s.get('state', randomMac()), 'NOT_FOUND');
            await s.delete('packfile', randomMac());
            await s.delete('state', randomMac());
            await s.put('packfile', randomMac(), pattern(10));
            await s.put('state', randomMac(), pattern(10));
            await rejectsWith(s.get('state', randomMac()), 'NOT_FOUND');
            await s.delete('state', randomMac());
          });
        });
      }

      for (const r of readable) {
        it(`${r}: stored bytes are copies (put and get do not alias the caller's buffers)`, async () => {
          await withStore(async (s) => {
            const data = pattern(256, 7);
            const m = randomMac();
            await s.put(r, m, data);
            const name = await nameOf(s, r, m);
            data.fill(0);
            const got = await s.get(r, name);
            expect(got).toEqual(pattern(256, 7));
            got.fill(1);
            expect(await s.get(r, name)).toEqual(pattern(256, 7));
          });
        });

        it(`${r}: an empty object round-trips`, async () => {
          await withStore(async (s) => {
            const m = randomMac();
            await s.put(r, m, new Uint8Array(0));
            const name = await nameOf(s, r, m);
            expect(await s.get(r, name)).toEqual(new Uint8Array(0));
            expect(await s.get(r, name, { offset: 0, length: 0 })).toEqual(new Uint8Array(0));
            await rejectsWith(s.get(r, name, { offset: 0, length: 1 }), 'CORRUPT');
          });
        });
      }
    });

    describe('ranged reads', () => {
      for (const r of readable) {
        it(`${r}: exactly range.length bytes from range.offset; past the end is CORRUPT`, async () => {
          await withStore(async (s) => {
            const data = pattern(1000, 8);
            const m = randomMac();
            await s.put(r, m, data);
            const name = await nameOf(s, r, m);
            const ok: Array<[number, number]> = [
              [0, 10], [0, 1], [400, 100], [990, 10], [999, 1], [0, 1000],
              [0, 0], [500, 0], [1000, 0],
            ];
            for (const [offset, length] of ok) {
              const got = await s.get(r, name, { offset, length });
              expect(got.length, `${offset}+${length}`).toBe(length);
              expect(got, `${offset}+${length}`).toEqual(data.slice(offset, offset + length));
            }
            const bad: Array<[number, number]> = [[995, 10], [1000, 1], [999, 2], [1001, 0], [5000, 10], [0, 1001]];
            for (const [offset, length] of bad) await rejectsWith(s.get(r, name, { offset, length }), 'CORRUPT');
          });
        });
      }
    });

    describe('ranged reads are the caller\'s', () => {
      it('packfile: a range spanning a whole buffer may be transferred (detached) without harming later reads', async () => {
        await withStore(async (s) => {
          const data = pattern(3 << 20, 9);
          const m = randomMac();
          await s.put('packfile', m, data);
          const name = await nameOf(s, 'packfile', m);
          // block-aligned whole-block ranges are what a block cache could hand out by mistake
          const ranges: Array<[number, number]> = [[0, 1 << 20], [1 << 20, 1 << 20], [1 << 20, 1 << 20], [0, 1 << 20], [100, 5000], [100, 5000]];
          for (const [offset, length] of ranges) {
            const got = await s.get('packfile', name, { offset, length });
            expect(sameBytes(got, data.subarray(offset, offset + length)), `${offset}+${length}`).toBe(true);
            if (got.byteOffset === 0 && got.byteLength === got.buffer.byteLength) structuredClone(got.buffer, { transfer: [got.buffer as ArrayBuffer] });
            else got.fill(0); // a view: the caller may still write to it
          }
        });
      });
    });

    describe('stream bodies', () => {
      const r: StorageResource = 'packfile';

      it('a multi-part stream (with empty parts) is stored whole', async () => {
        await withStore(async (s) => {
          const data = pattern(300_000, 9);
          const m = randomMac();
          await s.put(r, m, streamBody(data, [0, 1, 7, 0, 4096, 65536, 3, 100_000, 0]));
          const name = await nameOf(s, r, m);
          expect(sameBytes(await s.get(r, name), data)).toBe(true);
          expect(await s.get(r, name, { offset: 4100, length: 70_000 })).toEqual(data.slice(4100, 74_100));
        });
      });

      const failing: Array<[string, (data: Uint8Array) => PutBody]> = [
        ['longer than its size', (d) => streamBody(d, [1000], d.length - 1)],
        ['shorter than its size', (d) => streamBody(d, [1000], d.length + 1)],
        ['that fails midway', (d) => ({
          size: d.length,
          async *stream() {
            yield d.subarray(0, 2000);
            throw new Error('source read failed');
          },
        })],
      ];
      for (const [what, body] of failing) {
        it(`a stream ${what} is refused, leaves nothing, and the name can then be put`, async () => {
          await withStore(async (s) => {
            const data = pattern(5000, 10);
            const m = randomMac();
            const e = await s.put(r, m, body(data)).then(() => undefined, (err: unknown) => err);
            expect(e, 'put must fail').toBeInstanceOf(Error);
            if (what !== 'that fails midway') expect(e).toBeInstanceOf(KlosetError);
            expect(await s.list(r)).toEqual([]);
            await rejectsWith(s.get(r, m), 'NOT_FOUND');
            await s.put(r, m, streamBody(data, [999]));
            expect(await s.get(r, await nameOf(s, r, m))).toEqual(data);
          });
        });
      }

      it('list and get never show an object whose put has not resolved', async () => {
        await withStore(async (s) => {
          const data = pattern(3 << 20, 11);
          const half = data.length / 2;
          const m = randomMac();
          let release!: () => void;
          const gate = new Promise<void>((resolve) => (release = resolve));
          let reached!: () => void;
          const atGate = new Promise<void>((resolve) => (reached = resolve));
          const putting = s.put(r, m, {
            size: data.length,
            async *stream() {
              yield data.subarray(0, half);
              reached();
              await gate;
              yield data.subarray(half);
            },
          });
          await Promise.race([atGate, putting.then(() => Promise.reject(new Error('put resolved before its stream ended')))]);
          expect(await s.list(r)).toEqual([]);
          await rejectsWith(s.get(r, m), 'NOT_FOUND');
          release();
          await putting;
          const name = await nameOf(s, r, m);
          if (!single) expect(hexes(await s.list(r))).toEqual(hexes([m]));
          expect(sameBytes(await s.get(r, name), data)).toBe(true);
        });
      });
    });

    describe('scale', () => {
      it.skipIf(single)('1,000 objects are listed back exactly', async () => {
        await withStore(async (s) => {
          const macs = Array.from({ length: 1000 }, () => randomMac());
          macs[0]!.fill(0);
          macs[1]!.fill(0xff);
          for (let i = 0; i < macs.length; i += 50) {
            await Promise.all(macs.slice(i, i + 50).map((m, j) => s.put('packfile', m, pattern(16, i + j + 1))));
          }
          const listed = await s.list('packfile');
          expect(listed).toHaveLength(1000);
          expect(hexes(listed)).toEqual(hexes(macs));
          expect(await s.list('state')).toEqual([]);
          expect(await s.list('lock')).toEqual([]);
          expect(await s.get('packfile', macs[999]!)).toEqual(pattern(16, 950 + 49 + 1));
        });
      });

      it('a 20 MB object round-trips by stream, with ranged reads', async () => {
        await withStore(async (s) => {
          const size = 20 * 1024 * 1024;
          const data = pattern(size, 12);
          const parts = [(1 << 20) + 13, 333_333, 17, 4 << 20];
          const body = streamBody(data, parts);
          const m = randomMac();
          await s.put('packfile', m, body);
          expect(body.streams).toBe(1);
          const name = await nameOf(s, 'packfile', m);
          const boundary = parts[0]! + parts[1]!;
          const ranges: Array<[number, number]> = [
            [0, 100], [boundary - 50, 100], [10 << 20, 1 << 20], [size - 100, 100], [size - 1, 1], [size, 0],
          ];
          for (const [offset, length] of ranges) {
            expect(sameBytes(await s.get('packfile', name, { offset, length }), data.subarray(offset, offset + length)), `${offset}+${length}`).toBe(true);
          }
          await rejectsWith(s.get('packfile', name, { offset: size - 1, length: 2 }), 'CORRUPT');
          const whole = await s.get('packfile', name);
          expect(whole.length).toBe(size);
          expect(sameBytes(whole, data)).toBe(true);
        });
      });
    });
  });
}

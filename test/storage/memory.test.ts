import { describe, expect, it } from 'vitest';
import { KlosetError, type ErrorCode } from '../../src/kloset/base/errors.js';
import { FaultyStorage } from '../../src/kloset/storage/faulty.js';
import { RetryingStorage } from '../../src/kloset/storage/retrying.js';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { pattern, randomMac, rejectsWith, storageContract, streamBody } from './contract.js';

const noCleanup = async () => {};

storageContract('memory', async () => ({ storage: new MemoryStorage(), cleanup: noCleanup }));
storageContract('retrying(memory)', async () => ({ storage: new RetryingStorage(new MemoryStorage()), cleanup: noCleanup }));
storageContract('faulty(memory) without faults', async () => ({ storage: new FaultyStorage(new MemoryStorage()), cleanup: noCleanup }));

describe('MemoryStorage', () => {
  it('names its location memory://', () => {
    expect(new MemoryStorage('x').location).toBe('memory://x');
    expect(new MemoryStorage().location).not.toBe(new MemoryStorage().location);
  });

  it('refuses object names that are not 32-byte MACs', async () => {
    const s = new MemoryStorage();
    await s.create(new Uint8Array([1]));
    await rejectsWith(s.put('packfile', new Uint8Array(31), pattern(1)), 'CORRUPT');
    await rejectsWith(s.get('packfile', new Uint8Array(33)), 'CORRUPT');
  });

  it('refuses negative and fractional ranges as CORRUPT', async () => {
    const s = new MemoryStorage();
    const m = randomMac();
    await s.put('state', m, pattern(10));
    await rejectsWith(s.get('state', m, { offset: -1, length: 1 }), 'CORRUPT');
    await rejectsWith(s.get('state', m, { offset: 0.5, length: 1 }), 'CORRUPT');
    await rejectsWith(s.get('state', m, { offset: 0, length: -1 }), 'CORRUPT');
  });
});

/** A recorder for the retrying wrapper's waits (no real time passes). */
function sleeper() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('RetryingStorage', () => {
  it('retries IO: fails twice, then succeeds, with growing waits', async () => {
    const faulty = new FaultyStorage(new MemoryStorage());
    const m = randomMac();
    await faulty.put('packfile', m, pattern(100));
    faulty.fail('get', { nth: 2, count: 2 });
    const { waits, sleep } = sleeper();
    const s = new RetryingStorage(faulty, { sleep, random: () => 1 });
    expect(await s.get('packfile', m)).toEqual(pattern(100)); // call 1: fine
    expect(await s.get('packfile', m)).toEqual(pattern(100)); // calls 2, 3 fail; 4 succeeds
    expect(faulty.calls.get).toBe(4);
    expect(waits).toEqual([50, 100]);
  });

  it('gives up after `attempts` tries and throws the last IO error; waits are capped', async () => {
    const faulty = new FaultyStorage(new MemoryStorage()).fail('list', { count: 100 });
    const { waits, sleep } = sleeper();
    const s = new RetryingStorage(faulty, { attempts: 7, baseDelayMs: 100, maxDelayMs: 1000, sleep, random: () => 1 });
    const e = await rejectsWith(s.list('lock'), 'IO');
    expect(e.details).toMatchObject({ injected: true, call: 7 });
    expect(faulty.calls.list).toBe(7);
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('defaults to 5 attempts, 50 ms base; jitter keeps each wait in [cap/2, cap]', async () => {
    const faulty = new FaultyStorage(new MemoryStorage()).fail('open', { count: 100 });
    const { waits, sleep } = sleeper();
    await rejectsWith(new RetryingStorage(faulty, { sleep }).open(), 'IO');
    expect(faulty.calls.open).toBe(5);
    expect(waits).toHaveLength(4);
    waits.forEach((w, n) => {
      const cap = 50 * 2 ** n;
      expect(w).toBeGreaterThanOrEqual(cap / 2);
      expect(w).toBeLessThanOrEqual(cap);
    });
    const s = new RetryingStorage(faulty, { random: () => 0 });
    expect([0, 1, 2, 10].map((n) => s.delayMs(n))).toEqual([25, 50, 100, 1000]);
  });

  it.each<ErrorCode>(['NOT_FOUND', 'CONFLICT', 'CORRUPT', 'AUTH', 'INTEGRITY'])('does not retry %s', async (code) => {
    const faulty = new FaultyStorage(new MemoryStorage()).fail('delete', { code, count: 10 });
    const { waits, sleep } = sleeper();
    await rejectsWith(new RetryingStorage(faulty, { sleep }).delete('lock', randomMac()), code);
    expect(faulty.calls.delete).toBe(1);
    expect(waits).toEqual([]);
  });

  it('does not retry a real NOT_FOUND, nor errors that are not KlosetErrors', async () => {
    const faulty = new FaultyStorage(new MemoryStorage());
    const { waits, sleep } = sleeper();
    const s = new RetryingStorage(faulty, { sleep });
    await rejectsWith(s.get('state', randomMac()), 'NOT_FOUND');
    expect(faulty.calls.get).toBe(1);
    const body = { size: 1, async *stream(): AsyncIterable<Uint8Array> { throw new TypeError('bug'); } };
    await expect(s.put('state', randomMac(), body)).rejects.toThrow(TypeError);
    expect(faulty.calls.put).toBe(1);
    expect(waits).toEqual([]);
  });

  it('re-reads a stream body from stream() on each attempt', async () => {
    const inner = new MemoryStorage();
    const data = pattern(10_000, 3);
    let streams = 0;
    const body = {
      size: data.length,
      async *stream() {
        streams++;
        yield data.subarray(0, 4000);
        if (streams === 1) throw new KlosetError('IO', 'source hiccup');
        yield data.subarray(4000);
      },
    };
    const { sleep } = sleeper();
    const m = randomMac();
    await new RetryingStorage(inner, { sleep }).put('packfile', m, body);
    expect(streams).toBe(2);
    expect(await inner.get('packfile', m)).toEqual(data);
  });

  it('retries a put whose write landed but whose answer was lost', async () => {
    const faulty = new FaultyStorage(new MemoryStorage()).fail('put', { after: true });
    const m = randomMac();
    const body = streamBody(pattern(5000), [1234]);
    await new RetryingStorage(faulty, { sleep: sleeper().sleep }).put('state', m, body);
    expect(faulty.calls.put).toBe(2);
    expect(body.streams).toBe(2);
    expect(await faulty.get('state', m)).toEqual(pattern(5000));
  });

  it('does not retry create or close', async () => {
    const faulty = new FaultyStorage(new MemoryStorage()).fail('create').fail('close');
    const s = new RetryingStorage(faulty, { sleep: sleeper().sleep });
    await rejectsWith(s.create(new Uint8Array([1])), 'IO');
    await rejectsWith(s.close(), 'IO');
    expect([faulty.calls.create, faulty.calls.close]).toEqual([1, 1]);
    expect(s.location).toBe(faulty.location);
  });
});

describe('FaultyStorage', () => {
  it('counts calls per operation, failed or not', async () => {
    const s = new FaultyStorage(new MemoryStorage()).fail('put', { nth: 2 });
    await s.create(new Uint8Array([1]));
    await s.open();
    const m = randomMac();
    await s.put('lock', m, pattern(3));
    await rejectsWith(s.put('lock', m, pattern(3)), 'IO');
    await s.put('lock', m, pattern(3));
    await s.list('lock');
    await s.get('lock', m);
    await s.delete('lock', m);
    await s.close();
    expect(s.calls).toEqual({ create: 1, open: 1, list: 1, put: 3, get: 1, delete: 1, close: 1 });
  });

  it('fails exactly the nth call with the configured code, before reaching the inner storage', async () => {
    const inner = new MemoryStorage();
    const s = new FaultyStorage(inner).fail('put', { nth: 2, code: 'CONFLICT' });
    const [a, b, c] = [randomMac(), randomMac(), randomMac()];
    await s.put('state', a, pattern(1));
    const e = await rejectsWith(s.put('state', b, pattern(1)), 'CONFLICT');
    expect(e.message).toMatch(/injected CONFLICT failure on put call 2/);
    await s.put('state', c, pattern(1));
    expect((await inner.list('state')).length).toBe(2);
    await rejectsWith(inner.get('state', b), 'NOT_FOUND');
  });

  it('corrupts a read: flips the byte at an object position, for full and covering ranged reads only', async () => {
    const inner = new MemoryStorage();
    const s = new FaultyStorage(inner);
    const [m, other] = [randomMac(), randomMac()];
    const data = pattern(100, 4);
    await s.put('packfile', m, data);
    await s.put('packfile', other, data);
    await s.put('state', m, data);
    s.corruptRead('packfile', m, 42);
    const full = await s.get('packfile', m);
    expect(full[42]).toBe(data[42]! ^ 0xff);
    expect([...full.subarray(0, 42), ...full.subarray(43)]).toEqual([...data.subarray(0, 42), ...data.subarray(43)]);
    const ranged = await s.get('packfile', m, { offset: 40, length: 5 });
    expect(ranged[2]).toBe(data[42]! ^ 0xff);
    expect(await s.get('packfile', m, { offset: 43, length: 10 })).toEqual(data.slice(43, 53));
    expect(await s.get('packfile', other)).toEqual(data);
    expect(await s.get('state', m)).toEqual(data);
    expect(await inner.get('packfile', m)).toEqual(data);
    s.heal();
    expect(await s.get('packfile', m)).toEqual(data);
  });

  it('truncates a read as if the object ended early', async () => {
    const s = new FaultyStorage(new MemoryStorage());
    const m = randomMac();
    const data = pattern(100, 5);
    await s.put('lock', m, data);
    s.truncateRead('lock', m, 60);
    expect(await s.get('lock', m)).toEqual(data.slice(0, 60));
    expect(await s.get('lock', m, { offset: 50, length: 20 })).toEqual(data.slice(50, 60));
    expect(await s.get('lock', m, { offset: 70, length: 20 })).toEqual(new Uint8Array(0));
    expect(await s.get('lock', m, { offset: 10, length: 20 })).toEqual(data.slice(10, 30));
  });
});

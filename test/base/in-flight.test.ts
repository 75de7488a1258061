import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/kloset/base/in-flight.js';

const deferred = () => {
  let resolve!: () => void, reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setImmediate(r));

describe('InFlight', () => {
  it('oneEnded wakes after a task has left the set, and onEnd runs then', async () => {
    const sizesAtEnd: number[] = [];
    const f: InFlight = new InFlight(() => sizesAtEnd.push(f.size));
    const a = deferred(), b = deferred();
    f.add(a.promise);
    f.add(b.promise);
    let woke = false;
    void f.oneEnded().then(() => { woke = true; });
    await tick();
    expect(woke).toBe(false);
    a.resolve();
    await tick();
    expect(woke).toBe(true);
    expect(f.size).toBe(1);
    expect(sizesAtEnd).toEqual([1]);
    b.resolve();
    await f.all();
    expect(f.size).toBe(0);
    await f.oneEnded(); // nothing under way: at once
  });

  it('keeps a failure for all() without an unhandled rejection', async () => {
    const f = new InFlight();
    const a = deferred();
    f.add(a.promise);
    const all = f.all();
    a.reject(new Error('boom'));
    await expect(all).rejects.toThrow('boom');
    expect(f.size).toBe(0);
  });

  it('each end wakes the waiter while a long task stays pending', async () => {
    const f = new InFlight();
    const long = deferred();
    f.add(long.promise);
    for (let i = 0; i < 1000; i++) {
      const short = deferred();
      f.add(short.promise);
      const ended = f.oneEnded();
      short.resolve();
      await ended;
    }
    // only the long task is left, and one end of it wakes a waiter
    expect(f.size).toBe(1);
    const ended = f.oneEnded();
    long.resolve();
    await ended;
    expect(f.size).toBe(0);
  });
});

/**
 * The two small pieces the S3 connectors use to stay bounded: AbortFanout (one listener on the
 * caller's signal whatever the number of requests) and FairBudget (ByteBudget granted in order,
 * cancellable, with a high-water mark).
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortFanout } from '../../src/connectors/s3/abort-fanout.js';
import { FairBudget } from '../../src/connectors/s3/fair-budget.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('AbortFanout', () => {
  it('links any number of requests through one listener, removed when the last is done', async () => {
    const parent = new AbortController();
    const f = new AbortFanout(parent.signal);
    const links = Array.from({ length: 50 }, () => f.link());
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    for (const l of links.slice(0, 49)) l.done();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    links[49]!.done();
    links[49]!.done(); // twice is harmless
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(f.size).toBe(0);
  });

  it('aborts every linked request with the parent, and links made afterwards start aborted', async () => {
    const parent = new AbortController();
    const f = new AbortFanout(parent.signal);
    const a = f.link();
    const b = f.link();
    const seen: unknown[] = [];
    const running = f.run((s) => new Promise((_, reject) => s!.addEventListener('abort', () => reject(s!.reason))));
    parent.abort(new Error('stop'));
    expect(a.signal!.aborted && b.signal!.aborted).toBe(true);
    await running.catch((e: unknown) => seen.push(e));
    expect((seen[0] as Error).message).toBe('stop');
    expect(f.link().signal!.aborted).toBe(true);
    a.done();
    b.done();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('without a parent there is no signal', async () => {
    const f = new AbortFanout(undefined);
    expect(f.link().signal).toBeUndefined();
    expect(await f.run(async (s) => s)).toBeUndefined();
  });
});

describe('FairBudget', () => {
  it('grants in arrival order: a large request is not overtaken by smaller ones that fit', async () => {
    const b = new FairBudget(100);
    const order: string[] = [];
    await b.acquire(60);
    const big = b.acquire(80).then(() => order.push('big'));
    const small = b.acquire(10).then(() => order.push('small'));
    await tick();
    expect(order).toEqual([]); // 10 would fit beside 60, but waits behind 80
    b.release(60);
    await big;
    await small;
    expect(order).toEqual(['big', 'small']);
    expect(b.stats).toEqual({ limit: 100, held: 90, peak: 90 });
  });

  it('a request larger than the limit is granted alone', async () => {
    const b = new FairBudget(10);
    await b.acquire(4);
    let granted = false;
    const p = b.acquire(25).then(() => (granted = true));
    await tick();
    expect(granted).toBe(false);
    b.release(4);
    await p;
    expect(b.stats.held).toBe(25);
  });

  it('a cancelled wait rejects at once and gives its grant back when it comes', async () => {
    const b = new FairBudget(10);
    await b.acquire(10);
    const c = new AbortController();
    const waiting = b.acquire(5, c.signal);
    const next = b.acquire(10);
    c.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
    b.release(10);
    await next; // the cancelled 5 was granted and released in between
    expect(b.stats).toEqual({ limit: 10, held: 10, peak: 10 });
    await expect(b.acquire(1, c.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

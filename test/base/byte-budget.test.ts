import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/kloset/base/byte-budget.js';

describe('ByteBudget', () => {
  it('lets requests through up to the limit, then in order as bytes are released', async () => {
    const b = new ByteBudget(100);
    const order: string[] = [];
    await b.acquire(60);
    await b.acquire(40);
    const c = b.acquire(30).then(() => order.push('c'));
    const d = b.acquire(10).then(() => order.push('d'));
    await Promise.resolve();
    expect(order).toEqual([]);
    b.release(40); // 60 used: c (30) fits, then d (10) fits
    await Promise.all([c, d]);
    expect(order).toEqual(['c', 'd']);
  });

  it('lets one oversized request through alone rather than waiting forever', async () => {
    const b = new ByteBudget(10);
    await b.acquire(1000);
    let second = false;
    const p = b.acquire(1).then(() => { second = true; });
    await Promise.resolve();
    expect(second).toBe(false);
    b.release(1000);
    await p;
    expect(second).toBe(true);
  });
});

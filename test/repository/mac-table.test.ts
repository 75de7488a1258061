import { describe, expect, it } from 'vitest';
import { MacTable } from '../../src/kloset/repository/mac-table.js';

/** A deterministic MAC stream (xorshift), so a failure replays. */
function macs(seed: number) {
  let x = seed >>> 0 || 1;
  return (): Uint8Array => {
    const m = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      m[i] = x & 0xff;
    }
    return m;
  };
}
const keyOf = (type: number, mac: Uint8Array) => `${type}:${Buffer.from(mac).toString('hex')}`;

describe('MacTable', () => {
  it('agrees with a Map through inserts, replacements and deletes across many growths', () => {
    const next = macs(7);
    const t = new MacTable();
    const model = new Map<string, { type: number; mac: Uint8Array; value: number }>();
    const pool: { type: number; mac: Uint8Array }[] = [];
    let x = 12345;
    const rnd = (n: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % n; };
    for (let step = 0; step < 60_000; step++) {
      const op = rnd(10);
      if (op < 6 || pool.length === 0) {
        const k = { type: rnd(12), mac: next() };
        pool.push(k);
        t.set(k.type, k.mac, step);
        model.set(keyOf(k.type, k.mac), { ...k, value: step });
      } else if (op < 8) {
        const k = pool[rnd(pool.length)]!;
        t.set(k.type, k.mac, step);
        model.set(keyOf(k.type, k.mac), { ...k, value: step });
      } else {
        const k = pool[rnd(pool.length)]!;
        expect(t.delete(k.type, k.mac)).toBe(model.delete(keyOf(k.type, k.mac)));
      }
    }
    expect(t.size).toBe(model.size);
    for (const k of pool) expect(t.get(k.type, k.mac)).toBe(model.get(keyOf(k.type, k.mac))?.value ?? -1);
    const seen = new Map<string, number>();
    t.forEach((type, bytes, offset, v) => seen.set(keyOf(type, bytes.subarray(offset, offset + 32)), v));
    expect(seen).toEqual(new Map([...model].map(([k, e]) => [k, e.value])));
  });

  it('keeps the type byte apart: the same MAC under two types is two keys', () => {
    const t = new MacTable();
    const m = new Uint8Array(32).fill(9);
    t.set(7, m, 1);
    t.set(9, m, 2);
    expect([t.get(7, m), t.get(9, m), t.get(5, m)]).toEqual([1, 2, -1]);
    expect(t.delete(7, m)).toBe(true);
    expect([t.get(7, m), t.get(9, m), t.size]).toEqual([-1, 2, 1]);
  });

  it('finds every key after deletes in long runs of colliding slots', () => {
    // MACs equal in their first 8 bytes share a home slot whatever the seed: one long run
    const t = new MacTable();
    const list = Array.from({ length: 200 }, (_, i) => {
      const m = new Uint8Array(32);
      m[31] = i;
      m[30] = i >> 8;
      return m;
    });
    list.forEach((m, i) => t.set(1, m, i));
    for (let i = 0; i < list.length; i += 3) expect(t.delete(1, list[i]!)).toBe(true);
    list.forEach((m, i) => expect(t.get(1, m)).toBe(i % 3 === 0 ? -1 : i));
    expect(t.size).toBe(200 - 67);
  });

  it('copies the MAC it is given (a view of a reused buffer may change afterwards)', () => {
    const t = new MacTable();
    const buf = new Uint8Array(64).fill(3);
    t.set(2, buf.subarray(16, 48), 5);
    const copy = buf.slice(16, 48);
    buf.fill(4);
    expect([t.get(2, copy), t.get(2, buf.subarray(16, 48))]).toEqual([5, -1]);
  });

  it('refuses values it cannot hold and MACs of the wrong length', () => {
    const t = new MacTable();
    expect(() => t.set(1, new Uint8Array(32), -1)).toThrow(RangeError);
    expect(() => t.set(1, new Uint8Array(32), 2 ** 31)).toThrow(RangeError);
    expect(() => t.set(1, new Uint8Array(31), 0)).toThrow(RangeError);
    expect(() => t.setAt(1, new Uint8Array(40), 9, 0)).toThrow(RangeError);
    expect(t.size).toBe(0);
  });
});

/** The S3 store's reused gathering buffer: reuse, growth, and a second holder at once. */
import { describe, expect, it } from 'vitest';
import { GatherBuffer } from '../../src/connectors/s3/gather-buffer.js';

describe('GatherBuffer', () => {
  it('gives the same memory again once given back, grown when a body is larger', () => {
    const g = new GatherBuffer();
    const a = g.take(1000);
    expect(a.length).toBe(1000);
    g.give(a);
    const b = g.take(800);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(800);
    g.give(b);
    const c = g.take(5000);
    expect(c.length).toBe(5000);
    expect(c.buffer).not.toBe(a.buffer); // grown
    g.give(c);
    expect(g.take(10).buffer).toBe(c.buffer);
  });

  it('a put while the buffer is held gets memory of its own, and giving that back frees nothing', () => {
    const g = new GatherBuffer();
    const held = g.take(100);
    const other = g.take(100);
    expect(other.buffer).not.toBe(held.buffer);
    g.give(other); // not the buffer: the first holder still has it
    expect(g.take(100).buffer).not.toBe(held.buffer);
    g.give(held);
    expect(g.take(100).buffer).toBe(held.buffer);
  });
});

/**
 * The worker encoder's recycled chunk buffers: class sizes, reuse, buffers coming back from
 * another thread as new ArrayBuffer objects, and a backup whose chunks go round through the pool.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { BufferPool, MAX_SPARE_BYTES, MIN_POOLED } from '../../src/kloset/node/buffer-pool.js';
import { newRepo } from '../support/engine.js';

describe('BufferPool', () => {
  it('gives views over power-of-two buffers from 128 KiB, plain arrays below', () => {
    const pool = new BufferPool();
    const small = pool.take(MIN_POOLED - 1);
    expect(small.buffer.byteLength).toBe(MIN_POOLED - 1);
    expect(pool.owns(small)).toBe(false);
    const big = pool.take(300_000);
    expect(big.length).toBe(300_000);
    expect(big.buffer.byteLength).toBe(512 * 1024);
    expect(pool.owns(big)).toBe(true);
    expect(pool.owns(big.subarray(1))).toBe(false); // not the start of its buffer
  });

  it('gives a returned buffer out again, also one that went to another thread and back', async () => {
    const pool = new BufferPool();
    const a = pool.take(1 << 20);
    pool.give(a.buffer as ArrayBuffer);
    expect(pool.take(900_000).buffer).toBe(a.buffer);

    const b = pool.take(1 << 20);
    b.fill(0xab);
    // a transfer detaches the original and delivers a new ArrayBuffer object over the same memory
    const moved = structuredClone(b, { transfer: [b.buffer as ArrayBuffer] });
    expect(b.buffer.byteLength).toBe(0);
    pool.give(b.buffer as ArrayBuffer); // detached: ignored
    pool.give(new ArrayBuffer(300_000)); // not a class size: ignored
    pool.give(moved.buffer as ArrayBuffer);
    const again = pool.take(1 << 20);
    expect(again.buffer).toBe(moved.buffer);
    expect(again[12345]).toBe(0xab);
    expect(pool.owns(again)).toBe(true);
  });

  it('keeps at most MAX_SPARE_BYTES of spares over all classes', () => {
    const pool = new BufferPool();
    const size = 8 << 20;
    const taken = Array.from({ length: 8 }, () => pool.take(size));
    for (const t of taken) pool.give(t.buffer as ArrayBuffer);
    const kept = MAX_SPARE_BYTES / size;
    const again = Array.from({ length: 8 }, () => pool.take(size));
    const reused = again.filter((a) => taken.some((t) => t.buffer === a.buffer)).length;
    expect(reused).toBe(kept);
    // a spare given out makes room for another
    pool.give(again[0]!.buffer as ArrayBuffer);
    expect(pool.take(size).buffer).toBe(again[0]!.buffer);
  });
});

describe('the worker encoder recycles pooled chunk buffers', () => {
  it('a handed-over pooled buffer comes back to the pool after its answer; results match inline', async () => {
    const repo = await newRepo();
    try {
      const enc = repo.encoder;
      expect(enc.buffer).toBeDefined();
      const data = Uint8Array.from(randomBytes(700_000));
      const chunk = enc.buffer!(data.length);
      chunk.set(data);
      const blob = await enc.prepare(chunk, true);
      expect(chunk.length, 'moved to the worker').toBe(0);
      expect(toHex(blob.mac)).toBe(toHex(repo.mac.sum(data)));
      expect(toHex(repo.codec.decode(blob.encoded, data.length + 1024))).toBe(toHex(data));
      // the same memory is given out again: it still holds the chunk (a fresh buffer is zeros)
      const next = enc.buffer!(data.length);
      expect(toHex(next.subarray(0, 64))).toBe(toHex(data.subarray(0, 64)));

      // not handed over: the caller keeps its bytes; the copy sent is pooled and comes back too
      const kept = Uint8Array.from(randomBytes(600_000));
      const copy = Uint8Array.from(kept);
      const b2 = await enc.prepare(kept);
      expect(toHex(kept)).toBe(toHex(copy));
      expect(toHex(repo.codec.decode(b2.encoded, kept.length + 1024))).toBe(toHex(copy));
    } finally {
      await repo.close();
    }
  });
});

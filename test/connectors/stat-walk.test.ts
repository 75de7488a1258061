import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatWalk } from '../../src/connectors/fs/stat-walk.js';

describe('StatWalk: synchronous calls while the filesystem answers fast', () => {
  it('stays synchronous through scattered scheduling hiccups (a 2 ms call in a few hundred)', () => {
    const w = new StatWalk();
    for (let i = 0; i < 4000; i++) {
      w.observe(i % 400 === 0 ? 2 : 0.02);
      expect(w.usingThreadPool, `call ${i}`).toBe(false);
    }
  });

  it('moves to the thread pool after one stalled call, or when calls are slow on average', () => {
    const stalled = new StatWalk();
    stalled.observe(0.02);
    stalled.observe(25);
    expect(stalled.usingThreadPool).toBe(true);

    const slow = new StatWalk();
    let calls = 0;
    while (!slow.usingThreadPool && calls < 1000) { slow.observe(1.5); calls++; }
    expect(slow.usingThreadPool).toBe(true);
    expect(calls).toBeLessThan(30); // a cold disk is noticed within a few dozen calls
  });

  it('reads a small file whole in both modes, into the scratch buffer it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kloset-statwalk-'));
    try {
      const f = join(dir, 'a.txt');
      writeFileSync(f, 'hello');
      const scratch = new Uint8Array(64);
      const sync = new StatWalk().readSmall(f, scratch);
      expect(sync).not.toBeInstanceOf(Promise);
      expect(Buffer.from(sync as Uint8Array).toString()).toBe('hello');
      expect((sync as Uint8Array).buffer).toBe(scratch.buffer); // no buffer of its own
      const pooled = new StatWalk(-1).readSmall(f, scratch);
      expect(pooled).toBeInstanceOf(Promise);
      expect(Buffer.from(await pooled).toString()).toBe('hello');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a file larger than the scratch buffer whole (one that grew since its stat)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kloset-statwalk-'));
    try {
      const f = join(dir, 'grown.bin');
      const content = Buffer.alloc(10_000);
      for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
      writeFileSync(f, content);
      for (const exact of [false, true]) {
        const size = exact ? content.length : 4096; // exactly full, and three scratch lengths over
        const sync = new StatWalk().readSmall(f, new Uint8Array(size)) as Uint8Array;
        expect(Buffer.compare(Buffer.from(sync), content)).toBe(0);
        const pooled = await new StatWalk(-1).readSmall(f, new Uint8Array(size));
        expect(Buffer.compare(Buffer.from(pooled), content)).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

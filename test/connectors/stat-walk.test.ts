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

  it('reads a small file whole in both modes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kloset-statwalk-'));
    try {
      const f = join(dir, 'a.txt');
      writeFileSync(f, 'hello');
      const sync = new StatWalk().readSmall(f);
      expect(sync).not.toBeInstanceOf(Promise);
      expect(Buffer.from(sync as Uint8Array).toString()).toBe('hello');
      const pooled = new StatWalk(-1).readSmall(f);
      expect(pooled).toBeInstanceOf(Promise);
      expect(Buffer.from(await pooled).toString()).toBe('hello');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The Node chunk encoder (a worker thread) must give exactly what encoding inline gives: the
 * same MAC and entropy, and bytes that decode back to the chunk. A handed-over buffer moves to
 * the worker (detached here); one not handed over stays intact.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entropy } from '../../src/kloset/base/entropy.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { newRepo } from '../support/engine.js';

describe('worker chunk encoder', () => {
  it('matches the inline result, keeps or takes the buffer as told', async () => {
    const repo = await newRepo();
    try {
      const text = Buffer.from('backup store snapshot chunk '.repeat(40_000));
      for (const [name, data] of [['random', randomBytes(300_000)], ['text', text], ['small (inline)', randomBytes(1000)]] as const) {
        const original = Uint8Array.from(data);
        const kept = Uint8Array.from(data);
        const a = await repo.encoder.prepare(kept);
        expect(toHex(kept), `${name}: not handed over, unchanged`).toBe(toHex(original));
        const given = Uint8Array.from(data);
        const b = await repo.encoder.prepare(given, true);
        if (original.length >= 4096) expect(given.length, `${name}: handed over`).toBe(0);
        for (const blob of [a, b]) {
          expect(toHex(blob.mac)).toBe(toHex(repo.mac.sum(original)));
          expect(blob.entropy).toBe(entropy(original));
          expect(toHex(repo.codec.decode(blob.encoded, original.length + 1024))).toBe(toHex(original));
        }
      }
    } finally {
      await repo.close();
    }
  });
});

/**
 * The ring of memory the encoding thread seals chunks into (src/kloset/node/output-arena.ts):
 * a slot is never given out while an earlier one over the same bytes is still held, the head
 * moves only over released slots, and a backup whose blobs go through a small ring (wrapping
 * round, full at times) stores exactly what it read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsDestination } from '../../src/connectors/fs/destination.js';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { arenaBytes, ArenaWriter, OutputArena, type ArenaSlot } from '../../src/kloset/node/output-arena.js';
import { restore } from '../../src/kloset/restore/restore.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { newRepo, tempDir } from '../support/engine.js';
import { mulberry32 } from '../support/test-helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

describe('OutputArena and ArenaWriter', () => {
  it('never gives out bytes still held, whatever the sizes and the order of release', () => {
    const size = 1000;
    const main = new OutputArena(size);
    const writer = new ArenaWriter(main.share);
    const rand = mulberry32(7);
    /** slots held by the main thread: their byte ranges and their release */
    const held: { offset: number; length: number; release: () => void; stamp: number }[] = [];
    const bytes = new Uint8Array(main.share.bytes);
    let taken = 0, refused = 0, wrapped = 0;
    for (let i = 0; i < 20_000; i++) {
      if (rand() < 0.55) {
        const n = 1 + Math.floor(rand() * 300);
        const slot = writer.take(n);
        if (!slot) { refused++; continue; }
        taken++;
        if (slot.offset < slot.from) wrapped++;
        expect(slot.offset + slot.length).toBeLessThanOrEqual(size);
        for (const h of held) {
          const overlap = slot.offset < h.offset + h.length && h.offset < slot.offset + slot.length;
          expect(overlap, `slot ${slot.offset}+${slot.length} over held ${h.offset}+${h.length}`).toBe(false);
        }
        const stamp = i & 0xff;
        writer.view(slot).fill(stamp);
        const { view, release } = main.adopt(slot);
        expect(view.length).toBe(n);
        held.push({ offset: slot.offset, length: n, release, stamp });
      } else if (held.length) {
        // released in any order; what is still held keeps its bytes
        const k = Math.floor(rand() * held.length);
        const [h] = held.splice(k, 1);
        h!.release();
        h!.release(); // a second release is ignored
      }
      for (const h of held.slice(-3)) expect(bytes[h.offset + h.length - 1]).toBe(h.stamp);
    }
    expect(taken).toBeGreaterThan(5000);
    expect(refused).toBeGreaterThan(100);
    expect(wrapped).toBeGreaterThan(50);
    for (const h of held) h.release();
    expect(main.pendingSlots).toBe(0);
    // all given back: the larger of the two free stretches (before and after the tail) is at
    // least half the ring
    expect(writer.take(size / 2 - 1)).not.toBeNull();
  });

  it('refuses what cannot fit, and gives back the last slot taken (untake)', () => {
    const main = new OutputArena(100);
    const writer = new ArenaWriter(main.share);
    expect(writer.take(100)).toBeNull(); // one byte always stays free
    const a = writer.take(60)!;
    expect(a.offset).toBe(0);
    writer.untake(a);
    const b = writer.take(99)!;
    expect(b.offset).toBe(0);
    expect(writer.take(1)).toBeNull();
    main.adopt(b).release();
    const c: ArenaSlot = writer.take(30)!;
    expect(c.offset).toBe(0); // [99, 100) holds one byte: the slot starts over at 0
    expect(c.from).toBe(99);
  });

  it('KLOSET_ENCODER_RING_MIB sets its size; nonsense keeps the default', () => {
    expect(arenaBytes({})).toBe(32 << 20);
    expect(arenaBytes({ KLOSET_ENCODER_RING_MIB: '2' })).toBe(2 << 20);
    expect(arenaBytes({ KLOSET_ENCODER_RING_MIB: '0' })).toBe(0);
    expect(arenaBytes({ KLOSET_ENCODER_RING_MIB: 'lots' })).toBe(32 << 20);
  });
});

describe('the worker encoder seals chunks into the ring', () => {
  it('gives a blob in shared memory with a release; it decodes to the chunk', async () => {
    const repo = await newRepo();
    try {
      const data = Uint8Array.from(randomBytes(700_000));
      const blob = await repo.encoder.prepare(Uint8Array.from(data), true);
      expect(blob.encoded.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(typeof blob.release).toBe('function');
      expect(toHex(blob.mac)).toBe(toHex(repo.mac.sum(data)));
      expect(toHex(repo.codec.decode(blob.encoded, data.length + 1024))).toBe(toHex(data));
      blob.release!();
    } finally {
      await repo.close();
    }
  });

  it.each([['a 1 MiB ring (full and wrapping round)', '1'], ['no ring', '0']])('backs up and restores exactly through %s', async (_name, mib) => {
    const before = process.env.KLOSET_ENCODER_RING_MIB;
    process.env.KLOSET_ENCODER_RING_MIB = mib; // read when the encoding thread starts
    const src = tempDir(); cleanups.push(src.cleanup);
    const out = tempDir(); cleanups.push(out.cleanup);
    const rand = mulberry32(11);
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) {
      // 64 KiB – 3 MiB, half of them compressible
      const n = 65536 + Math.floor(rand() * 3 * 2 ** 20);
      const bytes = i % 2 ? Uint8Array.from(randomBytes(n)) : new Uint8Array(n).map((_, k) => (k * 31) >> 9);
      files[`f${i}`] = bytes;
      writeFileSync(join(src.path, `f${i}`), bytes);
    }
    const repo = await newRepo();
    try {
      const { snapshotId } = await backup(repo, new FsImporter(src.path));
      const snap = await SnapshotReader.open(repo, snapshotId);
      const report = await checkSnapshot(snap);
      expect(report.problems).toEqual([]);
      const p = await restore(snap, src.path, new FsDestination(out.path));
      expect(p.errors).toEqual([]);
      const base = join(out.path, src.path.split('/').pop()!);
      for (const [name, bytes] of Object.entries(files)) {
        expect(sha(readFileSync(join(base, name))), name).toBe(sha(bytes));
      }
    } finally {
      await repo.close();
      if (before === undefined) delete process.env.KLOSET_ENCODER_RING_MIB;
      else process.env.KLOSET_ENCODER_RING_MIB = before;
    }
  });
});

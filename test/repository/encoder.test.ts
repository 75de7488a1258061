/**
 * The Node chunk encoder (a worker thread) must give exactly what encoding inline gives: the
 * same MAC and entropy, and bytes that decode back to the chunk. A handed-over buffer moves to
 * the worker (detached here); one not handed over stays intact.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entropy } from '../../src/kloset/base/entropy.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { KlosetError } from '../../src/kloset/base/errors.js';
import { BlobType } from '../../src/kloset/repository/blob-types.js';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import type { Importer, ImportRecord } from '../../src/kloset/snapshot/importer.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { GoMode } from '../../src/kloset/snapshot/vfs/file-info.js';
import { newRepo, PASS, testPrims } from '../support/engine.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';

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

describe('decoding while the worker starts', () => {
  it('the first decodes of a fresh encoder run here, without waiting for the worker to load', async () => {
    const repo = await newRepo();
    try {
      const data = Uint8Array.from(randomBytes(300_000));
      const stored = repo.codec.encode(data);
      const address = repo.mac.sum(data);
      // one synchronous stretch: a worker started now cannot have said it is ready before the
      // decodes below settle unless they wait for it; inline decodes settle in microtasks
      const order: string[] = [];
      const decodes = [0, 1, 2].map((i) => repo.encoder.decode!(stored, data.length + 1024, address).then((d) => { order.push(`decode ${i}`); return d; }));
      const timer = new Promise<void>((r) => setTimeout(() => { order.push('timer'); r(); }, 0));
      const out = await Promise.all(decodes);
      await timer;
      expect(order).toEqual(['decode 0', 'decode 1', 'decode 2', 'timer']);
      for (const d of out) expect(toHex(d)).toBe(toHex(data));
      // once it has started, large blobs go to it and still decode the same
      await new Promise((r) => setTimeout(r, 1500));
      expect(toHex(await repo.encoder.decode!(stored, data.length + 1024, address))).toBe(toHex(data));
    } finally {
      await repo.close();
    }
  });
});

describe('decoded chunks given back (BlobEncoder.recycle)', () => {
  it('a recycled chunk goes back to the worker with the next decode, which still decodes right; anything else is left alone', async () => {
    const repo = await newRepo();
    try {
      // incompressible: a stored blob this size goes to the worker (tiny ones decode here)
      const chunks = Array.from({ length: 4 }, (_, i) => Uint8Array.from(randomBytes(600_000 + i * 1000)));
      const stored = chunks.map((c) => ({ stored: repo.codec.encode(c), address: repo.mac.sum(c), size: c.length + 1024 }));
      const decode = (i: number) => repo.encoder.decode!(Uint8Array.from(stored[i]!.stored), stored[i]!.size, stored[i]!.address);
      // until the worker has loaded, blobs decode here (not recycled): keep asking until it answers
      let answered = false;
      for (let t = 0; t < 100 && !answered; t++) {
        const d = await decode(0);
        repo.encoder.recycle!(d);
        await decode(1);
        answered = d.byteLength === 0;
        if (!answered) await new Promise((r) => setTimeout(r, 50));
      }
      expect(answered).toBe(true);
      const first = await decode(0);
      expect(toHex(first)).toBe(toHex(chunks[0]!));
      // a view at an offset, a copy, and a small inline-decoded blob are not the encoder's to take
      const copy = first.slice();
      repo.encoder.recycle!(copy);
      repo.encoder.recycle!(first.subarray(10));
      repo.encoder.recycle!(first);
      repo.encoder.recycle!(first); // twice: once counts
      const second = await decode(1);
      // the first chunk's memory went along to the worker (detached here) and the result is right
      expect(first.byteLength).toBe(0);
      expect(copy.byteLength).toBe(chunks[0]!.length);
      expect(toHex(second)).toBe(toHex(chunks[1]!));
      // round after round, the memory keeps travelling and nothing decodes wrong
      let prev = second;
      for (let round = 0; round < 6; round++) {
        repo.encoder.recycle!(prev);
        const i = (round + 2) % chunks.length;
        const d = await decode(i);
        expect(prev.byteLength, `round ${round}`).toBe(0);
        expect(toHex(d), `round ${round}`).toBe(toHex(chunks[i]!));
        prev = d;
      }
    } finally {
      await repo.close();
    }
  });
});

describe('when the encoder\'s thread starts', () => {
  it('small decodes and metadata encodes run here without starting it; a large blob or warm() start it', async () => {
    const repo = await newRepo();
    try {
      const small = Uint8Array.from(randomBytes(20_000)); // a dirpack's size: above the 4 KiB inline bound
      const stored = repo.codec.encode(small);
      expect(toHex(await repo.encoder.decode!(stored, small.length + 1024, repo.mac.sum(small)))).toBe(toHex(small));
      expect(toHex(repo.codec.decode(await repo.encoder.encode!(small), small.length + 1024))).toBe(toHex(small));
      expect(repo.encoder.threadsStarted!(), 'nothing asked for a thread').toBe(0);
      const large = Uint8Array.from(randomBytes(300_000));
      expect(toHex((await repo.encoder.prepare(large)).mac)).toBe(toHex(repo.mac.sum(large)));
      expect(repo.encoder.threadsStarted!(), 'a chunk to encode starts it').toBe(1);
    } finally {
      await repo.close();
    }
    const warmed = await newRepo();
    try {
      warmed.encoder.warm!();
      expect(warmed.encoder.threadsStarted!()).toBe(1);
    } finally {
      await warmed.close();
    }
  });

  it('an unchanged re-backup never starts it; a re-backup that meets changed content does', async () => {
    const storage = new MemoryStorage();
    const fi = (name: string, mode: number, size: number, ino: number, sec = 1_700_000_000) => ({ name, size: BigInt(size), mode, modTime: { sec, nsec: 0 }, dev: 1n, ino: BigInt(ino), uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 });
    const files = Array.from({ length: 90 }, (_, i) => Uint8Array.from(randomBytes(50_000 + i)));
    const importer = (changed = -1): Importer => ({
      type: 'test', origin: 'here', root: '/r',
      async *scan(): AsyncIterable<ImportRecord> {
        yield { item: { path: '/r', fileInfo: fi('r', (GoMode.dir | 0o755) >>> 0, 0, 1) } };
        for (let d = 0; d < 3; d++) {
          yield { item: { path: `/r/d${d}`, fileInfo: fi(`d${d}`, (GoMode.dir | 0o755) >>> 0, 0, 2 + d) } };
          for (let i = d * 30; i < d * 30 + 30; i++) {
            const data = i === changed ? Uint8Array.from(randomBytes(files[i]!.length)) : files[i]!;
            yield { item: { path: `/r/d${d}/f${i}`, fileInfo: fi(`f${i}`, 0o644, data.length, 10 + i, i === changed ? 1_800_000_000 : undefined), open: async function* () { yield data; } } };
          }
        }
      },
    });
    const first = await newRepo({}, storage);
    const { snapshotId } = await backup(first, importer());
    await first.close();

    for (const [changed, started, unchanged] of [[-1, 0, 90], [45, 1, 89]] as const) {
      const repo = await Repository.open(storage, testPrims, PASS);
      try {
        const previous = await SnapshotReader.open(repo, snapshotId);
        let most = 0;
        const r = await backup(repo, importer(changed), { previous, onProgress: () => { most = Math.max(most, repo.encoder.threadsStarted!()); } });
        expect(r.progress.unchanged).toBe(unchanged);
        expect(most, `threads started with ${90 - unchanged} changed file(s)`).toBe(started);
        // the new snapshot reads back whole either way
        const snap = await SnapshotReader.open(repo, r.snapshotId);
        expect((await snap.directory('/r/d1')).map((e) => e.fileInfo.name)).toHaveLength(30);
      } finally {
        await repo.close();
      }
    }
  });
});

describe('metadata blobs encoded off the thread (BlobEncoder.encode, RepositoryWriter.putBlob)', () => {
  it('the worker encoding decodes back, and the caller keeps its bytes', async () => {
    const repo = await newRepo();
    try {
      // encode goes to a thread that is up and answering (else it runs here): start one first
      repo.encoder.warm!();
      await new Promise((r) => setTimeout(r, 700));
      for (const n of [0, 1, 200, 5000, 70_000]) {
        const data = Uint8Array.from(randomBytes(n));
        const copy = Uint8Array.from(data);
        const encoded = await repo.encoder.encode!(data);
        expect(toHex(data)).toBe(toHex(copy));
        expect(toHex(repo.codec.decode(encoded, n + 1024))).toBe(toHex(copy));
      }
    } finally {
      await repo.close();
    }
  });

  it('blobs put in the background are all readable after commit; a failed encoding fails the commit, with no state written', async () => {
    const repo = await newRepo();
    try {
      const w = repo.writer(Uint8Array.from(randomBytes(32)));
      const blobs = Array.from({ length: 600 }, (_, i) => Uint8Array.from(Buffer.from(`entry ${i} `.repeat(1 + (i % 50)))));
      for (const b of blobs) expect(await w.putBlob(BlobType.VFS_ENTRY, repo.mac.sum(b), b)).toBe(true);
      expect(await w.putBlob(BlobType.VFS_ENTRY, repo.mac.sum(blobs[0]!), blobs[0]!)).toBe(false); // deduplicated at once
      await w.commit();
      for (const b of blobs) expect(toHex(await repo.getBlob(BlobType.VFS_ENTRY, repo.mac.sum(b)))).toBe(toHex(b));

      const states = (await repo.storage.list('state')).length;
      const original = repo.encoder.encode!.bind(repo.encoder);
      let calls = 0;
      repo.encoder.encode = (d) => (++calls === 7 ? Promise.reject(new KlosetError('IO', 'encoder lost')) : original(d));
      const w2 = repo.writer(Uint8Array.from(randomBytes(32)));
      const more = Array.from({ length: 20 }, (_, i) => Uint8Array.from(Buffer.from(`other ${i}`)));
      const put = async () => { for (const b of more) await w2.putBlob(BlobType.VFS_ENTRY, repo.mac.sum(b), b); await w2.commit(); };
      await expect(put()).rejects.toMatchObject({ code: 'IO', message: 'encoder lost' });
      expect((await repo.storage.list('state')).length).toBe(states);
    } finally {
      await repo.close();
    }
  });
});

describe('a writer given up (a failed or cancelled backup)', () => {
  it('stores nothing once abandon() has resolved, and a cancelled backup stores nothing once it has rejected', async () => {
    class CountingStorage extends MemoryStorage {
      puts = 0;
      override async put(...a: Parameters<MemoryStorage['put']>): Promise<void> { this.puts++; return super.put(...a); }
    }
    const storage = new CountingStorage();
    const repo = await newRepo({}, storage);
    try {
      const states = (await storage.list('state')).length;
      const w = repo.writer(Uint8Array.from(randomBytes(32)));
      for (let i = 0; i < 3000; i++) {
        const b = Uint8Array.from(randomBytes(20_000)); // ~60 MB: packfiles fill and upload in the background
        await w.putBlob(BlobType.VFS_ENTRY, repo.mac.sum(b), b);
      }
      await w.abandon();
      const after = storage.puts;
      await new Promise((r) => setTimeout(r, 300));
      expect(storage.puts).toBe(after);
      expect(storage.puts, 'packfiles went up while blobs were put').toBeGreaterThan(0);
      expect(await storage.list('state')).toHaveLength(states); // never committed
    } finally {
      await repo.close();
    }

    // A packfile upload that is still under way when the cancel lands: the backup must not
    // reject (and release its lock) before it has ended.
    const controller = new AbortController();
    class SlowStorage extends MemoryStorage {
      done = 0;
      override async put(...a: Parameters<MemoryStorage['put']>): Promise<void> {
        if (a[0] !== 'packfile') return super.put(...a);
        controller.abort(); // the first packfile starts uploading: cancel now
        await new Promise((r) => setTimeout(r, 200));
        await super.put(...a);
        this.done++;
      }
    }
    const storage2 = new SlowStorage();
    const repo2 = await newRepo({}, storage2);
    try {
      const statesBefore = (await storage2.list('state')).length;
      const fi = (name: string, mode: number, size: bigint) => ({ name, size, mode, modTime: { sec: 1, nsec: 0 }, dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 1, username: '', groupname: '', flags: 0 });
      const importer: Importer = {
        type: 'test', origin: 'here', root: '/r',
        async *scan(): AsyncIterable<ImportRecord> {
          yield { item: { path: '/r', fileInfo: fi('r', (GoMode.dir | 0o755) >>> 0, 0n) } };
          for (let i = 0; i < 10_000; i++) {
            const data = Uint8Array.from(randomBytes(300_000));
            yield { item: { path: `/r/f${i}`, fileInfo: fi(`f${i}`, 0o644, BigInt(data.length)), open: async function* () { yield data; } } };
          }
        },
      };
      await expect(backup(repo2, importer, { signal: controller.signal })).rejects.toThrow();
      const after = storage2.done;
      expect(after, 'the upload under way at the cancel ended before the backup rejected').toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 400));
      expect(storage2.done, 'nothing written after the backup rejected').toBe(after);
      expect(await storage2.list('state')).toHaveLength(statesBefore);
      expect(await storage2.list('lock')).toHaveLength(0);
    } finally {
      await repo2.close();
    }
  });
});

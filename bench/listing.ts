/**
 * Directory listing latency on a huge directory: a snapshot whose one directory holds N entries
 * (default 1,000,000) in a local encrypted store, then, from a fresh open, the time to the first
 * 1,000 entries of that directory and to stream all of them. The store is opened as the CLI
 * opens it: through CachingStorage, whose index image (made by a first open, outside the timing)
 * spares the merge of the million-blob state.
 *
 *   npm run bench:listing           (N=1000000; the store is kept in .bench-data/listing-<N>)
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsStorage } from '../src/connectors/fs/storage.js';
import { CachingStorage } from '../src/kloset/storage/caching.js';
import { DiskCache, sha256Hex } from '../src/kloset/storage/node/disk-cache.js';
import { nodePrimitives } from '../src/kloset/node/primitives.js';
import { Repository } from '../src/kloset/repository/repository.js';
import { backup } from '../src/kloset/snapshot/builder.js';
import type { Importer, ImportRecord } from '../src/kloset/snapshot/importer.js';
import { SnapshotReader } from '../src/kloset/snapshot/reader.js';
import { GoMode } from '../src/kloset/snapshot/vfs/file-info.js';

const N = Number(process.env.N ?? 1_000_000);
const dir = resolve(process.env.BENCH_DIR ?? '.bench-data', `listing-${N}`);
const pass = new TextEncoder().encode('bench passphrase');
const DIR = '/huge';
/** the store as the CLI opens it (src/cli/store-location.ts), its local cache beside it */
const storage = () => new CachingStorage(new FsStorage(dir), new DiskCache(`${dir}-cache`), sha256Hex);

const fi = (name: string, mode: number) => ({ name, size: 0n, mode, modTime: { sec: 1_700_000_000, nsec: 0 }, dev: 1n, ino: 1n, uid: 1000n, gid: 1000n, nlink: 1, username: 'user', groupname: 'user', flags: 0 });

class HugeDirectory implements Importer {
  readonly type = 'bench';
  readonly origin = 'generated';
  readonly root = DIR;
  async *scan(): AsyncIterable<ImportRecord> {
    yield { item: { path: DIR, fileInfo: fi('huge', (GoMode.dir | 0o755) >>> 0) } };
    for (let i = 0; i < N; i++) {
      const name = `file-${String(i).padStart(7, '0')}.txt`;
      yield { item: { path: `${DIR}/${name}`, fileInfo: fi(name, 0o644), open: async function* () {} } };
    }
  }
}

if (!existsSync(join(dir, '.complete'))) {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}-cache`, { recursive: true, force: true });
  const repo = await Repository.create(new FsStorage(dir), nodePrimitives, pass);
  const t = performance.now();
  await backup(repo, new HugeDirectory());
  console.log(`# built a ${N}-entry directory in ${((performance.now() - t) / 1000).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  await repo.close();
  (await import('node:fs')).writeFileSync(join(dir, '.complete'), '');
}
if (!existsSync(`${dir}-cache`)) {
  const t = performance.now();
  await (await Repository.open(storage(), nodePrimitives, pass)).close();
  console.log(`# first open (merges the state, writes the index image): ${(performance.now() - t).toFixed(0)} ms`);
}

const t0 = performance.now();
const repo = await Repository.open(storage(), nodePrimitives, pass);
const tOpen = performance.now();
const snap = await SnapshotReader.open(repo, repo.snapshotIds()[0]!);
const tSnap = performance.now();
let n = 0, tFirst = 0;
// when the 1st, 100th, 500th and 1,000th entries arrive: the first chunk's read and decode
// against the decoding of the entries themselves
const marks: string[] = [];
for await (const _ of snap.children(DIR)) {
  ++n;
  if (n === 1 || n === 100 || n === 500 || n === 1000) marks.push(`${n}: ${(performance.now() - tSnap).toFixed(1)}`);
  if (n === 1000) tFirst = performance.now();
}
const tAll = performance.now();
console.log(`open (Argon2id, index image): ${(tOpen - t0).toFixed(0)} ms; snapshot header + tree: ${(tSnap - tOpen).toFixed(1)} ms`);
console.log(`listing-first-1000: ${(tFirst - tSnap).toFixed(1)} ms (entry n at ms — ${marks.join(', ')})`);
console.log(`listing-all: ${n} entries in ${((tAll - tSnap) / 1000).toFixed(2)} s (${(n / ((tAll - tSnap) / 1000)).toFixed(0)} entries/s)`);

/**
 * Re-backup speed on a tree of many small files (default 100,000 files of 0–2 KiB in 1,000
 * folders): one first backup, then an unchanged re-backup timed in-process (files/s), from a
 * freshly opened local encrypted store as the CLI does it (the Argon2id open is timed apart).
 *
 *   npm run bench:rebackup          (N=100000; the tree is kept in .bench-data/rebackup-<N>)
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsImporter } from '../src/connectors/fs/importer.js';
import { FsStorage } from '../src/connectors/fs/storage.js';
import { nodePrimitives } from '../src/kloset/node/primitives.js';
import { Repository } from '../src/kloset/repository/repository.js';
import { backup } from '../src/kloset/snapshot/builder.js';
import { latestSnapshotOf } from '../src/kloset/snapshot/reader.js';

const N = Number(process.env.N ?? 100_000);
const root = resolve(process.env.BENCH_DIR ?? '.bench-data', `rebackup-${N}`);
const tree = join(root, 'tree');
const store = join(root, 'store');
const pass = new TextEncoder().encode('bench passphrase');

if (!existsSync(join(root, '.complete'))) {
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < N; i++) {
    const d = join(tree, `d${i % 1000}`);
    if (i < 1000) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`.repeat(i % 200));
  }
  writeFileSync(join(root, '.complete'), '');
}
// KEEP_STORE=1 reuses the store of the previous run (profiling the re-backup alone)
const keep = process.env.KEEP_STORE === '1' && existsSync(join(store, 'CONFIG'));
if (!keep) rmSync(store, { recursive: true, force: true });

// garbage-collection pauses of this thread, per run (a figure less noisy than the wall time)
let gcMs = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });

async function run(label: string): Promise<void> {
  const t0 = performance.now();
  const repo = await Repository.open(new FsStorage(store), nodePrimitives, pass);
  const t1 = performance.now();
  const importer = new FsImporter(tree);
  const previous = await latestSnapshotOf(repo, importer);
  const gc0 = gcMs, cpu0 = process.cpuUsage();
  const r = await backup(repo, importer, { previous });
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await new Promise((ok) => setImmediate(ok)); // the observer reports asynchronously
  await repo.close();
  const files = r.progress.files + r.progress.directories;
  console.log(`${label}: ${files} items (${r.progress.unchanged} unchanged) in ${((t2 - t1) / 1000).toFixed(2)} s = ${Math.round(files / ((t2 - t1) / 1000))} files/s; open ${(t1 - t0).toFixed(0)} ms; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (all threads); GC pauses ${(gcMs - gc0).toFixed(0)} ms`);
}

if (!keep) {
  await (await Repository.create(new FsStorage(store), nodePrimitives, pass)).close();
  await run('first-backup');
}
await run('rebackup');
await run('rebackup');
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

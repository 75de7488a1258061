/**
 * Where a local backup's and restore's time goes: the small files and the large files of
 * bench/local.ts's dataset backed up and restored apart, kloset timed in-process (store opened
 * first, so start-up and unlocking are not counted; wall and CPU seconds of the whole process,
 * median of RUNS) beside restic on the same folder (a separate process, start-up and unlocking
 * included).
 *
 *   npm run bench:split           (SIZE_GB=1; run bench:local first: it generates the dataset)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsDestination } from '../src/connectors/fs/destination.js';
import { FsImporter } from '../src/connectors/fs/importer.js';
import { FsStorage } from '../src/connectors/fs/storage.js';
import { nodePrimitives } from '../src/kloset/node/primitives.js';
import { Repository } from '../src/kloset/repository/repository.js';
import { restore } from '../src/kloset/restore/restore.js';
import { backup } from '../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../src/kloset/snapshot/reader.js';

const SIZE_GB = Number(process.env.SIZE_GB ?? 1);
const RUNS = Number(process.env.RUNS ?? 3);
const root = resolve(process.env.BENCH_DIR ?? '.bench-data');
const tree = join(root, `dataset-${SIZE_GB}g`, 'tree');
if (!existsSync(tree)) throw new Error(`no dataset at ${tree}: run npm run bench:local first`);
const pass = new TextEncoder().encode('bench passphrase');
const store = join(root, 'split-store'), repo = join(root, 'split-restic');
const kOut = join(root, 'split-kloset-out'), rOut = join(root, 'split-restic-out');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows: string[] = [];
for (const part of ['small', 'large']) {
  const dir = join(tree, part);
  const m = { b: [] as number[], bc: [] as number[], rb: [] as number[], rbc: [] as number[], x: [] as number[], xc: [] as number[], rx: [] as number[], rxc: [] as number[] };
  let files = 0;
  const env = { ...process.env, RESTIC_PASSWORD: 'bench passphrase' };
  const restic = (args: string[]) => {
    const t = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'restic', '-r', repo, ...args], { env, encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`restic ${args.join(' ')}: ${t.stderr}`);
    const [e, u, sys] = t.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    return [e!, u! + sys!] as const;
  };
  for (let r = 0; r < RUNS; r++) {
    rmSync(store, { recursive: true, force: true });
    await (await Repository.create(new FsStorage(store), nodePrimitives, pass)).close();
    const repository = await Repository.open(new FsStorage(store), nodePrimitives, pass);
    let c0 = process.cpuUsage(), t0 = performance.now();
    const result = await backup(repository, new FsImporter(dir));
    m.b.push((performance.now() - t0) / 1000);
    let c = process.cpuUsage(c0);
    m.bc.push((c.user + c.system) / 1e6);
    files = result.progress.files;
    rmSync(kOut, { recursive: true, force: true });
    execFileSync('sync');
    const snap = await SnapshotReader.open(repository, result.snapshotId);
    c0 = process.cpuUsage(); t0 = performance.now();
    const restored = await restore(snap, snap.header.sources[0]!.importer.directory, new FsDestination(kOut));
    m.x.push((performance.now() - t0) / 1000);
    c = process.cpuUsage(c0);
    m.xc.push((c.user + c.system) / 1e6);
    if (restored.errors.length || restored.files !== files) throw new Error(`kloset restore: ${restored.files} files, ${restored.errors.length} errors`);
    await repository.close();

    rmSync(repo, { recursive: true, force: true });
    execFileSync('restic', ['-r', repo, 'init', '-q'], { env });
    const [rb, rbc] = restic(['backup', '-q', dir]);
    m.rb.push(rb); m.rbc.push(rbc);
    rmSync(rOut, { recursive: true, force: true });
    execFileSync('sync');
    const [rx, rxc] = restic(['restore', 'latest', '--target', rOut, '-q']);
    m.rx.push(rx); m.rxc.push(rxc);
  }
  const f = (xs: number[]) => median(xs).toFixed(2);
  rows.push(`| ${part} | backup | ${files} | ${f(m.b)} | ${f(m.bc)} | ${f(m.rb)} | ${f(m.rbc)} |`);
  rows.push(`| ${part} | restore | ${files} | ${f(m.x)} | ${f(m.xc)} | ${f(m.rx)} | ${f(m.rxc)} |`);
}
console.log('| part | step | files | kloset wall s (in-process) | kloset CPU s | restic wall s (whole command) | restic CPU s |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
rmSync(kOut, { recursive: true, force: true });
rmSync(rOut, { recursive: true, force: true });
rmSync(store, { recursive: true, force: true });
rmSync(repo, { recursive: true, force: true });
process.exit(0); // the encoder worker idles out after a second; do not wait for it

/**
 * Where a local backup's time goes: the small files and the large files of bench/local.ts's
 * dataset backed up apart, kloset timed in-process (store opened first, so start-up and
 * unlocking are not counted; wall and CPU seconds of the whole process, median of RUNS) beside
 * restic on the same folder (a separate process, start-up and unlocking included).
 *
 *   npm run bench:split           (SIZE_GB=1; run bench:local first: it generates the dataset)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsImporter } from '../src/connectors/fs/importer.js';
import { FsStorage } from '../src/connectors/fs/storage.js';
import { nodePrimitives } from '../src/kloset/node/primitives.js';
import { Repository } from '../src/kloset/repository/repository.js';
import { backup } from '../src/kloset/snapshot/builder.js';

const SIZE_GB = Number(process.env.SIZE_GB ?? 1);
const RUNS = Number(process.env.RUNS ?? 3);
const root = resolve(process.env.BENCH_DIR ?? '.bench-data');
const tree = join(root, `dataset-${SIZE_GB}g`, 'tree');
if (!existsSync(tree)) throw new Error(`no dataset at ${tree}: run npm run bench:local first`);
const pass = new TextEncoder().encode('bench passphrase');
const store = join(root, 'split-store'), repo = join(root, 'split-restic');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`| part | files | kloset wall s (in-process) | kloset CPU s | restic wall s (whole command) | restic CPU s |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const part of ['small', 'large']) {
  const dir = join(tree, part);
  const walls: number[] = [], cpus: number[] = [], rWalls: number[] = [], rCpus: number[] = [];
  let files = 0;
  for (let r = 0; r < RUNS; r++) {
    rmSync(store, { recursive: true, force: true });
    await (await Repository.create(new FsStorage(store), nodePrimitives, pass)).close();
    const repository = await Repository.open(new FsStorage(store), nodePrimitives, pass);
    const c0 = process.cpuUsage(), t0 = performance.now();
    const result = await backup(repository, new FsImporter(dir));
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
    files = result.progress.files;
    await repository.close();

    rmSync(repo, { recursive: true, force: true });
    const env = { ...process.env, RESTIC_PASSWORD: 'bench passphrase' };
    execFileSync('restic', ['-r', repo, 'init', '-q'], { env });
    const t = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'restic', '-r', repo, 'backup', '-q', dir], { env, encoding: 'utf8' });
    const [e, u, s] = t.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    rWalls.push(e!);
    rCpus.push(u! + s!);
  }
  console.log(`| ${part} | ${files} | ${median(walls).toFixed(2)} | ${median(cpus).toFixed(2)} | ${median(rWalls).toFixed(2)} | ${median(rCpus).toFixed(2)} |`);
}
rmSync(store, { recursive: true, force: true });
rmSync(repo, { recursive: true, force: true });
process.exit(0); // the encoder worker idles out after a second; do not wait for it

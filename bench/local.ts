/**
 * Local backup/restore, side by side with restic (Debian package `restic`, encrypted local
 * repository), on the generated mixed dataset. Both run as separate processes, timed from the
 * outside, with the dataset in the page cache for both.
 *
 *   npm run bench:local                 (SIZE_GB=1 by default; SIZE_GB=4 for the memory check)
 *
 * Prints the wall times, `backup-ratio`, `rebackup-ratio`, `restore-ratio` (kloset throughput ÷
 * restic throughput = restic time ÷ kloset time) and kloset's peak RSS per step.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeDataset } from './dataset.js';

const SIZE_GB = Number(process.env.SIZE_GB ?? 1);
const root = resolve(process.env.BENCH_DIR ?? '.bench-data');
const data = join(root, `dataset-${SIZE_GB}g`);
const kloset = resolve('bin/kloset.js');
const env = { ...process.env, KLOSET_PASSPHRASE: 'bench passphrase', RESTIC_PASSWORD: 'bench passphrase' };

const rssFile = join(root, 'rss.txt');
const probe = resolve('bench/rss-probe.mjs');

/**
 * Runs a command under GNU time. `rssMiB` is the peak of the largest process of the tree (for an
 * encrypted kloset store, the Argon2id child: 256 MiB by the store's parameters + a runtime);
 * `engineMiB` is kloset's own process (reported by bench/rss-probe.mjs), NaN for other tools.
 */
function timed(cmd: string, args: string[]): { seconds: number; rssMiB: number; engineMiB: number; stdout: string } {
  rmSync(rssFile, { force: true });
  // Each step starts with no dirty pages left by the one before: writeback of a previous
  // step's gigabyte throttled the next one's writes, for whichever tool came second.
  spawnSync('sync');
  const full = cmd === 'node' ? ['--import', probe, ...args] : args;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...full], { env: { ...env, KLOSET_RSS_FILE: rssFile }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop()!.split(' ');
  const engine = existsSync(rssFile) ? Math.max(...readFileSync(rssFile, 'utf8').trim().split('\n').map(Number)) / 1024 : NaN;
  return { seconds: Number(last[0]), rssMiB: Number(last[1]) / 1024, engineMiB: engine, stdout: r.stdout };
}

if (!existsSync(join(data, '.complete'))) {
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  const t = Date.now();
  const info = makeDataset(join(data, 'tree'), SIZE_GB * 2 ** 30);
  writeFileSync(join(data, '.complete'), JSON.stringify(info));
  console.log(`# generated ${info.files} files, ${(info.bytes / 2 ** 30).toFixed(2)} GiB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
const info = JSON.parse(readFileSync(join(data, '.complete'), 'utf8')) as { files: number; bytes: number };
const tree = join(data, 'tree');
// warm the page cache for both tools alike
spawnSync('sh', ['-c', `find '${tree}' -type f -exec cat {} + > /dev/null`]);

const ks = join(root, 'kloset-store'), rs = join(root, 'restic-repo');
const kOut = join(root, 'kloset-restore'), rOut = join(root, 'restic-restore');
for (const p of [ks, rs, kOut, rOut]) rmSync(p, { recursive: true, force: true });

timed('node', [kloset, 'at', ks, 'create']);
execFileSync('restic', ['-r', rs, 'init', '-q'], { env });

const MB = info.bytes / 1e6;
const rows: [string, number, number, number, number][] = [];
const kb = timed('node', [kloset, 'at', ks, 'backup', tree]);
const rb = timed('restic', ['-r', rs, 'backup', '-q', tree]);
rows.push(['backup', kb.seconds, rb.seconds, kb.engineMiB, kb.rssMiB]);
const kr = timed('node', [kloset, 'at', ks, 'backup', tree]);
const rr = timed('restic', ['-r', rs, 'backup', '-q', tree]);
rows.push(['rebackup', kr.seconds, rr.seconds, kr.engineMiB, kr.rssMiB]);
const id = /([0-9a-f]{64})\s*$/.exec(kb.stdout)![1]!;
const kx = timed('node', [kloset, 'at', ks, 'restore', '-to', kOut, `${id}:${tree}`]);
const rx = timed('restic', ['-r', rs, 'restore', 'latest', '--target', rOut, '-q']);
rows.push(['restore', kx.seconds, rx.seconds, kx.engineMiB, kx.rssMiB]);

const du = (p: string) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 20;
console.log(`# dataset: ${info.files} files, ${(info.bytes / 2 ** 30).toFixed(2)} GiB; restic ${execFileSync('restic', ['version'], { encoding: 'utf8' }).trim()}`);
console.log('| step | kloset s | restic s | kloset MB/s | restic MB/s | kloset engine peak RSS MiB | largest process (Argon2id child) MiB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, k, r, eng, rss] of rows) console.log(`| ${name} | ${k.toFixed(2)} | ${r.toFixed(2)} | ${(MB / k).toFixed(0)} | ${(MB / r).toFixed(0)} | ${eng.toFixed(0)} | ${rss.toFixed(0)} |`);
console.log(`store size: kloset ${du(ks).toFixed(0)} MiB, restic ${du(rs).toFixed(0)} MiB`);
for (const [name, k, r] of rows) console.log(`${name}-ratio: ${(r / k).toFixed(2)}`);
console.log(`kloset-peak-rss: ${Math.max(...rows.map((r) => r[3])).toFixed(0)} MiB (engine process); ${Math.max(...rows.map((r) => r[4])).toFixed(0)} MiB (largest process, the Argon2id child)`);

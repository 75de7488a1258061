/**
 * Local backup/restore, side by side with restic (Debian package `restic`, encrypted local
 * repository), on the generated mixed dataset. Both run as separate processes, timed from the
 * outside, with the dataset in the page cache for both.
 *
 *   npm run bench:local    (SIZE_GB=1 by default, SIZE_GB=4 for the memory check; ROUNDS=3 by default)
 *
 * Prints the wall times, `backup-ratio`, `rebackup-ratio`, `restore-ratio` (kloset throughput ÷
 * restic throughput = restic time ÷ kloset time) and kloset's peak RSS per step.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startFlagsOf } from '../bin/v8-tuning.js';
import { makeDataset } from './dataset.js';

const SIZE_GB = Number(process.env.SIZE_GB ?? 1);
const root = resolve(process.env.BENCH_DIR ?? '.bench-data');
const data = join(root, `dataset-${SIZE_GB}g`);
const kloset = resolve('bin/kloset.js');
/** node flags of the bin's shebang: kloset is measured as the installed command runs */
const klosetStartFlags = startFlagsOf(kloset);
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
  const full = cmd === 'node' ? [...klosetStartFlags, '--import', probe, ...args] : args;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...full], { env: { ...env, KLOSET_RSS_FILE: rssFile }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop()!.split(' ');
  const engine = existsSync(rssFile) ? Math.max(...readFileSync(rssFile, 'utf8').trim().split('\n').map(Number)) / 1024 : NaN;
  return { seconds: Number(last[0]), rssMiB: Number(last[1]) / 1024, engineMiB: engine, stdout: r.stdout };
}

// the peer is a Debian package the test set-up does not install
if (spawnSync('restic', ['version']).error) {
  console.error('bench:local needs restic: apt-get install restic');
  process.exit(2);
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

/**
 * Stores and restore targets of this run live in `runs/` and are deleted only when the run is
 * over. Creating files right after deleting thousands is slow on ext4: its inode allocator
 * skips inodes freed in the last 5 s, or the last 5 min while their inode-table block is not
 * written back yet (`recently_deleted` in fs/ext4/ialloc.c). A perf profile of a restore made
 * right after `rm -rf` of the previous one spent most of its time there (4,000 file creations:
 * 585–803 µs each against 14–27 µs), which slowed whichever tool's restore followed a deletion.
 * Leftovers of an earlier run are deleted first, written back (`sync`), and the run waits out
 * the 5 s.
 */
const runs = join(root, 'runs');
if (existsSync(runs)) {
  rmSync(runs, { recursive: true, force: true });
  spawnSync('sync');
  console.log('# removed the previous run\'s stores and restores; waiting 6 s (ext4 recently_deleted window)');
  spawnSync('sleep', ['6']);
}
mkdirSync(runs, { recursive: true });
let ks = '', rs = '';

/**
 * One round: fresh stores, then backup, re-backup and restore by each tool. The tool that goes
 * first alternates between rounds (the second one of a pair met a warmer or a busier disk).
 */
type Step = 'backup' | 'rebackup' | 'restore';
interface Sample { k: number; r: number; engine: number; rss: number }
function round(i: number, kFirst: boolean): Record<Step, Sample> {
  ks = join(runs, `kloset-store-${i}`);
  rs = join(runs, `restic-repo-${i}`);
  const kOut = join(runs, `kloset-restore-${i}`), rOut = join(runs, `restic-restore-${i}`);
  timed('node', [kloset, 'at', ks, 'create']);
  execFileSync('restic', ['-r', rs, 'init', '-q'], { env });
  let id = '';
  const steps: Record<Step, [() => ReturnType<typeof timed>, () => ReturnType<typeof timed>]> = {
    backup: [() => {
      const t = timed('node', [kloset, 'at', ks, 'backup', tree]);
      id = /([0-9a-f]{64})\s*$/.exec(t.stdout)![1]!;
      return t;
    }, () => timed('restic', ['-r', rs, 'backup', '-q', tree])],
    rebackup: [() => timed('node', [kloset, 'at', ks, 'backup', tree]), () => timed('restic', ['-r', rs, 'backup', '-q', tree])],
    restore: [() => timed('node', [kloset, 'at', ks, 'restore', '-to', kOut, `${id}:${tree}`]), () => timed('restic', ['-r', rs, 'restore', 'latest', '--target', rOut, '-q'])],
  };
  const out = {} as Record<Step, Sample>;
  for (const step of ['backup', 'rebackup', 'restore'] as const) {
    const [k, r] = steps[step];
    let kt, rt;
    if (kFirst) { kt = k(); rt = r(); } else { rt = r(); kt = k(); }
    out[step] = { k: kt.seconds, r: rt.seconds, engine: kt.engineMiB, rss: kt.rssMiB };
  }
  return out;
}

// Single runs on this VM kind swing by ±30 % (the same restic restore took 3.8 s and 14.4 s
// within the hour): ROUNDS rounds, and the medians are compared.
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 3));
const samples: Record<Step, Sample>[] = [];
for (let i = 0; i < ROUNDS; i++) samples.push(round(i, i % 2 === 0));

const MB = info.bytes / 1e6;
const steps = ['backup', 'rebackup', 'restore'] as const;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const rows = steps.map((step) => {
  const xs = samples.map((s) => s[step]);
  return { step, k: median(xs.map((x) => x.k)), r: median(xs.map((x) => x.r)), kr: range(xs.map((x) => x.k)), rr: range(xs.map((x) => x.r)),
    engine: Math.max(...xs.map((x) => x.engine)), rss: Math.max(...xs.map((x) => x.rss)) };
});
const du = (p: string) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 20;
console.log(`# dataset: ${info.files} files, ${(info.bytes / 2 ** 30).toFixed(2)} GiB; restic ${execFileSync('restic', ['version'], { encoding: 'utf8' }).trim()}; ${ROUNDS} round(s), medians (range)`);
console.log('| step | kloset s | restic s | kloset MB/s | restic MB/s | kloset engine peak RSS MiB | largest process (Argon2id child) MiB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const x of rows) console.log(`| ${x.step} | ${x.k.toFixed(2)} (${x.kr}) | ${x.r.toFixed(2)} (${x.rr}) | ${(MB / x.k).toFixed(0)} | ${(MB / x.r).toFixed(0)} | ${x.engine.toFixed(0)} | ${x.rss.toFixed(0)} |`);
console.log(`store size: kloset ${du(ks).toFixed(0)} MiB, restic ${du(rs).toFixed(0)} MiB`);
for (const x of rows) console.log(`${x.step}-ratio: ${(x.r / x.k).toFixed(2)}  (per round: ${samples.map((s) => (s[x.step].r / s[x.step].k).toFixed(2)).join(', ')})`);
console.log(`kloset-peak-rss: ${Math.max(...rows.map((x) => x.engine)).toFixed(0)} MiB (engine process); ${Math.max(...rows.map((x) => x.rss)).toFixed(0)} MiB (largest process, the Argon2id child)`);
rmSync(runs, { recursive: true, force: true });

/**
 * Kloset's S3 connectors side by side with peers, on ONE radosgw (Ceph 16, file-backed bluestore)
 * that this script starts on its own port and state folder and stops at the end (also on failure
 * or Ctrl-C). Every command is a separate process timed from outside (GNU time): wall time, CPU
 * of the client process tree, CPU of the server daemons (radosgw, ceph-osd, ceph-mon from /proc)
 * over the same interval, and peak RSS.
 *
 *   npm run bench:s3                                   (full scale)
 *   SMALL=1000 LARGE=2 STORE_GB=0.25 npm run bench:s3  (quick)
 *
 * Scenarios:
 * 1. bucket backup: a source bucket of SMALL objects of 1–64 KiB and LARGE objects of LARGE_MIB MiB
 *    (bench/s3-dataset.ts). Peer `aws s3 sync s3://src <empty dir>`; kloset
 *    `kloset at <local encrypted store> backup @src`.
 * 2. restore into a bucket: peer `aws s3 sync <its dir> s3://dst-aws…`; kloset
 *    `kloset at <store> restore -to @dst <snapshot>`.
 *    Both run three times on separate stores/buckets: the `small/` prefix alone (objects/s), the
 *    `large/` prefix alone (MB/s) and the whole bucket.
 * 3. a store in a bucket, on bench/local.ts's dataset (STORE_GB GiB): restic's S3 backend against
 *    `kloset at @s3store`, backup of the folder and restore of it into a local folder.
 *
 * Every result is checked (object or file count, sizes, content hashes) so that a fast but wrong
 * run fails the benchmark. Ratios are kloset throughput ÷ peer throughput (= peer time ÷ kloset time).
 *
 * Environment: SMALL (10000) LARGE (20) LARGE_MIB (50) STORE_GB (1) SCENARIOS (bucket,store)
 * PARTS (small,large,all) RGW_PORT (7490) MON_PORT (6791) BLUESTORE_GB (24) BENCH_DIR (.bench-data)
 * KLOSET_BIN (bin/kloset.js) KEEP=1 (leave the run folder and radosgw running, for debugging).
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startFlagsOf } from '../bin/v8-tuning.js';
import { makeDataset } from './dataset.js';
import { makeBucketDataset, type BucketManifest, type ObjectRef } from './s3-dataset.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SMALL = num('SMALL', 10_000), LARGE = num('LARGE', 20), LARGE_MIB = num('LARGE_MIB', 50);
const STORE_GB = num('STORE_GB', 1);
const PORT = num('RGW_PORT', 7490);
const MON_PORT = num('MON_PORT', 6791);
const BLUESTORE_GB = num('BLUESTORE_GB', 24);
const SCENARIOS = (process.env.SCENARIOS ?? 'bucket,store').split(',');
const PARTS = (process.env.PARTS ?? 'small,large,all').split(',') as Part[];
const KEEP = process.env.KEEP === '1';
const root = resolve(process.env.BENCH_DIR ?? '.bench-data');
const work = join(root, `s3-run-${process.pid}`);
const rgwDir = join(work, 'rgw');
const kloset = resolve(process.env.KLOSET_BIN ?? 'bin/kloset.js');
/** node flags of the bin's shebang: kloset is measured as the installed command runs */
const klosetStartFlags = startFlagsOf(kloset);
const repoDir = resolve('.');
const AWS = '/usr/bin/aws';
// the peers are Debian packages the test set-up does not install
for (const [tool, pkg] of [[AWS, 'awscli'], ['restic', 'restic']] as const) {
  if (spawnSync(tool, ['--version']).error) {
    console.error(`bench:s3 needs ${tool}: apt-get install ${pkg}`);
    process.exit(2);
  }
}
const ENDPOINT = `http://127.0.0.1:${PORT}`;
const probe = resolve('bench/rss-probe.mjs');
const PASS = 'bench passphrase';

type Part = 'small' | 'large' | 'all';

// ---------------------------------------------------------------- environment of every command

const env: NodeJS.ProcessEnv = { ...process.env };
for (const k of Object.keys(env)) if (/^AWS_/.test(k) || /^RESTIC_/.test(k) || /^KLOSET_/.test(k)) delete env[k];
Object.assign(env, {
  KLOSET_CONFIG_DIR: join(work, 'kloset-config'),
  KLOSET_CACHE_DIR: join(work, 'kloset-cache'),
  KLOSET_PASSPHRASE: PASS,
  RESTIC_PASSWORD: PASS,
  RESTIC_CACHE_DIR: join(work, 'restic-cache'),
  AWS_ACCESS_KEY_ID: 'TESTAK',
  AWS_SECRET_ACCESS_KEY: 'TESTSK',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(work, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
if (process.env.KLOSET_FROM_SOURCES) env.KLOSET_FROM_SOURCES = process.env.KLOSET_FROM_SOURCES;

// ---------------------------------------------------------------- cleanup, whatever happens

let current: ChildProcess | null = null;
let rgwStarted = false;
let cleaned = false;

function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  if (current?.pid && current.exitCode === null) {
    try { process.kill(-current.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (KEEP) {
    console.error(`# KEEP=1: left ${work} and radosgw (stop it with D=${rgwDir} bash scripts/s3/radosgw-down.sh)`);
    return;
  }
  if (rgwStarted) {
    spawnSync('bash', [join(repoDir, 'scripts/s3/radosgw-down.sh')], { env: { ...env, D: rgwDir }, stdio: 'ignore', timeout: 120_000 });
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\n# ${sig}: stopping radosgw and removing ${work}`);
    cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- running and measuring

/** CPU seconds (user+system) so far of the server daemons, by role. */
function serverCpu(): { rgw: number; osd: number; other: number } {
  const out = { rgw: 0, osd: 0, other: 0 };
  for (const { role, pid } of daemonPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[role] += (Number(f[11]) + Number(f[12])) / 100;
    } catch { /* exited */ }
  }
  return out;
}

let pidCache: { role: 'rgw' | 'osd' | 'other'; pid: number }[] | null = null;
function daemonPids() {
  if (pidCache) return pidCache;
  const found: { role: 'rgw' | 'osd' | 'other'; pid: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.pid')) {
        const pid = Number(readFileSync(p, 'utf8').trim());
        if (pid > 0) found.push({ role: /rgw/.test(e.name) ? 'rgw' : /osd/.test(e.name) ? 'osd' : 'other', pid });
      }
    }
  };
  if (existsSync(rgwDir)) walk(rgwDir);
  return (pidCache = found);
}

interface Run {
  seconds: number;
  /** user+system CPU seconds of the command's process tree */
  cpu: number;
  /** CPU seconds of radosgw / ceph-osd (+ mon, mgr) over the same interval */
  rgwCpu: number;
  osdCpu: number;
  /** peak RSS of the largest process of the tree (MiB) */
  rssMiB: number;
  /** kloset's own process (bench/rss-probe.mjs), NaN for other tools */
  engineMiB: number;
  stdout: string;
}

/** Runs a command (own process group, so Ctrl-C can stop it) under GNU time. */
async function timed(cmd: string, args: string[], opts: { quiet?: boolean } = {}): Promise<Run> {
  const timeFile = join(work, 'time.txt'), rssFile = join(work, 'rss.txt');
  rmSync(timeFile, { force: true });
  rmSync(rssFile, { force: true });
  const full = cmd === 'node' ? [...klosetStartFlags, '--import', probe, ...args] : args;
  const before = serverCpu();
  const started = Date.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res, rej) => {
    const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %M %U %S', cmd, ...full], {
      env: { ...env, KLOSET_RSS_FILE: rssFile }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child;
    let out = '', err = '';
    child.stdout!.on('data', (b: Buffer) => { if (out.length < 1 << 20) out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { if (err.length < 1 << 20) err += b.toString(); });
    child.on('error', rej);
    child.on('close', (c) => { current = null; res({ code: c, stdout: out, stderr: err }); });
  });
  const after = serverCpu();
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}) after ${((Date.now() - started) / 1000).toFixed(1)} s:\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`);
  if (!opts.quiet && stderr.trim()) process.stderr.write(stderr.split('\n').filter((l) => !/^\s*$/.test(l)).slice(-5).map((l) => `#   ${cmd === 'node' ? 'kloset' : basename(cmd)}: ${l}\n`).join(''));
  const [e, m, u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const engine = existsSync(rssFile) ? Math.max(...readFileSync(rssFile, 'utf8').trim().split('\n').map(Number)) / 1024 : NaN;
  return {
    seconds: e!, rssMiB: m! / 1024, cpu: u! + s!, engineMiB: engine, stdout,
    rgwCpu: after.rgw - before.rgw, osdCpu: after.osd - before.osd + after.other - before.other,
  };
}

const klosetCmd = (...args: string[]) => timed('node', [kloset, ...args]);
const awsCmd = (...args: string[]) => timed(AWS, ['--endpoint-url', ENDPOINT, ...args]);

function klosetSync(...args: string[]): string {
  return execFileSync('node', [...klosetStartFlags, kloset, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A named location for kloset: the secret key only in the environment, as on a headless machine. */
function addNamed(kind: 'store' | 'source' | 'destination', name: string, location: string): void {
  klosetSync(kind, 'add', name, `location=s3://127.0.0.1:${PORT}/${location}`, 'access_key=TESTAK', 'use_tls=false');
  env[`KLOSET_${kind}_${name}_SECRET_ACCESS_KEY`.toUpperCase().replace(/[^A-Z0-9]/g, '_')] = 'TESTSK';
}

const snapshotId = (stdout: string) => {
  const m = /([0-9a-f]{64})\s*$/.exec(stdout);
  if (!m) throw new Error(`no snapshot ID in the output of backup:\n${stdout}`);
  return m[1]!;
};

// ---------------------------------------------------------------- checking results

const s3 = new S3Client({
  endpoint: ENDPOINT, region: 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: 'TESTAK', secretAccessKey: 'TESTSK' },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});

async function listBucket(bucket: string, prefix = ''): Promise<Map<string, { size: number; etag: string }>> {
  const out = new Map<string, { size: number; etag: string }>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!, { size: o.Size ?? -1, etag: (o.ETag ?? '').replace(/"/g, '') });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => { while (i < items.length) await fn(items[i++]!); }));
}

async function sha256Object(bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const h = createHash('sha256');
  for await (const piece of res.Body as AsyncIterable<Uint8Array>) h.update(piece);
  return h.digest('hex');
}

/**
 * The bucket holds exactly `expected` (keys under `prefix` + the manifest's key): same keys and
 * sizes; single-PUT objects' ETags are their MD5 (= a full content check); every object whose
 * ETag is not a plain MD5 (multipart uploads) is read back and its SHA-256 compared.
 */
async function checkBucket(what: string, bucket: string, expected: ObjectRef[], prefix = ''): Promise<void> {
  const got = await listBucket(bucket, prefix);
  const problems: string[] = [];
  if (got.size !== expected.length) problems.push(`${got.size} objects, expected ${expected.length}`);
  const toHash: ObjectRef[] = [];
  let md5Checked = 0;
  for (const o of expected) {
    const g = got.get(prefix + o.key);
    if (!g) { problems.push(`missing ${prefix + o.key}`); continue; }
    if (g.size !== o.size) problems.push(`${o.key}: ${g.size} bytes, expected ${o.size}`);
    else if (/^[0-9a-f]{32}$/.test(g.etag)) {
      if (g.etag !== o.md5) problems.push(`${o.key}: ETag ${g.etag} is not the MD5 of the source ${o.md5}`);
      md5Checked++;
    } else toHash.push(o);
  }
  if (!problems.length) {
    await pool(toHash, 4, async (o) => {
      const h = await sha256Object(bucket, prefix + o.key);
      if (h !== o.sha256) problems.push(`${o.key}: SHA-256 differs`);
    });
  }
  if (problems.length) throw new Error(`${what}: WRONG RESULT in bucket ${bucket}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5})` : ''}`);
  console.log(`# check ${what}: ${expected.length} objects OK (${md5Checked} by ETag=MD5, ${toHash.length} read back and SHA-256 compared)`);
}

/** A sample of objects kept their Content-Type and user metadata through backup and restore. */
async function checkMetadata(what: string, from: string, to: string, objs: ObjectRef[]): Promise<void> {
  const sample = objs.filter((_, i) => i % Math.max(1, Math.floor(objs.length / 20)) === 0);
  for (const o of sample) {
    const [a, b] = await Promise.all([from, to].map((Bucket) => s3.send(new HeadObjectCommand({ Bucket, Key: o.key }))));
    if (a!.ContentType !== b!.ContentType || JSON.stringify(a!.Metadata ?? {}) !== JSON.stringify(b!.Metadata ?? {})) {
      throw new Error(`${what}: WRONG METADATA for ${o.key}: ${a!.ContentType} ${JSON.stringify(a!.Metadata)} became ${b!.ContentType} ${JSON.stringify(b!.Metadata)}`);
    }
  }
  console.log(`# check ${what}: Content-Type and user metadata of ${sample.length} sampled objects OK`);
}

function walkFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(relative(dir, p), statSync(p).size);
      else out.set(relative(dir, p), -1);
    }
  };
  walk(dir);
  return out;
}

async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const piece of createReadStream(p, { highWaterMark: 1 << 20 })) h.update(piece as Buffer);
  return h.digest('hex');
}

/** The folder holds exactly the expected files, with the same SHA-256 (every file is hashed). */
async function checkDir(what: string, dir: string, expected: ObjectRef[]): Promise<void> {
  const got = walkFiles(dir);
  const problems: string[] = [];
  if (got.size !== expected.length) problems.push(`${got.size} files, expected ${expected.length}`);
  for (const o of expected) {
    const size = got.get(o.key);
    if (size === undefined) problems.push(`missing ${o.key}`);
    else if (size !== o.size) problems.push(`${o.key}: ${size} bytes, expected ${o.size}`);
  }
  if (!problems.length) {
    await pool(expected, 4, async (o) => {
      if ((await sha256File(join(dir, o.key))) !== o.sha256) problems.push(`${o.key}: SHA-256 differs`);
    });
  }
  if (problems.length) throw new Error(`${what}: WRONG RESULT in ${dir}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5})` : ''}`);
  console.log(`# check ${what}: ${expected.length} files OK (sizes and SHA-256 of every file)`);
}

async function dirManifest(dir: string): Promise<ObjectRef[]> {
  const files = walkFiles(dir);
  const out: ObjectRef[] = [];
  await pool([...files], 4, async ([key, size]) => { out.push({ key, size, md5: '', sha256: await sha256File(join(dir, key)) }); });
  return out;
}

/** Where a restore put the tree: the folder itself, or the original absolute path below it. */
function restoredRoot(out: string, tree: string, sample: string): string {
  for (const c of [out, join(out, tree), join(out, basename(tree))]) if (existsSync(join(c, sample))) return c;
  throw new Error(`cannot find the restored tree in ${out} (looked for ${sample})`);
}

// ---------------------------------------------------------------- results

interface Row { scenario: string; step: string; tool: string; objects: number; bytes: number; r: Run }
const rows: Row[] = [];
const ratios: [string, number, string][] = [];

function record(scenario: string, step: string, tool: string, objects: number, bytes: number, r: Run): void {
  rows.push({ scenario, step, tool, objects, bytes, r });
  console.log(`# ${scenario} ${step} ${tool}: ${r.seconds.toFixed(2)} s, ${(objects / r.seconds).toFixed(0)} obj/s, ${(bytes / 1e6 / r.seconds).toFixed(1)} MB/s, client CPU ${r.cpu.toFixed(1)} s, radosgw ${r.rgwCpu.toFixed(1)} s, osd ${r.osdCpu.toFixed(1)} s, RSS ${r.rssMiB.toFixed(0)} MiB`);
}

// ---------------------------------------------------------------- radosgw

async function waitForScripts(): Promise<void> {
  const need = ['radosgw-up-retry.sh', 'radosgw-down.sh'].map((f) => join(repoDir, 'scripts/s3', f));
  for (let i = 0; !need.every(existsSync); i++) {
    if (i >= 20) throw new Error(`missing ${need.join(', ')}`);
    console.error('# waiting for scripts/s3/radosgw-*.sh …');
    await new Promise((r) => setTimeout(r, 60_000));
  }
}

async function startRadosgw(): Promise<void> {
  await waitForScripts();
  mkdirSync(rgwDir, { recursive: true });
  const t = Date.now();
  rgwStarted = true;
  const r = await new Promise<number | null>((res) => {
    const child = spawn('bash', [join(repoDir, 'scripts/s3/radosgw-up-retry.sh')], {
      // radosgw-up.sh fixes bluestore at 4 GiB: ceph daemons also read options from CEPH_ARGS,
      // which override the config file. No mgr: radosgw does not need it, and it takes CPU.
      env: {
        ...env, D: rgwDir, RGW_PORT: String(PORT), MON_PORT: String(MON_PORT), OBJECTSTORE: 'bluestore', NO_MGR: '1',
        CEPH_ARGS: `--bluestore_block_size=${BLUESTORE_GB * 2 ** 30}`,
      },
      detached: true, stdio: ['ignore', 'inherit', 'inherit'],
    });
    current = child;
    child.on('close', (c) => { current = null; res(c); });
  });
  if (r !== 0) throw new Error(`radosgw did not start (scripts/s3/radosgw-up-retry.sh exited ${r})`);
  pidCache = null;
  // (`ceph osd df` needs the mgr: the size bluestore formatted is in its bfm_size file)
  const gib = Number(readFileSync(join(rgwDir, 'osd/osd.0/bfm_size'), 'utf8').trim()) / 2 ** 30;
  if (gib < BLUESTORE_GB * 0.9) throw new Error(`the OSD has ${gib.toFixed(1)} GiB, not the ${BLUESTORE_GB} GiB asked (CEPH_ARGS not honoured?)`);
  console.log(`# radosgw up on ${ENDPOINT} in ${((Date.now() - t) / 1000).toFixed(1)} s (bluestore ${BLUESTORE_GB} GiB, state in ${rgwDir}); daemons: ${daemonPids().map((d) => `${d.role}:${d.pid}`).join(' ')}`);
}

async function createBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

// ---------------------------------------------------------------- scenarios

async function bucketScenarios(): Promise<void> {
  // the object set, cached like bench/local.ts's dataset
  const dataDir = join(root, `s3-objects-${SMALL}-${LARGE}x${LARGE_MIB}m`);
  const manifestFile = join(dataDir, '.manifest.json');
  if (!existsSync(manifestFile)) {
    rmSync(dataDir, { recursive: true, force: true });
    const t = Date.now();
    const m = makeBucketDataset(join(dataDir, 'objects'), SMALL, LARGE, LARGE_MIB);
    writeFileSync(manifestFile, JSON.stringify(m));
    console.log(`# generated ${m.objects.length} objects, ${(m.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BucketManifest;
  const objDir = join(dataDir, 'objects');
  spawnSync('sh', ['-c', `find '${objDir}' -type f -exec cat {} + > /dev/null`]);

  // the source bucket, uploaded (untimed) by the peer tool
  await createBucket('src');
  let t = Date.now();
  const up = await awsCmd('s3', 'sync', '--only-show-errors', objDir, 's3://src');
  console.log(`# source bucket uploaded in ${up.seconds.toFixed(1)} s (${(Date.now() - t) / 1000} s)`);
  await checkBucket('source bucket', 'src', manifest.objects);
  // every object read once, so that whichever tool goes first does not pay radosgw's cold caches
  t = Date.now();
  await pool(manifest.objects, 16, async (o) => { if ((await sha256Object('src', o.key)) !== o.sha256) throw new Error(`source bucket: ${o.key} differs`); });
  console.log(`# source bucket read back (warm-up, SHA-256 of every object) in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const subset = (part: Part) => manifest.objects.filter((o) => part === 'all' || o.key.startsWith(`${part}/`));
  for (const part of PARTS) {
    const objs = subset(part);
    const bytes = objs.reduce((a, o) => a + o.size, 0);
    const pre = part === 'all' ? '' : `${part}/`;
    const label = part === 'all' ? 'whole bucket' : `${part}/ prefix`;
    const scen = `bucket (${label}: ${objs.length} objects, ${(bytes / 1e6).toFixed(0)} MB)`;
    addNamed('source', `src-${part}`, `src${pre ? `/${part}` : ''}`);

    // backup: peer downloads into an empty folder, kloset backs up into an empty local store
    const dl = join(work, `aws-${part}`);
    mkdirSync(dl, { recursive: true });
    const store = join(work, `store-${part}`);
    klosetSync('at', store, 'create');
    const kb = await klosetCmd('at', store, 'backup', `@src-${part}`);
    const m = /(\d+) files \((\d+) unchanged\).* (\d+) errors/.exec(kb.stdout);
    if (!m || Number(m[1]) !== objs.length || Number(m[3]) !== 0) throw new Error(`kloset backup of ${label}: WRONG RESULT: ${kb.stdout.trim()} (expected ${objs.length} files, 0 errors)`);
    const id = snapshotId(kb.stdout);
    record(scen, 'backup', 'kloset', objs.length, bytes, kb);
    const ab = await awsCmd('s3', 'sync', '--only-show-errors', `s3://src${pre ? `/${part}` : ''}`, join(dl, part === 'all' ? '' : part));
    await checkDir(`aws s3 sync download (${label})`, dl, objs);
    record(scen, 'backup', 'aws s3 sync', objs.length, bytes, ab);

    // restore into a bucket: both into empty buckets made beforehand
    const kBucket = `dst-kloset-${part}`, aBucket = `dst-aws-${part}`;
    await createBucket(kBucket);
    await createBucket(aBucket);
    addNamed('destination', `dst-${part}`, kBucket);
    const kr = await klosetCmd('at', store, 'restore', '-to', `@dst-${part}`, id);
    record(scen, 'restore', 'kloset', objs.length, bytes, kr);
    await checkBucket(`kloset restore (${label})`, kBucket, objs);
    await checkMetadata(`kloset restore (${label})`, 'src', kBucket, objs);
    const ar = await awsCmd('s3', 'sync', '--only-show-errors', dl, `s3://${aBucket}`);
    record(scen, 'restore', 'aws s3 sync', objs.length, bytes, ar);
    await checkBucket(`aws s3 sync upload (${label})`, aBucket, objs);
    rmSync(dl, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });

    const ratio = (a: Run, k: Run) => a.seconds / k.seconds;
    if (part === 'small' || (part === 'all' && !PARTS.includes('small'))) {
      ratios.push(['backup-objects-ratio', ratio(ab, kb), `${label}: kloset ${(objs.length / kb.seconds).toFixed(0)} obj/s vs aws s3 sync ${(objs.length / ab.seconds).toFixed(0)} obj/s`]);
      ratios.push(['restore-objects-ratio', ratio(ar, kr), `${label}: kloset ${(objs.length / kr.seconds).toFixed(0)} obj/s vs aws s3 sync ${(objs.length / ar.seconds).toFixed(0)} obj/s`]);
    }
    if (part === 'large' || (part === 'all' && !PARTS.includes('large'))) {
      ratios.push(['backup-mbps-ratio', ratio(ab, kb), `${label}: kloset ${(bytes / 1e6 / kb.seconds).toFixed(1)} MB/s vs aws s3 sync ${(bytes / 1e6 / ab.seconds).toFixed(1)} MB/s`]);
      ratios.push(['restore-mbps-ratio', ratio(ar, kr), `${label}: kloset ${(bytes / 1e6 / kr.seconds).toFixed(1)} MB/s vs aws s3 sync ${(bytes / 1e6 / ar.seconds).toFixed(1)} MB/s`]);
    }
    if (part === 'all') {
      ratios.push(['backup-bucket-ratio', ratio(ab, kb), `whole bucket, objects/s and MB/s alike`]);
      ratios.push(['restore-bucket-ratio', ratio(ar, kr), `whole bucket, objects/s and MB/s alike`]);
    }
  }
}

async function storeScenario(): Promise<void> {
  // bench/local.ts's dataset (same folder and generator, so the two benchmarks share it)
  const data = join(root, `dataset-${STORE_GB}g`);
  if (!existsSync(join(data, '.complete'))) {
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data, { recursive: true });
    const t = Date.now();
    const info = makeDataset(join(data, 'tree'), STORE_GB * 2 ** 30);
    writeFileSync(join(data, '.complete'), JSON.stringify(info));
    console.log(`# generated ${info.files} files, ${(info.bytes / 2 ** 30).toFixed(2)} GiB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const tree = join(data, 'tree');
  spawnSync('sh', ['-c', `find '${tree}' -type f -exec cat {} + > /dev/null`]);
  const expected = await dirManifest(tree);
  const bytes = expected.reduce((a, o) => a + o.size, 0);
  const scen = `store in a bucket (${expected.length} files, ${(bytes / 1e6).toFixed(0)} MB)`;

  const resticRepo = `s3:${ENDPOINT}/restic-bucket`;
  execFileSync('restic', ['-r', resticRepo, 'init', '-q'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  addNamed('store', 's3store', 'kloset-bucket');
  const kc = await klosetCmd('at', '@s3store', 'create');
  console.log(`# kloset at @s3store create: ${kc.seconds.toFixed(2)} s`);

  const kb = await klosetCmd('at', '@s3store', 'backup', tree);
  const id = snapshotId(kb.stdout);
  record(scen, 'backup', 'kloset', expected.length, bytes, kb);
  const rb = await timed('restic', ['-r', resticRepo, 'backup', '-q', tree]);
  record(scen, 'backup', 'restic', expected.length, bytes, rb);
  const kOut = join(work, 'kloset-restore'), rOut = join(work, 'restic-restore');
  const kr = await klosetCmd('at', '@s3store', 'restore', '-to', kOut, `${id}:${tree}`);
  record(scen, 'restore', 'kloset', expected.length, bytes, kr);
  await checkDir('kloset restore from the bucket store', restoredRoot(kOut, tree, expected[0]!.key), expected);
  rmSync(kOut, { recursive: true, force: true });
  const rr = await timed('restic', ['-r', resticRepo, 'restore', 'latest', '--target', rOut, '-q']);
  record(scen, 'restore', 'restic', expected.length, bytes, rr);
  await checkDir('restic restore from the bucket', restoredRoot(rOut, tree, expected[0]!.key), expected);
  rmSync(rOut, { recursive: true, force: true });
  const kSize = [...(await listBucket('kloset-bucket')).values()].reduce((a, o) => a + o.size, 0);
  const rSize = [...(await listBucket('restic-bucket')).values()].reduce((a, o) => a + o.size, 0);
  console.log(`# store size in the bucket: kloset ${(kSize / 2 ** 20).toFixed(0)} MiB, restic ${(rSize / 2 ** 20).toFixed(0)} MiB`);
  ratios.push(['store-backup-ratio', rb.seconds / kb.seconds, `kloset ${(bytes / 1e6 / kb.seconds).toFixed(1)} MB/s vs restic ${(bytes / 1e6 / rb.seconds).toFixed(1)} MB/s`]);
  ratios.push(['store-restore-ratio', rr.seconds / kr.seconds, `kloset ${(bytes / 1e6 / kr.seconds).toFixed(1)} MB/s vs restic ${(bytes / 1e6 / rr.seconds).toFixed(1)} MB/s`]);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'aws-config'), '[default]\nregion = us-east-1\n');
  writeFileSync(join(work, 'aws-credentials'), '');
  await startRadosgw();
  if (SCENARIOS.includes('bucket')) await bucketScenarios();
  if (SCENARIOS.includes('store')) await storeScenario();

  const version = (c: string, a: string[]) => execFileSync(c, a, { env, encoding: 'utf8' }).trim().split('\n')[0];
  console.log(`\n# ${new Date().toISOString()}; radosgw ${version('radosgw', ['--version'])}; ${version(AWS, ['--version'])}; ${version('restic', ['version'])}; node ${process.version}; kloset ${kloset}`);
  console.log('| scenario | step | tool | wall s | objects/s | MB/s | client CPU s | radosgw CPU s | ceph-osd+mon CPU s | peak RSS MiB (kloset engine) |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { scenario, step, tool, objects, bytes, r } of rows) {
    console.log(`| ${scenario} | ${step} | ${tool} | ${r.seconds.toFixed(2)} | ${(objects / r.seconds).toFixed(0)} | ${(bytes / 1e6 / r.seconds).toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.rgwCpu.toFixed(1)} | ${r.osdCpu.toFixed(1)} | ${r.rssMiB.toFixed(0)}${Number.isNaN(r.engineMiB) ? '' : ` (${r.engineMiB.toFixed(0)})`} |`);
  }
  for (const [name, v, note] of ratios) console.log(`${name}: ${v.toFixed(2)}  (${note})`);
}

main().then(() => {
  s3.destroy();
  process.exit(0);
}, (e: unknown) => {
  console.error(`bench:s3 failed: ${e instanceof Error ? e.message : String(e)}`);
  s3.destroy();
  process.exit(1);
});

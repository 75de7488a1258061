import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree, tempDir } from '../support/engine.js';

const bin = fileURLToPath(new URL('../../bin/kloset.js', import.meta.url));
const work = tempDir('kloset-cli-');
afterAll(() => work.cleanup());

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'buffer',
    env: { ...process.env, KLOSET_PASSPHRASE: 'cli test passphrase', PLAKAR_PASSPHRASE: undefined, KLOSET_CACHE_DIR: join(work.path, 'cache'), ...env },
    input: '',
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout.toString('utf8'), raw: r.stdout, stderr: r.stderr.toString('utf8') };
}

/**
 * A store holding one backup of a small tree plus a big file, and a `kloset … cat` of that
 * file started with its stdout on a pipe (the test decides whether anyone reads it).
 */
function catOfBigFile(name: string, bigBytes: number) {
  const src = join(work.path, `${name}-src`);
  makeTree(src);
  writeFileSync(join(src, 'big.bin'), Buffer.alloc(bigBytes, 7));
  const store = join(work.path, `${name}-store`);
  expect(run(['at', store, 'create']).status).toBe(0);
  const id = /([0-9a-f]{64})\s*$/.exec(run(['at', store, 'backup', src]).stdout)![1]!;
  return spawn(process.execPath, [bin, 'at', store, 'cat', `${id}:${src}/big.bin`], {
    env: { ...process.env, KLOSET_PASSPHRASE: 'cli test passphrase', KLOSET_CACHE_DIR: join(work.path, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('kloset command', () => {
  it('runs as one process, tuned in-process (no second Node start-up), and a SIGKILL leaves nothing behind', async () => {
    // `cat` into a pipe nobody reads: the command blocks once the pipe is full
    const p = catOfBigFile('one-process', 4 << 20);
    const pid = p.pid!;
    // the pipe fills once the store is open and the file is being read: by then the process
    // has loaded the native codec itself (process-tuning.js calls mallopt through it)
    let maps = '';
    for (let i = 0; i < 200 && !maps.includes('kloset_codec.node'); i++) {
      await new Promise((r) => setTimeout(r, 25));
      maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
    }
    expect(maps).toContain('kloset_codec.node');
    const children = () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    const kids = children();
    // the only children are key-derivation processes, never the command run a second time
    const cmdline = (k: number) => { try { return readFileSync(`/proc/${k}/cmdline`, 'utf8'); } catch { return ''; } };
    for (const kid of kids) {
      // a child caught between fork and exec still shows the parent's command line: a second
      // start of the command would keep it, a key-derivation child replaces it at once
      let cmd = cmdline(kid);
      for (let i = 0; i < 50 && cmd.includes(bin); i++) {
        await new Promise((r) => setTimeout(r, 20));
        cmd = cmdline(kid);
      }
      expect(cmd).not.toContain(bin);
    }
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    const alive = (k: number) => existsSync(`/proc/${k}`) && !readFileSync(`/proc/${k}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    for (let i = 0; i < 100 && kids.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
    expect(kids.filter(alive)).toEqual([]);
  });

  it('ends quietly with status 141 when its stdout is closed early (`… cat | head -c 10`)', async () => {
    const p = catOfBigFile('epipe', 8 << 20);
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // read the first bytes, then close our end of the pipe, as `head -c 10` does
    await new Promise<void>((resolve) => p.stdout.once('data', () => { p.stdout.destroy(); resolve(); }));
    const status = await new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
    expect(status).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
  });

  it('prints help and its version', () => {
    expect(run(['--help']).stdout).toContain('kloset at <store> backup');
    expect(run(['--version']).stdout).toMatch(/^kloset \d+\.\d+\.\d+\n$/);
  });

  it('says plainly what is not implemented yet, with a non-zero exit', () => {
    const r = run(['at', join(work.path, 'x'), 'ui']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("'ui' is not implemented yet");
    expect(run(['frobnicate']).status).toBe(2);
  });

  it('create → backup → ls → cat → restore → check → info, as plakar shapes them', () => {
    const src = join(work.path, 'src');
    const files = makeTree(src);
    const store = join(work.path, 'store');
    expect(run(['at', store, 'create']).status).toBe(0);
    expect(run(['at', store, 'create']).status).not.toBe(0); // CONFLICT: already a store

    const b = run(['at', store, 'backup', '-tag', 'daily', src]);
    expect(b.status, b.stderr).toBe(0);
    const id = /([0-9a-f]{64})\s*$/.exec(b.stdout)?.[1];
    expect(id).toBeDefined();

    const ls = run(['at', `fs://${store}`, 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`^${id!.slice(0, 8)}  \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\s+[\\d.]+ \\w+\\s+${src}\\n$`));

    const dir = run(['at', store, 'ls', `${id!.slice(0, 8)}:${src}/docs`]);
    expect(dir.stdout.trim().split('\n').map((l) => l.split(' ').pop())).toEqual(['empty.txt', 'readme.md']);

    const cat = run(['at', store, 'cat', `${id!.slice(0, 10)}:${src}/data/random.bin`]);
    expect(createHash('sha256').update(cat.raw).digest('hex')).toBe(createHash('sha256').update(files['data/random.bin']!).digest('hex'));

    const out = join(work.path, 'out');
    const r = run(['at', store, 'restore', '-to', out, `${id}:${src}/docs`]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'docs', 'readme.md'))).toEqual(files['docs/readme.md']);

    const check = run(['at', store, 'check']);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain(`${id!.slice(0, 8)}: ok`);

    const info = run(['at', store, 'info'], { KLOSET_PASSPHRASE: undefined });
    expect(info.status).toBe(0);
    expect(info.stdout).toContain('encryption: AES256-GCM-SIV');
  });

  it('stores written with the native codec and without it (KLOSET_NATIVE_CODEC=0) read back, checked and restored by the other', () => {
    const src = join(work.path, 'codec-src');
    const files = makeTree(src);
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    for (const [writer, reader] of [[{}, { KLOSET_NATIVE_CODEC: '0' }], [{ KLOSET_NATIVE_CODEC: '0' }, {}]] as const) {
      const tag = Object.keys(writer).length ? 'portable-to-native' : 'native-to-portable';
      const store = join(work.path, `codec-${tag}`);
      expect(run(['at', store, 'create'], writer).status).toBe(0);
      const b = run(['at', store, 'backup', src], writer);
      expect(b.status, b.stderr).toBe(0);
      const id = /([0-9a-f]{64})\s*$/.exec(b.stdout)![1]!;
      const check = run(['at', store, 'check'], reader);
      expect(check.status, `${tag}: ${check.stderr}`).toBe(0);
      const out = join(work.path, `codec-out-${tag}`);
      expect(run(['at', store, 'restore', '-to', out, `${id}:${src}`], reader).status).toBe(0);
      for (const [rel, data] of Object.entries(files)) expect(digest(readFileSync(join(out, 'codec-src', rel))), `${tag}: ${rel}`).toBe(digest(data));
    }
  });

  it('one clear line and a non-zero exit for a wrong or missing passphrase and a missing store', () => {
    const store = join(work.path, 'store2');
    expect(run(['at', store, 'create']).status).toBe(0);
    const wrong = run(['at', store, 'ls'], { KLOSET_PASSPHRASE: 'not it' });
    expect(wrong.status).toBe(3);
    expect(wrong.stderr.trim().split('\n')).toEqual(['kloset: wrong passphrase: the key does not open this store']);
    const missing = run(['at', store, 'ls'], { KLOSET_PASSPHRASE: undefined });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no passphrase: set KLOSET_PASSPHRASE/);
    const nostore = run(['at', join(work.path, 'nothing-here'), 'ls']);
    expect(nostore.status).toBe(1);
    expect(nostore.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('accepts PLAKAR_PASSPHRASE and plaintext stores need none', () => {
    const store = join(work.path, 'plain');
    expect(run(['at', store, 'create', '-plaintext', '-no-compression', '-hashing', 'sha256'], { KLOSET_PASSPHRASE: undefined }).status).toBe(0);
    expect(run(['at', store, 'info'], { KLOSET_PASSPHRASE: undefined }).stdout).toMatch(/encryption: none[\s\S]*compression: none[\s\S]*hashing: SHA256-256/);
    const enc = join(work.path, 'enc');
    expect(run(['at', enc, 'create'], { KLOSET_PASSPHRASE: undefined, PLAKAR_PASSPHRASE: 'from plakar env' }).status).toBe(0);
    expect(run(['at', enc, 'ls'], { KLOSET_PASSPHRASE: undefined, PLAKAR_PASSPHRASE: 'from plakar env' }).status).toBe(0);
  });

  it('ptar: `kloset ptar -o` writes an archive with one snapshot that opens like a store, read-only', () => {
    const src = join(work.path, 'ptar-src');
    const files = makeTree(src);
    const archive = join(work.path, 'backup.ptar');
    const made = run(['ptar', '-tag', 'archive', '-o', archive, src]);
    expect(made.status, made.stderr).toBe(0);
    const id = /([0-9a-f]{64})\s*$/.exec(made.stdout)?.[1];
    expect(id).toBeDefined();
    expect(readdirSync(work.path).filter((n) => n.startsWith('backup.ptar'))).toEqual(['backup.ptar']);
    expect(readFileSync(archive).subarray(0, 8).toString()).toBe('_PLATAR_');

    expect(run(['at', archive, 'ls']).stdout).toMatch(new RegExp(`^${id!.slice(0, 8)}  .*${src}\n$`));
    const check = run(['at', `ptar://${archive}`, 'check']);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain(`${id!.slice(0, 8)}: ok`);
    const out = join(work.path, 'ptar-out');
    expect(run(['at', archive, 'restore', '-to', out, `${id}:${src}`]).status).toBe(0);
    for (const [rel, data] of Object.entries(files)) expect(readFileSync(join(out, 'ptar-src', rel)).equals(data), rel).toBe(true);
    expect(run(['at', archive, 'info']).stdout).toContain('packfile max size: 18446744073709551615');

    // written whole, once: every change is refused with one clear line, and the archive stays as it was
    const before = readFileSync(archive);
    for (const args of [['ptar', '-o', archive, src], ['at', archive, 'create'], ['at', archive, 'backup', src], ['at', archive, 'rm', id!]]) {
      const r = run(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/ptar|already exists/);
    }
    expect(readFileSync(archive).equals(before)).toBe(true);

    // a source that is not there: an error, and no archive (nor temporary file) left behind
    const missing = run(['ptar', '-o', join(work.path, 'missing.ptar'), join(work.path, 'no-such-dir')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('no-such-dir');
    expect(readdirSync(work.path).filter((n) => n.startsWith('missing.ptar'))).toEqual([]);
    expect(run(['ptar', src]).stderr).toContain('usage: kloset ptar');
  });

  it('ptar -k: a store\'s snapshots (all, or those named) copied into a new archive under its own passphrase', () => {
    const src = join(work.path, 'ptar-k-src');
    const files = makeTree(src);
    const store = join(work.path, 'ptar-k-store');
    expect(run(['at', store, 'create']).status).toBe(0);
    const ids = [1, 2].map((n) => {
      writeFileSync(join(src, 'a.txt'), `version ${n}\n`);
      return /([0-9a-f]{64})\s*$/.exec(run(['at', store, 'backup', src]).stdout)![1]!;
    });
    const all = join(work.path, 'all.ptar');
    const other = { KLOSET_TO_PASSPHRASE: 'archive passphrase' };
    const made = run(['ptar', '-o', all, '-k', store], other);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout.trim().split('\n')).toEqual(ids.map((id) => expect.stringContaining(`copied ${id}`)));
    // the archive has its own key: the store's passphrase does not open it
    expect(run(['at', all, 'ls']).status).toBe(3);
    const listed = run(['at', all, 'ls'], { KLOSET_PASSPHRASE: 'archive passphrase' }).stdout;
    for (const id of ids) expect(listed).toContain(id.slice(0, 8));
    const check = run(['at', all, 'check'], { KLOSET_PASSPHRASE: 'archive passphrase' });
    expect(check.status, check.stderr).toBe(0);
    expect(run(['at', all, 'info'], { KLOSET_PASSPHRASE: 'archive passphrase' }).stdout).toContain('states: 1, packfiles: 1');
    const cat = run(['at', all, 'cat', `${ids[0]!.slice(0, 8)}:${src}/a.txt`], { KLOSET_PASSPHRASE: 'archive passphrase' });
    expect(cat.stdout).toBe('version 1\n');
    expect(run(['at', all, 'cat', `${ids[1]!.slice(0, 8)}:${src}/docs/readme.md`], { KLOSET_PASSPHRASE: 'archive passphrase' }).raw.equals(files['docs/readme.md']!)).toBe(true);

    const one = join(work.path, 'one.ptar');
    expect(run(['ptar', '-o', one, '-k', store, ids[1]!.slice(0, 8)]).status).toBe(0);
    expect(run(['at', one, 'ls']).stdout.trim().split('\n').map((l) => l.slice(0, 8))).toEqual([ids[1]!.slice(0, 8)]);
    // an unknown snapshot: an error and no archive
    const bad = run(['ptar', '-o', join(work.path, 'bad.ptar'), '-k', store, 'ffffffff']);
    expect(bad.status).not.toBe(0);
    expect(readdirSync(work.path).filter((n) => n.startsWith('bad.ptar'))).toEqual([]);
  });
});

/**
 * The KDF child started ahead of need (prestartKdfProcess, which the CLI calls for `at <store>`
 * commands): the next derivation uses it and gets the same key, and an unused one never keeps
 * a process alive nor outlives it. And a derivation started early (startDerivationEarly, which
 * the CLI starts before loading its modules): taken only by a request with the same parameters
 * and passphrase, never keeping a process alive when nobody takes it.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kdfChildEnv } from '../../src/kloset/crypto/node/kdf-worker.js';

/** Runs `code` (ESM, sources through tsx) in a fresh node; resolves with its stdout lines. */
function run(code: string, timeoutMs = 30_000): Promise<{ lines: string[]; code: number | null; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out; output so far: ${out}`)); }, timeoutMs);
    child.on('exit', (c) => { clearTimeout(timer); resolve({ lines: out.trim().split('\n'), code: c, ms: performance.now() - t0 }); });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, withinMs: number): Promise<boolean> {
  for (const end = Date.now() + withinMs; Date.now() < end;) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

const WORKER = "const w = await import('./src/kloset/crypto/node/kdf-worker.ts');";
const PARAMS = "const params = { kdf: 'ARGON2ID', salt: new Uint8Array(16).fill(7), argon2id: { saltSize: 16, time: 1, memory: 8192, threads: 1, keyLen: 32 } };";

describe('prestartKdfProcess', () => {
  it('the next derivation runs in the prestarted child and gives the key the in-thread KDF gives', async () => {
    const r = await run(`${WORKER} ${PARAMS}
      const cp = await import('node:child_process');
      w.prestartKdfProcess();
      const children = () => cp.execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim();
      const spare = children();
      const pass = new TextEncoder().encode('pass');
      const got = await w.deriveKeyWithBackend(params, pass);
      const ref = await (await import('./src/kloset/crypto/kdf.ts')).deriveKey(params, pass);
      console.log(got.backend, Buffer.from(got.key).toString('hex') === Buffer.from(ref).toString('hex'));
      // the spare did the work: it is gone (an unused one would still wait for parameters)
      await new Promise((r) => setTimeout(r, 200));
      let after = ''; try { after = children(); } catch {}
      console.log(spare.length > 0 && !after.split(String.fromCharCode(10)).includes(spare));
      // a second derivation forks a fresh child (the spare is used once)
      const again = await w.deriveKeyWithBackend(params, pass);
      console.log(Buffer.from(again.key).toString('hex') === Buffer.from(ref).toString('hex'));`);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['native true', 'true', 'true']);
  }, 60_000);

  it('an unused spare neither keeps its process alive nor outlives it', async () => {
    const r = await run(`${WORKER}
      w.prestartKdfProcess();
      const cp = await import('node:child_process');
      // the spare's PID: the only child of this process
      const pid = cp.execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim();
      console.log(pid);`);
    expect(r.code).toBe(0);
    // it exited on its own (run() gives up after 30 s): nothing waited for the spare
    const pid = Number(r.lines.at(-1));
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid, 5_000)).toBe(true);
  }, 30_000);

  it('a spare whose parent is killed outright exits by itself', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${WORKER}
      w.prestartKdfProcess();
      const cp = await import('node:child_process');
      console.log(cp.execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim());
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await gone(pid, 5_000)).toBe(true);
  }, 30_000);
});

describe('startDerivationEarly', () => {
  const REF = "const ref = async (p, pass) => Buffer.from(await (await import('./src/kloset/crypto/kdf.ts')).deriveKey(p, pass)).toString('hex');";
  it('gives its key to the next derivation with the same parameters and passphrase, and only to it', async () => {
    const r = await run(`${WORKER} ${PARAMS} ${REF}
      const enc = (s) => new TextEncoder().encode(s);
      const hex = (k) => Buffer.from(k).toString('hex');
      // same parameters and passphrase: the early result (it was under way before the request)
      w.startDerivationEarly(params, enc('right'));
      console.log(w.earlyDerivationPending());
      const a = await w.deriveKeyWithBackend(params, enc('right'));
      console.log(a.backend, hex(a.key) === await ref(params, enc('right')));
      // another passphrase: the early one is dropped, the request derives its own key
      w.startDerivationEarly(params, enc('right'));
      const b = await w.deriveKeyWithBackend(params, enc('wrong'));
      console.log(hex(b.key) === await ref(params, enc('wrong')));
      // another salt: the same
      w.startDerivationEarly(params, enc('right'));
      const other = { ...params, salt: new Uint8Array(16).fill(8) };
      const c = await w.deriveKeyWithBackend(other, enc('right'));
      console.log(hex(c.key) === await ref(other, enc('right')));
      // taken once: the next request derives afresh
      const d = await w.deriveKeyWithBackend(params, enc('right'));
      console.log(hex(d.key) === await ref(params, enc('right')), w.earlyDerivationPending());`);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['true', 'native true', 'true', 'true', 'true false']);
  }, 60_000);

  it('one nobody takes keeps no process alive and leaves no child behind', async () => {
    const r = await run(`${WORKER} ${PARAMS}
      w.startDerivationEarly(params, new TextEncoder().encode('pass'));
      const cp = await import('node:child_process');
      console.log(cp.execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim());`);
    expect(r.code).toBe(0);
    const pid = Number(r.lines.at(-1));
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid, 5_000)).toBe(true);
  }, 30_000);
});

describe('the KDF child\'s environment', () => {
  it('is the parent\'s without NODE_EXTRA_CA_CERTS (parsed at every Node start-up, never used there) and with huge pages asked of glibc', () => {
    const env = kdfChildEnv({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
    expect(env).toEqual({ PATH: '/bin', GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1' });
    expect(kdfChildEnv({ HOME: '/root' })).toEqual({ HOME: '/root', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  });
});

/**
 * Secrets of named locations against the REAL keychain: keytar → libsecret → a gnome-keyring
 * started by this test on its own D-Bus session bus, with HOME/XDG dirs in a temp folder.
 *
 * How: `dbus-daemon --nofork` with a config whose only service dir is empty (so nothing is ever
 * auto-activated behind our back), then `gnome-keyring-daemon --foreground --unlock
 * --components=secrets` (password on stdin), ready once it owns org.freedesktop.secrets. Both
 * are our children and are killed by pid in afterAll. keytar runs in child "driver" processes
 * (node + tsx, driven over IPC), never in the vitest worker: GLib's shared session-bus connection
 * cannot be re-pointed at another bus, and it kills its process when the bus goes away.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/engine.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = tempDir('kloset-keychain-');
const home = join(work.path, 'home');
const runtime = join(work.path, 'run');
const services = join(work.path, 'no-services');
const busConf = join(work.path, 'bus.conf');
const driverFile = join(work.path, 'driver.mjs');
const configFile = join(work.path, 'cfg', 'config.json');

/** The environment of everything we start: isolated dirs, our bus, no X display. */
let env: NodeJS.ProcessEnv = {};
const daemons: ChildProcess[] = [];
const drivers: ChildProcess[] = [];
let gnomeKeyring: ChildProcess | undefined;

const DRIVER = `
const root = ${JSON.stringify(pathToFileURL(root).href)};
const keytar = (await import(root + 'node_modules/keytar/lib/keytar.js')).default;
const config = await import(root + 'src/host/config.ts');
const named = await import(root + 'src/host/named.ts');
const SERVICE = 'kloset-desktop';
const ops = {
  add: (kind, name, params, overwrite) => config.addLocation(kind, name, params, { configFile: process.env.CFG, overwrite }),
  rm: (kind, name) => config.removeLocation(kind, name, { configFile: process.env.CFG }),
  resolve: (kind, ref, extraEnv) => named.resolveNamed(kind, ref, { configFile: process.env.CFG, env: { ...process.env, ...extraEnv } }),
  get: (account) => keytar.getPassword(SERVICE, account),
  set: (account, value) => keytar.setPassword(SERVICE, account, value),
};
process.on('message', async ({ id, op, args }) => {
  try { process.send({ id, ok: true, value: (await ops[op](...args)) ?? null }); }
  catch (e) { process.send({ id, ok: false, code: e.code, message: e.message }); }
});
process.send({ ready: true });
`;

interface Reply { id?: number; ok?: boolean; value?: unknown; code?: string; message?: string; ready?: boolean }
type Driver = { call(op: string, ...args: unknown[]): Promise<unknown>; fail(op: string, ...args: unknown[]): Promise<{ code: string; message: string }> };

/** A node process (sources through tsx) that runs keytar and the host module in `driverEnv`. */
async function driver(driverEnv: NodeJS.ProcessEnv): Promise<Driver> {
  const child = fork(driverFile, [], { cwd: root, env: { ...driverEnv, CFG: configFile }, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  drivers.push(child);
  const pending = new Map<number, (r: Reply) => void>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`driver exited with ${code}`)));
    child.on('message', (r: Reply) => (r.ready ? resolve() : pending.get(r.id!)?.(r)));
  });
  const send = (op: string, args: unknown[]) => new Promise<Reply>((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    child.send({ id, op, args });
  });
  return {
    async call(op, ...args) {
      const r = await send(op, args);
      if (!r.ok) throw new Error(`${op}: ${r.code} ${r.message}`);
      return r.value;
    },
    async fail(op, ...args) {
      const r = await send(op, args);
      if (r.ok) throw new Error(`${op} succeeded: ${JSON.stringify(r.value)}`);
      return { code: r.code!, message: r.message! };
    },
  };
}

function secretServiceUp(): boolean {
  const r = spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
    'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { env, encoding: 'utf8' });
  return r.stdout.includes('boolean true');
}

async function startGnomeKeyring(unlock: boolean): Promise<void> {
  const args = ['--foreground', '--components=secrets', ...(unlock ? ['--unlock'] : [])];
  gnomeKeyring = spawn('gnome-keyring-daemon', args, { env, stdio: ['pipe', 'ignore', 'ignore'] });
  daemons.push(gnomeKeyring);
  gnomeKeyring.stdin!.end(unlock ? 'login password' : '');
  for (let i = 0; !secretServiceUp(); i++) {
    if (i > 200) throw new Error('gnome-keyring-daemon did not register org.freedesktop.secrets');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  for (const d of [home, runtime, services]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(driverFile, DRIVER);
  writeFileSync(busConf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${runtime}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>${services}</servicedir>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`);
  env = {
    PATH: process.env.PATH, HOME: home, XDG_DATA_HOME: join(home, '.local/share'), XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'), XDG_RUNTIME_DIR: runtime, LANG: 'C.UTF-8',
  };
  const bus = spawn('dbus-daemon', ['--config-file', busConf, '--nofork', '--nosyslog', '--print-address=1'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  daemons.push(bus);
  env.DBUS_SESSION_BUS_ADDRESS = await new Promise<string>((resolve, reject) => {
    let out = '';
    bus.once('error', reject);
    bus.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
    bus.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
  });
  await startGnomeKeyring(true);
});

afterAll(async () => {
  for (const p of drivers) await stop(p);
  for (const p of daemons.reverse()) await stop(p);
  work.cleanup();
});

const S3 = { location: 's3://127.0.0.1:9000/bucket', access_key: 'AKIA-REAL', secret_access_key: 'real-secret-Zq9', session_token: 'real-token-Xw3' };
const configBytes = () => { try { return readFileSync(configFile, 'utf8'); } catch { return null; } };

describe('secrets in a real Secret Service (gnome-keyring)', () => {
  let a: Driver;
  beforeAll(async () => { a = await driver(env); });

  it('add puts secrets in the keychain and not in config.json; resolveNamed returns them', async () => {
    await a.call('add', 'store', 'my-s3', S3, false);
    expect(await a.call('get', 'store/my-s3/secret_access_key')).toBe('real-secret-Zq9');
    expect(await a.call('get', 'store/my-s3/session_token')).toBe('real-token-Xw3');
    const text = configBytes()!;
    expect(text).not.toContain('real-secret-Zq9');
    expect(text).not.toContain('real-token-Xw3');
    expect(JSON.parse(text).stores['my-s3']).toEqual({ location: S3.location, access_key: 'AKIA-REAL' });
    expect(await a.call('resolve', 'store', '@my-s3', {})).toEqual(S3);
  });

  it('the environment variable wins over the keychain', async () => {
    expect(await a.call('resolve', 'store', '@my-s3', { KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY: 'from-env' }))
      .toEqual({ ...S3, secret_access_key: 'from-env' });
  });

  it('overwrite drops old secrets; rm deletes them from the keychain', async () => {
    await a.call('add', 'store', 'tmp', S3, false);
    await a.call('add', 'store', 'tmp', { location: S3.location, passphrase: 'pp' }, true);
    expect(await a.call('get', 'store/tmp/secret_access_key')).toBeNull();
    expect(await a.call('get', 'store/tmp/passphrase')).toBe('pp');
    expect(await a.call('rm', 'store', 'tmp')).toEqual({ leftInKeychain: [] });
    expect(await a.call('get', 'store/tmp/passphrase')).toBeNull();
    expect((await a.fail('resolve', 'store', '@tmp', {})).code).toBe('NOT_FOUND');
  });

  it('the CLI saves to the keychain and ls shows where secrets are, never their values', () => {
    const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/kloset.js'), ...args], {
      cwd: root, encoding: 'utf8', env: { ...env, KLOSET_FROM_SOURCES: '1', KLOSET_CONFIG_DIR: join(work.path, 'cli-cfg') },
    });
    const add = cli(['destination', 'add', 'bk', 's3://h/b', 'secret_access_key=cli-secret-77']);
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    const ls = cli(['destination', 'ls']);
    expect(ls.stdout).toBe('bk location=s3://h/b secret_access_key=<keychain>\n');
    expect(readFileSync(join(work.path, 'cli-cfg', 'config.json'), 'utf8')).not.toContain('cli-secret-77');
    expect(cli(['destination', 'rm', 'bk']).status).toBe(0);
  });

  it('after rm, the CLI left nothing in the keychain', async () => {
    expect(await a.call('get', 'destination/bk/secret_access_key')).toBeNull();
  });
});

describe('keychain unavailable', () => {
  const expectClear = (e: { code: string; message: string }, reason: RegExp, envVar: string) => {
    expect(e.code).toBe('IO');
    expect(e.message).toContain('the OS keychain is unavailable');
    expect(e.message).toMatch(reason);
    expect(e.message).toContain(envVar);
    expect(e.message).not.toMatch(/passphrase|wrong|incorrect/i);
  };

  it('no D-Bus session: add with a secret fails clearly and writes nothing; the env fallback works', async () => {
    const noBus = { ...env };
    delete noBus.DBUS_SESSION_BUS_ADDRESS;
    const b = await driver(noBus);
    const before = configBytes();
    expectClear(await b.fail('add', 'store', 'new-s3', S3, false), /no D-Bus session bus: Cannot autolaunch D-Bus/, 'KLOSET_STORE_NEW_S3_SECRET_ACCESS_KEY');
    expect(configBytes()).toBe(before);
    // my-s3's secrets are in the keychain: without it they are the same clear error...
    expectClear(await b.fail('resolve', 'store', '@my-s3', {}), /Cannot autolaunch D-Bus/, 'KLOSET_STORE_MY_S3_');
    // ...and with the variables set the keychain is not touched at all
    const vars = { KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY: 'env-1', KLOSET_STORE_MY_S3_SESSION_TOKEN: 'env-2' };
    expect(await b.call('resolve', 'store', '@my-s3', vars)).toEqual({ ...S3, secret_access_key: 'env-1', session_token: 'env-2' });
    // a location without secrets never needs the keychain
    await b.call('add', 'source', 'plain', { location: '/data' }, false);
    expect(await b.call('resolve', 'source', '@plain', {})).toEqual({ location: '/data' });
  });

  it('no Secret Service on the bus, then a locked collection: the same clear error', async () => {
    await stop(gnomeKeyring!);
    const c = await driver(env);
    const before = configBytes();
    expectClear(await c.fail('add', 'store', 'new-s3', S3, false), /no Secret Service/, 'KLOSET_STORE_NEW_S3_SESSION_TOKEN');
    expect(configBytes()).toBe(before);

    await startGnomeKeyring(false); // the login keyring from the first run, now locked
    const d = await driver(env);
    expectClear(await d.fail('add', 'store', 'new-s3', S3, false), /the keyring is locked: Cannot create an item in a locked collection/, 'KLOSET_STORE_NEW_S3_SECRET_ACCESS_KEY');
    expect(configBytes()).toBe(before);
    // libsecret returns "nothing" for a locked item: reported as the keychain, not as a missing secret
    expectClear(await d.fail('resolve', 'store', '@my-s3', {}), /the keyring is locked/, 'KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY');
  });
});

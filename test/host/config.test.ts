/**
 * Named locations over an in-memory keychain: add/ls/rm, name rules, the config file's bytes and
 * mode (no secret ever lands in it), overwrite rules and the environment fallback's naming.
 * The real keychain (keytar + gnome-keyring) is exercised in keychain.test.ts.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addLocation, configPath, getLocation, listLocations, normalizeLocation, readConfig, removeLocation, type HostOptions,
} from '../../src/host/config.js';
import { isNamedRef, resolveNamed } from '../../src/host/named.js';
import { MemoryKeychain, secretAccount, secretEnvVar } from '../../src/host/secrets.js';
import { isKlosetError, type ErrorCode } from '../../src/kloset/base/errors.js';
import { tempDir } from '../support/engine.js';

const work = tempDir('kloset-config-');
afterAll(() => work.cleanup());
let n = 0;

/** A fresh config file, keychain and environment per test. */
function setup(env: NodeJS.ProcessEnv = {}) {
  const dir = join(work.path, `c${n++}`);
  const keychain = new MemoryKeychain();
  const opts: HostOptions = { configFile: join(dir, 'config.json'), keychain, env, cwd: '/somewhere' };
  const bytes = () => { try { return readFileSync(opts.configFile!, 'utf8'); } catch { return null; } };
  return { dir, keychain, opts, bytes };
}

async function code(p: Promise<unknown>): Promise<ErrorCode | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!isKlosetError(e)) throw e;
    return e.code;
  }
}

const S3 = { location: 's3://127.0.0.1:9000/bucket/prefix', access_key: 'AKIA1', secret_access_key: 'SECRET-abc', session_token: 'TOKEN-xyz' };

describe('config file location', () => {
  it('is $KLOSET_CONFIG_DIR, else $XDG_CONFIG_HOME/kloset, else ~/.config/kloset', () => {
    expect(configPath({ KLOSET_CONFIG_DIR: '/a/b', XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/a/b/config.json');
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/kloset/config.json');
    expect(configPath({ XDG_CONFIG_HOME: 'relative', HOME: '/h' })).toBe('/h/.config/kloset/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/kloset/config.json');
  });
});

describe('add, ls, rm', () => {
  it('adds, lists and removes, each kind in its own namespace', async () => {
    const { opts, keychain } = setup();
    expect(await listLocations('store', opts)).toEqual([]);
    await addLocation('store', 'b-store', { location: '/data/b' }, opts);
    await addLocation('store', 'a.store_1', { location: 'fs://rel/a', note: 'x=y=z' }, opts);
    await addLocation('source', 'b-store', { location: 's3://h/bk' }, opts);
    const stores = await listLocations('store', opts);
    expect(stores.map((e) => e.name)).toEqual(['a.store_1', 'b-store']);
    expect(stores[0]).toEqual({ kind: 'store', name: 'a.store_1', params: { location: 'fs:///somewhere/rel/a', note: 'x=y=z' }, secrets: {} });
    expect((await getLocation('source', 'b-store', opts)).params).toEqual({ location: 's3://h/bk' });
    expect(await listLocations('destination', opts)).toEqual([]);
    await removeLocation('store', 'b-store', opts);
    expect((await listLocations('store', opts)).map((e) => e.name)).toEqual(['a.store_1']);
    expect((await getLocation('source', 'b-store', opts)).name).toBe('b-store');
    expect(keychain.entries.size).toBe(0);
  });

  it('rejects names outside letters, digits, -, _ and .', async () => {
    const { opts } = setup();
    for (const bad of ['', 'a b', 'a/b', '../x', 'é', 'a@b', '@a', '-f', '.hidden', 'x'.repeat(129), '__proto__']) {
      expect(await code(addLocation('store', bad, { location: '/x' }, opts)), bad).toBe('UNSUPPORTED');
    }
    for (const good of ['a', 'A-1', 'my_s3.prod', '0', 'constructor']) {
      expect(await code(addLocation('store', good, { location: '/x' }, opts)), good).toBe('ok');
    }
    expect((await listLocations('store', opts)).length).toBe(5);
  });

  it('needs a location, normalized: local paths absolute, s3:// as given, other schemes refused', async () => {
    const { opts } = setup();
    expect(await code(addLocation('store', 'x', { access_key: 'a' }, opts))).toBe('UNSUPPORTED');
    expect(await code(addLocation('store', 'x', { location: 'sftp://h/p' }, opts))).toBe('UNSUPPORTED');
    expect(await code(addLocation('store', 'x', { location: 's3://hostonly' }, opts))).toBe('UNSUPPORTED');
    expect(normalizeLocation('rel/dir', '/w')).toBe('/w/rel/dir');
    expect(normalizeLocation('/abs', '/w')).toBe('/abs');
    expect(normalizeLocation('ptar://x.ptar', '/w')).toBe('ptar:///w/x.ptar');
    expect(normalizeLocation('fs:///abs', '/w')).toBe('fs:///abs');
    expect(normalizeLocation('S3://host:9000/b/p', '/w')).toBe('S3://host:9000/b/p');
  });

  it('add of an existing name is CONFLICT unless overwriting; rm of a missing name is NOT_FOUND', async () => {
    const { opts } = setup();
    await addLocation('store', 'x', { location: '/one' }, opts);
    expect(await code(addLocation('store', 'x', { location: '/two' }, opts))).toBe('CONFLICT');
    expect((await getLocation('store', 'x', opts)).params.location).toBe('/one');
    await addLocation('store', 'x', { location: '/two' }, { ...opts, overwrite: true });
    expect((await getLocation('store', 'x', opts)).params.location).toBe('/two');
    expect(await code(removeLocation('store', 'nope', opts))).toBe('NOT_FOUND');
    expect(await code(getLocation('store', 'nope', opts))).toBe('NOT_FOUND');
    const e = await resolveNamed('store', '@nope', opts).catch((err: unknown) => err);
    expect(isKlosetError(e, 'NOT_FOUND') && e.message).toBe("no store named 'nope' (kloset store ls)");
  });
});

describe('the config file', () => {
  it('is JSON version 1, mode 0600 in a 0700 folder, and replaced atomically (no temp files left)', async () => {
    const { opts, dir, bytes } = setup();
    await addLocation('store', 's', { location: '/x' }, opts);
    await addLocation('destination', 'd', { location: '/y' }, opts);
    expect(statSync(opts.configFile!).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(['config.json']);
    expect(JSON.parse(bytes()!)).toEqual({
      version: 1, stores: { s: { location: '/x' } }, sources: {}, destinations: { d: { location: '/y' } }, keychain: {},
    });
  });

  it('never holds a secret: add moves them to the keychain, the file only names their keys', async () => {
    const { opts, keychain, bytes } = setup();
    await addLocation('store', 'my-s3', { ...S3, passphrase: 'pass phrase!', sse_customer_key: 'SSE-KEY-000' }, opts);
    const text = bytes()!;
    for (const secret of ['SECRET-abc', 'TOKEN-xyz', 'pass phrase!', 'SSE-KEY-000']) expect(text).not.toContain(secret);
    expect(JSON.parse(text).stores['my-s3']).toEqual({ location: S3.location, access_key: 'AKIA1' });
    expect(JSON.parse(text).keychain['store/my-s3'].sort()).toEqual(['passphrase', 'secret_access_key', 'session_token', 'sse_customer_key']);
    expect(keychain.entries.get('store/my-s3/secret_access_key')).toBe('SECRET-abc');
    expect(keychain.entries.get('store/my-s3/passphrase')).toBe('pass phrase!');
    expect((await getLocation('store', 'my-s3', opts)).secrets).toEqual({
      secret_access_key: 'keychain', session_token: 'keychain', passphrase: 'keychain', sse_customer_key: 'keychain',
    });
    expect(await resolveNamed('store', '@my-s3', opts)).toEqual({ ...S3, passphrase: 'pass phrase!', sse_customer_key: 'SSE-KEY-000' });
  });

  it('reports a damaged file as CORRUPT and a newer version as UNSUPPORTED', async () => {
    const { opts } = setup();
    await addLocation('store', 's', { location: '/x' }, opts);
    writeFileSync(opts.configFile!, '{"version": 1, "stores": {"s": {"location": 3}}}');
    expect(await code(readConfig(opts.configFile!))).toBe('CORRUPT');
    writeFileSync(opts.configFile!, '{ not json');
    expect(await code(listLocations('store', opts))).toBe('CORRUPT');
    writeFileSync(opts.configFile!, '{"version": 2}');
    expect(await code(listLocations('store', opts))).toBe('UNSUPPORTED');
  });
});

describe('secrets', () => {
  it('rm deletes the secrets; overwrite deletes the old secrets the new entry lacks', async () => {
    const { opts, keychain } = setup();
    await addLocation('store', 's', S3, opts);
    expect(keychain.entries.size).toBe(2);
    await addLocation('store', 's', { location: S3.location, secret_access_key: 'NEW' }, { ...opts, overwrite: true });
    expect([...keychain.entries]).toEqual([['store/s/secret_access_key', 'NEW']]);
    expect(await resolveNamed('store', '@s', opts)).toEqual({ location: S3.location, secret_access_key: 'NEW' });
    await removeLocation('store', 's', opts);
    expect(keychain.entries.size).toBe(0);
  });

  it('a secret left in the keychain by an old entry is not picked up by a new one of the same name', async () => {
    const { opts, keychain } = setup();
    await addLocation('store', 's', { location: '/x' }, opts);
    keychain.entries.set(secretAccount('store', 's', 'passphrase'), 'stale');
    expect(await resolveNamed('store', '@s', opts)).toEqual({ location: '/x' });
  });

  it('with the keychain unavailable, add with a secret writes nothing and says so (IO, not AUTH)', async () => {
    const { opts, keychain, bytes } = setup();
    await addLocation('store', 'keep', { location: '/x' }, opts);
    const before = bytes();
    keychain.unavailable = 'Cannot autolaunch D-Bus without X11 $DISPLAY';
    const e = await addLocation('store', 'my-s3', S3, opts).catch((err: unknown) => err);
    expect(isKlosetError(e, 'IO')).toBe(true);
    const msg = (e as Error).message;
    expect(msg).toContain('the OS keychain is unavailable');
    expect(msg).toContain('Cannot autolaunch D-Bus');
    expect(msg).toContain('KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY');
    expect(msg).toContain('KLOSET_STORE_MY_S3_SESSION_TOKEN');
    expect(msg).not.toMatch(/wrong|incorrect|invalid/i);
    expect(msg).not.toContain('SECRET-abc');
    expect(bytes()).toBe(before);
    expect(keychain.entries.size).toBe(0);
    // without secrets the keychain is never needed
    await addLocation('store', 'plain', { location: '/y' }, opts);
    expect(await resolveNamed('store', '@plain', opts)).toEqual({ location: '/y' });
    await removeLocation('store', 'plain', opts);
  });

  it('a half-saved add is rolled back when the keychain fails midway', async () => {
    const { opts, keychain, bytes } = setup();
    const set = keychain.set.bind(keychain);
    keychain.set = async (account, secret) => {
      if (account.endsWith('session_token')) throw new Error('Cannot create an item in a locked collection');
      return set(account, secret);
    };
    expect(await code(addLocation('store', 's', S3, opts))).toBe('IO');
    expect(keychain.entries.size).toBe(0);
    expect(bytes()).toBeNull();
  });

  it('reading a saved secret from an unavailable or locked keychain is the clear error; an env var avoids the keychain', async () => {
    const { opts, keychain } = setup();
    await addLocation('store', 'my-s3', { location: S3.location, secret_access_key: 'K' }, opts);
    keychain.unavailable = 'The name org.freedesktop.secrets was not provided by any .service files';
    const e = await resolveNamed('store', '@my-s3', opts).catch((err: unknown) => err);
    expect(isKlosetError(e, 'IO') && e.message).toMatch(/the OS keychain is unavailable \(no Secret Service.*KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY/);
    const env = { KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY: 'from-env' };
    expect(await resolveNamed('store', '@my-s3', { ...opts, env })).toEqual({ location: S3.location, secret_access_key: 'from-env' });
    // libsecret answers null for a locked collection: the probe tells it from a deleted secret
    keychain.unavailable = undefined;
    keychain.entries.clear();
    expect(await resolveNamed('store', '@my-s3', opts)).toEqual({ location: S3.location });
    keychain.probe = async () => { throw new Error('Cannot create an item in a locked collection'); };
    const locked = await resolveNamed('store', '@my-s3', opts).catch((err: unknown) => err);
    expect(isKlosetError(locked, 'IO') && locked.message).toContain('the keyring is locked');
  });

  it('rm with the keychain unavailable removes the entry and reports what may be left', async () => {
    const { opts, keychain } = setup();
    await addLocation('store', 's', S3, opts);
    keychain.unavailable = 'no bus';
    expect(await removeLocation('store', 's', opts)).toEqual({ leftInKeychain: ['store/s/secret_access_key', 'store/s/session_token'] });
    expect(await listLocations('store', opts)).toEqual([]);
  });

  it('environment variables are KLOSET_<KIND>_<NAME>_<KEY>, upper-cased, other characters as _, and win', async () => {
    expect(secretEnvVar('store', 'my-s3', 'secret_access_key')).toBe('KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY');
    expect(secretEnvVar('destination', 'prod.eu_1', 'sse_customer_key')).toBe('KLOSET_DESTINATION_PROD_EU_1_SSE_CUSTOMER_KEY');
    expect(secretEnvVar('source', 'A', 'passphrase')).toBe('KLOSET_SOURCE_A_PASSPHRASE');
    expect(secretAccount('store', 'my-s3', 'secret_access_key')).toBe('store/my-s3/secret_access_key');
    const env = { KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY: 'ENV-SECRET', KLOSET_STORE_MY_S3_PASSPHRASE: 'ENV-PASS', KLOSET_SOURCE_MY_S3_SESSION_TOKEN: 'other kind' };
    const { opts, keychain } = setup(env);
    await addLocation('store', 'my-s3', S3, opts);
    const get = keychain.get.bind(keychain);
    const asked: string[] = [];
    keychain.get = async (account) => { asked.push(account); return get(account); };
    expect(await resolveNamed('store', '@my-s3', opts)).toEqual({ ...S3, secret_access_key: 'ENV-SECRET', passphrase: 'ENV-PASS' });
    expect(asked).toEqual(['store/my-s3/session_token']);
    expect((await getLocation('store', 'my-s3', opts)).secrets).toEqual({ secret_access_key: 'env', session_token: 'keychain', passphrase: 'env' });
  });

  it('recognizes @NAME references', () => {
    expect(isNamedRef('@x')).toBe(true);
    expect(isNamedRef('/x')).toBe(false);
    expect(isNamedRef('s3://h/b')).toBe(false);
  });
});

/**
 * `kloset store|source|destination add|ls|rm` through the real command (bin/kloset.js running the
 * TypeScript sources), with its config in a temp folder and no D-Bus session, so the OS keychain
 * is deterministically unavailable: exit codes, output, and the keychain error's one line.
 * Saving into a real keychain through the CLI is covered in test/host/keychain.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/engine.js';

const bin = fileURLToPath(new URL('../../bin/kloset.js', import.meta.url));
const work = tempDir('kloset-config-cli-');
afterAll(() => work.cleanup());
const configDir = join(work.path, 'cfg');

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, KLOSET_CONFIG_DIR: configDir, KLOSET_FROM_SOURCES: '1', ...extraEnv };
  for (const k of Object.keys(env)) if (/^(DBUS_SESSION_BUS_ADDRESS|DISPLAY|WAYLAND_DISPLAY)$|^KLOSET_(STORE|SOURCE|DESTINATION)_/.test(k) && !(k in extraEnv)) delete env[k];
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: work.path, env, encoding: 'utf8', input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const config = () => readFileSync(join(configDir, 'config.json'), 'utf8');

describe('kloset store|source|destination', () => {
  it('adds with a bare or key=value location (values may contain =), lists and shows one', () => {
    expect(run(['store', 'add', 'my-s3', 's3://127.0.0.1:9000/bucket/pre', 'access_key=AK', 'region=eu-west-1', 'note=a=b c'])).toEqual({
      status: 0, stdout: "saved store 'my-s3'\n", stderr: '',
    });
    expect(run(['store', 'add', 'local', 'location=backups/here']).status).toBe(0);
    const ls = run(['store', 'ls']);
    expect(ls.status).toBe(0);
    expect(ls.stdout).toBe(
      `local location=${join(work.path, 'backups/here')}\n` +
      'my-s3 location=s3://127.0.0.1:9000/bucket/pre access_key=AK note="a=b c" region=eu-west-1\n',
    );
    expect(run(['source', 'ls']).stdout).toBe('');
  });

  it('refuses an existing name unless -f, a bad name, a missing location and unknown flags', () => {
    const dup = run(['store', 'add', 'local', '/elsewhere']);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toBe("kloset: store 'local' already exists (use -f to replace it)\n");
    expect(run(['store', 'add', '-f', 'local', 'ptar:///tmp/x.ptar']).status).toBe(0);
    expect(run(['store', 'ls', 'local']).stdout).toBe('local location=ptar:///tmp/x.ptar\n');
    const bad = run(['store', 'add', 'a/b', '/x']);
    expect([bad.status, bad.stderr]).toEqual([1, "kloset: 'a/b' is not a valid store name (letters, digits, '-', '_' and '.', not starting with '-' or '.')\n"]);
    expect(run(['destination', 'add', 'd', 'region=x']).stderr).toMatch(/^kloset: a destination needs a location/);
    expect(run(['store', 'add', '-x', 'n', '/x']).stderr).toMatch(/^kloset: unknown flag -x/);
  });

  it('with no keychain, a secret is refused in one clear line naming the variable, and nothing is saved', () => {
    const before = config();
    const r = run(['store', 'add', 'sec', 's3://h/b', 'access_key=AK', 'secret_access_key=do-not-leak-42']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^kloset: cannot save secret_access_key of store 'sec'.*the OS keychain is unavailable \(no D-Bus session bus: .*\); set KLOSET_STORE_SEC_SECRET_ACCESS_KEY in the environment instead\n$/);
    expect(r.stderr).not.toContain('do-not-leak-42');
    expect(config()).toBe(before);
  });

  it('takes secrets from the environment: ls shows <env>, never the value', () => {
    expect(run(['store', 'add', 'sec', 's3://h/b', 'access_key=AK']).status).toBe(0);
    const ls = run(['store', 'ls', 'sec'], { KLOSET_STORE_SEC_SECRET_ACCESS_KEY: 'env-secret-99', KLOSET_STORE_SEC_PASSPHRASE: 'pp' });
    expect(ls.stdout).toBe('sec location=s3://h/b access_key=AK secret_access_key=<env> passphrase=<env>\n');
  });

  it('removes, and a missing name is one NOT_FOUND line', () => {
    expect(run(['store', 'rm', 'sec', 'local'])).toEqual({ status: 0, stdout: "removed store 'sec'\nremoved store 'local'\n", stderr: '' });
    const missing = run(['store', 'rm', 'sec']);
    expect([missing.status, missing.stderr]).toEqual([1, "kloset: no store named 'sec' (kloset store ls)\n"]);
    expect(run(['store', 'ls']).stdout).toBe('my-s3 location=s3://127.0.0.1:9000/bucket/pre access_key=AK note="a=b c" region=eu-west-1\n');
  });

  it('lists the commands in --help', () => {
    const help = run(['--help']).stdout;
    expect(help).toContain('kloset store|source|destination add [-f] <name> <location> [key=value...]');
    expect(help).toContain('kloset store|source|destination ls [<name>]');
    expect(help).toContain('kloset store|source|destination rm <name>...');
  });
});

/**
 * startEarlyUnlock (bin/kloset.js calls it before loading the CLI): which commands get their
 * store's key derivation started at once, and that nothing it cannot read fails or prints.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsStorage } from '../../src/connectors/fs/storage.js';
import { nodePrimitives } from '../../src/kloset/node/primitives.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { tempDir } from '../support/engine.js';

const work = tempDir('kloset-early-');
afterAll(() => work.cleanup());

/** startEarlyUnlock(argv, env) in a fresh Node: whether a derivation was started, and its output. */
function early(argv: string[], env: Record<string, string>) {
  const script = `const u = await import('./src/cli/early-unlock.ts'); const w = await import('./src/kloset/crypto/node/kdf-worker.ts');
    u.startEarlyUnlock(${JSON.stringify(argv)}, ${JSON.stringify(env)}); console.log(w.earlyDerivationPending());`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return { started: r.stdout.trim() === 'true', stderr: r.stderr };
}

describe('startEarlyUnlock', () => {
  const enc = join(work.path, 'encrypted'), plain = join(work.path, 'plain'), bad = join(work.path, 'damaged'), fifo = join(work.path, 'fifo');
  const pass = { KLOSET_PASSPHRASE: 'early test' };

  it('starts the derivation for a local encrypted store with a passphrase in the environment', async () => {
    await (await Repository.create(new FsStorage(enc), nodePrimitives, new TextEncoder().encode('early test'))).close();
    expect(early(['at', enc, 'ls'], pass).started).toBe(true);
    expect(early(['at', `fs://${enc}`, 'backup', '/x'], { PLAKAR_PASSPHRASE: 'early test' }).started).toBe(true);
  }, 60_000);

  it('leaves everything else to the command, silently', async () => {
    await (await Repository.create(new FsStorage(plain), nodePrimitives, null, { plaintext: true })).close();
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'CONFIG'), 'not a config');
    mkdirSync(fifo, { recursive: true });
    expect(spawnSync('mkfifo', [join(fifo, 'CONFIG')]).status).toBe(0);
    const cases: [string[], Record<string, string>][] = [
      [['at', enc, 'ls'], {}], // no passphrase in the environment: the command asks
      [['at', enc, 'create'], pass], // create draws a new salt
      [['at', enc, 'info'], pass], // info does not unlock
      [['at', plain, 'ls'], pass], // plaintext: nothing to derive
      [['at', bad, 'ls'], pass], // a damaged CONFIG: the command reports it
      [['at', fifo, 'ls'], pass], // a FIFO named CONFIG: not read (it would block)
      [['at', join(work.path, 'missing'), 'ls'], pass],
      [['at', '@named', 'ls'], pass], // a saved store: its passphrase may be in the keychain
      [['at', 's3://127.0.0.1:1/bucket', 'ls'], pass],
      [['at', `${enc}.ptar`, 'ls'], pass],
      [['store', 'ls'], pass],
    ];
    for (const [argv, env] of cases) {
      const r = early(argv, env);
      expect(r.started, argv.join(' ')).toBe(false);
      expect(r.stderr, argv.join(' ')).toBe('');
    }
  }, 60_000);
});

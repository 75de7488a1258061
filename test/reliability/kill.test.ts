/**
 * A backup killed with SIGKILL at random points leaves the store usable: every earlier snapshot
 * still checks clean, the store opens, and the next backup succeeds (spec: states are written
 * last, objects are written atomically, so a crash only leaves unreferenced packfiles).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { FsStorage } from '../../src/connectors/fs/storage.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { makeTree, newRepo, PASS, tempDir, testPrims } from '../support/engine.js';

const bin = fileURLToPath(new URL('../../bin/kloset.js', import.meta.url));
const work = tempDir('kloset-kill-');
afterAll(() => work.cleanup());

function cliBackup(store: string, dir: string, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  return new Promise((resolve) => {
    const t = Date.now();
    const child = spawn(process.execPath, [bin, 'at', store, 'backup', dir], {
      env: { ...process.env, KLOSET_PASSPHRASE: new TextDecoder().decode(PASS), KLOSET_CACHE_DIR: join(work.path, 'cache') },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - t });
    });
  });
}

describe('SIGKILL during backup', () => {
  it('at five random points: earlier snapshots check clean, the store opens, the next backup succeeds', async () => {
    const src = join(work.path, 'src');
    makeTree(src);
    mkdirSync(join(src, 'bulk'));
    for (let i = 0; i < 40; i++) writeFileSync(join(src, 'bulk', `f${i}.bin`), randomBytes(1_500_000));
    for (let i = 0; i < 400; i++) writeFileSync(join(src, 'bulk', `s${i}.txt`), `small file ${i}\n`.repeat(i));
    const storeDir = join(work.path, 'store');
    const repo = await newRepo({}, new FsStorage(storeDir));
    await backup(repo, new FsImporter(join(src, 'docs'))); // an earlier snapshot to protect
    await repo.close();

    const full = await cliBackup(storeDir, src);
    expect(full.code).toBe(0);
    // each round rewrites 10 files, so a round's backup is incremental: time one like it
    const change = (round: number) => {
      for (let i = 0; i < 10; i++) writeFileSync(join(src, 'bulk', `f${(round * 10 + i) % 40}.bin`), randomBytes(1_500_000));
    };
    change(9);
    const incremental = await cliBackup(storeDir, src);
    expect(incremental.code).toBe(0);
    let killed = 0;
    for (let round = 0; round < 5; round++) {
      change(round);
      const at = Math.floor(incremental.ms * (0.2 + 0.7 * Math.random()));
      const r = await cliBackup(storeDir, src, at);
      if (r.signal === 'SIGKILL') killed++;
      const opened = await Repository.open(new FsStorage(storeDir), testPrims, PASS);
      for (const id of opened.snapshotIds()) {
        const report = await checkSnapshot(await SnapshotReader.open(opened, id));
        expect(report.problems, `round ${round}, killed at ${at} ms`).toEqual([]);
      }
      await opened.close();
    }
    expect(killed).toBeGreaterThanOrEqual(3); // most runs really died mid-way
    const after = await cliBackup(storeDir, src);
    expect(after.code).toBe(0);
    const final = await Repository.open(new FsStorage(storeDir), testPrims, PASS);
    expect(final.snapshotIds().length).toBeGreaterThanOrEqual(3);
    for (const id of final.snapshotIds()) expect((await checkSnapshot(await SnapshotReader.open(final, id))).problems).toEqual([]);
  }, 180_000);
});

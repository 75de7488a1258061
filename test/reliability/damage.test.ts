/**
 * Damaged stores: one flipped byte in a packfile is named by `check` down to the affected files
 * while the rest still restores; missing packfiles, truncated or malformed states and CONFIG
 * give one clear typed error, never a crash or a hang.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsDestination } from '../../src/connectors/fs/destination.js';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { FsStorage } from '../../src/connectors/fs/storage.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { BlobType } from '../../src/kloset/repository/blob-types.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { restore } from '../../src/kloset/restore/restore.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { makeTree, newRepo, PASS, tempDir, testPrims } from '../support/engine.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });
function tmp() { const t = tempDir(); cleanups.push(t.cleanup); return t.path; }
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function setup() {
  const src = tmp(), storeDir = join(tmp(), 'store');
  const files = makeTree(src);
  const repo = await newRepo({}, new FsStorage(storeDir));
  const { snapshotId } = await backup(repo, new FsImporter(src));
  await repo.close();
  return { src, storeDir, files, snapshotId };
}

async function reopen(storeDir: string) {
  return Repository.open(new FsStorage(storeDir), testPrims, PASS);
}

function packfilePath(storeDir: string, mac: Uint8Array): string {
  const hex = toHex(mac);
  return join(storeDir, 'packfiles', hex.slice(0, 2), hex);
}

describe('a flipped byte in a packfile', () => {
  it('check names exactly the files using the damaged chunk; every other file restores', async () => {
    const { src, storeDir, files } = await setup();
    const repo = await reopen(storeDir);
    let snap = await SnapshotReader.open(repo, repo.snapshotIds()[0]!);
    const victim = `${src}/docs/readme.md`;
    const obj = await snap.object((await snap.stat(victim))!);
    const loc = repo.index.lookup(BlobType.CHUNK, obj.chunks[0]!.contentMac)!;
    await repo.close();
    const path = packfilePath(storeDir, loc.packfile);
    const bytes = readFileSync(path);
    bytes[16 + loc.offset + Math.floor(loc.length / 2)]! ^= 0x10;
    writeFileSync(path, bytes);

    const damaged = await reopen(storeDir);
    snap = await SnapshotReader.open(damaged, damaged.snapshotIds()[0]!);
    const report = await checkSnapshot(snap);
    expect(report.problems.map((p) => p.path)).toEqual([victim]);
    expect(report.problems[0]!.error).toMatch(/^INTEGRITY/);

    const out = tmp();
    const p = await restore(snap, src, new FsDestination(out));
    expect(p.errors.map((e) => e.path)).toEqual([victim]);
    const base = join(out, src.split('/').pop()!);
    for (const [rel, data] of Object.entries(files)) {
      if (rel === 'docs/readme.md') continue;
      expect(sha(readFileSync(join(base, rel))), rel).toBe(sha(data));
    }
    // nothing partial is left where the damaged file would be
    expect(readdirSync(join(base, 'docs'))).toEqual(['empty.txt']);
  });
});

describe('missing and malformed objects', () => {
  it('a missing packfile: check names the affected files, no crash', async () => {
    const { src, storeDir } = await setup();
    const repo = await reopen(storeDir);
    const snap = await SnapshotReader.open(repo, repo.snapshotIds()[0]!);
    const obj = await snap.object((await snap.stat(`${src}/data/random.bin`))!);
    const loc = repo.index.lookup(BlobType.CHUNK, obj.chunks[0]!.contentMac)!;
    rmSync(packfilePath(storeDir, loc.packfile));
    const fresh = await reopen(storeDir);
    let report;
    try {
      report = await checkSnapshot(await SnapshotReader.open(fresh, fresh.snapshotIds()[0]!));
    } catch (e) {
      // the whole snapshot lived in that packfile: opening it is the clear error
      expect(e).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/missing/) });
      return;
    }
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems.every((p) => /missing/.test(p.error))).toBe(true);
  });

  it.each([
    ['truncated', (p: string) => truncateSync(p, 100)],
    ['garbage', (p: string) => writeFileSync(p, Buffer.alloc(500, 7))],
    ['one flipped bit', (p: string) => { const b = readFileSync(p); b[b.length >> 1]! ^= 4; writeFileSync(p, b); }],
  ])('a %s state: opening the store is one clear typed error', async (_n, damage) => {
    const { storeDir } = await setup();
    const states = join(storeDir, 'states');
    const dir = readdirSync(states).find((d) => readdirSync(join(states, d)).length > 0)!;
    damage(join(states, dir, readdirSync(join(states, dir))[0]!));
    await expect(reopen(storeDir)).rejects.toMatchObject({ code: expect.stringMatching(/^(CORRUPT|INTEGRITY)$/) });
  });

  it.each([
    ['truncated', (p: string) => truncateSync(p, 40)],
    ['empty', (p: string) => writeFileSync(p, '')],
    ['garbage', (p: string) => writeFileSync(p, Buffer.alloc(300, 1))],
    ['altered', (p: string) => { const b = readFileSync(p); b[30]! ^= 1; writeFileSync(p, b); }],
  ])('a %s CONFIG: one clear typed error', async (_n, damage) => {
    const { storeDir } = await setup();
    damage(join(storeDir, 'CONFIG'));
    await expect(reopen(storeDir)).rejects.toMatchObject({ code: expect.stringMatching(/^(CORRUPT|INTEGRITY|AUTH)$/) });
  });
});

/** Shared set-up for engine tests: cheap KDF, memory stores, generated source trees. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../../src/connectors/memory/storage.js';
import { deriveKey } from '../../src/kloset/crypto/kdf.js';
import { nodePrimitives } from '../../src/kloset/node/primitives.js';
import type { CreateOptions } from '../../src/kloset/repository/config-file.js';
import type { Primitives } from '../../src/kloset/repository/primitives.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import type { Storage } from '../../src/kloset/storage/storage.js';

/** Low-cost Argon2id for tests that are not about the KDF. */
export const CHEAP_KDF: CreateOptions['kdf'] = { kdf: 'ARGON2ID', argon2id: { saltSize: 16, time: 1, memory: 64, threads: 1, keyLen: 32 }, scrypt: null, pbkdf2: null };
export const testPrims: Primitives = { ...nodePrimitives, deriveKey };
export const PASS = new TextEncoder().encode('test passphrase');

export async function newRepo(options: CreateOptions = {}, storage: Storage = new MemoryStorage()): Promise<Repository> {
  return Repository.create(storage, testPrims, options.plaintext ? null : PASS, { kdf: CHEAP_KDF, ...options });
}

export function tempDir(prefix = 'kloset-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A small tree with the interesting cases: nested dirs, empty file/dir, symlink, big file, duplicates. */
export function makeTree(root: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {
    'a.txt': Buffer.from('hello world\n'),
    'docs/readme.md': Buffer.from('# title\n\nsome text\n'.repeat(100)),
    'docs/empty.txt': Buffer.alloc(0),
    'data/random.bin': randomBytes(3 << 20),
    'data/copy.bin': Buffer.alloc(0),
    'deep/a/b/c/d.txt': Buffer.from('deep'),
    'unicode/héllo wörld ✓.txt': Buffer.from('unicode name'),
  };
  files['data/copy.bin'] = files['data/random.bin']!; // duplicate content: deduplicated
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  mkdirSync(join(root, 'empty-dir'));
  symlinkSync('a.txt', join(root, 'link-to-a'));
  utimesSync(join(root, 'a.txt'), 1_600_000_000.5, 1_600_000_000.25);
  return files;
}

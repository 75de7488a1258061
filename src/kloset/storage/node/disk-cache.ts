/**
 * The on-disk ObjectCache: `<dir>/<store digest>/<name>`, written atomically (temp + rename),
 * each file followed by the SHA-256 of its content: a copy damaged on disk is a miss (the
 * object is fetched from the store again), never an error of the store.
 * Default directory: $KLOSET_CACHE_DIR, else $XDG_CACHE_HOME/kloset, else ~/.cache/kloset.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ObjectCache } from '../caching.js';

export function defaultCacheDir(): string {
  return process.env.KLOSET_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kloset');
}

export const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class DiskCache implements ObjectCache {
  constructor(private readonly dir: string = defaultCacheDir()) {}

  async get(store: string, name: string): Promise<Uint8Array | undefined> {
    let file: Buffer;
    try {
      file = await readFile(join(this.dir, store, name));
    } catch {
      return undefined;
    }
    if (file.length < 32) return undefined;
    const bytes = file.subarray(0, file.length - 32);
    return createHash('sha256').update(bytes).digest().equals(file.subarray(file.length - 32)) ? bytes : undefined;
  }

  async put(store: string, name: string, bytes: Uint8Array): Promise<void> {
    const d = join(this.dir, store);
    await mkdir(d, { recursive: true, mode: 0o700 });
    const tmp = join(d, `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, Buffer.concat([bytes, createHash('sha256').update(bytes).digest()]), { mode: 0o600 });
    await rename(tmp, join(d, name));
  }

  async delete(store: string, name: string): Promise<void> {
    await rm(join(this.dir, store, name), { force: true });
  }
}

/**
 * `<store>` arguments as plakar takes them: a folder path, `fs://path` or `ptar://file.ptar`
 * (a local path ending in .ptar is a ptar too). Named `@store` references arrive with the S3 issue.
 */
import { resolve } from 'node:path';
import { FsStorage } from '../connectors/fs/storage.js';
import { PtarStorage } from '../connectors/ptar/storage.js';
import { KlosetError } from '../kloset/base/errors.js';
import { CachingStorage } from '../kloset/storage/caching.js';
import { DiskCache, sha256Hex } from '../kloset/storage/node/disk-cache.js';
import type { Storage } from '../kloset/storage/storage.js';

export interface StoreLocation {
  kind: 'fs' | 'ptar';
  path: string;
}

export function parseStoreLocation(arg: string): StoreLocation {
  if (arg.startsWith('@')) throw new KlosetError('UNSUPPORTED', `named stores (${arg}) are not supported yet`);
  const m = /^([a-z0-9+]+):\/\/(.*)$/.exec(arg);
  if (m) {
    const [, scheme, rest] = m;
    if (scheme === 'fs') return { kind: 'fs', path: resolve(rest!) };
    if (scheme === 'ptar') return { kind: 'ptar', path: resolve(rest!) };
    throw new KlosetError('UNSUPPORTED', `store scheme '${scheme}://' is not supported yet (fs://, ptar://)`);
  }
  return arg.endsWith('.ptar') ? { kind: 'ptar', path: resolve(arg) } : { kind: 'fs', path: resolve(arg) };
}

/** The storage for a location, with states cached on local disk (see CachingStorage). */
export function storageFor(loc: StoreLocation): Storage {
  const inner = loc.kind === 'fs' ? new FsStorage(loc.path) : new PtarStorage(loc.path);
  return new CachingStorage(inner, new DiskCache(), sha256Hex);
}

/**
 * A local location as the CLI takes it: a folder path, `fs://path`, `ptar://file.ptar`, or a
 * local path ending in `.ptar`. Its own module, without the connectors: bin/kloset.js reads a
 * store's CONFIG through it (src/cli/early-unlock.ts) before the rest of the CLI loads.
 */
import { resolve } from 'node:path';
import { KlosetError } from '../kloset/base/errors.js';

export type LocalKind = { kind: 'fs' | 'ptar'; path: string };

/** UNSUPPORTED for another scheme (s3:// and @NAME are told apart before this is asked). */
export function localLocation(location: string): LocalKind {
  const m = /^([a-z0-9+]+):\/\/(.*)$/i.exec(location);
  if (m) {
    const [, scheme, rest] = m;
    if (scheme === 'fs') return { kind: 'fs', path: resolve(rest!) };
    if (scheme === 'ptar') return { kind: 'ptar', path: resolve(rest!) };
    throw new KlosetError('UNSUPPORTED', `'${scheme}://' locations are not supported (folder path, fs://, ptar://, s3://)`);
  }
  return location.endsWith('.ptar') ? { kind: 'ptar', path: resolve(location) } : { kind: 'fs', path: resolve(location) };
}

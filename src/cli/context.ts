/**
 * What every store command needs: the storage named on the command line, opened with the
 * passphrase only when the store is encrypted, and the snapshot/path syntax `<snap>[:<path>]`.
 */
import { arch, hostname, platform, userInfo, cpus } from 'node:os';
import { nodePrimitives } from '../kloset/node/primitives.js';
import { peekConfigFile } from '../kloset/repository/config-file.js';
import { Repository } from '../kloset/repository/repository.js';
import type { KeyValue } from '../kloset/snapshot/header.js';
import { resolveSnapshotId, SnapshotReader } from '../kloset/snapshot/reader.js';
import { readPassphrase } from './passphrase.js';
import { refuseArchive, resolveLocation, storageFor } from './store-location.js';

/**
 * Opens `<store>` (a path, URL or @NAME). The passphrase: the override (sync's target), else the
 * named store's own (keychain or its environment variable), else KLOSET_PASSPHRASE or a prompt.
 * `toChange`: the command writes into the store (backup, rm, sync's target), which a ptar refuses.
 */
export async function openRepository(storeArg: string, passphraseOverride?: string, opts: { toChange?: boolean } = {}): Promise<Repository> {
  const params = await resolveLocation('store', storeArg);
  // a ptar is written whole (`kloset ptar`); said before any work, not at the first write
  if (opts.toChange) refuseArchive(params);
  const storage = await storageFor(params);
  try {
    const config = peekConfigFile(await storage.open());
    const given = passphraseOverride || params.passphrase;
    const passphrase = !config.encryption ? null
      : given ? new TextEncoder().encode(given)
      : await readPassphrase(`passphrase for ${storage.location}: `);
    return await Repository.open(storage, nodePrimitives, passphrase);
  } catch (e) {
    await storage.close();
    throw e;
  }
}

/** `<snap>[:<path>]` → the opened snapshot and the path (default "/"). */
export async function openSnapshotPath(repo: Repository, arg: string): Promise<{ snap: SnapshotReader; path: string }> {
  const i = arg.indexOf(':');
  const id = i < 0 ? arg : arg.slice(0, i);
  const path = i < 0 || arg.slice(i + 1) === '' ? '/' : arg.slice(i + 1);
  const snap = await SnapshotReader.open(repo, resolveSnapshotId(repo, id));
  return { snap, path: path.startsWith('/') ? path : `/${path}` };
}

/** The header context plakar records (spec §8). */
export function backupContext(argv: string[]): KeyValue[] {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return [
    { key: 'Hostname', value: hostname() },
    { key: 'Username', value: user },
    { key: 'OperatingSystem', value: platform() },
    { key: 'Architecture', value: arch() },
    { key: 'NumCPU', value: String(cpus().length) },
    { key: 'ProcessID', value: String(process.pid) },
    { key: 'CommandLine', value: ['kloset', ...argv].join(' ') },
    { key: 'Client', value: 'kloset-desktop' },
  ];
}

import { PtarStorage } from '../../connectors/ptar/storage.js';
import { toHex } from '../../kloset/base/bytes.js';
import { KlosetError } from '../../kloset/base/errors.js';
import type { CreateOptions } from '../../kloset/repository/config-file.js';
import type { Repository } from '../../kloset/repository/repository.js';
import { resolveSnapshotId } from '../../kloset/snapshot/reader.js';
import { syncSnapshots } from '../../kloset/sync/sync.js';
import { parseFlags } from '../args.js';
import { openRepository } from '../context.js';
import { humanSize } from '../format.js';
import { localLocation } from '../local-location.js';
import { BACKUP_FLAGS, backupSource } from './backup.js';
import { CREATE_FLAGS, createOptions, createRepository } from './create.js';

/** CONFIG's Packfile.MaxSize in a ptar, as plakar writes it (its one packfile has no limit). */
const UNLIMITED_PACKFILE = (1n << 64n) - 1n;

const USAGE = 'usage: kloset ptar [-plaintext] [-no-compression] [-hashing sha256|blake3] [-tag T] [-name N] -o <file.ptar> <dir | s3://… | @source>\n'
  + '       kloset ptar [-plaintext] [-no-compression] [-hashing sha256|blake3] -o <file.ptar> -k <store> [<snap>...]';

/**
 * kloset ptar … -o <file.ptar> <source> — plakar's `ptar`: a new single-file archive (spec §1.4)
 * holding one snapshot of the source; with `-k <store>`, copies of that store's snapshots (all,
 * or those named) instead, re-encrypted under the archive's own key (its passphrase from
 * KLOSET_TO_PASSPHRASE, else the store's, as `sync`).
 *
 * The archive's one packfile is written while the backup or copy runs (memory stays bounded
 * whatever its size) into a temporary file beside the target, which takes the target's name only
 * once complete: an interrupted run leaves no archive behind, and an existing file is never
 * replaced. The archive then opens like any store (`kloset at <file.ptar> ls|cat|restore|check|
 * sync …`) but cannot be changed.
 */
export async function ptar(args: string[], argv: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, { ...CREATE_FLAGS, ...BACKUP_FLAGS, o: 'string', k: 'string' });
  const out = flags.o;
  const from = flags.k;
  if (typeof out !== 'string' || out === '' || (from === undefined && rest.length !== 1)) throw new KlosetError('UNSUPPORTED', USAGE);
  const options = { ...createOptions(flags), packfileMaxSize: UNLIMITED_PACKFILE };
  // -o takes a path (its name need not end in .ptar) or a ptar:// URL
  const path = localLocation(out.startsWith('ptar://') ? out : `ptar://${out}`).path;
  if (typeof from === 'string') return copyInto(path, from, rest, options);
  return backupSource(rest[0]!, () => createRepository(new PtarStorage(path), {}, options), flags, argv);
}

/** `-k <store> [<snap>…]`: the store's snapshots copied into a new archive, in one state. */
async function copyInto(path: string, store: string, snaps: string[], options: CreateOptions): Promise<number> {
  const source = await openRepository(store);
  let target: Repository | undefined;
  try {
    const ids = snaps.length ? snaps.map((a) => resolveSnapshotId(source, a)) : source.snapshotIds();
    if (ids.length === 0) throw new KlosetError('NOT_FOUND', `${store} has no snapshot to put into an archive`);
    const passphrase = process.env.KLOSET_TO_PASSPHRASE;
    target = await createRepository(new PtarStorage(path), passphrase ? { passphrase } : {}, options);
    const r = await syncSnapshots(source, target, ids, { oneState: true });
    for (const c of r.copied) process.stdout.write(`copied ${toHex(c.snapshotId)} (${humanSize(c.storedBytes)} new)\n`);
    return 0;
  } finally {
    await target?.close(); // completes the archive, or removes it when nothing was committed
    await source.close();
  }
}

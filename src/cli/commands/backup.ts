import { toHex } from '../../kloset/base/bytes.js';
import type { Repository } from '../../kloset/repository/repository.js';
import { backup as runBackup } from '../../kloset/snapshot/builder.js';
import type { Importer } from '../../kloset/snapshot/importer.js';
import { latestSnapshotOf } from '../../kloset/snapshot/reader.js';
import { ScanAhead } from '../../kloset/snapshot/scan-ahead.js';
import { parseFlags, type Flags } from '../args.js';
import { backupContext, openRepository } from '../context.js';
import { humanSize } from '../format.js';
import { progressLine } from '../progress.js';
import { resolveLocation, sourceFor } from '../store-location.js';

/** The flags of a backup (also taken by `kloset ptar`). */
export const BACKUP_FLAGS = { tag: 'list', name: 'string' } as const;

/**
 * kloset at <store> backup [-tag T] <dir | s3://… | @source>; the last stdout line holds the
 * snapshot ID.
 */
export async function backup(store: string, args: string[], argv: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, BACKUP_FLAGS);
  return backupSource(rest[0] ?? '.', () => openRepository(store, undefined, { toChange: true }), flags, argv);
}

/**
 * Backs up `sourceArg` into the store `open` gives: the walk starts while the store opens (and
 * unlocks), for sources that allow it (ScanAhead); progress on stderr, the summary and the new
 * snapshot's ID on stdout. The store is closed at the end (a ptar being written is completed
 * then). The previous snapshot of the same source, if the store has one, speeds the backup up.
 */
export async function backupSource(
  sourceArg: string,
  open: () => Promise<Repository>,
  flags: Flags,
  argv: string[],
): Promise<number> {
  const source = await sourceFor(await resolveLocation('source', sourceArg));
  const controller = new AbortController();
  const importer = new ScanAhead(source.importer, controller.signal);
  let repo: Repository;
  try {
    repo = await open();
  } catch (e) {
    importer.stop();
    await source.close();
    throw e;
  }
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    return await backupInto(repo, importer, flags, argv, controller.signal);
  } finally {
    importer.stop();
    process.off('SIGINT', onSignal);
    await source.close();
    await repo.close();
  }
}

async function backupInto(repo: Repository, importer: Importer, flags: Flags, argv: string[], signal: AbortSignal): Promise<number> {
  const progress = progressLine();
  const previous = await latestSnapshotOf(repo, importer);
  const result = await runBackup(repo, importer, {
    previous,
    tags: (flags.tag as string[] | undefined) ?? [],
    name: flags.name as string | undefined,
    context: backupContext(argv),
    signal,
    onProgress: (p) => progress.update(`${p.files} files, ${humanSize(p.bytes)}, ${p.errors} errors  ${p.current}`),
  });
  progress.done();
  const p = result.progress;
  process.stdout.write(`${p.files} files (${p.unchanged} unchanged), ${p.directories} directories, ${humanSize(p.bytes)} read, ${humanSize(result.storedBytes)} stored, ${p.errors} errors\n`);
  process.stdout.write(`created snapshot ${toHex(result.snapshotId)}\n`);
  return 0;
}

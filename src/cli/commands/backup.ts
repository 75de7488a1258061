import { toHex } from '../../kloset/base/bytes.js';
import { backup as runBackup } from '../../kloset/snapshot/builder.js';
import { latestSnapshotOf } from '../../kloset/snapshot/reader.js';
import { ScanAhead } from '../../kloset/snapshot/scan-ahead.js';
import { parseFlags } from '../args.js';
import { backupContext, openRepository } from '../context.js';
import { humanSize } from '../format.js';
import { progressLine } from '../progress.js';
import { resolveLocation, sourceFor } from '../store-location.js';

/**
 * kloset at <store> backup [-tag T] <dir | s3://… | @source>; the last stdout line holds the
 * snapshot ID.
 */
export async function backup(store: string, args: string[], argv: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, { tag: 'list', name: 'string' });
  const source = await sourceFor(await resolveLocation('source', rest[0] ?? '.'));
  const controller = new AbortController();
  // the walk starts while the store unlocks, for sources that allow it (ScanAhead); it ends with the command
  const importer = new ScanAhead(source.importer, controller.signal);
  let repo;
  try {
    repo = await openRepository(store);
  } catch (e) {
    importer.stop();
    await source.close();
    throw e;
  }
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = progressLine();
  try {
    const previous = await latestSnapshotOf(repo, importer);
    const result = await runBackup(repo, importer, {
      previous,
      tags: (flags.tag as string[] | undefined) ?? [],
      name: flags.name as string | undefined,
      context: backupContext(argv),
      signal: controller.signal,
      onProgress: (p) => progress.update(`${p.files} files, ${humanSize(p.bytes)}, ${p.errors} errors  ${p.current}`),
    });
    progress.done();
    const p = result.progress;
    process.stdout.write(`${p.files} files (${p.unchanged} unchanged), ${p.directories} directories, ${humanSize(p.bytes)} read, ${humanSize(result.storedBytes)} stored, ${p.errors} errors\n`);
    process.stdout.write(`created snapshot ${toHex(result.snapshotId)}\n`);
    return 0;
  } finally {
    importer.stop();
    process.off('SIGINT', onSignal);
    await source.close();
    await repo.close();
  }
}

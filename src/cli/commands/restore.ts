import { restore as runRestore } from '../../kloset/restore/restore.js';
import { parseFlags } from '../args.js';
import { openRepository, openSnapshotPath } from '../context.js';
import { humanSize } from '../format.js';
import { progressLine } from '../progress.js';
import { destinationFor, resolveLocation } from '../store-location.js';

/**
 * kloset at <store> restore [-to <dir | s3://… | @destination>] [-conflict overwrite|skip-identical]
 * <snap>[:<path>]
 */
export async function restore(store: string, args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, { to: 'string', conflict: 'string' });
  if (!rest[0]) throw new Error('usage: kloset at <store> restore -to <dir | s3://… | @destination> <snap>[:<path>]');
  const target = await resolveLocation('destination', String(flags.to ?? '.'));
  const repo = await openRepository(store);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const { snap, path } = await openSnapshotPath(repo, rest[0]);
    const progress = progressLine();
    const dest = await destinationFor(target, {
      ...(flags.conflict ? { conflict: flags.conflict as 'overwrite' } : {}),
      fromBucket: snap.header.sources[0]?.importer.type === 's3',
      signal: controller.signal,
    });
    const p = await runRestore(snap, path, dest, {
      signal: controller.signal,
      onProgress: (r) => progress.update(`${r.files} files, ${humanSize(r.bytes)}, ${r.errors.length} errors  ${r.current}`),
    });
    progress.done();
    for (const e of p.errors) process.stderr.write(`kloset: ${e.path}: ${e.error}\n`);
    process.stdout.write(`restored ${p.files} files, ${p.directories} directories, ${humanSize(p.bytes)}, ${p.errors.length} errors\n`);
    return p.errors.length ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    await repo.close();
  }
}

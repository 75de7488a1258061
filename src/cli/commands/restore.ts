import { FsDestination } from '../../connectors/fs/destination.js';
import { restore as runRestore } from '../../kloset/restore/restore.js';
import { parseFlags } from '../args.js';
import { openRepository, openSnapshotPath } from '../context.js';
import { humanSize } from '../format.js';
import { progressLine } from '../progress.js';

/** kloset at <store> restore -to <dir> <snap>[:<path>] */
export async function restore(store: string, args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, { to: 'string' });
  if (!rest[0]) throw new Error('usage: kloset at <store> restore -to <dir> <snap>[:<path>]');
  const repo = await openRepository(store);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const { snap, path } = await openSnapshotPath(repo, rest[0]);
    const progress = progressLine();
    const p = await runRestore(snap, path, new FsDestination(String(flags.to ?? '.')), {
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

import { once } from 'node:events';
import { openRepository, openSnapshotPath } from '../context.js';

/** kloset at <store> cat <snap>:<path> — streams the file to stdout. */
export async function cat(store: string, args: string[]): Promise<number> {
  if (!args[0]) throw new Error('usage: kloset at <store> cat <snap>:<path>');
  const repo = await openRepository(store);
  try {
    const { snap, path } = await openSnapshotPath(repo, args[0]);
    const e = await snap.stat(path);
    if (!e) {
      process.stderr.write(`kloset: ${path}: no such file\n`);
      return 1;
    }
    for await (const chunk of snap.content(e)) {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
    return 0;
  } finally {
    await repo.close();
  }
}

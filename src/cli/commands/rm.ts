import { toHex } from '../../kloset/base/bytes.js';
import { removeSnapshot } from '../../kloset/repository/colour.js';
import { resolveSnapshotId } from '../../kloset/snapshot/reader.js';
import { openRepository } from '../context.js';

/** kloset at <store> rm <snap>… — the snapshots disappear from listings; data stays until maintenance. */
export async function rm(store: string, args: string[]): Promise<number> {
  if (args.length === 0) throw new Error('usage: kloset at <store> rm <snap>...');
  const repo = await openRepository(store, undefined, { toChange: true });
  try {
    const ids = args.map((a) => resolveSnapshotId(repo, a));
    for (const id of ids) {
      await removeSnapshot(repo, id);
      process.stdout.write(`removed snapshot ${toHex(id)}\n`);
    }
    return 0;
  } finally {
    await repo.close();
  }
}

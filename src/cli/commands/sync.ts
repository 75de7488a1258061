import { toHex } from '../../kloset/base/bytes.js';
import { resolveSnapshotId } from '../../kloset/snapshot/reader.js';
import { syncSnapshots } from '../../kloset/sync/sync.js';
import { openRepository } from '../context.js';
import { humanSize } from '../format.js';

/**
 * kloset at <store> sync [<snap>…] to <store2> — copies the snapshots (all by default) into
 * store2. store2's passphrase comes from KLOSET_TO_PASSPHRASE, else the same as the source's.
 */
export async function sync(store: string, args: string[]): Promise<number> {
  const to = args.indexOf('to');
  if (to < 0 || !args[to + 1]) throw new Error('usage: kloset at <store> sync [<snap>...] to <store>');
  const source = await openRepository(store);
  try {
    const target = await openRepository(args[to + 1]!, process.env.KLOSET_TO_PASSPHRASE, { toChange: true });
    try {
      const ids = to === 0 ? source.snapshotIds() : args.slice(0, to).map((a) => resolveSnapshotId(source, a));
      const r = await syncSnapshots(source, target, ids);
      for (const c of r.copied) process.stdout.write(`copied ${toHex(c.snapshotId)} (${humanSize(c.storedBytes)} new)\n`);
      for (const s of r.skipped) process.stdout.write(`skipped ${toHex(s)} (already there)\n`);
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

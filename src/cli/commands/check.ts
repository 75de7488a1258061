import { checkSnapshot } from '../../kloset/check/check.js';
import { SnapshotReader } from '../../kloset/snapshot/reader.js';
import { openRepository, openSnapshotPath } from '../context.js';
import { humanSize } from '../format.js';
import { progressLine } from '../progress.js';

/** kloset at <store> check [<snap>] — exit 1 when anything is damaged. */
export async function check(store: string, args: string[]): Promise<number> {
  const repo = await openRepository(store);
  try {
    const snaps = args[0] ? [(await openSnapshotPath(repo, args[0])).snap] : await Promise.all(repo.snapshotIds().map((id) => SnapshotReader.open(repo, id)));
    let damaged = 0;
    for (const snap of snaps) {
      const progress = progressLine();
      let n = 0;
      const r = await checkSnapshot(snap, { onEntry: (path) => progress.update(`${snap.idHex.slice(0, 8)}: ${++n} entries  ${path}`) });
      progress.done();
      for (const p of r.problems) process.stdout.write(`${snap.idHex.slice(0, 8)}: damaged: ${p.path}: ${p.error}\n`);
      damaged += r.problems.length;
      process.stdout.write(`${snap.idHex.slice(0, 8)}: ${r.problems.length ? 'DAMAGED' : 'ok'} (${r.entries} entries, ${r.chunks} chunks, ${humanSize(r.bytes)})\n`);
    }
    return damaged ? 1 : 0;
  } finally {
    await repo.close();
  }
}

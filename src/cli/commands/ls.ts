import { toHex } from '../../kloset/base/bytes.js';
import { SnapshotReader } from '../../kloset/snapshot/reader.js';
import { openRepository, openSnapshotPath } from '../context.js';
import { humanSize, isoTime, modeString } from '../format.js';
import { LineOutput } from '../line-output.js';

/** Entries written out on their own before batching starts: the first screenful shows at once. */
const FIRST_PAGE = 100;

/** kloset at <store> ls [<snap>[:<path>]] */
export async function ls(store: string, args: string[]): Promise<number> {
  const repo = await openRepository(store);
  try {
    if (args.length === 0) {
      const rows: { t: number; line: string }[] = [];
      for (const id of repo.snapshotIds()) {
        const s = await SnapshotReader.open(repo, id);
        const h = s.header;
        const src = h.sources[0];
        const size = src ? src.summary.directory.size + src.summary.below.size : 0n;
        rows.push({ t: h.timestamp.sec, line: `${toHex(id).slice(0, 8)}  ${isoTime(h.timestamp.sec)}  ${humanSize(size).padStart(10)}  ${src?.importer.directory ?? ''}` });
      }
      rows.sort((a, b) => a.t - b.t);
      for (const r of rows) process.stdout.write(`${r.line}\n`);
      return 0;
    }
    const { snap, path } = await openSnapshotPath(repo, args[0]!);
    const target = await snap.stat(path);
    if (!target) {
      process.stderr.write(`kloset: ${path}: no such file or directory\n`);
      return 1;
    }
    const line = (e: typeof target) =>
      `${isoTime(e.fileInfo.modTime.sec)} ${modeString(e.fileInfo.mode)} ${(e.fileInfo.username || String(e.fileInfo.uid)).padEnd(8)} ${(e.fileInfo.groupname || String(e.fileInfo.gid)).padEnd(8)} ${humanSize(e.fileInfo.size).padStart(10)} ${e.fileInfo.name}${e.symlinkTarget ? ` -> ${e.symlinkTarget}` : ''}\n`;
    const out = new LineOutput(process.stdout);
    if (target.fileInfo.mode & 0x80000000) {
      // the first page goes out as soon as it is listed, then the rest in batches
      let n = 0;
      for await (const e of snap.children(path)) {
        await out.add(line(e));
        if (++n === FIRST_PAGE) await out.flush();
      }
    } else await out.add(line(target));
    await out.flush();
    return 0;
  } finally {
    await repo.close();
  }
}

/**
 * check: reads back every blob a snapshot references — VFS nodes and entries, objects, chunks,
 * xattrs, the error tree — through the normal read path, which verifies each blob's MAC,
 * decryption and decompression. Damage is reported by file path and checking goes on.
 */
import { toHex } from '../base/bytes.js';
import { isKlosetError } from '../base/errors.js';
import { BlobType } from '../repository/blob-types.js';
import { isRegular, type SnapshotReader } from '../snapshot/reader.js';

export interface CheckReport {
  snapshot: string;
  entries: number;
  chunks: number;
  bytes: number;
  /** one line per damaged file or tree part */
  problems: { path: string; error: string }[];
}

export async function checkSnapshot(snap: SnapshotReader, options: { signal?: AbortSignal; onEntry?: (path: string) => void } = {}): Promise<CheckReport> {
  const report: CheckReport = { snapshot: snap.idHex, entries: 0, chunks: 0, bytes: 0, problems: [] };
  const seen = new Set<string>();
  const problem = (path: string, e: unknown) => {
    if (!isKlosetError(e) || e.code === 'CANCELLED' || e.code === 'IO') throw e;
    report.problems.push({ path, error: `${e.code}: ${e.message}` });
  };
  try {
    for await (const e of snap.walk('/')) {
      options.signal?.throwIfAborted();
      options.onEntry?.(e.path);
      report.entries++;
      if (!isRegular(e)) continue;
      try {
        const obj = await snap.object(e);
        for (const c of obj.chunks) {
          const key = toHex(c.contentMac);
          if (seen.has(key)) continue; // a chunk shared by several files is read once…
          try {
            const data = await snap.repo.getBlob(BlobType.CHUNK, c.contentMac);
            if (data.length !== c.length) throw new Error(`chunk length ${data.length}, expected ${c.length}`);
            seen.add(key);
            report.chunks++;
            report.bytes += data.length;
          } catch (err) {
            problem(e.path, err); // …but every file using a damaged chunk is named
          }
        }
      } catch (err) {
        problem(e.path, err);
      }
      if (e.extendedAttributes.length) {
        try {
          await snap.xattrs(e);
        } catch (err) {
          problem(`${e.path} (xattrs)`, err);
        }
      }
    }
  } catch (err) {
    problem('(snapshot tree)', err);
  }
  try {
    for await (const _ of snap.errors()) void _;
  } catch (err) {
    problem('(error tree)', err);
  }
  return report;
}

/**
 * sync: copies snapshots from one store to another (plakar `sync … to …`). Each snapshot is
 * rebuilt in the target from its own content — the target has its own key, so every address
 * changes — keeping the snapshot ID and header fields; blobs the target already holds are not
 * written again. Snapshots the target already has are skipped.
 */
import { toHex } from '../base/bytes.js';
import type { Repository } from '../repository/repository.js';
import { backup, type BackupResult } from '../snapshot/builder.js';
import { SnapshotReader } from '../snapshot/reader.js';
import { SnapshotImporter } from './snapshot-importer.js';

export interface SyncResult {
  copied: BackupResult[];
  skipped: Uint8Array[];
}

export interface SyncOptions {
  signal?: AbortSignal;
  /**
   * All the copies in one state, committed once at the end, under a random ID: what a storage
   * that holds a single packfile and state (a ptar) needs. By default each copied snapshot is
   * committed as it is done (an interrupted sync keeps the ones finished).
   */
  oneState?: boolean;
}

export async function syncSnapshots(source: Repository, target: Repository, ids: Uint8Array[], options: SyncOptions = {}): Promise<SyncResult> {
  const have = new Set(target.snapshotIds().map(toHex));
  const result: SyncResult = { copied: [], skipped: [] };
  const shared = options.oneState ? target.writer(target.prims.random(32)) : undefined;
  try {
    for (const id of ids) {
      if (have.has(toHex(id))) {
        result.skipped.push(id);
        continue;
      }
      const snap = await SnapshotReader.open(source, id);
      const h = snap.header;
      result.copied.push(await backup(target, new SnapshotImporter(snap), {
        snapshotId: id,
        signal: options.signal,
        writer: shared,
        header: {
          timestamp: h.timestamp, duration: h.duration, name: h.name, category: h.category, environment: h.environment,
          perimeter: h.perimeter, job: h.job, tags: h.tags, context: h.context,
        },
      }));
      have.add(toHex(id)); // an ID given twice is copied once
    }
    await shared?.commit();
  } catch (e) {
    await shared?.abandon();
    throw e;
  }
  return result;
}

/**
 * A snapshot read back as a backup source: every entry with its stat data, link target, xattrs
 * and content, plus the errors recorded when it was taken. Sync feeds it to the builder of
 * another store, which re-encrypts under that store's key and skips blobs it already has.
 */
import type { Importer, ImportRecord } from '../snapshot/importer.js';
import { isRegular, type SnapshotReader } from '../snapshot/reader.js';

export class SnapshotImporter implements Importer {
  readonly type: string;
  readonly origin: string;
  readonly root: string;

  constructor(private readonly snap: SnapshotReader) {
    const imp = snap.header.sources[0]?.importer;
    this.type = imp?.type ?? 'fs';
    this.origin = imp?.origin ?? '';
    this.root = imp?.directory ?? '/';
  }

  async *scan(signal?: AbortSignal): AsyncIterable<ImportRecord> {
    for await (const e of this.snap.walk('/')) {
      signal?.throwIfAborted();
      const snap = this.snap;
      let xattrs: Map<string, Uint8Array> | undefined;
      yield {
        item: {
          path: e.path,
          fileInfo: e.fileInfo,
          symlinkTarget: e.symlinkTarget || undefined,
          xattrs: e.extendedAttributes.length ? e.extendedAttributes : undefined,
          readXattr: async (name) => {
            xattrs ??= new Map((await snap.xattrs(e)).map((x) => [x.entry.name, x.value]));
            return xattrs.get(name) ?? new Uint8Array(0);
          },
          open: isRegular(e) ? () => snap.content(e) : undefined,
        },
      };
    }
    for await (const err of this.snap.errors()) yield { error: { path: err.name, error: err.error } };
  }
}

/**
 * What a backup reads from: an Importer walks a source (a local folder, an S3 bucket…) and
 * yields one record per item with its snapshot path, stat data and, for regular files, a way to
 * read the content. Items may come in any order; the builder sorts them into the VFS. An item
 * that cannot be read becomes an error record and the backup goes on.
 */
import type { FileInfo } from './vfs/file-info.js';

export interface ImportedItem {
  /** absolute, clean snapshot path */
  path: string;
  fileInfo: FileInfo;
  symlinkTarget?: string;
  /** extended attribute names; values are read through `readXattr` */
  xattrs?: string[];
  readXattr?(name: string): Promise<Uint8Array>;
  /**
   * Regular files: the content, read lazily and in order. A yielded piece is only valid until
   * the next one is requested (sources may read into one buffer over and over).
   */
  open?(): AsyncIterable<Uint8Array>;
  /**
   * The source skipped reading the item's extended attributes because it looks unchanged since
   * the previous snapshot (ScanHints.previous): the builder takes them from there. Should the
   * builder read the content after all, `open()` fills in `xattrs` and `readXattr` before it
   * ends (a bucket's GET answers metadata and content together).
   */
  xattrsFromPrevious?: boolean;
}

/** What the builder tells a source about the previous snapshot, so it can skip unchanged items. */
export interface ScanHints {
  /** stat data of `path` in the previous snapshot of this source, if it is there */
  previous?(path: string): Promise<FileInfo | undefined>;
}

export interface ImportError {
  path: string;
  error: string;
}

export type ImportRecord = { item: ImportedItem } | { error: ImportError };

export interface Importer {
  /** "fs", "s3", … (header importer.type) */
  readonly type: string;
  /** host or bucket (header importer.origin) */
  readonly origin: string;
  /** snapshot path of the backed-up root (header importer.directory) */
  readonly root: string;
  /**
   * Its records are cheap to hold (a path and stat data, content read only through `open`), so
   * its walk may run ahead of the backup (ScanAhead). Not so for a source that prefetches
   * content under a budget of its own and releases it as each record is taken (a bucket).
   */
  readonly walkAhead?: boolean;
  scan(signal?: AbortSignal, hints?: ScanHints): AsyncIterable<ImportRecord>;
}

/**
 * Restore: copies a snapshot subtree into a Destination (a local folder, a bucket…). Paths are
 * checked before anything is named on the destination: every segment must be a plain name
 * (no "..", no "/", no NUL), so nothing can land outside the target; only directories are
 * descended into, so a symlink in the snapshot can never become a path prefix.
 */
import { InFlight } from '../base/in-flight.js';
import { isDir, isRegular, isSymlink, type SnapshotReader, type VfsEntry } from '../snapshot/reader.js';
import { assertSafeSnapshotPath, cleanPath } from '../snapshot/vfs/paths.js';

export interface Destination {
  /** files written at once (default FILES_IN_FLIGHT; a bucket wants more, its latency dominates) */
  readonly parallelism?: number;
  /**
   * true: a file's extended attributes are handed to `writeFile` with its content (S3 sets an
   * object's metadata with the upload and cannot add it afterwards); false: `setXattr` after.
   */
  readonly xattrsWithContent?: boolean;
  /**
   * true: `writeFile` is done with each piece of `content` once it asks for the next one (it
   * writes it and keeps no reference), so the restore may reuse that memory for later chunks.
   * A destination that holds pieces (an upload gathering parts) leaves it unset.
   */
  readonly consumesChunks?: boolean;
  /** Creates a directory (mode and mtime may be applied in `finish`). */
  mkdir(rel: readonly string[], e: VfsEntry): Promise<void>;
  /**
   * Writes a regular file. `content` is read lazily: a destination that finds the file already
   * there may skip it without reading.
   */
  writeFile(rel: readonly string[], e: VfsEntry, content: AsyncIterable<Uint8Array>, xattrs?: ReadonlyMap<string, Uint8Array>): Promise<void>;
  symlink(rel: readonly string[], e: VfsEntry, target: string): Promise<void>;
  setXattr?(rel: readonly string[], name: string, value: Uint8Array): Promise<void>;
  /** Applies what had to wait for the children (directory modes and mtimes). */
  finish(): Promise<void>;
}

export interface RestoreProgress {
  files: number;
  directories: number;
  bytes: number;
  errors: { path: string; error: string }[];
  current: string;
}

export interface RestoreOptions {
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** restore extended attributes when the destination can (default true) */
  xattrs?: boolean;
}

/**
 * Restores `path` of the snapshot (a file or a directory with everything below it). The
 * restored item keeps its own name: restoring "/home/me/docs" creates "<target>/docs".
 * Per-item failures are collected in the progress and the restore goes on.
 */
export async function restore(snap: SnapshotReader, path: string, dest: Destination, options: RestoreOptions = {}): Promise<RestoreProgress> {
  const root = cleanPath(path);
  const progress: RestoreProgress = { files: 0, directories: 0, bytes: 0, errors: [], current: '' };
  const base = root === '/' ? [] : root.split('/').slice(0, -1).filter(Boolean);
  // Files are written a few at a time (their directories exist: the walk yields a directory
  // before its content and directories are created inline), in two lanes: large files and the
  // rest. A large file keeps the decoding thread and the writes busy while this thread has
  // little to do; small files are the other way round (this thread creates and writes them).
  // In one walk-ordered lane a folder of large files and one of small files took turns leaving
  // a core idle; here the walk goes on past large files waiting for their lane (up to
  // LARGE_QUEUED of them) and the two kinds are restored together. The walk waits for a file
  // of either lane to end (a large file's end also starts the next large one).
  let walkWaiting: (() => void) | null = null;
  const wakeWalk = () => {
    const wake = walkWaiting;
    walkWaiting = null;
    wake?.();
  };
  const small = new InFlight(wakeWalk), large = new InFlight(() => { startLarge(); wakeWalk(); });
  const queuedLarge: VfsEntry[] = [];
  const parallelism = Math.max(1, dest.parallelism ?? FILES_IN_FLIGHT);
  const largeParallelism = Math.max(LARGE_IN_FLIGHT, Math.ceil(parallelism / 4));
  const wantXattrs = options.xattrs !== false;
  const startLarge = () => {
    if (options.signal?.aborted) queuedLarge.length = 0;
    while (large.size < largeParallelism && queuedLarge.length) large.add(restoreOne(queuedLarge.shift()!));
  };
  const anyDone = () => new Promise<void>((resolve) => { walkWaiting = resolve; });
  snap.repo.encoder.warm?.(); // chunk decoding threads start while the first listings load
  try {
    for await (const e of snap.walk(root)) {
      options.signal?.throwIfAborted();
      progress.current = e.path;
      if (isDir(e)) {
        await restoreOne(e);
      } else if (isRegular(e) && Number(e.fileInfo.size) >= LARGE_FILE) {
        while (queuedLarge.length >= LARGE_QUEUED) await anyDone();
        queuedLarge.push(e);
        startLarge();
      } else {
        while (small.size >= parallelism) await anyDone();
        small.add(restoreOne(e));
      }
    }
    while (small.size + large.size > 0) await anyDone();
    options.signal?.throwIfAborted();
    await dest.finish();
    return progress;
  } finally {
    // a cancel (or a failing walk) lands between files: the writes under way end first, with
    // their clean-up (an S3 multipart upload aborted on the server), before restore() settles
    queuedLarge.length = 0;
    while (small.size + large.size > 0) await Promise.all([small.settled(), large.settled()]);
  }

  async function restoreOne(e: VfsEntry): Promise<void> {
    try {
      assertSafeSnapshotPath(e.path);
      const segments = e.path === '/' ? [] : e.path.slice(1).split('/');
      const rel = segments.slice(base.length);
      if (isDir(e)) {
        await dest.mkdir(rel, e);
        progress.directories++;
      } else if (isSymlink(e)) {
        await dest.symlink(rel, e, e.symlinkTarget);
        progress.files++;
      } else if (isRegular(e)) {
        const counted = count(snap.content(e), progress, options, dest.consumesChunks ? (c) => snap.repo.recycleChunk(c) : undefined);
        if (dest.xattrsWithContent) {
          const xattrs = new Map<string, Uint8Array>();
          if (wantXattrs && e.extendedAttributes.length) for (const { entry, value } of await snap.xattrs(e)) xattrs.set(entry.name, value);
          await dest.writeFile(rel, e, counted, xattrs);
          progress.files++;
          options.onProgress?.(progress);
          return;
        }
        await dest.writeFile(rel, e, counted);
        progress.files++;
      } else {
        return; // devices, pipes and sockets are not recreated
      }
      if (wantXattrs && dest.setXattr && e.extendedAttributes.length) {
        for (const { entry, value } of await snap.xattrs(e)) await dest.setXattr(rel, entry.name, value);
      }
    } catch (err) {
      if (options.signal?.aborted) return; // reported once, after the loop
      progress.errors.push({ path: e.path, error: err instanceof Error ? err.message : String(err) });
    }
    options.onProgress?.(progress);
  }
}

const FILES_IN_FLIGHT = 8;
/** Files from this size on go to the large-file lane. */
const LARGE_FILE = 1 << 20;
/** Large files restored at once (at least: a destination with more parallelism gets a quarter of it). */
const LARGE_IN_FLIGHT = 2;
/** Walked large files waiting for their lane: entries only, their content is not read yet. */
const LARGE_QUEUED = 256;

/** Counts the bytes going by; `done`: each piece is given back once the consumer wants the next. */
async function* count(content: AsyncIterable<Uint8Array>, p: RestoreProgress, o: RestoreOptions, done?: (c: Uint8Array) => void): AsyncIterable<Uint8Array> {
  for await (const c of content) {
    o.signal?.throwIfAborted();
    p.bytes += c.length;
    yield c;
    done?.(c);
  }
}

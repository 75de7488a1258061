/**
 * Backup: turns what an Importer yields into a snapshot (spec §8, §9.8).
 *
 * Each regular file is chunked (FastCDC of CONFIG), each chunk stored once (RT_CHUNK, address =
 * MAC of its bytes), then its Object (RT_OBJECT) and VFS entry (RT_VFS_ENTRY). Directories,
 * links and special files get entries too; missing ancestors up to "/" are synthesized as
 * plakar does (ModeDir|0750, mtime 0). Once everything is read: the VFS, xattr and error
 * B+trees, the content-type and summary indexes, the header (RT_SNAPSHOT, addressed by the new
 * random snapshot ID), and finally the state that makes the snapshot visible.
 *
 * Memory: per item the builder keeps its path, the few numbers summaries need and a ref into
 * the EntryLog (its entry's MAC and bytes, for the trees and its directory's dirpack, which are
 * derived from the items at the end), and the writer keeps a 56-byte index record per blob
 * until the state is written. The per-item cost still grows with the number of files (see
 * docs/benchmarks.md for the measured bytes per file); spilling to disk is what very large
 * trees would need next. File content streams through with a bounded number of chunks and two
 * packfiles in memory.
 */
import { ByteBudget } from '../base/byte-budget.js';
import { InFlight } from '../base/in-flight.js';
import { isKlosetError } from '../base/errors.js';
import { encodeStruct, sameStruct, type Schema } from '../encoding/schema.js';
import type { GoTime } from '../encoding/go-time.js';
import type { MacStream } from '../hashing/mac.js';
import { BlobType } from '../repository/blob-types.js';
import { acquireLock } from '../repository/lock.js';
import type { Repository } from '../repository/repository.js';
import type { RepositoryWriter } from '../repository/writer.js';
import { buildBTree } from './btree/builder.js';
import { compareBytewise, countSlashes, pathCompare } from './btree/compare.js';
import { btreeDescriptorSchema, btreeNodeSchema, type BTreeNode } from './btree/node.js';
import { NOT_REGULAR_FILE, OCTET_STREAM, sniffContentType } from './content-type.js';
import { DIRPACK_DIRECTORY, DIRPACK_FILE, encodeDirpack, type DirpackFrame } from './dirpack.js';
import { EntryLog } from './entry-log.js';
import type { SnapshotReader, VfsEntry } from './reader.js';
import { HEADER_VERSION, headerSchema, type Header, type IndexRef, type KeyValue } from './header.js';
import type { ImportedItem, Importer, ScanHints } from './importer.js';
import { CHUNK_VERSION, OBJECT_VERSION, objectSchema, type Chunk } from './object.js';
import { entrySchema, VFS_ENTRY_VERSION, type Entry } from './vfs/entry.js';
import { ERROR_ITEM_VERSION, errorItemSchema } from './vfs/error-item.js';
import { GoMode, type FileInfo } from './vfs/file-info.js';
import { baseName, parentPath } from './vfs/paths.js';
import { PreviousTree } from './previous-tree.js';
import { addBelow, addChild, emptySummary, finishDirectory, type SummaryInput } from './vfs/summarize.js';
import { summarySchema, type Summary } from './vfs/summary.js';
import { XATTR_EXTENDED, XATTR_VERSION, xattrKey, xattrSchema } from './vfs/xattr.js';

export interface BackupOptions {
  /**
   * The previous snapshot of the same source: files whose size, mtime, inode and mode are
   * unchanged reuse its content description instead of being read and chunked again.
   */
  previous?: SnapshotReader;
  /** the new snapshot's ID (sync keeps the source's); random by default */
  snapshotId?: Uint8Array;
  /** header fields to carry over (sync) instead of the defaults */
  header?: Partial<Pick<Header, 'timestamp' | 'duration' | 'name' | 'category' | 'environment' | 'perimeter' | 'job' | 'tags' | 'context'>>;
  name?: string;
  tags?: string[];
  /** Hostname, Username, OperatingSystem, CommandLine… (the caller knows its environment) */
  context?: KeyValue[];
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /**
   * A writer shared with other backups (sync into a ptar, whose one state holds every snapshot):
   * the snapshot's blobs go into it and the caller commits it (or abandons it on failure).
   * By default the backup has a writer of its own and commits it.
   */
  writer?: RepositoryWriter;
}

export interface BackupProgress {
  files: number;
  /** files whose content was taken from the previous snapshot without reading them */
  unchanged: number;
  directories: number;
  bytes: number;
  errors: number;
  current: string;
}

export interface BackupResult {
  snapshotId: Uint8Array;
  header: Header;
  progress: BackupProgress;
  /** bytes of new encoded blobs written to the store */
  storedBytes: number;
}

interface Recorded extends SummaryInput {
  /** its entry in the EntryLog */
  ref: number;
}

const ZERO_MAC = new Uint8Array(32);
/** Items read and stored concurrently (bounded: each may hold a chunk being chunked). */
const ITEMS_IN_FLIGHT = 4;
/** Chunks of one file being encoded while the next are read (each up to Chunking.MaxSize). */
const CHUNKS_IN_FLIGHT = 3;
/** Bound on the chunk bytes in flight across files (each is copied once more for encoding). */
const CHUNK_BYTES_IN_FLIGHT = 24 << 20;

export async function backup(repo: Repository, importer: Importer, options: BackupOptions = {}): Promise<BackupResult> {
  const start = repo.prims.now();
  const snapshotId = options.snapshotId ?? repo.prims.random(32);
  const hostname = options.context?.find((kv) => kv.key === 'Hostname')?.value ?? '';
  // The encoder's threads start while the lock is taken and the walk begins — for a first
  // backup. A re-backup starts them when it meets the first content to store (Builder.addItem):
  // an unchanged one has none, and a thread it never uses costs CPU and memory.
  if (!options.previous) repo.encoder.warm?.();
  const lock = await acquireLock(repo, snapshotId, hostname);
  try {
    return await run(repo, importer, options, snapshotId, start);
  } finally {
    await lock.release();
  }
}

async function run(repo: Repository, importer: Importer, options: BackupOptions, snapshotId: Uint8Array, start: number): Promise<BackupResult> {
  const w = options.writer ?? repo.writer(snapshotId);
  const inFlight = new InFlight();
  try {
    return await build(repo, importer, options, snapshotId, start, w, inFlight);
  } catch (e) {
    // a failed or cancelled backup: let what is under way end, then store nothing more
    await inFlight.settled();
    if (!options.writer) await w.abandon();
    throw e;
  }
}

async function build(
  repo: Repository, importer: Importer, options: BackupOptions, snapshotId: Uint8Array, start: number,
  w: RepositoryWriter, inFlight: InFlight,
): Promise<BackupResult> {
  const b = new Builder(repo, w, options);
  const storedBefore = w.storedBytes;
  // Items are processed a few at a time so file I/O overlaps with hashing and encoding; the
  // writer's dedup check and packing are synchronous, so concurrent items cannot race there.
  let failure: unknown;
  const previous = b.previousTree;
  const hints: ScanHints = previous ? { previous: async (path) => (await previous.entry(path))?.fileInfo } : {};
  for await (const rec of importer.scan(options.signal, hints)) {
    options.signal?.throwIfAborted();
    if (failure) break;
    if ('error' in rec) {
      b.recordError(rec.error.path, rec.error.error);
      continue;
    }
    if (b.addUnchanged(rec.item)) continue;
    inFlight.add(b.addItem(rec.item).catch((e: unknown) => { failure ??= e; }));
    while (inFlight.size >= ITEMS_IN_FLIGHT) await inFlight.oneEnded();
  }
  await inFlight.all();
  if (failure) throw failure;
  options.signal?.throwIfAborted();
  await b.synthesizeAncestors();
  const roots = await b.persist();
  const header: Header = {
    version: HEADER_VERSION,
    identifier: snapshotId,
    timestamp: timeOf(start),
    duration: BigInt(Math.round((repo.prims.now() - start) * 1e6)),
    identity: { identifier: new Uint8Array(16), publicKey: new Uint8Array(0) },
    name: options.name ?? importer.root,
    category: '', environment: '', perimeter: '', job: '',
    replicas: 1,
    dataset: '',
    dataClasses: [],
    classifications: [],
    tags: options.tags ?? [],
    context: options.context ?? [],
    ...options.header,
    sources: [{
      importer: { type: importer.type, origin: importer.origin, directory: importer.root },
      context: [],
      vfs: roots.vfs,
      indexes: roots.indexes,
      summary: roots.rootSummary,
    }],
  };
  await w.putBlob(BlobType.SNAPSHOT, snapshotId, encodeStruct(headerSchema, header));
  options.signal?.throwIfAborted();
  if (!options.writer) await w.commit();
  return { snapshotId, header, progress: b.progress, storedBytes: w.storedBytes - storedBefore };
}

function timeOf(ms: number): GoTime {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

class Builder {
  readonly progress: BackupProgress = { files: 0, unchanged: 0, directories: 0, bytes: 0, errors: 0, current: '' };
  private readonly items = new Map<string, Recorded>();
  private readonly errors = new Map<string, string>();
  private readonly xattrs: [string, Uint8Array][] = [];
  /** every recorded entry's MAC and bytes (dirpacks and trees are made from them at the end) */
  private readonly log = new EntryLog();
  /** one string per distinct content type, not one per file */
  private readonly contentTypeNames = new Map<string, string>();
  private readonly previous: PreviousTree | undefined;
  /** for sources that can skip unchanged items (ScanHints) */
  get previousTree(): PreviousTree | undefined {
    return this.previous;
  }
  private readonly previousReader: SnapshotReader | undefined;
  /** chunk bytes being hashed and encoded, across all files in flight */
  private readonly budget = new ByteBudget(CHUNK_BYTES_IN_FLIGHT);
  private readonly chunker;
  /** the encoder's threads were asked to start (at once for a first backup: see backup()) */
  private warmed: boolean;

  constructor(private readonly repo: Repository, private readonly w: RepositoryWriter, private readonly options: BackupOptions) {
    this.chunker = repo.chunker();
    this.warmed = !options.previous;
    this.previous = options.previous && new PreviousTree(options.previous);
    this.previousReader = options.previous;
  }

  recordError(path: string, error: string): void {
    this.errors.set(path, error);
    this.progress.errors++;
    this.report(path);
  }

  private report(current: string): void {
    this.progress.current = current;
    this.options.onProgress?.(this.progress);
  }

  async addItem(item: ImportedItem): Promise<void> {
    const fi = item.fileInfo;
    const isDir = (fi.mode & GoMode.dir) !== 0;
    const isRegular = isRegularMode(fi.mode);
    if (isDir) this.previous?.enter(item.path);
    let object: Uint8Array = ZERO_MAC, contentType = NOT_REGULAR_FILE, ent = 0, chunkCount = 0, size = fi.size;
    const prevEntry = this.previous ? await this.previous.entry(item.path) : undefined;
    const prev = isRegular && prevEntry && this.unchanged(item, prevEntry) ? prevEntry : undefined;
    if (prev) {
      ({ object, contentType, entropy: ent } = prev);
      chunkCount = Number(prev.chunks);
    } else if (isRegular && item.open) {
      if (!this.warmed) {
        this.warmed = true;
        this.repo.encoder.warm?.();
      }
      try {
        const stored = await this.storeContent(fi.name, item.open(), undefined, true, Number(fi.size));
        ({ object, contentType, chunkCount } = stored);
        ent = stored.entropy;
        size = BigInt(stored.size);
      } catch (e) {
        if (isKlosetError(e) && e.code !== 'IO') throw e; // store-side failures stop the backup
        this.recordError(item.path, e instanceof Error ? e.message : String(e));
        return;
      }
    }
    const xattrNames: string[] = [];
    if (item.xattrsFromPrevious && !item.xattrs && prev && this.previousReader) {
      // unchanged, as the source guessed: its attributes are the previous snapshot's
      for (const { entry: x, value } of await this.previousReader.xattrs(prev)) {
        await this.storeXattr(item.path, x.name, value);
        xattrNames.push(x.name);
      }
    } else if (item.xattrs && item.readXattr) {
      for (const name of item.xattrs) {
        try {
          await this.storeXattr(item.path, name, await item.readXattr(name));
          xattrNames.push(name);
        } catch (e) {
          if (isKlosetError(e) && e.code !== 'IO') throw e;
          this.recordError(`${item.path}:${name}`, e instanceof Error ? e.message : String(e));
        }
      }
    }
    const entry = makeEntry(item.path, { ...fi, size }, {
      object, contentType, entropy: ent, chunks: chunkCount, symlinkTarget: item.symlinkTarget ?? '', xattrs: xattrNames,
    });
    // An entry identical to the previous snapshot's is already stored: its bytes and MAC are
    // reused rather than encoded and hashed again (most of an unchanged re-backup's work).
    if (prevEntry?.encoded && sameStruct(entrySchema, entry, prevEntry)) {
      await this.w.putBlob(BlobType.VFS_ENTRY, prevEntry.mac, prevEntry.encoded); // a no-op when the store has it
      this.record(item.path, entry, prevEntry.encoded, prevEntry.mac, !!prev, true);
    } else {
      const bytes = encodeStruct(entrySchema, entry);
      const mac = this.repo.mac.sum(bytes);
      await this.w.putBlob(BlobType.VFS_ENTRY, mac, bytes);
      this.record(item.path, entry, bytes, mac, !!prev);
    }
  }

  /**
   * The fast path of an unchanged re-backup: an item whose entry would be byte for byte the
   * previous snapshot's (listing already loaded, no xattrs to store, entry in the store) is
   * recorded without awaiting anything. False when the item needs addItem.
   */
  addUnchanged(item: ImportedItem): boolean {
    if (!this.previous || item.xattrs?.length) return false;
    const prev = this.previous.loadedEntry(item.path);
    if (!prev?.encoded) return false;
    const fi = item.fileInfo;
    const regular = isRegularMode(fi.mode);
    if (regular && !this.unchanged(item, prev)) return false;
    const entry = makeEntry(item.path, fi, regular
      ? { object: prev.object, contentType: prev.contentType, entropy: prev.entropy, chunks: Number(prev.chunks), symlinkTarget: '', xattrs: [] }
      : { object: ZERO_MAC, contentType: NOT_REGULAR_FILE, entropy: 0, chunks: 0, symlinkTarget: item.symlinkTarget ?? '', xattrs: [] });
    if (!sameStruct(entrySchema, entry, prev) || !this.w.has(BlobType.VFS_ENTRY, prev.mac)) return false;
    if (fi.mode & GoMode.dir) this.previous.enter(item.path);
    this.record(item.path, entry, prev.encoded, prev.mac, regular, true);
    return true;
  }

  /**
   * Remembers a stored entry: for the trees, its directory's dirpack, summaries and progress.
   * `fromPrevious`: bytes and MAC are views of the previous snapshot's dirpack, held as they are.
   */
  private record(path: string, entry: Entry, bytes: Uint8Array, mac: Uint8Array, reused: boolean, fromPrevious = false): void {
    const fi = entry.fileInfo;
    const isDir = (fi.mode & GoMode.dir) !== 0;
    this.remember(path, mac, bytes, entry, fromPrevious);
    if (reused) this.progress.unchanged++;
    if (isDir) this.progress.directories++;
    else this.progress.files++;
    this.report(path);
  }

  /** An entry's summary input and its bytes in the log (`keep`: held as the views they are). */
  private remember(path: string, mac: Uint8Array, bytes: Uint8Array, entry: Entry, keep = false): void {
    const fi = entry.fileInfo;
    let contentType = this.contentTypeNames.get(entry.contentType);
    if (contentType === undefined) this.contentTypeNames.set(entry.contentType, (contentType = entry.contentType));
    const ref = keep ? this.log.keep(mac, bytes) : this.log.append(mac, bytes);
    this.items.set(path, { ref, mode: fi.mode, size: fi.size, modTimeSec: fi.modTime.sec, entropy: entry.entropy, contentType, chunks: Number(entry.chunks) });
  }

  /** Whether stat data says a file did not change since `p` (and its content is in this store). */
  private unchanged(item: ImportedItem, p: VfsEntry): boolean {
    const a = item.fileInfo, b = p.fileInfo;
    if (!p.object.some((x) => x !== 0)) return false;
    const same = a.size === b.size && a.mode === b.mode && a.ino === b.ino && a.dev === b.dev &&
      a.modTime.sec === b.modTime.sec && a.modTime.nsec === b.modTime.nsec;
    // the previous object must be in this store (it is, unless that snapshot came from elsewhere)
    return same && this.w.has(BlobType.OBJECT, p.object);
  }

  /** Stores and remembers a synthesized directory's entry (no item behind it: no progress). */
  private async putEntry(path: string, entry: Entry): Promise<void> {
    const bytes = encodeStruct(entrySchema, entry);
    const mac = this.repo.mac.sum(bytes);
    await this.w.putBlob(BlobType.VFS_ENTRY, mac, bytes);
    this.remember(path, mac, bytes, entry);
  }

  /**
   * Chunks, stores and describes a file's content; returns its Object MAC. `sizeHint` (the
   * stat size) tells whether the content may span several chunks.
   */
  private async storeContent(name: string, content: AsyncIterable<Uint8Array>, fixedType?: string, isFileContent = false, sizeHint = Infinity) {
    // The whole-content MAC only needs its own pass once there is a second chunk: for a
    // one-chunk file it is the chunk's MAC (same key, same bytes). When the size says there
    // may be more, the pass starts with the first chunk, so every chunk can be handed over to
    // the encoder (no copy) as soon as the whole MAC has seen it.
    const mayHaveMore = sizeHint > this.repo.config.chunking.minSize;
    let whole: MacStream | null = null;
    const pending: Promise<boolean>[] = [];
    let firstChunk: Uint8Array | null = null;
    const chunks: Chunk[] = [];
    let contentType = '';
    let size = 0, weighted = 0;
    const alloc = this.repo.encoder.buffer?.bind(this.repo.encoder);
    for await (const chunk of this.chunker.chunks(content, sizeHint, alloc)) {
      this.options.signal?.throwIfAborted();
      if (chunks.length === 0) {
        contentType = fixedType ?? (await sniffContentType(name, chunk));
        if (mayHaveMore) whole = (await this.repo.mac.stream()).update(chunk);
        else firstChunk = chunk;
      } else {
        if (!whole) whole = (await this.repo.mac.stream()).update(firstChunk!);
        whole.update(chunk);
      }
      const len = chunk.length;
      // The chunk is hashed, measured and encoded by the repository's encoder (another thread
      // in Node) while the next ones are read: a few at most are pending.
      const record: Chunk = { version: CHUNK_VERSION, contentMac: ZERO_MAC, length: len, entropy: 0, flags: 0 };
      chunks.push(record);
      await this.budget.acquire(len);
      const put = this.repo.encoder.prepare(chunk, whole !== null).then((blob) => {
        record.contentMac = blob.mac;
        if (!fixedType) record.entropy = blob.entropy;
        weighted += record.entropy * len;
        return this.w.putPrepared(BlobType.CHUNK, blob);
      }).finally(() => this.budget.release(len));
      put.catch(() => undefined); // awaited below
      pending.push(put);
      if (pending.length >= CHUNKS_IN_FLIGHT) await pending.shift();
      size += len;
      if (isFileContent) this.progress.bytes += len;
    }
    await Promise.all(pending);
    if (chunks.length === 0) {
      // plakar stores an empty file as one zero-length chunk (spec §9.4)
      const empty = new Uint8Array(0);
      const mac = this.repo.mac.sum(empty);
      await this.w.putBlob(BlobType.CHUNK, mac, empty);
      chunks.push({ version: CHUNK_VERSION, contentMac: mac, length: 0, entropy: 0, flags: 0 });
      contentType = fixedType ?? (await sniffContentType(name, empty));
    }
    const ent = size ? weighted / size : 0;
    const contentMac = whole ? whole.digest() : chunks[0]!.contentMac;
    const object = { version: OBJECT_VERSION, contentMac, chunks, contentType, entropy: ent, flags: 0 };
    const mac = await this.putStruct(BlobType.OBJECT, objectSchema, object);
    return { object: mac, contentType, entropy: ent, chunkCount: chunks.length, size };
  }

  /**
   * Stores a small piece of metadata (a dirpack) as a one-chunk object, hashed on this thread:
   * in a re-backup most are already in the store, and then nothing is encoded at all.
   */
  private async storeSmall(bytes: Uint8Array): Promise<Uint8Array> {
    const mac = this.repo.mac.sum(bytes);
    await this.w.putBlob(BlobType.CHUNK, mac, bytes); // a no-op when the store has it
    const chunk: Chunk = { version: CHUNK_VERSION, contentMac: mac, length: bytes.length, entropy: 0, flags: 0 };
    return this.putStruct(BlobType.OBJECT, objectSchema, { version: OBJECT_VERSION, contentMac: mac, chunks: [chunk], contentType: OCTET_STREAM, entropy: 0, flags: 0 });
  }

  private async storeXattr(path: string, name: string, value: Uint8Array): Promise<void> {
    async function* one() { yield value; }
    const { object } = await this.storeContent(name, one());
    const entry = { version: XATTR_VERSION, path, name, size: BigInt(value.length), type: XATTR_EXTENDED, object };
    this.xattrs.push([xattrKey(path, name), await this.putStruct(BlobType.XATTR_ENTRY, xattrSchema, entry)]);
  }

  private async putStruct<V>(type: number, schema: Schema<V>, value: V): Promise<Uint8Array> {
    const bytes = encodeStruct(schema, value);
    const mac = this.repo.mac.sum(bytes);
    await this.w.putBlob(type, mac, bytes);
    return mac;
  }

  /** Every recorded path's ancestors exist, up to "/" (plakar's relink). */
  async synthesizeAncestors(): Promise<void> {
    const paths = [...this.items.keys(), ...this.errors.keys()];
    for (let p of paths) {
      // walk up only while ancestors are missing: once one exists, so do all of its own
      while (p !== '/') {
        const dir = parentPath(p);
        if (this.items.has(dir)) break;
        const fi: FileInfo = {
          name: baseName(dir), size: 0n, mode: (GoMode.dir | 0o750) >>> 0, modTime: { sec: 0, nsec: 0 },
          dev: 0n, ino: 0n, uid: 0n, gid: 0n, nlink: 0, username: '', groupname: '', flags: 0,
        };
        const entry = makeEntry(dir, fi, { object: ZERO_MAC, contentType: NOT_REGULAR_FILE, entropy: 0, chunks: 0, symlinkTarget: '', xattrs: [] });
        await this.putEntry(dir, entry);
        p = dir;
      }
    }
  }

  /** Writes the trees and indexes; returns what the header points to. */
  async persist() {
    const summaries = this.summarize();
    const sortedPaths = sortPaths([...this.items.keys()]);
    const macOf = (p: string) => this.log.mac(this.items.get(p)!.ref);
    const vfsRoot = await this.tree(BlobType.VFS_BTREE, BlobType.VFS_NODE, sortedPaths.map((p) => [p, macOf(p)]), pathCompare);
    const errorEntries: [string, Uint8Array][] = [];
    for (const [path, error] of this.errors) {
      errorEntries.push([path, await this.putStruct(BlobType.ERROR_ENTRY, errorItemSchema, { version: ERROR_ITEM_VERSION, name: path, error })]);
    }
    errorEntries.sort((a, b) => compareBytewise(a[0], b[0]));
    const errorsRoot = await this.tree(BlobType.ERROR_BTREE, BlobType.ERROR_NODE, errorEntries);
    this.xattrs.sort((a, b) => pathCompare(a[0], b[0]));
    const xattrsRoot = await this.tree(BlobType.XATTR_BTREE, BlobType.XATTR_NODE, this.xattrs, pathCompare);
    const contentTypes: [string, Uint8Array][] = [];
    for (const [path, rec] of this.items) {
      if (isRegularMode(rec.mode)) contentTypes.push([`/${rec.contentType.split(';')[0]!.trim()}${path}`, this.log.mac(rec.ref)]);
    }
    contentTypes.sort((a, b) => compareBytewise(a[0], b[0]));
    const ctRoot = await this.tree(BlobType.BTREE_ROOT, BlobType.BTREE_NODE, contentTypes);
    const summaryEntries: [string, Uint8Array][] = [];
    for (const [dir, s] of summaries) summaryEntries.push([dir, await this.putStruct(BlobType.VFS_SUMMARY, summarySchema, s)]);
    summaryEntries.sort((a, b) => compareBytewise(a[0], b[0]));
    const summaryRoot = await this.tree(BlobType.BTREE_ROOT, BlobType.BTREE_NODE, summaryEntries);
    const dirpackEntries: [string, Uint8Array][] = [];
    for (const [dir, children] of childrenRuns(sortedPaths)) {
      if (!this.items.has(dir)) continue;
      const frames: DirpackFrame[] = children.map((p) => {
        const rec = this.items.get(p)!;
        return { type: rec.mode & GoMode.dir ? DIRPACK_DIRECTORY : DIRPACK_FILE, entry: this.log.bytes(rec.ref), mac: this.log.mac(rec.ref) };
      });
      const packed = encodeDirpack(frames);
      // below the chunker's minimum a dirpack is one chunk whatever the chunker does
      if (packed.length <= this.repo.config.chunking.minSize) dirpackEntries.push([dir, await this.storeSmall(packed)]);
      else {
        async function* one() { yield packed; }
        dirpackEntries.push([dir, (await this.storeContent('', one(), OCTET_STREAM)).object]);
      }
    }
    dirpackEntries.sort((a, b) => compareBytewise(a[0], b[0]));
    const dirpackRoot = await this.tree(BlobType.BTREE_ROOT, BlobType.BTREE_NODE, dirpackEntries);
    const indexes: IndexRef[] = [
      { name: 'content-type', type: 'btree', value: ctRoot },
      { name: 'dirpack', type: 'btree', value: dirpackRoot },
      { name: 'summary', type: 'btree', value: summaryRoot },
    ];
    return {
      vfs: { root: vfsRoot, xattrs: xattrsRoot, errors: errorsRoot },
      indexes,
      rootSummary: summaries.get('/') ?? emptySummary(),
    };
  }

  /** Per-directory summaries, deepest directories first so `below` can fold upwards. */
  private summarize(): Map<string, Summary> {
    const out = new Map<string, Summary>();
    const get = (dir: string) => {
      let s = out.get(dir);
      if (!s) out.set(dir, (s = emptySummary()));
      return s;
    };
    for (const [path, rec] of this.items) {
      if (rec.mode & GoMode.dir) get(path);
      if (path !== '/') addChild(get(parentPath(path)).directory, rec);
    }
    for (const path of this.errors.keys()) {
      if (this.items.has(path)) get(path).directory.errors++;
      else if (path !== '/') addChild(get(parentPath(path)).directory, { mode: 0, size: 0n, modTimeSec: 0, entropy: 0, contentType: '', chunks: 0, isError: true });
    }
    const dirs = [...out.keys()].sort((a, b) => pathCompare(b, a));
    for (const dir of dirs) {
      const s = out.get(dir)!;
      finishDirectory(s.directory);
      if (dir !== '/') addBelow(get(parentPath(dir)).below, s);
    }
    return out;
  }

  /** Persists a tree of sorted entries: PathCmp for the VFS and xattr trees, bytewise otherwise. */
  private async tree(descriptorType: number, nodeType: number, entries: [string, Uint8Array][], compare = compareBytewise): Promise<Uint8Array> {
    const { descriptor } = await buildBTree(entries, (node: BTreeNode) => this.putStruct(nodeType, btreeNodeSchema, node), { compare });
    return this.putStruct(descriptorType, btreeDescriptorSchema, descriptor);
  }
}

/**
 * Each directory's children, in name order, from paths in PathCmp order: children of one
 * directory have the same depth and share the prefix "dir/", so they are one run of the
 * sorted list (any string between two with that prefix has it too) and their bytewise order
 * is their names' order — the order a dirpack's frames take.
 */
function* childrenRuns(sorted: readonly string[]): Generator<[string, string[]]> {
  let dir: string | null = null;
  let run: string[] = [];
  for (const p of sorted) {
    if (p === '/') continue;
    const parent = parentPath(p);
    if (parent !== dir) {
      if (dir !== null) yield [dir, run];
      dir = parent;
      run = [];
    }
    run.push(p);
  }
  if (dir !== null) yield [dir, run];
}

/** Paths in PathCmp order, each path's depth counted once rather than at every comparison. */
function sortPaths(paths: string[]): string[] {
  const keyed = paths.map((p) => ({ p, depth: countSlashes(p) }));
  keyed.sort((a, b) => a.depth - b.depth || compareBytewise(a.p, b.p));
  return keyed.map((k) => k.p);
}

function isRegularMode(mode: number): boolean {
  return (mode & (GoMode.dir | GoMode.symlink | GoMode.device | GoMode.namedPipe | GoMode.socket | GoMode.irregular)) === 0;
}

function makeEntry(
  path: string,
  fileInfo: FileInfo,
  x: { object: Uint8Array; contentType: string; entropy: number; chunks: number; symlinkTarget: string; xattrs: string[] },
): Entry {
  return {
    version: VFS_ENTRY_VERSION,
    parentPath: parentPath(path),
    fileInfo: { ...fileInfo, name: path === '/' ? '/' : fileInfo.name },
    summary: null,
    symlinkTarget: x.symlinkTarget,
    object: x.object,
    contentType: x.contentType,
    entropy: x.entropy,
    chunks: BigInt(x.chunks),
    alternateDataStreams: [],
    securityDescriptor: new Uint8Array(0),
    fileAttributes: 0,
    extendedAttributes: x.xattrs,
    classifications: [],
    customMetadata: [],
    tags: [],
  };
}



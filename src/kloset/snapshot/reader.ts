/**
 * Reading a snapshot: its header, the VFS tree (stat, directory listing as a stream, subtree
 * walk), file content as a stream of chunks (optionally a byte range), xattrs and the errors
 * recorded at backup time. Nothing here loads a whole directory or a whole file.
 */
import { concatBytes as concat, toHex } from '../base/bytes.js';
import { corrupt, KlosetError } from '../base/errors.js';
import { DirpackPieces } from './dirpack.js';
import { decodeStruct } from '../encoding/schema.js';
import { BlobType } from '../repository/blob-types.js';
import type { Repository } from '../repository/repository.js';
import { compareBytewise, pathCompare } from './btree/compare.js';
import { btreeDescriptorSchema, btreeNodeSchema } from './btree/node.js';
import { BTreeReader } from './btree/reader.js';
import { headerSchema, type Header } from './header.js';
import { objectSchema, type KObject } from './object.js';
import { entrySchema, type Entry } from './vfs/entry.js';
import { errorItemSchema, type ErrorItem } from './vfs/error-item.js';
import { GoMode } from './vfs/file-info.js';
import { cleanPath, isSafeSnapshotPath } from './vfs/paths.js';
import { xattrSchema, type XattrEntry } from './vfs/xattr.js';

/** Chunks read ahead of the consumer when streaming a file. */
const READ_AHEAD = 4;
/** Directory entries fetched ahead of a listing's consumer. */
const LIST_AHEAD = 64;

/** A VFS entry with the path it was found under and its own MAC. */
export interface VfsEntry extends Entry {
  path: string;
  mac: Uint8Array;
  /** the entry's stored bytes when they were at hand (dirpack listings): reused by re-backups */
  encoded?: Uint8Array;
}

export function isDir(e: Entry): boolean {
  return (e.fileInfo.mode & GoMode.dir) !== 0;
}
export function isSymlink(e: Entry): boolean {
  return (e.fileInfo.mode & GoMode.symlink) !== 0;
}
export function isRegular(e: Entry): boolean {
  return (e.fileInfo.mode & (GoMode.dir | GoMode.symlink | GoMode.device | GoMode.namedPipe | GoMode.socket | GoMode.irregular)) === 0;
}

/** Finds the one snapshot whose hex ID starts with `prefix` (plakar accepts prefixes). */
export function resolveSnapshotId(repo: Repository, prefix: string): Uint8Array {
  const p = prefix.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(p)) throw new KlosetError('NOT_FOUND', `'${prefix}' is not a snapshot ID`);
  const matches = repo.snapshotIds().filter((id) => toHex(id).startsWith(p));
  if (matches.length === 0) throw new KlosetError('NOT_FOUND', `no snapshot matches '${prefix}'`);
  if (matches.length > 1) throw new KlosetError('CONFLICT', `'${prefix}' matches ${matches.length} snapshots; give more digits`);
  return matches[0]!;
}

export class SnapshotReader {
  private constructor(
    readonly repo: Repository,
    readonly id: Uint8Array,
    readonly header: Header,
    private readonly vfs: BTreeReader,
  ) {}

  static async open(repo: Repository, id: Uint8Array): Promise<SnapshotReader> {
    return SnapshotReader.withHeader(repo, id, await SnapshotReader.header(repo, id));
  }

  /** A snapshot's header alone (its trees unread): what choosing among snapshots needs. */
  static async header(repo: Repository, id: Uint8Array): Promise<Header> {
    return decodeStruct(headerSchema, await repo.getBlob(BlobType.SNAPSHOT, id));
  }

  /** Opens a snapshot whose header was read already (SnapshotReader.header). */
  static async withHeader(repo: Repository, id: Uint8Array, header: Header): Promise<SnapshotReader> {
    const source = header.sources[0];
    if (!source) throw corrupt('snapshot header has no source');
    const vfs = await openTree(repo, source.vfs.root, BlobType.VFS_BTREE, BlobType.VFS_NODE, pathCompare);
    return new SnapshotReader(repo, id, header, vfs);
  }

  get idHex(): string {
    return toHex(this.id);
  }

  /** The entry at `path`, or undefined. */
  async stat(path: string): Promise<VfsEntry | undefined> {
    const p = cleanPath(path);
    const mac = await this.vfs.find(p);
    return mac ? this.entry(p, mac) : undefined;
  }

  private async entry(path: string, mac: Uint8Array): Promise<VfsEntry> {
    const e = decodeStruct(entrySchema, await this.repo.getBlob(BlobType.VFS_ENTRY, mac));
    return { ...e, path, mac };
  }

  /**
   * Direct children of a directory in name order, as a stream; `after` resumes a listing
   * after the given child path (paging).
   */
  async *children(dir: string, after?: string): AsyncGenerator<VfsEntry> {
    // From the start, the directory's dirpack streams its children chunk by chunk (the first
    // thousand entries of a million-entry directory come from its first chunk); resuming
    // `after` a child seeks in the VFS tree instead.
    if (after === undefined) {
      const objectMac = await (await this.index('dirpack'))?.find(dir);
      if (objectMac) {
        yield* this.dirpackEntries(dir, objectMac);
        return;
      }
    }
    yield* this.treeChildren(dir, after);
  }

  private async *dirpackEntries(dir: string, objectMac: Uint8Array): AsyncGenerator<VfsEntry> {
    const obj = decodeStruct(objectSchema, await this.repo.getBlob(BlobType.OBJECT, objectMac));
    const pieces = new DirpackPieces();
    for await (const chunk of this.chunks(obj.chunks.map((c) => ({ mac: c.contentMac, length: c.length })), 0, Infinity, dir)) {
      pieces.push(chunk);
      for (let f = pieces.next(); f; f = pieces.next()) yield this.frameEntry(dir, f);
    }
    if (!pieces.ended) throw corrupt(`dirpack of ${dir} ends inside a frame`);
  }

  /**
   * A dirpack frame as an entry. Its bytes were authenticated with the chunk that carried them
   * (every chunk is checked against its MAC), so the frame's own MAC is taken as given.
   */
  private frameEntry(dir: string, f: { entry: Uint8Array; mac: Uint8Array }): VfsEntry {
    const e = decodeStruct(entrySchema, f.entry) as VfsEntry;
    e.path = dir === '/' ? `/${e.fileInfo.name}` : `${dir}/${e.fileInfo.name}`;
    e.mac = f.mac; // views of the chunk, like the entry's own fields
    e.encoded = f.entry;
    return e;
  }

  private async *treeChildren(dir: string, after?: string): AsyncGenerator<VfsEntry> {
    const d = dir; // a stored key, used as is (a hostile one must not be re-interpreted)
    const prefix = d === '/' ? '/' : `${d}/`;
    const depth = d === '/' ? 1 : count(d, '/') + 1;
    // Entries are fetched up to LIST_AHEAD ahead of the consumer, in order: each is a separate
    // blob, and waiting for them one by one left the listing idle most of the time.
    const ahead: Promise<VfsEntry>[] = [];
    for await (const [key, mac] of this.vfs.scan(after ?? prefix)) {
      if (key === d || key === after) continue;
      if (!key.startsWith(prefix) || count(key, '/') !== depth) {
        if (pathCompare(key, prefix) < 0) continue;
        break;
      }
      const p = this.entry(key, mac);
      p.catch(() => undefined); // awaited in order below
      ahead.push(p);
      if (ahead.length >= LIST_AHEAD) yield await ahead.shift()!;
    }
    while (ahead.length) yield await ahead.shift()!;
  }

  /**
   * All direct children of a directory at once, from its dirpack when the snapshot has one
   * (one object read instead of one blob per child, each entry checked against its MAC), else
   * from the VFS tree.
   */
  async directory(dir: string): Promise<VfsEntry[]> {
    const out: VfsEntry[] = [];
    for await (const e of this.children(dir)) out.push(e);
    return out;
  }

  private readonly indexes = new Map<string, BTreeReader | null>();

  /** One of the snapshot's named indexes (content-type, dirpack, summary), or null. */
  private async index(name: string): Promise<BTreeReader | null> {
    if (!this.indexes.has(name)) {
      const ref = this.header.sources[0]?.indexes.find((i) => i.name === name);
      this.indexes.set(name, ref ? await openTree(this.repo, ref.value, BlobType.BTREE_ROOT, BlobType.BTREE_NODE, compareBytewise) : null);
    }
    return this.indexes.get(name)!;
  }

  /**
   * The entry at `path` and everything below it, each directory before its content. Entries
   * whose stored path is unsafe ("..", empty or NUL segments) are yielded so callers can report
   * them, but never descended into.
   */
  async *walk(path: string): AsyncGenerator<VfsEntry> {
    const root = await this.stat(path);
    if (!root) throw new KlosetError('NOT_FOUND', `${path}: no such file or directory in snapshot ${this.idHex.slice(0, 8)}`);
    const stack: VfsEntry[] = [root];
    while (stack.length) {
      const e = stack.pop()!;
      yield e;
      if (isDir(e) && isSafeSnapshotPath(e.path)) {
        const kids = await this.directory(e.path);
        for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
      }
    }
  }

  async object(e: Entry): Promise<KObject> {
    return decodeStruct(objectSchema, await this.repo.getBlob(BlobType.OBJECT, e.object));
  }

  /**
   * A regular file's content as chunks (each checked against its MAC), optionally only the
   * bytes [start, end). Only the chunks that overlap the range are read.
   */
  async *content(e: Entry, start = 0, end = Infinity): AsyncGenerator<Uint8Array> {
    if (!isRegular(e)) throw new KlosetError('NOT_FOUND', `${e.fileInfo.name} is not a regular file`);
    const obj = await this.object(e);
    yield* this.chunks(obj.chunks.map((c) => ({ mac: c.contentMac, length: c.length })), start, end, e.fileInfo.name);
  }

  /** The bytes [start, end) of a chunk list, reading a few chunks ahead, each checked. */
  private async *chunks(list: { mac: Uint8Array; length: number }[], start: number, end: number, what: string): AsyncGenerator<Uint8Array> {
    const wanted: { mac: Uint8Array; length: number; from: number }[] = [];
    let offset = 0;
    for (const c of list) {
      const from = offset;
      offset += c.length;
      if (offset <= start || c.length === 0) continue;
      if (from >= end) break;
      wanted.push({ mac: c.mac, length: c.length, from });
    }
    // Read a few chunks ahead so storage latency overlaps with decoding and the consumer.
    const pending: (Promise<Uint8Array> | undefined)[] = [];
    const fetch = (i: number) => {
      const p = this.repo.getBlob(BlobType.CHUNK, wanted[i]!.mac);
      p.catch(() => undefined); // awaited in order below
      pending.push(p);
    };
    // The first chunk is fetched alone so it reaches the consumer as soon as possible (small
    // chunks decode on this thread: prefetched ones would be decoded before it is delivered).
    if (wanted.length) fetch(0);
    for (let i = 0; i < wanted.length; i++) {
      if (i > 0) while (pending.length < Math.min(wanted.length, i + 1 + READ_AHEAD)) fetch(pending.length);
      const c = wanted[i]!;
      const data = await pending[i]!;
      pending[i] = undefined; // let the chunk be collected
      if (data.length !== c.length) throw corrupt(`chunk of ${what} has ${data.length} bytes, expected ${c.length}`);
      yield data.subarray(Math.max(0, start - c.from), Math.min(c.length, end - c.from));
    }
  }

  /** Errors recorded at backup time (unreadable files…), in path order. */
  async *errors(): AsyncGenerator<ErrorItem> {
    const tree = await openTree(this.repo, this.header.sources[0]!.vfs.errors, BlobType.ERROR_BTREE, BlobType.ERROR_NODE, compareBytewise);
    for await (const [, mac] of tree.scan()) yield decodeStruct(errorItemSchema, await this.repo.getBlob(BlobType.ERROR_ENTRY, mac));
  }

  /** The extended attributes of an entry with their values. */
  async xattrs(e: VfsEntry): Promise<{ entry: XattrEntry; value: Uint8Array }[]> {
    if (e.extendedAttributes.length === 0) return [];
    // Keys are path + name + ":" and the tree is written in PathCmp order (spec §9.1), so an
    // entry's attributes are contiguous from its path: seek there instead of reading the tree.
    this.xattrTree ??= await openTree(this.repo, this.header.sources[0]!.vfs.xattrs, BlobType.XATTR_BTREE, BlobType.XATTR_NODE, pathCompare);
    const out: { entry: XattrEntry; value: Uint8Array }[] = [];
    for await (const [key, mac] of this.xattrTree.scan(e.path)) {
      if (!key.startsWith(e.path)) break;
      const x = decodeStruct(xattrSchema, await this.repo.getBlob(BlobType.XATTR_ENTRY, mac));
      if (x.path !== e.path) continue; // a sibling whose name extends this one ("/a/b" vs "/a/bc")
      const obj = decodeStruct(objectSchema, await this.repo.getBlob(BlobType.OBJECT, x.object));
      const parts: Uint8Array[] = [];
      for (const c of obj.chunks) if (c.length) parts.push(await this.repo.getBlob(BlobType.CHUNK, c.contentMac));
      out.push({ entry: x, value: concat(parts) });
    }
    return out;
  }

  private xattrTree: BTreeReader | undefined;
}

async function openTree(repo: Repository, descriptorMac: Uint8Array, descriptorType: number, nodeType: number, compare: (a: string, b: string) => number): Promise<BTreeReader> {
  const d = decodeStruct(btreeDescriptorSchema, await repo.getBlob(descriptorType, descriptorMac));
  return new BTreeReader(d.root, async (mac) => decodeStruct(btreeNodeSchema, await repo.getBlob(nodeType, mac)), compare);
}

function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * The most recent snapshot of the same source (importer type, origin and directory), to
 * compare a new backup against; undefined when there is none.
 */
export async function latestSnapshotOf(repo: Repository, source: { type: string; origin: string; root: string }): Promise<SnapshotReader | undefined> {
  // headers only: every snapshot of the store is considered, only the chosen one is opened
  let best: { id: Uint8Array; header: Header } | undefined;
  for (const id of repo.snapshotIds()) {
    const header = await SnapshotReader.header(repo, id);
    const imp = header.sources[0]?.importer;
    if (!imp || imp.type !== source.type || imp.origin !== source.origin || imp.directory !== source.root) continue;
    const t = header.timestamp, b = best?.header.timestamp;
    if (!b || t.sec > b.sec || (t.sec === b.sec && t.nsec > b.nsec)) best = { id, header };
  }
  return best && SnapshotReader.withHeader(repo, best.id, best.header);
}

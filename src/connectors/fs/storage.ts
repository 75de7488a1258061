/**
 * FsStorage: a store in a local directory, laid out exactly as plakar's fs backend (spec §1.2)
 * so either tool can read what the other wrote:
 *
 *   <root>/CONFIG
 *   <root>/packfiles/XX/<64 hex>   XX = hex(mac[0]); the 256 bucket dirs exist from create()
 *   <root>/states/XX/<64 hex>
 *   <root>/locks/<64 hex>          flat
 *
 * Every write goes to `tmp.<random>` in the bucket root (packfiles/, states/) or the store root
 * (locks, CONFIG), is fsynced, renamed into place and the directory fsynced: a reader sees the
 * whole object or nothing, even after a crash, and `list` never mistakes a temp file for an
 * object because temp files never sit inside a bucket.
 *
 * The positioned file helpers at the end (writeBodyAt, readAt, syncDir, io, fsError) are exported
 * for the ptar connector, which is the same kind of local file I/O.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fromHex, toHex } from '../../kloset/base/bytes.js';
import { corrupt, isKlosetError, KlosetError } from '../../kloset/base/errors.js';
import type { ByteRange, PutBody, Storage, StorageResource } from '../../kloset/storage/storage.js';
import { SyncGate } from './sync-gate.js';

const BUCKETS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const TOP: Record<StorageResource, string> = { packfile: 'packfiles', state: 'states', lock: 'locks' };
const OBJECT_NAME = /^[0-9a-f]{64}$/;
const BUCKET_NAME = /^[0-9a-f]{2}$/;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** Small stream parts are gathered up to this size before a write (bounded memory, few syscalls). */
const WRITE_CHUNK = 1 << 20;

/** Packfile handles kept open for blob reads. */
const MAX_OPEN_PACKFILES = 32;
/** Blob reads up to this size are synchronous while the filesystem is fast (SyncGate). */
const SYNC_READ_MAX = 256 << 10;

export class FsStorage implements Storage {
  readonly location: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tops = { packfile: join(this.root, TOP.packfile), state: join(this.root, TOP.state), lock: join(this.root, TOP.lock) };
    this.location = `fs://${this.root}`;
  }

  async create(config: Uint8Array): Promise<void> {
    await this.prepareRoot();
    for (const resource of ['packfile', 'state'] as const) {
      const top = join(this.root, TOP[resource]);
      await io(mkdir(top, { mode: DIR_MODE }), 'create directory', top);
      await Promise.all(BUCKETS.map((b) => io(mkdir(join(top, b), { mode: DIR_MODE }), 'create directory', join(top, b))));
    }
    const locks = join(this.root, TOP.lock);
    await io(mkdir(locks, { mode: DIR_MODE }), 'create directory', locks);
    // CONFIG last: a create interrupted before this point leaves no store that open() accepts.
    await writeAtomic(join(this.root, 'CONFIG'), this.root, config);
  }

  async open(): Promise<Uint8Array> {
    const path = join(this.root, 'CONFIG');
    try {
      return await readObject(path);
    } catch (e) {
      if (!isKlosetError(e, 'NOT_FOUND') && !isNotDir(e)) throw e;
      const why = isNotDir(e)
        ? `no store at ${this.location}: it is not a directory`
        : (await isDirectory(this.root))
          ? `${this.location} is not a Kloset store: it has no CONFIG file`
          : `no store at ${this.location}: the directory does not exist`;
      throw new KlosetError('NOT_FOUND', why, { path }, { cause: e });
    }
  }

  async list(resource: StorageResource): Promise<Uint8Array[]> {
    const top = join(this.root, TOP[resource]);
    if (resource === 'lock') return objectsIn(top, null);
    const buckets = (await io(readdir(top, { withFileTypes: true }), 'list', top)).filter(
      (d) => d.isDirectory() && BUCKET_NAME.test(d.name),
    );
    const lists = await Promise.all(buckets.map((b) => objectsIn(join(top, b.name), b.name)));
    return lists.flat();
  }

  async put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    const path = this.path(resource, mac);
    const tmpDir = resource === 'lock' ? this.root : join(this.root, TOP[resource]);
    await writeAtomic(path, tmpDir, body);
  }

  async get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    const path = this.path(resource, mac);
    if (resource !== 'packfile' || !range) return readObject(path, range);
    // Blob reads hit the same packfiles over and over: packfiles never change once written, so
    // their handles and sizes are kept (a few dozen) instead of open+fstat+close per blob.
    const h = this.opened.get(path) ?? await this.handle(path);
    const { offset, length } = range;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > h.size) {
      throw corrupt(`range ${offset}+${length} is outside ${path} (${h.size} bytes)`, { path, offset, length, size: h.size });
    }
    // Small blobs (VFS entries, dirpacks, small files' chunks) are read synchronously while
    // the page cache answers: a thread-pool read costs the event loop ~35 µs to hand over and
    // wake up for on this VM kind, more than the read itself.
    if (length <= SYNC_READ_MAX && !this.gate.usingThreadPool) {
      this.touch(path);
      return this.gate.time(() => readAtSync(h.fh.fd, offset, length, path));
    }
    this.gate.tookPool();
    return readAt(h.fh, offset, length, path);
  }

  private readonly gate = new SyncGate();
  /** the handles of `handles` that are open already, for reads that need not wait */
  private readonly opened = new Map<string, { fh: FileHandle; size: number }>();

  /** Moves a packfile's handle to the most recently used end. */
  private touch(path: string): void {
    const h = this.handles.get(path);
    if (h) {
      this.handles.delete(path);
      this.handles.set(path, h);
    }
  }

  private readonly handles = new Map<string, Promise<{ fh: FileHandle; size: number }>>();

  private handle(path: string): Promise<{ fh: FileHandle; size: number }> {
    let h = this.handles.get(path);
    if (h) {
      this.touch(path);
      return h;
    }
    h = (async () => {
      const fh = await io(open(path, 'r'), 'open', path);
      const { size } = await io(fh.stat(), 'stat', path).catch(async (e) => { await fh.close(); throw e; });
      const opened = { fh, size };
      if (this.handles.get(path) === h) this.opened.set(path, opened); // unless evicted meanwhile
      return opened;
    })();
    h.catch(() => this.handles.delete(path));
    this.handles.set(path, h);
    if (this.handles.size > MAX_OPEN_PACKFILES) {
      const [oldest, evicted] = this.handles.entries().next().value as [string, Promise<{ fh: FileHandle }>];
      this.handles.delete(oldest);
      this.opened.delete(oldest);
      evicted.then((x) => x.fh.close(), () => undefined).catch(() => undefined);
    }
    return h;
  }

  private async forget(path: string): Promise<void> {
    const h = this.handles.get(path);
    this.handles.delete(path);
    this.opened.delete(path);
    if (h) await h.then((x) => x.fh.close(), () => undefined).catch(() => undefined);
  }

  async delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    const path = this.path(resource, mac);
    await this.forget(path);
    try {
      await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, 'delete', path);
    }
  }

  /** Closes the cached packfile handles. */
  async close(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((p) => this.forget(p)));
  }

  private path(resource: StorageResource, mac: Uint8Array): string {
    const hex = objectName(mac);
    // built by concatenation: every blob read names its packfile, and path.join's normalizing
    // of what is already normal (a resolved root, hex names) was ~10 % of a small read's time
    const top = this.tops[resource];
    return resource === 'lock' ? top + sep + hex : top + sep + hex.slice(0, 2) + sep + hex;
  }

  /** The resource folders under the root (joined once). */
  private readonly tops: Record<StorageResource, string>;

  /** Makes the root directory, or accepts an existing empty one; anything else is CONFLICT. */
  private async prepareRoot(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new KlosetError('CONFLICT', `${this.root} exists and is not a directory`, { path: this.root });
      if (code !== 'ENOENT') throw fsError(e, 'read directory', this.root);
      await io(mkdir(this.root, { recursive: true, mode: DIR_MODE }), 'create directory', this.root);
      return;
    }
    if (entries.length > 0) {
      throw new KlosetError('CONFLICT', `cannot create a store in ${this.root}: the directory is not empty`, { path: this.root });
    }
  }
}

/** Names of regular files in `dir` that are object names (and belong to `bucket`, if given). */
async function objectsIn(dir: string, bucket: string | null): Promise<Uint8Array[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    // A bucket removed by hand between the two readdirs is just empty.
    if (bucket !== null && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsError(e, 'list', dir);
  }
  return entries
    .filter((d) => d.isFile() && OBJECT_NAME.test(d.name) && (bucket === null || d.name.startsWith(bucket)))
    .map((d) => fromHex(d.name));
}

/**
 * Writes `body` under `target` atomically: temp file in `tmpDir` → fsync → rename → fsync of the
 * target's directory. A failure at any step before the rename removes the temp file.
 * Errors from the caller's own stream pass through unchanged (they are not storage failures).
 */
async function writeAtomic(target: string, tmpDir: string, body: PutBody): Promise<void> {
  const tmp = join(tmpDir, `tmp.${randomBytes(8).toString('hex')}`);
  let fh: FileHandle | undefined = await io(open(tmp, 'wx', FILE_MODE), 'create', tmp);
  try {
    await writeBodyAt(fh, body, 0, tmp);
    await io(fh.sync(), 'fsync', tmp);
    const closing = fh;
    fh = undefined;
    await io(closing.close(), 'close', tmp);
    await io(rename(tmp, target), 'rename into', target);
  } catch (e) {
    await fh?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(target));
}

/**
 * Writes a body at `position` and returns its length. A stream is written as it arrives (small
 * parts gathered up to 1 MiB), never held whole, and must yield exactly `size` bytes (else CORRUPT).
 * Shared with the ptar connector, which streams its packfile into one file the same way.
 */
export async function writeBodyAt(fh: FileHandle, body: PutBody, position: number, path: string): Promise<number> {
  if (body instanceof Uint8Array) {
    await writeAt(fh, body, position, path);
    return body.length;
  }
  const size = body.size;
  if (!Number.isSafeInteger(size) || size < 0) throw corrupt(`put body has an invalid size ${size}`, { path });
  const stage = new Uint8Array(Math.min(size, WRITE_CHUNK));
  let staged = 0;
  let pos = position; // file offset of the next write
  let received = 0;
  for await (const part of body.stream()) {
    received += part.length;
    if (received > size) throw corrupt(`put body stream is longer than its declared size ${size}`, { path });
    if (staged + part.length <= stage.length) {
      stage.set(part, staged);
      staged += part.length;
      continue;
    }
    if (staged > 0) {
      await writeAt(fh, stage.subarray(0, staged), pos, path);
      pos += staged;
      staged = 0;
    }
    if (part.length >= stage.length) {
      await writeAt(fh, part, pos, path);
      pos += part.length;
    } else {
      stage.set(part, 0);
      staged = part.length;
    }
  }
  if (staged > 0) await writeAt(fh, stage.subarray(0, staged), pos, path);
  if (received !== size) throw corrupt(`put body stream ended after ${received} of ${size} bytes`, { path });
  return size;
}

export async function writeAt(fh: FileHandle, bytes: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await io(fh.write(bytes, done, bytes.length - done, position + done), 'write', path);
    done += bytesWritten;
  }
}

/** Exactly `length` bytes from `position` by positioned reads; a file ending early is CORRUPT. */
export async function readAt(fh: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await io(fh.read(out, done, length - done, position + done), 'read', path);
    if (bytesRead === 0) throw corrupt(`${path} ended at ${position + done} while reading ${position}+${length}`, { path });
    done += bytesRead;
  }
  return out;
}

/** readAt with a synchronous read (small ranges of a cached file). */
function readAtSync(fd: number, position: number, length: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, out, done, length - done, position + done);
    } catch (e) {
      throw fsError(e, 'read', path);
    }
    if (n === 0) throw corrupt(`${path} ended at ${position + done} while reading ${position}+${length}`, { path });
    done += n;
  }
  return out;
}

/** Whole object, or exactly `range` of it by positioned reads (never the whole file). */
async function readObject(path: string, range?: ByteRange): Promise<Uint8Array> {
  const fh = await io(open(path, 'r'), 'open', path);
  try {
    const { size } = await io(fh.stat(), 'stat', path);
    const offset = range ? range.offset : 0;
    const length = range ? range.length : size;
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) ||
      offset < 0 || length < 0 || offset + length > size
    ) {
      throw corrupt(`range ${offset}+${length} is outside ${path} (${size} bytes)`, { path, offset, length, size });
    }
    return await readAt(fh, offset, length, path);
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Makes a rename durable. Some platforms/filesystems cannot fsync a directory; that is not an error. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EBADF'].includes(code ?? '')) throw fsError(e, 'fsync directory', dir);
  } finally {
    await fh?.close().catch(() => {});
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function isNotDir(e: unknown): boolean {
  return isKlosetError(e) && (e.details?.errno === 'ENOTDIR');
}

function objectName(mac: Uint8Array): string {
  if (mac.length !== 32) throw corrupt(`storage object name must be a 32-byte MAC, got ${mac.length} bytes`);
  return toHex(mac);
}

export async function io<T>(p: Promise<T>, action: string, path: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw fsError(e, action, path);
  }
}

/** ENOENT → NOT_FOUND, EEXIST/ENOTEMPTY → CONFLICT, any other errno → IO; the path is named. */
export function fsError(e: unknown, action: string, path: string): KlosetError {
  if (e instanceof KlosetError) return e;
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const code = errno === 'ENOENT' ? 'NOT_FOUND' : errno === 'EEXIST' || errno === 'ENOTEMPTY' ? 'CONFLICT' : 'IO';
  const reason = e instanceof Error ? e.message : String(e);
  return new KlosetError(code, `${action} ${path} failed: ${reason}`, { path, errno }, { cause: e });
}

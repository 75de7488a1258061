/**
 * PtarStorage: a whole store in one file (spec §1.4), plakar's `.ptar` archive:
 *
 *   "_PLATAR_" | u32le version 0x00010000 | CONFIG | PACKFILE | STATE |
 *   trailer: 6 × int64le configOffset(=12), configLength, packfileOffset, packfileLength,
 *            stateOffset, stateLength
 *
 * A ptar holds exactly one packfile and one state, so object names carry no information: `list`
 * answers fixed MACs (as plakar does), the packfile is served whatever MAC is asked for, and the
 * state only under its fixed MAC. Locks are no-ops — a finished ptar never changes.
 *
 * Writing: `create(config)` opens a temp file next to the target; then exactly one packfile —
 * put('packfile'), or `openPackfileStream` for a writer that streams blobs into it as it makes
 * them (a backup: the packfile is as large as the snapshot) — and one put('state'), in that
 * order; `close()` appends the trailer,
 * fsyncs and renames into place. Until then nothing exists at the target path, so a crashed
 * write never leaves a half ptar there. A close() before the state was put abandons the write
 * (the temp file is removed). A failed put truncates the file back, so the put may be retried.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { constantTimeEqual, utf8, view } from '../../kloset/base/bytes.js';
import { corrupt, KlosetError, unsupported } from '../../kloset/base/errors.js';
import type { ByteRange, PackfileStream, PutBody, Storage, StorageResource } from '../../kloset/storage/storage.js';
import { fsError, io, readAt, syncDir, writeAt, writeBodyAt } from '../fs/storage.js';

const MAGIC = utf8.encode('_PLATAR_');
const VERSION = 0x00010000; // 1.0.0, encoded major<<16 | minor<<8 | patch
const HEADER_SIZE = 12;
const TRAILER_SIZE = 48;
const MAX_CONFIG_SIZE = 32 * 1024;

/** The names `list` reports (plakar's `stateMAC` / `packfileMAC`). */
export const PTAR_STATE_MAC = Uint8Array.from([15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, ...new Array<number>(16).fill(0)]);
export const PTAR_PACKFILE_MAC = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ...new Array<number>(16).fill(0)]);

interface Region {
  offset: number;
  length: number;
}

interface Reading {
  kind: 'reading';
  fh: FileHandle;
  config: Uint8Array;
  packfile: Region;
  state: Region;
}

interface Writing {
  kind: 'writing';
  fh: FileHandle;
  tmp: string;
  config: Uint8Array;
  /** end of what has been written */
  offset: number;
  packfile?: Region;
  state?: Region;
  /** a put is streaming; nothing else may be put meanwhile */
  busy: boolean;
  /** a failed put could not be undone: the file is unusable */
  broken?: KlosetError;
}

type Mode = { kind: 'idle' } | Reading | Writing;

export class PtarStorage implements Storage {
  readonly location: string;
  private readonly path: string;
  private mode: Mode = { kind: 'idle' };

  constructor(path: string) {
    this.path = resolve(path);
    this.location = `ptar://${this.path}`;
  }

  async create(config: Uint8Array): Promise<void> {
    if (this.mode.kind !== 'idle') throw new KlosetError('CONFLICT', `${this.location} is already open`);
    if (config.length < 1 || config.length > MAX_CONFIG_SIZE) {
      throw corrupt(`a ptar CONFIG must be 1..${MAX_CONFIG_SIZE} bytes, got ${config.length}`);
    }
    if (await exists(this.path)) throw new KlosetError('CONFLICT', `${this.path} already exists`, { path: this.path });
    const tmp = join(dirname(this.path), `${basename(this.path)}.tmp.${randomBytes(8).toString('hex')}`);
    const fh = await io(open(tmp, 'wx+', 0o600), 'create', tmp);
    const header = new Uint8Array(HEADER_SIZE + config.length);
    header.set(MAGIC, 0);
    view(header).setUint32(8, VERSION, true);
    header.set(config, HEADER_SIZE);
    try {
      await writeBodyAt(fh, header, 0, tmp);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw e;
    }
    this.mode = { kind: 'writing', fh, tmp, config: config.slice(), offset: header.length, busy: false };
  }

  async open(): Promise<Uint8Array> {
    const m = this.mode.kind === 'idle' ? await this.openReader() : this.mode;
    return m.config.slice();
  }

  async list(resource: StorageResource): Promise<Uint8Array[]> {
    if (resource === 'lock') return [];
    return (await this.region(resource)) ? [fixedMac(resource).slice()] : [];
  }

  async put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    checkMac(mac);
    if (resource === 'lock') return;
    const w = this.mode;
    if (w.kind !== 'writing') {
      throw new KlosetError('CONFLICT', `cannot put into ${this.location}: ptar files are read-only once written`);
    }
    if (w.broken) throw w.broken;
    const expected = w.packfile ? (w.state ? null : 'state') : 'packfile';
    if (w.busy || resource !== expected) {
      throw new KlosetError(
        'CONFLICT',
        `a ptar takes exactly one packfile, then one state; cannot put a ${resource} ${w.busy ? 'while another put runs' : 'now'}`,
      );
    }
    w.busy = true;
    const start = w.offset;
    try {
      const length = await writeBodyAt(w.fh, body, start, w.tmp);
      w[resource] = { offset: start, length };
      w.offset = start + length;
    } catch (e) {
      // Cut what this put wrote, so a retry starts from the same offset.
      await w.fh.truncate(start).catch((te: unknown) => {
        w.broken = fsError(te, 'truncate', w.tmp);
      });
      throw e;
    } finally {
      w.busy = false;
    }
  }

  async openPackfileStream(mac: Uint8Array): Promise<PackfileStream> {
    checkMac(mac);
    const w = this.mode;
    if (w.kind !== 'writing') {
      throw new KlosetError('CONFLICT', `cannot write into ${this.location}: ptar files are read-only once written`);
    }
    if (w.broken) throw w.broken;
    if (w.busy || w.packfile) throw new KlosetError('CONFLICT', `a ptar takes exactly one packfile; cannot open another ${w.busy ? 'while a put runs' : 'now'}`);
    w.busy = true;
    const start = w.offset;
    let pos = start;
    let open = true;
    const done = () => {
      open = false;
      w.busy = false;
    };
    return {
      write: async (bytes) => {
        if (!open) throw new TypeError('ptar packfile stream already ended');
        await writeAt(w.fh, bytes, pos, w.tmp);
        pos += bytes.length;
      },
      end: async () => {
        if (!open) throw new TypeError('ptar packfile stream already ended');
        w.packfile = { offset: start, length: pos - start };
        w.offset = pos;
        done();
      },
      abort: async () => {
        if (!open) return;
        done();
        // cut what was written, so the archive can still take a packfile (or be abandoned)
        await w.fh.truncate(start).catch((te: unknown) => {
          w.broken = fsError(te, 'truncate', w.tmp);
        });
      },
    };
  }

  async get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    checkMac(mac);
    const region = resource === 'lock' ? undefined : await this.region(resource);
    // The packfile answers to any MAC (there is only one); the state only to its fixed MAC.
    if (!region || (resource === 'state' && !constantTimeEqual(mac, PTAR_STATE_MAC))) {
      throw new KlosetError('NOT_FOUND', `${resource} not found in ${this.location}`);
    }
    const offset = range ? range.offset : 0;
    const length = range ? range.length : region.length;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > region.length) {
      throw corrupt(`range ${offset}+${length} is outside the ${resource} of ${this.location} (${region.length} bytes)`, {
        offset,
        length,
        size: region.length,
      });
    }
    const m = this.mode as Reading | Writing;
    return readAt(m.fh, region.offset + offset, length, this.path);
  }

  async delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    checkMac(mac);
    if (resource === 'lock') return;
    const present = (await this.region(resource)) && (resource === 'packfile' || constantTimeEqual(mac, PTAR_STATE_MAC));
    if (present) throw new KlosetError('CONFLICT', `cannot delete from ${this.location}: ptar files are read-only once written`);
  }

  /** Reading: releases the file. Writing: completes the ptar (or abandons it if no state was put). */
  async close(): Promise<void> {
    const m = this.mode;
    this.mode = { kind: 'idle' };
    if (m.kind === 'reading') await m.fh.close().catch(() => {});
    if (m.kind === 'writing') await this.finish(m);
  }

  private async finish(w: Writing): Promise<void> {
    if (!w.state || !w.packfile || w.broken || w.busy) {
      await w.fh.close().catch(() => {});
      await unlink(w.tmp).catch(() => {});
      return;
    }
    try {
      const trailer = new Uint8Array(TRAILER_SIZE);
      const fields = [HEADER_SIZE, w.config.length, w.packfile.offset, w.packfile.length, w.state.offset, w.state.length];
      fields.forEach((v, i) => view(trailer).setBigInt64(i * 8, BigInt(v), true));
      await writeBodyAt(w.fh, trailer, w.offset, w.tmp);
      await io(w.fh.sync(), 'fsync', w.tmp);
      await io(w.fh.close(), 'close', w.tmp);
    } catch (e) {
      await w.fh.close().catch(() => {});
      await unlink(w.tmp).catch(() => {});
      throw e;
    }
    // Renaming would silently replace a file that appeared meanwhile; keep the finished archive instead.
    if (await exists(this.path)) {
      throw new KlosetError('CONFLICT', `${this.path} appeared while it was being written; the finished ptar is at ${w.tmp}`, {
        path: this.path,
        tmp: w.tmp,
      });
    }
    await io(rename(w.tmp, this.path), 'rename into', this.path);
    await syncDir(dirname(this.path));
  }

  /** Where the packfile or state lives in the file, once it is complete (opens for reading if idle). */
  private async region(resource: 'packfile' | 'state'): Promise<Region | undefined> {
    const m = this.mode.kind === 'idle' ? await this.openReader() : this.mode;
    return m[resource];
  }

  private async openReader(): Promise<Reading> {
    const path = this.path;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const err = fsError(e, 'open', path);
      if (err.code === 'NOT_FOUND') throw new KlosetError('NOT_FOUND', `no ptar at ${path}`, { path }, { cause: e });
      throw err;
    }
    try {
      const reading = await readLayout(fh, path);
      this.mode = reading;
      return reading;
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
  }
}

/** Validates magic, version and trailer (every region inside the file, in order, contiguous). */
async function readLayout(fh: FileHandle, path: string): Promise<Reading> {
  const { size } = await io(fh.stat(), 'stat', path);
  if (size < HEADER_SIZE + 1 + TRAILER_SIZE) throw corrupt(`${path} is too short to be a ptar (${size} bytes)`, { path, size });
  const header = await readAt(fh, 0, HEADER_SIZE, path);
  if (!constantTimeEqual(header.subarray(0, 8), MAGIC)) throw corrupt(`${path} is not a ptar: bad magic`, { path });
  const version = view(header).getUint32(8, true);
  if (version >>> 16 !== VERSION >>> 16) {
    throw unsupported(`${path}: ptar version ${version >>> 16}.${(version >>> 8) & 0xff}.${version & 0xff} is not supported`, { path, version });
  }
  const trailer = await readAt(fh, size - TRAILER_SIZE, TRAILER_SIZE, path);
  const f: number[] = [];
  for (let i = 0; i < 6; i++) {
    const v = view(trailer).getBigInt64(i * 8, true);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${path}: ptar trailer field ${i} out of range (${v})`, { path });
    f.push(Number(v));
  }
  const [configOffset, configLength, packfileOffset, packfileLength, stateOffset, stateLength] = f as [number, number, number, number, number, number];
  const problems = [
    configOffset !== HEADER_SIZE && `configOffset ${configOffset} ≠ ${HEADER_SIZE}`,
    (configLength < 1 || configLength > MAX_CONFIG_SIZE) && `configLength ${configLength} not in 1..${MAX_CONFIG_SIZE}`,
    packfileOffset !== configOffset + configLength && `packfileOffset ${packfileOffset} does not follow CONFIG`,
    stateOffset !== packfileOffset + packfileLength && `stateOffset ${stateOffset} does not follow the packfile`,
    stateOffset + stateLength !== size - TRAILER_SIZE && `state ends at ${stateOffset + stateLength}, trailer starts at ${size - TRAILER_SIZE}`,
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw corrupt(`${path}: inconsistent ptar trailer: ${problems.join('; ')}`, { path, size });
  const config = await readAt(fh, configOffset, configLength, path);
  return {
    kind: 'reading',
    fh,
    config,
    packfile: { offset: packfileOffset, length: packfileLength },
    state: { offset: stateOffset, length: stateLength },
  };
}

function fixedMac(resource: 'packfile' | 'state'): Uint8Array {
  return resource === 'packfile' ? PTAR_PACKFILE_MAC : PTAR_STATE_MAC;
}

function checkMac(mac: Uint8Array): void {
  if (mac.length !== 32) throw corrupt(`storage object name must be a 32-byte MAC, got ${mac.length} bytes`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(e, 'stat', path);
  }
}

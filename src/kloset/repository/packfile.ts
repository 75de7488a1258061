/**
 * Packfile payloads (spec §6.2, packfile/packfile_codec.go): the bytes inside the RT_PACKFILE
 * wrapper.
 *
 *   blob_0 ‖ … ‖ blob_n ‖ encode(INDEX) ‖ encode(FOOTER) ‖ u32le len(encode(FOOTER))
 *
 * INDEX is one 56-byte record per blob, FOOTER a 56-byte record; both are cleartext before
 * `encode` (compress then encrypt, like every blob). Record offsets count from payload byte 0,
 * which is byte 16 of the stored object (after the wrapper header): `blobRange` converts.
 *
 * Readers normally never load a whole packfile — a state gives (packfile, offset, length) and
 * one ranged read fetches one blob. `parsePackfile` is for check/maintenance and ptar.
 */
import { constantTimeEqual, grown, view } from '../base/bytes.js';
import { corrupt, integrity, unsupported } from '../base/errors.js';
import type { RandomSource } from '../base/random.js';
import { MAC_SIZE, type Mac } from '../hashing/mac.js';
import type { BlobCodec } from './blob-codec.js';
import { version, WRAPPER_HEADER_SIZE } from './wrapper.js';

export const BLOB_RECORD_SIZE = 56;
export const FOOTER_SIZE = 56;
/** RT_RANDOM: padding blobs (raw random bytes, random MAC); readers ignore them. */
export const RT_RANDOM = 255;
/** Version kloset registers for RT_RANDOM, like every other blob type. */
const PADDING_VERSION = version(1, 0, 0);
/**
 * Default bound on a decoded index: 256 MiB is ~4.8 M records, far more than a 64 MiB packfile
 * holds; only a huge ptar could need more, and its reader can pass a larger limit.
 */
export const DEFAULT_MAX_INDEX_BYTES = 256 << 20;
const U32_MAX = 0xffffffff;

export interface BlobRecord {
  /** blob type (resources.Type; 255 = padding) */
  type: number;
  /** blob format version (0x00010000 for every type today) */
  version: number;
  /** blob address: MAC of the cleartext (random for padding and snapshot headers) */
  mac: Uint8Array;
  /** offset of the encoded blob from payload byte 0 */
  offset: number;
  /** encoded length in bytes */
  length: number;
  /** 0 in practice (the runtime "hot" bit is stripped before storing) */
  flags: number;
}

export interface PackfileFooter {
  /** UnixNano at packfile creation (0 in ptar packfiles) */
  timestamp: bigint;
  /** number of records in the index, padding included */
  count: number;
  /** size of the blob section = where encode(INDEX) starts */
  indexOffset: number;
  /** MAC of the raw cleartext INDEX bytes */
  indexMac: Uint8Array;
  flags: number;
}

function checkU32(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw new TypeError(`${what} ${n} is not a u32`);
}

function checkOffset(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${what} ${n} is not a non-negative safe integer`);
}

function checkMac(mac: Uint8Array, what: string): void {
  if (!(mac instanceof Uint8Array) || mac.length !== MAC_SIZE) throw new TypeError(`${what} must be ${MAC_SIZE} bytes`);
}

/**
 * Reads a u64 that must fit a JavaScript number exactly. Offsets past 2^53 cannot occur in a
 * real store (they would be 8 PiB files), so they are damage, not a limitation.
 */
function readOffset(dv: DataView, at: number, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} ${v} is out of range`);
  return Number(v);
}

/** INDEX: the 56-byte little-endian records, concatenated. */
export function encodeIndex(records: readonly BlobRecord[]): Uint8Array {
  const out = new Uint8Array(records.length * BLOB_RECORD_SIZE);
  const dv = view(out);
  records.forEach((r, i) => {
    checkU32(r.type, 'blob type');
    checkU32(r.version, 'blob version');
    checkMac(r.mac, 'blob MAC');
    checkOffset(r.offset, 'blob offset');
    checkU32(r.length, 'blob length');
    checkU32(r.flags, 'blob flags');
    writeIndexRecord(out, dv, i * BLOB_RECORD_SIZE, r);
  });
  return out;
}

/** One INDEX record at `at` of `out` (`dv` views `out`); fields already checked. */
function writeIndexRecord(out: Uint8Array, dv: DataView, at: number, r: BlobRecord): void {
  dv.setUint32(at, r.type, true);
  dv.setUint32(at + 4, r.version, true);
  out.set(r.mac, at + 8);
  dv.setBigUint64(at + 40, BigInt(r.offset), true);
  dv.setUint32(at + 48, r.length, true);
  dv.setUint32(at + 52, r.flags, true);
}

/** Inverse of `encodeIndex`. MACs are views into `bytes` (no copy). */
export function decodeIndex(bytes: Uint8Array): BlobRecord[] {
  return [...indexRecords(bytes)];
}

/**
 * The records of an INDEX one at a time (MACs are views into `bytes`): a caller that uses each
 * record and drops it holds none of them long (the writer's state entries at the commit).
 */
export function* indexRecords(bytes: Uint8Array): Generator<BlobRecord> {
  if (bytes.length % BLOB_RECORD_SIZE !== 0) {
    throw corrupt(`packfile index of ${bytes.length} bytes is not a whole number of ${BLOB_RECORD_SIZE}-byte records`);
  }
  const dv = view(bytes);
  for (let i = 0, at = 0; at < bytes.length; i++, at += BLOB_RECORD_SIZE) {
    yield {
      type: dv.getUint32(at, true),
      version: dv.getUint32(at + 4, true),
      mac: bytes.subarray(at + 8, at + 40),
      offset: readOffset(dv, at + 40, `record ${i} offset`),
      length: dv.getUint32(at + 48, true),
      flags: dv.getUint32(at + 52, true),
    };
  }
}

/** FOOTER: i64 timestamp | u32 count | u64 indexOffset | 32-byte index MAC | u32 flags. */
export function encodeFooter(f: PackfileFooter): Uint8Array {
  if (f.timestamp < -(2n ** 63n) || f.timestamp >= 2n ** 63n) throw new TypeError(`footer timestamp ${f.timestamp} is not an i64`);
  checkU32(f.count, 'footer count');
  checkOffset(f.indexOffset, 'footer index offset');
  checkMac(f.indexMac, 'footer index MAC');
  checkU32(f.flags, 'footer flags');
  const out = new Uint8Array(FOOTER_SIZE);
  const dv = view(out);
  dv.setBigInt64(0, f.timestamp, true);
  dv.setUint32(8, f.count, true);
  dv.setBigUint64(12, BigInt(f.indexOffset), true);
  out.set(f.indexMac, 20);
  dv.setUint32(52, f.flags, true);
  return out;
}

/** Inverse of `encodeFooter`; exactly 56 bytes. The MAC is a view into `bytes`. */
export function decodeFooter(bytes: Uint8Array): PackfileFooter {
  if (bytes.length !== FOOTER_SIZE) throw corrupt(`packfile footer of ${bytes.length} bytes (expected ${FOOTER_SIZE})`);
  const dv = view(bytes);
  return {
    timestamp: dv.getBigInt64(0, true),
    count: dv.getUint32(8, true),
    indexOffset: readOffset(dv, 12, 'packfile index offset'),
    indexMac: bytes.subarray(20, 52),
    flags: dv.getUint32(52, true),
  };
}

/**
 * Byte range of a blob in the *stored* packfile object, for a ranged storage read: record
 * offsets are relative to the payload, which starts after the 16-byte wrapper header
 * (spec §1.1, GetPackfileRange).
 */
export function blobRange(record: { readonly offset: number; readonly length: number }): { offset: number; length: number } {
  return { offset: record.offset + WRAPPER_HEADER_SIZE, length: record.length };
}

export interface PackfileWriterOptions {
  /** encodes the index and footer (blobs arrive already encoded) */
  codec: BlobCodec;
  /** the store's MAC, for the index MAC */
  mac: Mac;
  /** padding bytes and padding MACs */
  random: RandomSource;
  /** clock in milliseconds since the epoch (Primitives.now); the footer stores UnixNano */
  now: () => number;
  /** Chunking.MinSize: padding blobs hold 1..paddingMax-1 bytes; 0 disables padding (ptar) */
  paddingMax: number;
}

export interface FinishedPackfile {
  /** the payload in order; wrap them without concatenating (wrapper.ts `wrapParts`) */
  parts: Uint8Array[];
  /** total payload bytes */
  size: number;
  /** every index record, padding included, in payload order, as the raw INDEX (56 bytes each; `decodeIndex` or `indexRecords` read them) */
  index: Uint8Array;
}

/**
 * Blobs smaller than this are copied into the writer's slabs; larger ones are kept as given.
 * 64 KiB, not 4: a 4 GiB backup (16,207 files, 1–64 KiB small files) peaked at 286 / 273 MiB
 * copying up to 64 KiB and 350 / 325 MiB up to 4 KiB (fewer separate buffers for the allocator
 * to fragment), for ~40,000 more page faults and a user CPU within the runs' spread
 * (docs/benchmarks.md, session 8).
 */
export const SMALL_BLOB_SIZE = 64 << 10;
const SLAB_SIZE = 1 << 20;

/**
 * Builds one packfile payload in memory. The caller bounds its size (it flushes once `size`
 * passes Packfile.MaxSize), so peak memory is about one packfile. Large encoded blobs (chunks)
 * are kept by reference, never concatenated — callers must not modify one after handing it
 * over; small ones are copied into 1 MiB slabs and the records are written straight into the
 * raw INDEX. Why: a packfile of a small-file backup holds tens of thousands of blobs, and one
 * typed array and one record object per blob cost ~250 bytes each on top of the bytes (a heap
 * snapshot of a 100,000-file backup: 210,000 Uint8Arrays, 177,000 ArrayBuffers, 80 MiB of
 * backing stores for one 32 MiB packfile being filled, as packfiles then were).
 *
 * Like kloset's sequential packer, a padding blob goes first (at the first `addBlob`) and
 * another last (in `finish`), each 1 + rand[0, paddingMax-2] random bytes stored raw, so
 * packfile sizes and blob offsets do not reveal exact blob sizes.
 */
export class PackfileWriter {
  private readonly parts: Uint8Array[] = [];
  /** raw INDEX records so far (`count` of them), grown by doubling */
  private index: Uint8Array = new Uint8Array(64 * BLOB_RECORD_SIZE);
  private count = 0;
  /** the slab small blobs are copied into, and where its current run of blobs starts */
  private slab: Uint8Array | null = null;
  private slabUsed = 0;
  private runStart = 0;
  private bytes = 0;
  private opened = false;
  private finished = false;

  constructor(private readonly opts: PackfileWriterOptions) {
    if (!Number.isSafeInteger(opts.paddingMax) || opts.paddingMax < 0) throw new TypeError(`paddingMax ${opts.paddingMax} is not a non-negative integer`);
  }

  /** Payload bytes so far (the blob section; the index and footer come at `finish`). */
  get size(): number {
    return this.bytes;
  }

  /** Payload bytes not yet taken by `drain` (all of them when nothing was drained). */
  get pendingBytes(): number {
    return this.bytes - this.drained;
  }

  /**
   * The payload's parts so far, taken away, for a caller that writes the packfile out as it
   * grows (a ptar's one packfile is as large as the snapshot): `finish` then returns only the
   * parts that came after, and the records keep their offsets from the packfile's start.
   */
  drain(): Uint8Array[] {
    this.open();
    this.endRun();
    this.drained = this.bytes;
    return this.parts.splice(0);
  }

  private drained = 0;

  /** The records so far (decoded from the index each time: for tests and diagnostics). */
  get records(): readonly BlobRecord[] {
    return decodeIndex(this.index.slice(0, this.count * BLOB_RECORD_SIZE));
  }

  /**
   * Appends an already-encoded blob; returns its record (its `mac` is the caller's; the index
   * keeps a copy). `byReference`: keep `encoded` as given whatever its size (it lies in memory
   * the caller keeps until the packfile is stored, a backup's shared ring); blobs adjacent in
   * the same buffer then make one part.
   */
  addBlob(type: number, blobVersion: number, mac: Uint8Array, encoded: Uint8Array, byReference = false): BlobRecord {
    this.open();
    return this.append(type, blobVersion, mac, encoded, byReference);
  }

  /** Appends an RT_RANDOM blob of 1 + rand[0, paddingMax-2] raw random bytes with a random MAC. */
  addPadding(): BlobRecord {
    const span = Math.max(0, this.opts.paddingMax - 2) + 1; // number of possible extra sizes
    const size = 1 + uniform(this.opts.random, span);
    return this.append(RT_RANDOM, PADDING_VERSION, this.opts.random(MAC_SIZE), this.opts.random(size));
  }

  /**
   * Closes the packfile: trailing padding, then encode(INDEX) ‖ encode(FOOTER) ‖
   * u32le(len(encode(FOOTER))). The writer cannot be used afterwards.
   */
  finish(): FinishedPackfile {
    this.open();
    if (this.opts.paddingMax > 0) this.addPadding();
    this.finished = true;
    this.endRun();
    this.slab = null;
    const rawIndex = this.index.slice(0, this.count * BLOB_RECORD_SIZE);
    this.index = new Uint8Array(0);
    const encIndex = this.opts.codec.encode(rawIndex);
    const encFooter = this.opts.codec.encode(
      encodeFooter({
        timestamp: unixNano(this.opts.now()),
        count: this.count,
        indexOffset: this.bytes,
        indexMac: this.opts.mac.sum(rawIndex),
        flags: 0,
      }),
    );
    const len = new Uint8Array(4);
    view(len).setUint32(0, encFooter.length, true);
    const parts = [...this.parts, encIndex, encFooter, len];
    return { parts, size: this.bytes + encIndex.length + encFooter.length + 4, index: rawIndex };
  }

  private open(): void {
    if (this.finished) throw new TypeError('packfile writer already finished');
    if (this.opened) return;
    this.opened = true;
    if (this.opts.paddingMax > 0) this.addPadding();
  }

  private append(type: number, blobVersion: number, mac: Uint8Array, encoded: Uint8Array, byReference = false): BlobRecord {
    if (this.finished) throw new TypeError('packfile writer already finished');
    if (!Number.isInteger(type) || type < 0 || type > 255) throw new TypeError(`blob type ${type} does not fit the one byte states store`);
    checkU32(blobVersion, 'blob version');
    checkMac(mac, 'blob MAC');
    if (encoded.length > U32_MAX) throw unsupported(`a blob of ${encoded.length} bytes exceeds the 4 GiB record limit`);
    const rec: BlobRecord = { type, version: blobVersion, mac, offset: this.bytes, length: encoded.length, flags: 0 };
    this.addRecord(rec);
    if (encoded.length < SMALL_BLOB_SIZE && !byReference) this.copyIn(encoded);
    else {
      this.endRun();
      this.pushPart(encoded);
    }
    this.bytes += encoded.length;
    return rec;
  }

  private addRecord(r: BlobRecord): void {
    const at = this.count * BLOB_RECORD_SIZE;
    if (at + BLOB_RECORD_SIZE > this.index.length) this.index = grown(this.index, at, at + BLOB_RECORD_SIZE);
    writeIndexRecord(this.index, view(this.index), at, r);
    this.count++;
  }

  /** Copies a small blob after the previous one in the slab (a new slab when it does not fit). */
  private copyIn(encoded: Uint8Array): void {
    if (!this.slab || this.slabUsed + encoded.length > this.slab.length) {
      this.endRun();
      this.slab = new Uint8Array(SLAB_SIZE);
      this.slabUsed = this.runStart = 0;
    }
    this.slab.set(encoded, this.slabUsed);
    this.slabUsed += encoded.length;
  }

  /** Adds a part, merged with the previous one when it continues it in the same buffer. */
  private pushPart(p: Uint8Array): void {
    const last = this.parts[this.parts.length - 1];
    if (last && last.buffer === p.buffer && last.byteOffset + last.length === p.byteOffset) {
      this.parts[this.parts.length - 1] = new Uint8Array(p.buffer, last.byteOffset, last.length + p.length);
    } else {
      this.parts.push(p);
    }
  }

  /** The slab's blobs since the last run become one part (before a large blob, at the end). */
  private endRun(): void {
    if (this.slab && this.slabUsed > this.runStart) this.parts.push(this.slab.subarray(this.runStart, this.slabUsed));
    this.runStart = this.slabUsed;
  }
}

/** Uniform integer in [0, n) from the random source (n ≤ 2^32; modulo bias is irrelevant for padding). */
function uniform(random: RandomSource, n: number): number {
  if (n <= 1) return 0;
  return view(random(4)).getUint32(0, true) % n;
}

/** Milliseconds (possibly fractional) → UnixNano, without going through a float that big. */
function unixNano(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export interface ParsedPackfile {
  footer: PackfileFooter;
  records: BlobRecord[];
}

/**
 * Reads the footer and index of a whole packfile payload (the wrapper already checked and
 * removed), as GetPackfile does: footer from the last 4 + L bytes, index from IndexOffset up to
 * the footer, index MAC checked (INTEGRITY), then every record must lie inside the blob
 * section and the count must match (CORRUPT). `maxIndexBytes` bounds the decoded index.
 */
export function parsePackfile(payload: Uint8Array, codec: BlobCodec, mac: Mac, maxIndexBytes = DEFAULT_MAX_INDEX_BYTES): ParsedPackfile {
  if (payload.length < 4) throw corrupt(`packfile payload of ${payload.length} bytes is too short`);
  const footerEnd = payload.length - 4;
  const footerLen = view(payload).getUint32(footerEnd, true);
  if (footerLen > footerEnd) throw corrupt(`packfile footer length ${footerLen} exceeds the ${payload.length}-byte payload`);
  const footerStart = footerEnd - footerLen;
  const footer = decodeFooter(codec.decode(payload.subarray(footerStart, footerEnd), FOOTER_SIZE));
  if (footer.indexOffset > footerStart) throw corrupt(`packfile index offset ${footer.indexOffset} lies past the footer (${footerStart})`);
  const expected = footer.count * BLOB_RECORD_SIZE;
  if (expected > maxIndexBytes) throw corrupt(`packfile claims ${footer.count} records, more than the ${maxIndexBytes}-byte index limit`);
  const rawIndex = codec.decode(payload.subarray(footer.indexOffset, footerStart), maxIndexBytes);
  if (!constantTimeEqual(mac.sum(rawIndex), footer.indexMac)) throw integrity('packfile index does not match the MAC in its footer');
  if (rawIndex.length !== expected) throw corrupt(`packfile index holds ${rawIndex.length} bytes, its footer announces ${footer.count} records`);
  const records = decodeIndex(rawIndex);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.offset + r.length > footer.indexOffset) {
      throw corrupt(`packfile record ${i} [${r.offset}, +${r.length}) lies outside the ${footer.indexOffset}-byte blob section`);
    }
  }
  return { footer, records };
}

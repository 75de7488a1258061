/**
 * Writes new blobs into packfiles and records them in a state (spec §6, §7).
 *
 * Blobs are deduplicated against the store's index and against what this writer already
 * wrote. They accumulate in one packfile at a time; when it passes Packfile.MaxSize it is
 * wrapped, uploaded and dropped, so memory stays bounded by one packfile whatever the dataset.
 * `commit()` uploads the last packfile and the state that makes everything visible: until then a
 * crash leaves only unreferenced packfiles, which readers ignore.
 */
import { InFlight } from '../base/in-flight.js';
import { MacTable } from './mac-table.js';
import type { LocationEntry, StateEntry } from './state.js';
import { serializeState, STATE_VERSION_1_1 } from './state.js';
import { BLOB_VERSION } from './blob-types.js';
import type { PreparedBlob } from './encoder.js';
import { indexRecords, PackfileWriter } from './packfile.js';
import type { Repository } from './repository.js';
import type { MacStream } from '../hashing/mac.js';
import type { PackfileStream } from '../storage/storage.js';
import { ResourceType, version, wrap, wrapParts, wrapperHeader } from './wrapper.js';

export const PACKFILE_VERSION = version(1, 0, 0);

/**
 * Packfiles are closed at 16 MiB, or at CONFIG's Packfile.MaxSize if smaller: any size up to
 * the maximum is valid, and two packfiles (one filling, one uploading) are what a backup holds
 * in memory. 16 rather than 32: a 1 GiB backup peaked at 244 / 279 / 281 MiB against 244 / 313 /
 * 311 MiB, no slower (alternating runs, docs/benchmarks.md, session 8).
 */
export const TARGET_PACKFILE_SIZE = 16 << 20;

/**
 * Into a storage that holds a single packfile (a ptar), the packfile is written out whenever
 * this much of it waits in memory: it is as large as the snapshot, and memory stays bounded.
 */
const STREAM_WRITE_BYTES = 8 << 20;

/** Metadata blobs encoded in the background at once (each a few hundred bytes). */
const MAX_ENCODING = 256;

/** An uploaded packfile, kept until the commit in the compact form its own INDEX has. */
interface Uploaded {
  packfile: Uint8Array;
  timestamp: bigint;
  /** raw INDEX records (56 bytes per blob, padding included) */
  index: Uint8Array;
}

export class RepositoryWriter {
  private pack: PackfileWriter | null = null;
  /**
   * What this writer stored (a MacTable: no heap string per blob), and where: the
   * uploaded packfiles' raw indexes (56 bytes a blob) rather than a StateEntry object with its
   * own MAC array per blob: a first backup of 100,000 small files writes 300,000 blobs, and
   * with this and the builder's EntryLog its peak fell from 822 to 510 MiB (docs/benchmarks.md,
   * session 8).
   */
  private readonly written = new MacTable();
  private readonly uploaded: Uploaded[] = [];
  private committed = false;
  /** bytes of encoded blobs written, for progress and benchmarks */
  storedBytes = 0;

  /**
   * The storage holds a single packfile (a ptar, Storage.openPackfileStream): every blob goes
   * into it, written out as it grows, with no padding blobs (as plakar's ptar writer); no
   * rotation. The packfile ends at the commit.
   */
  private readonly streaming: boolean;
  /** `ended`: no blob may be added any more; `closed`: the sink was ended or aborted */
  private stream: { sink: PackfileStream; mac: Uint8Array; hash: MacStream; ended: boolean; closed: boolean } | null = null;

  constructor(private readonly repo: Repository, readonly stateId: Uint8Array) {
    this.streaming = typeof repo.storage.openPackfileStream === 'function';
  }

  has(type: number, mac: Uint8Array): boolean {
    return this.repo.index.has(type, mac) || this.written.has(type, mac);
  }

  /**
   * Stores a blob unless the store or this writer has it; returns whether it is new. With an
   * encoder that encodes off this thread, the blob is encoded and packed in the background
   * (a bounded number at a time): its address is known and deduplicated at once, `flush` and
   * `commit` wait for it, and an encoding failure fails the next call or the commit.
   */
  async putBlob(type: number, mac: Uint8Array, data: Uint8Array): Promise<boolean> {
    if (this.committed) throw new Error('writer already committed');
    if (this.failure !== undefined) throw this.failure;
    if (this.has(type, mac)) return false;
    const encoder = this.repo.encoder;
    if (!encoder.encode) return this.store(type, mac, this.repo.codec.encode(data));
    this.written.set(type, mac, 0);
    this.encoding.add(encoder.encode(data)
      .then((encoded) => this.store(type, mac, encoded))
      .then(() => undefined, (e: unknown) => { this.failure ??= e; }));
    // (InFlight, not Promise.race over the pending encodings: with MAX_ENCODING of them pending
    // a race per call piled up 130,000 reactions midway through a 20,000-file backup)
    while (this.encoding.size >= MAX_ENCODING) await this.encoding.oneEnded();
    if (this.failure !== undefined) throw this.failure;
    return true;
  }

  /** Metadata blobs being encoded in the background (putBlob), and the first failure. */
  private readonly encoding = new InFlight();
  private failure: unknown = undefined;

  /**
   * Stores a blob hashed and encoded elsewhere (the repository's encoder, possibly another
   * thread) unless it is already there; the encoding is then simply dropped.
   */
  async putPrepared(type: number, blob: PreparedBlob): Promise<boolean> {
    if (this.committed) {
      blob.release?.();
      throw new Error('writer already committed');
    }
    if (this.has(type, blob.mac)) {
      blob.release?.();
      return false;
    }
    return this.store(type, blob.mac, blob.encoded, blob.release);
  }

  /**
   * `release` (PreparedBlob.release) is called once nothing reads `encoded` any more: at once
   * when the blob is dropped, else when its packfile has been stored (or given up).
   */
  private async store(type: number, mac: Uint8Array, encoded: Uint8Array, release?: () => void): Promise<boolean> {
    if (this.abandoned) { // encoded in the background after the writer was given up
      release?.();
      return false;
    }
    this.written.set(type, mac, 0);
    // A full packfile waiting for the upload before it: no blob goes into a new one meanwhile
    // (several chunks are stored concurrently; without this they kept filling packfiles while
    // one uploaded, and a backup held three or more at once).
    while (this.rotation) await this.rotation;
    if (this.abandoned) {
      release?.();
      return false;
    }
    if (this.stream?.ended) {
      release?.();
      throw new Error('the single packfile of this storage has ended: no blob can be added');
    }
    // a blob with a release lies in memory that stays ours until then: the packfile keeps it
    // by reference (no copy into its slabs), and it is released once the packfile is stored
    this.append(type, mac, encoded, release !== undefined);
    if (release) this.held.push(release);
    if (this.streaming) {
      if (this.pack!.pendingBytes >= STREAM_WRITE_BYTES) {
        const held = this.takeHeld();
        await this.streamOut(this.pack!.drain()).finally(() => releaseAll(held));
      }
      return true;
    }
    if (this.pack!.size >= Math.min(Number(this.repo.config.packfile.maxSize), TARGET_PACKFILE_SIZE)) {
      // The full packfile is taken now and uploaded after the previous one: uploads keep their
      // order (commit waits for all of them) and at most two packfiles are held in memory.
      const pack = this.pack!;
      const held = this.takeHeld();
      this.pack = null;
      const previous = this.uploading;
      this.uploading = previous.then(() => this.upload(pack)).finally(() => releaseAll(held));
      this.uploading.catch(() => undefined); // handled: commit awaits `uploading` and rethrows
      const rotation: Promise<void> = previous.then(() => undefined, () => undefined).finally(() => {
        if (this.rotation === rotation) this.rotation = null;
      });
      this.rotation = rotation;
      await previous;
    }
    return true;
  }

  /** Releases of the blobs the packfile being filled holds by reference (store). */
  private held: (() => void)[] = [];

  private takeHeld(): (() => void)[] {
    const held = this.held;
    this.held = [];
    return held;
  }

  /** The chain of packfile uploads, in order. */
  private uploading: Promise<void> = Promise.resolve();
  /** Set while a full packfile waits for the upload before it to end. */
  private rotation: Promise<void> | null = null;

  private append(type: number, mac: Uint8Array, encoded: Uint8Array, byReference = false): void {
    const prims = this.repo.prims;
    this.pack ??= new PackfileWriter({
      codec: this.repo.codec,
      mac: this.repo.mac,
      random: prims.random,
      now: prims.now,
      paddingMax: this.streaming ? 0 : this.repo.config.chunking.minSize,
    });
    this.pack.addBlob(type, BLOB_VERSION, mac, encoded, byReference);
    this.storedBytes += encoded.length;
  }

  /** Uploads one packfile and records its blobs for the state. */
  private async upload(pack: PackfileWriter): Promise<void> {
    const { parts, index } = pack.finish();
    const packfileMac = this.repo.prims.random(32);
    const body = await wrapParts(ResourceType.PACKFILE, PACKFILE_VERSION, parts, this.repo.mac);
    await this.repo.storage.put('packfile', packfileMac, body);
    this.uploaded.push({ packfile: packfileMac, timestamp: nowNs(this.repo.prims.now()), index });
    this.repo.prims.relieveMemory?.();
  }

  /** Writes parts of the single packfile out, after those before them (the chain of uploads). */
  private streamOut(parts: Uint8Array[]): Promise<void> {
    const next = this.uploading.then(() => this.writeToStream(parts));
    this.uploading = next;
    next.catch(() => undefined); // handled: the caller awaits it, and so do flush and commit
    return next;
  }

  private async writeToStream(parts: readonly Uint8Array[]): Promise<void> {
    if (!this.stream) {
      const mac = this.repo.prims.random(32);
      const sink = await this.repo.storage.openPackfileStream!(mac);
      const header = wrapperHeader(ResourceType.PACKFILE, PACKFILE_VERSION);
      this.stream = { sink, mac, hash: (await this.repo.mac.stream()).update(header), ended: false, closed: false };
      await sink.write(header);
    }
    const s = this.stream;
    for (const p of parts) {
      s.hash.update(p);
      await s.sink.write(p);
    }
  }

  /** Ends the single packfile: its last parts, index and footer, then the wrapper's MAC. */
  private async endStream(pack: PackfileWriter): Promise<void> {
    const { parts, index } = pack.finish();
    await this.streamOut(parts);
    const s = this.stream!;
    s.ended = true;
    await s.sink.write(s.hash.digest());
    await s.sink.end();
    s.closed = true;
    this.uploaded.push({ packfile: s.mac, timestamp: nowNs(this.repo.prims.now()), index });
  }

  /**
   * The state's entries, made from the uploaded packfiles each time they are walked
   * (serializeState and the index walk them several times; the objects live only that long):
   * every packfile's locations, then its ET_PACKFILE entry.
   */
  private stateEntries(): Iterable<StateEntry> {
    const { uploaded, stateId } = this;
    return {
      *[Symbol.iterator]() {
        for (const u of uploaded) {
          yield* locationsOf(u);
          yield { kind: 'packfile', packfile: u.packfile, stateId, timestamp: u.timestamp };
        }
      },
    };
  }

  /**
   * Uploads what is pending: blobs being encoded, the queued packfiles, then the one being
   * filled. A storage's single packfile (ptar) ends here: nothing can be added afterwards.
   */
  async flush(): Promise<void> {
    while (this.encoding.size > 0) await this.encoding.all();
    if (this.failure !== undefined) throw this.failure;
    await this.uploading;
    const pack = this.pack;
    this.pack = null;
    const held = this.takeHeld();
    try {
      if (pack) await (this.streaming ? this.endStream(pack) : this.upload(pack));
    } finally {
      releaseAll(held);
    }
  }

  private abandoned = false;

  /**
   * Gives up a writer that will not commit (a failed or cancelled backup): waits for the blobs
   * being encoded in the background and the packfile being uploaded, and stores nothing more,
   * so nothing reaches the store once the caller has let go of it (its lock, its storage).
   * What was uploaded stays unreferenced, as after a crash.
   */
  async abandon(): Promise<void> {
    this.abandoned = true;
    this.committed = true;
    while (this.encoding.size > 0) await this.encoding.settled();
    await this.uploading.catch(() => undefined);
    releaseAll(this.takeHeld()); // the packfile being filled is never stored
    if (this.stream && !this.stream.closed) {
      this.stream.ended = this.stream.closed = true;
      await this.stream.sink.abort();
    }
  }

  /** Flushes and writes the state; the blobs become visible to readers, this one included. */
  async commit(): Promise<void> {
    await this.flush();
    this.committed = true;
    if (this.uploaded.length === 0) return;
    const stream = {
      parent: null,
      entries: this.stateEntries(),
      metadata: { version: STATE_VERSION_1_1, timestamp: nowNs(this.repo.prims.now()), serial: this.repo.prims.random(16) },
    };
    const payload = this.repo.codec.encode(serializeState(stream, STATE_VERSION_1_1));
    await this.repo.storage.put('state', this.stateId, wrap(ResourceType.STATE, STATE_VERSION_1_1, payload, this.repo.mac));
    this.repo.index.apply(this.stateId, stream);
  }
}

/**
 * A packfile's locations, one record of its raw INDEX at a time: each entry is garbage as soon
 * as the consumer has written it (decoding a whole index at once kept tens of thousands alive
 * long enough to be promoted to the old generation: +140 MiB of heap at a 100,000-file commit).
 */
function* locationsOf(u: Uploaded): Generator<LocationEntry> {
  for (const r of indexRecords(u.index)) {
    yield {
      kind: 'location', blobType: r.type, blobVersion: r.version, blob: r.mac,
      packfile: u.packfile, offset: r.offset, length: r.length, flags: r.flags,
    };
  }
}

function releaseAll(releases: readonly (() => void)[]): void {
  for (const r of releases) r();
}

function nowNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}


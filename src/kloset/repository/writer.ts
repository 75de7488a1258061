/**
 * Writes new blobs into packfiles and records them in a state (spec §6, §7).
 *
 * Blobs are deduplicated against the store's index and against what this writer already
 * wrote. They accumulate in one packfile at a time; when it passes Packfile.MaxSize it is
 * wrapped, uploaded and dropped, so memory stays bounded by one packfile whatever the dataset.
 * `commit()` uploads the last packfile and the state that makes everything visible: until then a
 * crash leaves only unreferenced packfiles, which readers ignore.
 */
import { toHex } from '../base/bytes.js';
import type { StateEntry } from './state.js';
import { serializeState, STATE_VERSION_1_1 } from './state.js';
import { BlobType, BLOB_VERSION } from './blob-types.js';
import { PackfileWriter } from './packfile.js';
import type { Repository } from './repository.js';
import { ResourceType, version, wrap, wrapParts } from './wrapper.js';

export const PACKFILE_VERSION = version(1, 0, 0);

export class RepositoryWriter {
  private pack: PackfileWriter | null = null;
  private readonly written = new Set<string>();
  private readonly entries: StateEntry[] = [];
  private committed = false;
  /** bytes of encoded blobs written, for progress and benchmarks */
  storedBytes = 0;

  constructor(private readonly repo: Repository, readonly stateId: Uint8Array) {}

  private key(type: number, mac: Uint8Array): string {
    return type + toHex(mac);
  }

  has(type: number, mac: Uint8Array): boolean {
    return this.repo.index.has(type, mac) || this.written.has(this.key(type, mac));
  }

  /** Stores a blob unless the store or this writer has it; returns whether it was written. */
  async putBlob(type: number, mac: Uint8Array, data: Uint8Array): Promise<boolean> {
    if (this.committed) throw new Error('writer already committed');
    if (this.has(type, mac)) return false;
    this.putEncoded(type, mac, this.repo.codec.encode(data));
    if (this.pack!.size >= Number(this.repo.config.packfile.maxSize)) {
      // One packfile uploads while the next fills: wait for the previous upload first, so at
      // most two packfiles are ever held in memory.
      await this.uploading;
      this.uploading = this.flush();
      this.uploading.catch(() => undefined); // handled: the next await of `uploading` rethrows
    }
    return true;
  }

  /** The packfile upload in progress, if any. */
  private uploading: Promise<void> = Promise.resolve();

  private putEncoded(type: number, mac: Uint8Array, encoded: Uint8Array): void {
    const prims = this.repo.prims;
    this.pack ??= new PackfileWriter({
      codec: this.repo.codec,
      mac: this.repo.mac,
      random: prims.random,
      now: prims.now,
      paddingMax: this.repo.config.chunking.minSize,
    });
    this.pack.addBlob(type, BLOB_VERSION, mac, encoded);
    this.written.add(this.key(type, mac));
    this.storedBytes += encoded.length;
  }

  /** Uploads the current packfile (if any) and records its blobs for the state. */
  async flush(): Promise<void> {
    const pack = this.pack;
    if (!pack) return;
    this.pack = null;
    const { parts, records } = pack.finish();
    const packfileMac = this.repo.prims.random(32);
    const body = await wrapParts(ResourceType.PACKFILE, PACKFILE_VERSION, parts, this.repo.mac);
    await this.repo.storage.put('packfile', packfileMac, body);
    for (const r of records) {
      this.entries.push({
        kind: 'location', blobType: r.type, blobVersion: r.version, blob: r.mac,
        packfile: packfileMac, offset: r.offset, length: r.length, flags: r.flags,
      });
    }
    this.entries.push({ kind: 'packfile', packfile: packfileMac, stateId: this.stateId, timestamp: nowNs(this.repo.prims.now()) });
  }

  /** Flushes and writes the state; the blobs become visible to readers, this one included. */
  async commit(): Promise<void> {
    await this.uploading;
    await this.flush();
    this.committed = true;
    if (this.entries.length === 0) return;
    const stream = {
      parent: null,
      entries: this.entries,
      metadata: { version: STATE_VERSION_1_1, timestamp: nowNs(this.repo.prims.now()), serial: this.repo.prims.random(16) },
    };
    const payload = this.repo.codec.encode(serializeState(stream, STATE_VERSION_1_1));
    await this.repo.storage.put('state', this.stateId, wrap(ResourceType.STATE, STATE_VERSION_1_1, payload, this.repo.mac));
    this.repo.index.apply(this.stateId, stream);
  }
}

function nowNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

export { BlobType };

/**
 * A Kloset store opened for reading and writing: its CONFIG, master key, blob codec and MAC,
 * and the blob index merged from every state (spec §7.3).
 *
 * Reading a blob: index lookup → ranged read of the packfile → decode → check the cleartext
 * against its address (all blobs but snapshot headers, which are addressed by a random ID).
 */
import { concatBytes, constantTimeEqual, toHex } from '../base/bytes.js';
import { corrupt, isKlosetError, KlosetError } from '../base/errors.js';
import { FastCdc } from '../chunking/fastcdc.js';
import { parseHashingAlgorithm, type Mac } from '../hashing/mac.js';
import { hasLocalObjects } from '../storage/caching.js';
import type { Storage } from '../storage/storage.js';
import { BlobIndex, orderStates } from './blob-index.js';
import { BlobCodec } from './blob-codec.js';
import { BlobType } from './blob-types.js';
import { inlineEncoder, type BlobEncoder } from './encoder.js';
import type { Configuration } from './config.js';
import { createConfiguration, encodeConfigFile, openConfigFile, type CreateOptions } from './config-file.js';
import { blobRange } from './packfile.js';
import type { Primitives } from './primitives.js';
import { parseState, STATE_VERSION_1_1 } from './state.js';
import { checkVersion, ResourceType, unwrap } from './wrapper.js';
import { RepositoryWriter } from './writer.js';

/** Largest decoded blob we accept (chunks are ≤ Chunking.MaxSize; metadata blobs are small). */
const MAX_BLOB_SIZE = 256 << 20;
/** Largest decoded state stream (85 bytes per location: ~3 M blobs). */
const MAX_STATE_SIZE = 256 << 20;

/** Name of the blob index image among a store's local objects (LocalObjects). */
const INDEX_IMAGE = 'index-image-v1';
/** Domain of the image's MAC (the store's MAC key also addresses blobs). */
const INDEX_IMAGE_DOMAIN = new TextEncoder().encode('kloset-desktop blob index image v1\n');

export class Repository {
  private merged = new BlobIndex();

  /** The blob index merged from the store's states. */
  get index(): BlobIndex {
    return this.merged;
  }

  private constructor(
    readonly storage: Storage,
    readonly prims: Primitives,
    readonly config: Configuration,
    /** master key; null for plaintext stores */
    readonly key: Uint8Array | null,
    readonly codec: BlobCodec,
    /** MAC of blob addresses and of STATE/PACKFILE/LOCK wrappers (spec §5) */
    readonly mac: Mac,
    /** where writers encode blobs (possibly another thread) */
    readonly encoder: BlobEncoder,
  ) {}

  static async create(storage: Storage, prims: Primitives, passphrase: Uint8Array | null, options: CreateOptions = {}): Promise<Repository> {
    const { config, key } = await createConfiguration(prims, passphrase, options);
    await storage.create(await encodeConfigFile(prims, config, key));
    return Repository.fromConfig(storage, prims, config, key);
  }

  /** Opens a store: AUTH on a wrong passphrase, then loads the blob index from its states. */
  static async open(storage: Storage, prims: Primitives, passphrase: Uint8Array | null): Promise<Repository> {
    const { config, key } = await openConfigFile(prims, await storage.open(), passphrase);
    const repo = await Repository.fromConfig(storage, prims, config, key);
    await repo.loadIndexImage();
    await repo.refresh();
    return repo;
  }

  private static async fromConfig(storage: Storage, prims: Primitives, config: Configuration, key: Uint8Array | null): Promise<Repository> {
    const algorithm = parseHashingAlgorithm(config.hashing.algorithm);
    // Plaintext stores key their MACs with the hash of the raw RepositoryID (GetMACHasher).
    const macKey = key ?? (await prims.macs(algorithm, null)).sum(config.repositoryId);
    const mac = await prims.macs(algorithm, macKey);
    const codec = new BlobCodec(prims, config, key);
    const inline = inlineEncoder(codec, mac, prims.countBytes);
    return new Repository(storage, prims, config, key, codec, mac, prims.encoder ? prims.encoder(config, key, macKey, inline) : inline);
  }

  get encrypted(): boolean {
    return this.config.encryption !== null;
  }

  chunker(): FastCdc {
    const c = this.config.chunking;
    return new FastCdc(c.algorithm, { minSize: c.minSize, normalSize: c.normalSize, maxSize: c.maxSize });
  }

  /**
   * Starts from the index image kept beside the store's local copies, when there is one made
   * with this store's key: then only the states written since are read and merged. The image
   * carries a MAC under the store's MAC key, so a damaged or planted file is ignored (for a
   * plaintext store, whose MAC key is public, that detects damage only — as for the store).
   */
  private async loadIndexImage(): Promise<void> {
    if (!hasLocalObjects(this.storage)) return;
    const bytes = await this.storage.getLocal(INDEX_IMAGE);
    if (!bytes || bytes.length < 32) return;
    const image = bytes.subarray(0, bytes.length - 32);
    if (!constantTimeEqual(await this.imageMac(image), bytes.subarray(bytes.length - 32))) return;
    try {
      this.merged = BlobIndex.fromImage(image);
    } catch {
      this.merged = new BlobIndex(); // an image this version cannot read: merge from the states
    }
  }

  private async imageMac(image: Uint8Array): Promise<Uint8Array> {
    return (await this.mac.stream()).update(INDEX_IMAGE_DOMAIN).update(image).digest();
  }

  private async saveIndexImage(): Promise<void> {
    if (!hasLocalObjects(this.storage)) return;
    const image = this.merged.toImage();
    await this.storage.putLocal(INDEX_IMAGE, concatBytes([image, await this.imageMac(image)]));
  }

  /** Merges the states not seen yet into the index (in parent order). */
  async refresh(): Promise<number> {
    const listed = await this.storage.list('state');
    const present = new Set(listed.map(toHex));
    // a merged state that is gone from the store (an image older than a clean-up): start over
    if (this.merged.stateIds().some((id) => !present.has(toHex(id)))) this.merged = new BlobIndex();
    const known = new Set(this.merged.stateIds().map(toHex));
    const ids = listed.filter((id) => !known.has(toHex(id)));
    const loaded = new Map<string, { id: Uint8Array; stream: ReturnType<typeof parseState> }>();
    for (const id of ids) loaded.set(toHex(id), { id, stream: await this.readState(id) });
    const order = orderStates([...loaded.values()].map((s) => ({ id: s.id, parent: s.stream.parent })));
    for (const id of order) {
      const s = loaded.get(toHex(id))!;
      this.merged.apply(s.id, s.stream);
    }
    if (ids.length) await this.saveIndexImage();
    return ids.length;
  }

  async readState(id: Uint8Array): Promise<ReturnType<typeof parseState>> {
    const bytes = await this.storage.get('state', id);
    const { version, payload } = unwrap(bytes, ResourceType.STATE, this.mac);
    checkVersion(version, STATE_VERSION_1_1, 'STATE');
    return parseState(this.codec.decode(payload, MAX_STATE_SIZE), version);
  }

  /**
   * Reads a blob. Content-addressed blobs are checked against their MAC (INTEGRITY when they
   * do not match); snapshot headers (random IDs) are not, their encryption authenticates them.
   */
  async getBlob(type: number, mac: Uint8Array): Promise<Uint8Array> {
    const loc = this.index.lookup(type, mac);
    if (!loc) throw new KlosetError('NOT_FOUND', `blob ${toHex(mac).slice(0, 16)}… of type ${type} is not in this store`);
    const range = blobRange({ offset: loc.offset, length: loc.length });
    let stored: Uint8Array;
    try {
      stored = await this.storage.get('packfile', loc.packfile, range);
    } catch (e) {
      if (isKlosetError(e, 'NOT_FOUND')) throw corrupt(`packfile ${toHex(loc.packfile).slice(0, 16)}… is missing from the store`);
      throw e;
    }
    try {
      if (type === BlobType.SNAPSHOT || type === BlobType.SIGNATURE) return this.codec.decode(stored, MAX_BLOB_SIZE);
      // chunks (the bulk of a restore) decode on the encoder's worker when it has one
      if (type === BlobType.CHUNK && this.encoder.decode) return await this.encoder.decode(stored, MAX_BLOB_SIZE, mac);
      return this.codec.decodeVerified(stored, MAX_BLOB_SIZE, this.mac, mac);
    } catch (e) {
      // a wrong key was ruled out by the canary: a failing tag here is damaged data
      if (isKlosetError(e, 'AUTH')) throw new KlosetError('INTEGRITY', `blob ${toHex(mac).slice(0, 16)}… failed authentication (damaged packfile)`);
      throw e;
    }
  }

  /**
   * The caller is done with a chunk getBlob returned, and with every view of it: its memory
   * may be reused by a later read (BlobEncoder.recycle). Anything else is ignored.
   */
  recycleChunk(chunk: Uint8Array): void {
    this.encoder.recycle?.(chunk);
  }

  hasBlob(type: number, mac: Uint8Array): boolean {
    return this.index.has(type, mac);
  }

  /** The IDs of the snapshots in the store (not deleted). */
  snapshotIds(): Uint8Array[] {
    return this.index.snapshots();
  }

  /** A writer whose first state will be named `stateId` (a backup uses its snapshot ID). */
  writer(stateId: Uint8Array): RepositoryWriter {
    return new RepositoryWriter(this, stateId);
  }

  async close(): Promise<void> {
    await this.encoder.close();
    this.key?.fill(0);
    await this.storage.close();
  }
}

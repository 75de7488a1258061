/**
 * A Kloset store opened for reading and writing: its CONFIG, master key, blob codec and MAC,
 * and the blob index merged from every state (spec §7.3).
 *
 * Reading a blob: index lookup → ranged read of the packfile → decode → check the cleartext
 * against its address (all blobs but snapshot headers, which are addressed by a random ID).
 */
import { toHex } from '../base/bytes.js';
import { corrupt, isKlosetError, KlosetError } from '../base/errors.js';
import { FastCdc } from '../chunking/fastcdc.js';
import { parseHashingAlgorithm, type Mac } from '../hashing/mac.js';
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

export class Repository {
  readonly index = new BlobIndex();

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
    await repo.refresh();
    return repo;
  }

  private static async fromConfig(storage: Storage, prims: Primitives, config: Configuration, key: Uint8Array | null): Promise<Repository> {
    const algorithm = parseHashingAlgorithm(config.hashing.algorithm);
    // Plaintext stores key their MACs with the hash of the raw RepositoryID (GetMACHasher).
    const macKey = key ?? (await prims.macs(algorithm, null)).sum(config.repositoryId);
    const mac = await prims.macs(algorithm, macKey);
    const codec = new BlobCodec(prims, config, key);
    const inline = inlineEncoder(codec, mac);
    return new Repository(storage, prims, config, key, codec, mac, prims.encoder ? prims.encoder(config, key, macKey, inline) : inline);
  }

  get encrypted(): boolean {
    return this.config.encryption !== null;
  }

  chunker(): FastCdc {
    const c = this.config.chunking;
    return new FastCdc(c.algorithm, { minSize: c.minSize, normalSize: c.normalSize, maxSize: c.maxSize });
  }

  /** Merges the states not seen yet into the index (in parent order). */
  async refresh(): Promise<number> {
    const known = new Set(this.index.stateIds().map(toHex));
    const ids = (await this.storage.list('state')).filter((id) => !known.has(toHex(id)));
    const loaded = new Map<string, { id: Uint8Array; stream: ReturnType<typeof parseState> }>();
    for (const id of ids) loaded.set(toHex(id), { id, stream: await this.readState(id) });
    const order = orderStates([...loaded.values()].map((s) => ({ id: s.id, parent: s.stream.parent })));
    for (const id of order) {
      const s = loaded.get(toHex(id))!;
      this.index.apply(s.id, s.stream);
    }
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

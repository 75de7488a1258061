/**
 * A storage that keeps local copies of state objects (spec §7.3: the client merges every state
 * at open). States never change once written — their names are unique — so a copy never goes
 * stale; reopening a store with a thousand states then reads none of them from the backend.
 * Copies are the stored bytes (still wrapped, encrypted and MAC-checked on every read), so the
 * cache holds nothing a store does not. Everything else passes through.
 */
import { toHex } from '../base/bytes.js';
import type { ByteRange, PackfileStream, PutBody, Storage, StorageResource } from './storage.js';

/** Where the copies live: a directory per store on disk in Node, anything in tests. */
export interface ObjectCache {
  get(store: string, name: string): Promise<Uint8Array | undefined>;
  put(store: string, name: string, bytes: Uint8Array): Promise<void>;
  delete(store: string, name: string): Promise<void>;
}

/**
 * Objects a client keeps for a store on its own side only (the blob index image): never sent
 * to the store, and any of them may vanish. CachingStorage offers them; other storages do not.
 */
export interface LocalObjects {
  getLocal(name: string): Promise<Uint8Array | undefined>;
  putLocal(name: string, bytes: Uint8Array): Promise<void>;
}

export function hasLocalObjects(s: object): s is LocalObjects {
  return typeof (s as Partial<LocalObjects>).getLocal === 'function' && typeof (s as Partial<LocalObjects>).putLocal === 'function';
}

export class CachingStorage implements Storage, LocalObjects {
  /** identifies the store in the cache: a digest of its CONFIG, known after create/open */
  private storeKey: string | null = null;

  /** the inner storage's, when it holds a single packfile (ptar) */
  readonly openPackfileStream?: (mac: Uint8Array) => Promise<PackfileStream>;

  constructor(private readonly inner: Storage, private readonly cache: ObjectCache, private readonly digest: (bytes: Uint8Array) => string) {
    if (inner.openPackfileStream) this.openPackfileStream = (mac) => inner.openPackfileStream!(mac);
  }

  get location(): string {
    return this.inner.location;
  }

  async create(config: Uint8Array): Promise<void> {
    await this.inner.create(config);
    this.storeKey = this.digest(config);
  }

  async open(): Promise<Uint8Array> {
    const config = await this.inner.open();
    this.storeKey = this.digest(config);
    return config;
  }

  list(resource: StorageResource): Promise<Uint8Array[]> {
    return this.inner.list(resource);
  }

  async put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    await this.inner.put(resource, mac, body);
  }

  async get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    if (resource !== 'state' || range || !this.storeKey) return this.inner.get(resource, mac, range);
    const name = toHex(mac);
    const hit = await this.cache.get(this.storeKey, name).catch(() => undefined);
    if (hit) return hit;
    const bytes = await this.inner.get(resource, mac);
    await this.cache.put(this.storeKey, name, bytes).catch(() => undefined); // a cache failure is not the store's
    return bytes;
  }

  async getLocal(name: string): Promise<Uint8Array | undefined> {
    return this.storeKey ? this.cache.get(this.storeKey, name).catch(() => undefined) : undefined;
  }

  async putLocal(name: string, bytes: Uint8Array): Promise<void> {
    if (this.storeKey) await this.cache.put(this.storeKey, name, bytes).catch(() => undefined); // a cache failure is not the store's
  }

  async delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    await this.inner.delete(resource, mac);
    if (resource === 'state' && this.storeKey) await this.cache.delete(this.storeKey, toHex(mac)).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

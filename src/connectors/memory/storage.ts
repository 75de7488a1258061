/**
 * MemoryStorage: a store held in maps, for tests and for the contract suite's reference
 * behaviour. Bytes are copied on the way in and on the way out, so a caller that reuses or
 * mutates a buffer can never alter what is stored (the aliasing bug a disk backend cannot have).
 */
import { toHex, fromHex } from '../../kloset/base/bytes.js';
import { corrupt, KlosetError } from '../../kloset/base/errors.js';
import {
  bodySize,
  type ByteRange,
  type PutBody,
  type Storage,
  type StorageResource,
} from '../../kloset/storage/storage.js';

let nextId = 1;

export class MemoryStorage implements Storage {
  readonly location: string;
  private config: Uint8Array | null = null;
  private readonly objects: Record<StorageResource, Map<string, Uint8Array>> = {
    packfile: new Map(),
    state: new Map(),
    lock: new Map(),
  };

  /** `name` only tells stores apart in messages (`memory://<name>`). */
  constructor(name = `store-${nextId++}`) {
    this.location = `memory://${name}`;
  }

  async create(config: Uint8Array): Promise<void> {
    if (this.config) throw new KlosetError('CONFLICT', `${this.location} already holds a store`);
    this.config = config.slice();
  }

  async open(): Promise<Uint8Array> {
    if (!this.config) throw new KlosetError('NOT_FOUND', `no store at ${this.location}: no CONFIG`);
    return this.config.slice();
  }

  async list(resource: StorageResource): Promise<Uint8Array[]> {
    return [...this.objects[resource].keys()].map((hex) => fromHex(hex));
  }

  async put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    const name = objectName(mac);
    // Collect the whole body before it becomes visible: a failed or short stream leaves nothing.
    const bytes = await collect(body);
    this.objects[resource].set(name, bytes);
  }

  async get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    const name = objectName(mac);
    const bytes = this.objects[resource].get(name);
    if (!bytes) throw new KlosetError('NOT_FOUND', `${resource} ${name} not found in ${this.location}`);
    if (!range) return bytes.slice();
    checkRange(range, bytes.length, `${resource} ${name}`);
    return bytes.slice(range.offset, range.offset + range.length);
  }

  async delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    this.objects[resource].delete(objectName(mac));
  }

  async close(): Promise<void> {}
}

/** Object names are 32-byte MACs; anything else is a caller bug that must not reach a key. */
function objectName(mac: Uint8Array): string {
  if (mac.length !== 32) throw corrupt(`storage object name must be a 32-byte MAC, got ${mac.length} bytes`);
  return toHex(mac);
}

/** Reads a body into a fresh buffer (always a copy), checking the stream against its size. */
async function collect(body: PutBody): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body.slice();
  const size = bodySize(body);
  if (!Number.isSafeInteger(size) || size < 0) throw corrupt(`put body has an invalid size ${size}`);
  const out = new Uint8Array(size);
  let n = 0;
  for await (const part of body.stream()) {
    if (n + part.length > size) throw corrupt(`put body stream is longer than its declared size ${size}`);
    out.set(part, n);
    n += part.length;
  }
  if (n !== size) throw corrupt(`put body stream ended after ${n} of ${size} bytes`);
  return out;
}

function checkRange(range: ByteRange, size: number, what: string): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw corrupt(`range ${offset}+${length} is outside ${what} (${size} bytes)`, { offset, length, size });
  }
}

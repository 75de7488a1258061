/**
 * Storage: where a Kloset store's objects live (spec §1). A store holds one CONFIG and three
 * kinds of named objects — packfiles, states and locks — each named by a 32-byte MAC.
 * Backends: memory (tests), local directory, ptar single file, S3 (src/connectors/*).
 *
 * Contract (every backend passes test/storage/contract.ts):
 * - `create(config)` makes a new store holding CONFIG; CONFLICT if a store (or, for a local
 *   directory, anything) is already there. `open()` returns CONFIG's bytes; NOT_FOUND if none.
 * - `put` is atomic: a reader sees the whole object or none of it, never a prefix, also when
 *   the process dies mid-write. Putting an existing name replaces it (objects are
 *   content-addressed or unique, so this only happens on retries with the same bytes).
 * - Read-after-write: once `put` resolves, `get` and `list` see the object (from this client).
 * - Once `put` (or a PackfileStream `write`) has settled, the backend keeps no reference to the
 *   body's bytes: the caller may write that memory again (a backup reuses it for later blobs,
 *   node/output-arena.ts). A backend that keeps the bytes (memory) keeps a copy.
 * - `get(…, range)` returns exactly `range.length` bytes from `range.offset`; a range past the end
 *   is CORRUPT (the caller's index points outside the object). A missing object is NOT_FOUND.
 *   The caller owns what `get` returns: a backend never changes it afterwards, and a result that
 *   spans a whole ArrayBuffer was made for this call (readers may hand it to a worker thread).
 *   A view into a buffer the backend keeps (a cache) must not span that whole buffer.
 * - `list` returns the names of one resource kind, in no particular order; it may omit objects
 *   whose `put` has not resolved and never returns names of partial objects.
 * - `delete` of a missing object is not an error.
 * - Errors are KlosetErrors: NOT_FOUND, CONFLICT, CORRUPT as above; IO for environment failures
 *   (which the retrying wrapper may retry).
 */
export type StorageResource = 'packfile' | 'state' | 'lock';

export const STORAGE_RESOURCES: readonly StorageResource[] = ['packfile', 'state', 'lock'];

export interface ByteRange {
  offset: number;
  length: number;
}

/** Bytes to store: a buffer, or a sized stream (large packfiles are not held in memory). */
export type PutBody = Uint8Array | { readonly size: number; stream(): AsyncIterable<Uint8Array> };

/**
 * The one packfile of a storage that holds exactly one (a ptar, spec §1.4), written as a stream
 * whose length is known only at its end. Writes go out in order; each resolves once its bytes
 * are handed to the backend, so a writer awaiting them holds only what it is about to write.
 */
export interface PackfileStream {
  write(bytes: Uint8Array): Promise<void>;
  /** The packfile is complete (its index and footer written): the state may follow. */
  end(): Promise<void>;
  /** Gives the packfile up: what was written is cut off again. */
  abort(): Promise<void>;
}

export interface Storage {
  /** Human-readable location, e.g. `fs:///backups/store` (never contains secrets). */
  readonly location: string;
  create(config: Uint8Array): Promise<void>;
  open(): Promise<Uint8Array>;
  list(resource: StorageResource): Promise<Uint8Array[]>;
  put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void>;
  get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array>;
  delete(resource: StorageResource, mac: Uint8Array): Promise<void>;
  /**
   * Only storages that hold exactly one packfile (ptar) have this: opens that packfile for
   * writing as a stream (PackfileStream). A writer then puts every blob of the store into it, in
   * order, ends it and puts the state; `put('packfile')` is not used. Its presence is what tells
   * a writer not to rotate packfiles.
   */
  openPackfileStream?(mac: Uint8Array): Promise<PackfileStream>;
  /** Releases handles; for a ptar being written, completes the file. */
  close(): Promise<void>;
}

export function bodySize(body: PutBody): number {
  return body instanceof Uint8Array ? body.length : body.size;
}

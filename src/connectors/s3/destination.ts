/**
 * Restores into a bucket (or a prefix of one). Each regular file becomes an object; the
 * metadata a bucket backup recorded as `user.s3.*` xattrs (Content-Type, user metadata,
 * Cache-Control…) is set with the upload; the storage class is the destination's
 * `storage_class` option, else the recorded one. Objects up to MULTIPART_ABOVE go up in one PUT
 * with Content-MD5, larger ones as parallel multipart uploads. Directories need no object;
 * symlinks cannot exist in S3 and are reported as errors of the restore.
 *
 * Conflict policy: `overwrite` (default) replaces what is there; `skip-identical` leaves an
 * object in place when its size matches and its ETag equals the recorded one or the MD5 of the
 * snapshot's content (then nothing is uploaded).
 *
 * Keys: a snapshot made from a bucket escaped keys that are not plain paths (key-path.ts); with
 * `unescapeKeys` those escapes are undone, so the keys come back exactly.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { KlosetError } from '../../kloset/base/errors.js';
import type { Destination } from '../../kloset/restore/restore.js';
import type { VfsEntry } from '../../kloset/snapshot/reader.js';
import { connectS3, type S3ClientTuning } from './client.js';
import { httpStatus, s3ErrorCode, toS3Error } from './errors.js';
import { pathToKey } from './key-path.js';
import { XATTR_PREFIX, xattrsToMetadata } from './metadata.js';
import { displayLocation, type S3Options } from './options.js';
import { MULTIPART_ABOVE, PART_SIZE } from './storage.js';

export type ConflictPolicy = 'overwrite' | 'skip-identical';

export interface S3DestinationOptions {
  conflict?: ConflictPolicy;
  /** the snapshot was made from a bucket: undo its key escapes (key-path.ts) */
  unescapeKeys?: boolean;
  /** create the bucket when it does not exist (default true, as plakar's exporter does) */
  createBucket?: boolean;
  signal?: AbortSignal;
  /** objects uploaded at once (default 32) */
  parallelism?: number;
}

export class S3Destination implements Destination {
  readonly location: string;
  readonly xattrsWithContent = true;
  readonly parallelism: number;
  /** objects left in place by `skip-identical` */
  skipped = 0;
  private client: S3Client | null = null;
  private ready: Promise<S3Client> | null = null;
  private readonly td = new TextDecoder();

  constructor(private readonly o: S3Options, private readonly opts: S3DestinationOptions = {}, private readonly tuning: S3ClientTuning = {}) {
    this.location = displayLocation(o);
    this.parallelism = opts.parallelism ?? 32;
  }

  private ctx(what: string) {
    return { endpoint: this.o.endpoint, bucket: this.o.bucket, what };
  }

  /** Connects and makes sure the bucket exists, once; call it first to fail fast on bad settings. */
  async prepare(): Promise<S3Client> {
    this.ready ??= (async () => {
      const { client } = await connectS3(this.o, this.tuning).catch((e: unknown) => { throw toS3Error(e, this.ctx('connecting')); });
      this.client = client;
      try {
        await client.send(new HeadBucketCommand({ Bucket: this.o.bucket }), { abortSignal: this.opts.signal });
      } catch (e) {
        const missing = httpStatus(e) === 404 || s3ErrorCode(e) === 'NotFound' || s3ErrorCode(e) === 'NoSuchBucket';
        if (!missing) throw toS3Error(e, this.ctx('checking the bucket'));
        if (this.opts.createBucket === false) throw new KlosetError('NOT_FOUND', `S3: bucket '${this.o.bucket}' does not exist at ${this.o.endpoint}`);
        try {
          await client.send(new CreateBucketCommand({ Bucket: this.o.bucket }), { abortSignal: this.opts.signal });
        } catch (e2) {
          if (s3ErrorCode(e2) !== 'BucketAlreadyOwnedByYou') throw toS3Error(e2, this.ctx('creating the bucket'));
        }
      }
      return client;
    })();
    this.ready.catch(() => { this.ready = null; });
    return this.ready;
  }

  private key(rel: readonly string[]): string {
    const path = rel.join('/');
    if (this.opts.unescapeKeys) return pathToKey(path, this.o.prefix);
    return this.o.prefix + path;
  }

  async mkdir(): Promise<void> {
    // S3 has no directories: the keys of the objects below carry the folders
  }

  async symlink(rel: readonly string[], _e: VfsEntry, target: string): Promise<void> {
    throw new KlosetError('UNSUPPORTED', `${rel.join('/')}: a symlink (to ${target}) cannot be restored into S3; skipped`);
  }

  async writeFile(rel: readonly string[], e: VfsEntry, content: AsyncIterable<Uint8Array>, xattrs?: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const client = await this.prepare();
    const key = this.key(rel);
    if (!key || key.length > 1024) throw new KlosetError('UNSUPPORTED', `S3: '${key.slice(0, 80)}…' is not a valid object key (1 to 1024 bytes)`);
    const text = new Map<string, string>();
    for (const [name, value] of xattrs ?? []) if (name.startsWith(XATTR_PREFIX)) text.set(name, this.td.decode(value));
    const { StorageClass: recordedClass, ...meta } = xattrsToMetadata(text);
    const storageClass = this.o.storageClass ?? (recordedClass && recordedClass !== 'STANDARD' ? recordedClass : undefined);
    const size = Number(e.fileInfo.size);
    const signal = this.opts.signal;

    let existing: { size: number; etag: string } | undefined;
    if (this.opts.conflict === 'skip-identical') {
      existing = await this.head(client, key);
      const recorded = text.get(`${XATTR_PREFIX}etag`);
      if (existing && existing.size === size && recorded && existing.etag === recorded) {
        this.skipped++;
        return;
      }
      if (existing?.size !== size) existing = undefined; // cannot be identical: upload without a comparison
    }

    const sse = this.o.sseCustomerKey ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: this.o.sseCustomerKey } : {};
    const params = { Bucket: this.o.bucket, Key: key, ...meta, ...sse, ...(storageClass ? { StorageClass: storageClass as StorageClass } : {}) };
    try {
      if (size <= MULTIPART_ABOVE) {
        const bytes = await collect(content, size, key);
        const md5 = createHash('md5').update(bytes).digest();
        if (existing && !existing.etag.includes('-') && existing.etag.replace(/"/g, '') === md5.toString('hex')) {
          this.skipped++;
          return;
        }
        await client.send(new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.length, ContentMD5: md5.toString('base64') }), { abortSignal: signal });
        return;
      }
      const upload = new Upload({
        client,
        params: { ...params, Body: Readable.from(checked(content, size, key)), ContentLength: size },
        partSize: PART_SIZE,
        queueSize: 4,
        leavePartsOnError: false,
      });
      const abort = () => void upload.abort();
      signal?.addEventListener('abort', abort, { once: true });
      try {
        await upload.done();
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    } catch (err) {
      if (signal?.aborted) throw new KlosetError('CANCELLED', 'restore cancelled');
      throw toS3Error(err, this.ctx(`writing ${key}`));
    }
  }

  private async head(client: S3Client, key: string): Promise<{ size: number; etag: string } | undefined> {
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key, ...(this.o.sseCustomerKey ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: this.o.sseCustomerKey } : {}) }), { abortSignal: this.opts.signal });
      return { size: h.ContentLength ?? -1, etag: h.ETag ?? '' };
    } catch (e) {
      const err = toS3Error(e, this.ctx(`checking ${key}`));
      if (err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async finish(): Promise<void> {
    this.client?.destroy();
    this.client = null;
    this.ready = null;
  }
}

async function collect(content: AsyncIterable<Uint8Array>, size: number, key: string): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let n = 0;
  for await (const piece of checked(content, size, key, false)) {
    out.set(piece, n);
    n += piece.length;
  }
  return out;
}

/** The snapshot's content, failing before the upload completes if it is not `size` bytes. */
async function* checked(content: AsyncIterable<Uint8Array>, size: number, key: string, copy = true): AsyncIterable<Uint8Array> {
  let n = 0;
  for await (const piece of content) {
    n += piece.length;
    if (n > size) throw new KlosetError('CORRUPT', `${key}: the snapshot's content is longer than its recorded size ${size}`);
    // copied for uploads: the reader may reuse its buffer while the upload still holds parts
    if (piece.length) yield copy ? piece.slice() : piece;
  }
  if (n !== size) throw new KlosetError('CORRUPT', `${key}: the snapshot's content ended after ${n} of ${size} bytes`);
}

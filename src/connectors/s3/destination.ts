/**
 * Restores into a bucket (or a prefix of one). Each regular file becomes an object; the
 * metadata a bucket backup recorded as `user.s3.*` xattrs (Content-Type, user metadata,
 * Cache-Control…) is set with the upload; the storage class is the destination's
 * `storage_class` option, else the recorded one. Objects up to MULTIPART_ABOVE go up in one PUT
 * with Content-MD5, larger ones as multipart uploads of PART_SIZE parts. Directories need no
 * object; symlinks cannot exist in S3 and are reported as errors of the restore.
 *
 * Memory: one byte budget (`maxBytesInFlight`, default 128 MiB) bounds the object content this
 * destination holds across all uploads at once. A single PUT acquires its object's size before
 * the content is collected; a multipart upload acquires each part before the part is filled
 * and releases it when the part has been sent, with at most PARTS_PER_OBJECT parts of one
 * object in flight. Only as many multipart uploads run at once as the budget feeds with all their
 * parts in flight (budget / (PARTS_PER_OBJECT × PART_SIZE), at least one: 4 at the default), so
 * objects waiting for their turn have not begun reading their content (the snapshot reader keeps
 * a few chunks decoded ahead of whoever reads, outside this budget).
 * Nothing that holds budget waits for anything but the snapshot's content and the network, so
 * many large files starting together cannot deadlock; no single request is larger than the
 * budget (the budget is at least one part), so an object larger than the whole budget goes up
 * part after part. (Only objects above 10,000 parts, ~78 GiB, get parts larger than 8 MiB; a
 * part larger than the budget is then granted alone, as ByteBudget does.)
 *
 * Conflict policy: `overwrite` (default) replaces what is there; `skip-identical` leaves an
 * object in place when its size matches and its ETag equals the recorded one or the MD5 of the
 * snapshot's content (then nothing is uploaded).
 *
 * Keys: a snapshot made from a bucket escaped keys that are not plain paths (key-path.ts); with
 * `unescapeKeys` those escapes are undone, so the keys come back exactly.
 *
 * Cancel: every request gets its own signal linked to `signal` (abort-fanout.ts: one listener on
 * the caller's signal, not one per request); a cancelled multipart upload is aborted on the
 * server, never completed. `settled()` waits until every upload has stopped.
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { KlosetError } from '../../kloset/base/errors.js';
import type { Destination } from '../../kloset/restore/restore.js';
import type { VfsEntry } from '../../kloset/snapshot/reader.js';
import { AbortFanout } from './abort-fanout.js';
import { abortMultipartUpload } from './abort-upload.js';
import { connectS3, type S3ClientTuning } from './client.js';
import { httpStatus, s3ErrorCode, toS3Error } from './errors.js';
import { FairBudget, type BudgetStats } from './fair-budget.js';
import { pathToKey } from './key-path.js';
import { XATTR_PREFIX, xattrsToMetadata } from './metadata.js';
import { displayLocation, type S3Options } from './options.js';
import { MULTIPART_ABOVE, PART_SIZE } from './storage.js';

/** default of `maxBytesInFlight` */
export const DEFAULT_BYTES_IN_FLIGHT = 128 << 20;
/** parts of one object being filled or sent at once */
export const PARTS_PER_OBJECT = 4;
/** S3's limit on the parts of one multipart upload */
const MAX_PARTS = 10_000;

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
  /**
   * bytes of object content held at once across all uploads: whole objects of single PUTs and
   * the parts of multipart uploads being filled or sent (default 128 MiB; raised to one part,
   * 8 MiB, when smaller)
   */
  maxBytesInFlight?: number;
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
  private readonly fanout: AbortFanout;
  /** object content held: single PUT bodies and multipart parts */
  private readonly bytes: FairBudget;
  /** multipart uploads running at once */
  private readonly multipartSlots: FairBudget;
  /** writeFile calls not yet settled */
  private readonly writing = new Set<Promise<unknown>>();

  constructor(private readonly o: S3Options, private readonly opts: S3DestinationOptions = {}, private readonly tuning: S3ClientTuning = {}) {
    this.location = displayLocation(o);
    this.parallelism = opts.parallelism ?? 32;
    this.fanout = new AbortFanout(opts.signal);
    const asked = opts.maxBytesInFlight;
    const limit = Math.max(PART_SIZE, Math.floor(asked !== undefined && Number.isFinite(asked) ? asked : DEFAULT_BYTES_IN_FLIGHT));
    this.bytes = new FairBudget(limit);
    // as many multipart uploads as the budget feeds with all their parts in flight: more would
    // only start objects that then wait for budget with their read-ahead held
    this.multipartSlots = new FairBudget(Math.max(1, Math.floor(limit / (PARTS_PER_OBJECT * PART_SIZE))));
  }

  /** What the byte budget holds now, its limit and its high-water mark. */
  get bytesInFlight(): BudgetStats {
    return this.bytes.stats;
  }

  /** multipart uploads allowed at once */
  get multipartUploadsAtOnce(): number {
    return this.multipartSlots.limit;
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
        await this.fanout.run((abortSignal) => client.send(new HeadBucketCommand({ Bucket: this.o.bucket }), { abortSignal }));
      } catch (e) {
        const missing = httpStatus(e) === 404 || s3ErrorCode(e) === 'NotFound' || s3ErrorCode(e) === 'NoSuchBucket';
        if (!missing) throw toS3Error(e, this.ctx('checking the bucket'));
        if (this.opts.createBucket === false) throw new KlosetError('NOT_FOUND', `S3: bucket '${this.o.bucket}' does not exist at ${this.o.endpoint}`);
        try {
          await this.fanout.run((abortSignal) => client.send(new CreateBucketCommand({ Bucket: this.o.bucket }), { abortSignal }));
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
    const task = this.write(rel, e, content, xattrs);
    const tracked = task.catch(() => undefined);
    this.writing.add(tracked);
    void tracked.then(() => this.writing.delete(tracked));
    return task;
  }

  /**
   * Resolves once every upload begun has stopped (completed, failed, or aborted on the server
   * after a cancel). A cancelled restore returns before its uploads have wound down; a caller
   * that must leave nothing behind awaits this (`finish` does too).
   */
  async settled(): Promise<void> {
    while (this.writing.size) await Promise.all(this.writing);
  }

  private async write(rel: readonly string[], e: VfsEntry, content: AsyncIterable<Uint8Array>, xattrs?: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const client = await this.prepare();
    const key = this.key(rel);
    if (!key || key.length > 1024) throw new KlosetError('UNSUPPORTED', `S3: '${key.slice(0, 80)}…' is not a valid object key (1 to 1024 bytes)`);
    const text = new Map<string, string>();
    for (const [name, value] of xattrs ?? []) if (name.startsWith(XATTR_PREFIX)) text.set(name, this.td.decode(value));
    const { StorageClass: recordedClass, ...meta } = xattrsToMetadata(text);
    const storageClass = this.o.storageClass ?? (recordedClass && recordedClass !== 'STANDARD' ? recordedClass : undefined);
    const size = Number(e.fileInfo.size);
    const signal = this.opts.signal;

    try {
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

      const params = { Bucket: this.o.bucket, Key: key, ...meta, ...this.sse(), ...(storageClass ? { StorageClass: storageClass as StorageClass } : {}) };
      if (size <= MULTIPART_ABOVE) {
        await this.fanout.run((s) => this.bytes.acquire(size, s));
        try {
          const bytes = await collect(content, size, key);
          const md5 = createHash('md5').update(bytes).digest();
          if (existing && !existing.etag.includes('-') && existing.etag.replace(/"/g, '') === md5.toString('hex')) {
            this.skipped++;
            return;
          }
          await this.fanout.run((abortSignal) => client.send(new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.length, ContentMD5: md5.toString('base64') }), { abortSignal }));
        } finally {
          this.bytes.release(size);
        }
        return;
      }
      await this.fanout.run((s) => this.multipartSlots.acquire(1, s));
      try {
        await this.multipart(client, params, content, size, key);
      } finally {
        this.multipartSlots.release(1);
      }
    } catch (err) {
      if (signal?.aborted) throw new KlosetError('CANCELLED', 'restore cancelled');
      throw toS3Error(err, this.ctx(`writing ${key}`));
    }
  }

  private sse(): { SSECustomerAlgorithm?: string; SSECustomerKey?: string } {
    return this.o.sseCustomerKey ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: this.o.sseCustomerKey } : {};
  }

  /**
   * One multipart upload, fed part by part: each part's bytes are acquired from the budget
   * before it is filled from the content and released once the part has been sent (or failed).
   * The content must be exactly `size` bytes before CompleteMultipartUpload is asked; on any
   * failure or cancel the upload is aborted, so no object appears.
   */
  private async multipart(
    client: S3Client,
    params: { Bucket: string; Key: string; SSECustomerAlgorithm?: string; SSECustomerKey?: string } & Record<string, unknown>,
    content: AsyncIterable<Uint8Array>,
    size: number,
    key: string,
  ): Promise<void> {
    const { Bucket, Key } = params;
    const sse = this.sse();
    // 10,000 parts at most: objects above ~78 GiB get larger parts (whole MiB)
    const partSize = Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / (1 << 20)) * (1 << 20));
    // Not linked to the cancel signal: a create cut off in flight may still have started the
    // upload on the server, with an UploadId we would never learn (and so never abort). A
    // cancel waits for the answer and aborts the upload below instead.
    const created = await client.send(new CreateMultipartUploadCommand(params));
    const UploadId = created.UploadId;
    if (!UploadId) throw new KlosetError('IO', `${key}: the server started a multipart upload without an UploadId`);
    const parts: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const pieces = checked(content, size, key)[Symbol.asyncIterator]();
    let rest: Uint8Array = new Uint8Array(0);
    try {
      this.opts.signal?.throwIfAborted();
      const count = Math.ceil(size / partSize);
      for (let n = 1; n <= count; n++) {
        while (inFlight.size >= PARTS_PER_OBJECT && !failure) await Promise.race(inFlight);
        if (failure) throw failure.error;
        const length = Math.min(partSize, size - (n - 1) * partSize);
        await this.fanout.run((s) => this.bytes.acquire(length, s));
        let body: Uint8Array;
        try {
          // not zero-filled: every byte is written below before the part is sent
          body = Buffer.allocUnsafeSlow(length);
          let at = 0;
          while (at < length) {
            if (!rest.length) {
              const r = await pieces.next();
              if (r.done) throw new KlosetError('CORRUPT', `${key}: the snapshot's content ended early`);
              rest = r.value;
              continue;
            }
            const take = Math.min(rest.length, length - at);
            body.set(take === rest.length ? rest : rest.subarray(0, take), at);
            at += take;
            rest = rest.subarray(take);
          }
          // the last part: the content must end exactly here (checked() throws otherwise)
          if (n === count && (rest.length || !(await pieces.next()).done)) {
            throw new KlosetError('CORRUPT', `${key}: the snapshot's content is longer than its recorded size ${size}`);
          }
        } catch (e) {
          this.bytes.release(length);
          throw e;
        }
        const PartNumber = n;
        const sent: Promise<void> = this.fanout
          .run((abortSignal) => client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: length, ...sse }), { abortSignal }))
          .then(
            (r) => {
              if (!r.ETag) throw new KlosetError('IO', `${key}: part ${PartNumber} was stored without an ETag`);
              parts.push({ PartNumber, ETag: r.ETag });
            },
          )
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => {
            this.bytes.release(length);
            inFlight.delete(sent);
          });
        inFlight.add(sent);
      }
      await Promise.all(inFlight);
      if (failure) throw failure.error;
      this.opts.signal?.throwIfAborted();
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.fanout.run((abortSignal) => client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts }, ...sse }), { abortSignal }));
    } catch (e) {
      // stop the content (the reader's read-ahead) and let the parts still going settle first
      void pieces.return?.(undefined).catch(() => undefined);
      await Promise.all(inFlight);
      // not linked to the cancel signal: after a cancel the upload must still be aborted;
      // if it cannot be, the original error is still the one to report (the upload is named)
      await abortMultipartUpload(client, { Bucket, Key, UploadId }).catch((a: unknown) => {
        process.emitWarning(`kloset: could not abort multipart upload ${UploadId} of ${key}: ${a instanceof Error ? a.message : String(a)}`);
      });
      throw e;
    }
  }

  private async head(client: S3Client, key: string): Promise<{ size: number; etag: string } | undefined> {
    try {
      const h = await this.fanout.run((abortSignal) => client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key, ...this.sse() }), { abortSignal }));
      return { size: h.ContentLength ?? -1, etag: h.ETag ?? '' };
    } catch (e) {
      const err = toS3Error(e, this.ctx(`checking ${key}`));
      if (err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async finish(): Promise<void> {
    await this.settled();
    this.client?.destroy();
    this.client = null;
    this.ready = null;
  }
}

async function collect(content: AsyncIterable<Uint8Array>, size: number, key: string): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let n = 0;
  for await (const piece of checked(content, size, key)) {
    out.set(piece, n);
    n += piece.length;
  }
  return out;
}

/**
 * The snapshot's content, failing before the upload completes if it is not `size` bytes. A
 * piece is only valid until the next one is asked for: callers copy it into their buffer.
 */
async function* checked(content: AsyncIterable<Uint8Array>, size: number, key: string): AsyncIterable<Uint8Array> {
  let n = 0;
  for await (const piece of content) {
    n += piece.length;
    if (n > size) throw new KlosetError('CORRUPT', `${key}: the snapshot's content is longer than its recorded size ${size}`);
    if (piece.length) yield piece;
  }
  if (n !== size) throw new KlosetError('CORRUPT', `${key}: the snapshot's content ended after ${n} of ${size} bytes`);
}

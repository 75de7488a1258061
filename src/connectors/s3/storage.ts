/**
 * A Kloset store in an S3 bucket, with plakar's key layout (spec §1.3):
 * `<prefix>CONFIG`, `<prefix>packfiles/XX/<hex>`, `<prefix>states/XX/<hex>`, `<prefix>locks/<hex>`.
 *
 * How the Storage contract is met on S3:
 * - atomic puts: S3 makes an object visible only when its PUT (or CompleteMultipartUpload)
 *   succeeds; a stream that fails or has the wrong length aborts the multipart upload;
 * - bodies up to MULTIPART_ABOVE go up as one PUT with Content-MD5 (the server checks the bytes);
 *   larger ones (packfiles) as a multipart upload of PART_SIZE parts, a few in parallel
 *   (fauxqs caps single requests at 11 MiB; real S3 at 5 GiB);
 * - ranged reads are ranged GETs; a range past the end is CORRUPT. Small ranges of a packfile
 *   (one blob each: entries, objects, chunks) are read as whole aligned blocks kept in a small
 *   LRU (block-cache.ts): a restore reads blobs roughly in the order they were packed, so one
 *   request then serves many blobs instead of one round trip per blob;
 * - every request goes through the SDK's retries (see client.ts); failures are KlosetErrors
 *   with one clear line (errors.ts).
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { toHex, fromHex } from '../../kloset/base/bytes.js';
import { corrupt, KlosetError } from '../../kloset/base/errors.js';
import { bodySize, type ByteRange, type PutBody, type Storage, type StorageResource } from '../../kloset/storage/storage.js';
import { connectS3, type S3ClientTuning } from './client.js';
import { httpStatus, s3ErrorCode, toS3Error } from './errors.js';
import { BlockCache } from './block-cache.js';
import { GatherBuffer } from './gather-buffer.js';
import { displayLocation, type S3Options } from './options.js';
import { retryTransient } from './retry.js';

export const MULTIPART_ABOVE = 8 << 20;
export const PART_SIZE = 8 << 20;
const PARTS_IN_FLIGHT = 4;

const FOLDER: Record<StorageResource, string> = { packfile: 'packfiles/', state: 'states/', lock: 'locks/' };

export class S3Storage implements Storage {
  readonly location: string;
  private client: S3Client | null = null;
  private connecting: Promise<S3Client> | null = null;

  private readonly blocks: BlockCache | null;
  /** where multipart bodies are gathered (put) */
  private readonly gather = new GatherBuffer();
  /** SSE-C parameters sent with every object request (the SDK adds the key's MD5) */
  private readonly sse: { SSECustomerAlgorithm?: string; SSECustomerKey?: string };

  /** `readBlockBytes`: block size of the packfile read cache (0: every range is its own GET) */
  constructor(private readonly o: S3Options, private readonly tuning: S3ClientTuning = {}, readBlockBytes = 1 << 20, cachedBlocks = 48) {
    this.location = displayLocation(o);
    this.blocks = readBlockBytes > 0 ? new BlockCache(readBlockBytes, cachedBlocks) : null;
    this.sse = o.sseCustomerKey ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: o.sseCustomerKey } : {};
  }

  /** The client, made on first use (region discovery may need a request). */
  private async c(): Promise<S3Client> {
    if (this.client) return this.client;
    this.connecting ??= connectS3(this.o, this.tuning).then(
      ({ client }) => (this.client = client),
      (e: unknown) => {
        this.connecting = null;
        throw toS3Error(e, this.ctx('connecting'));
      },
    );
    return this.connecting;
  }

  private ctx(what: string) {
    return { endpoint: this.o.endpoint, bucket: this.o.bucket, what };
  }

  private key(resource: StorageResource, mac: Uint8Array): string {
    if (mac.length !== 32) throw corrupt(`storage object name must be a 32-byte MAC, got ${mac.length} bytes`);
    const hex = toHex(mac);
    return resource === 'lock' ? `${this.o.prefix}locks/${hex}` : `${this.o.prefix}${FOLDER[resource]}${hex.slice(0, 2)}/${hex}`;
  }

  async create(config: Uint8Array): Promise<void> {
    const client = await this.c();
    await this.ensureBucket(client);
    const key = `${this.o.prefix}CONFIG`;
    if (await this.exists(client, key)) throw new KlosetError('CONFLICT', `${this.location} already holds a store (CONFIG exists)`);
    await this.putBytes(client, key, config, undefined, 'writing CONFIG');
  }

  /** plakar's Create makes the bucket when it is missing (spec §15.2). */
  private async ensureBucket(client: S3Client): Promise<void> {
    try {
      await client.send(new HeadBucketCommand({ Bucket: this.o.bucket }));
      return;
    } catch (e) {
      if (httpStatus(e) !== 404 && s3ErrorCode(e) !== 'NotFound' && s3ErrorCode(e) !== 'NoSuchBucket') throw toS3Error(e, this.ctx('checking the bucket'));
    }
    try {
      const region = await client.config.region();
      await client.send(new CreateBucketCommand({
        Bucket: this.o.bucket,
        ...(region && region !== 'us-east-1' && /amazonaws\.com/i.test(this.o.host) ? { CreateBucketConfiguration: { LocationConstraint: region as never } } : {}),
      }));
    } catch (e) {
      if (s3ErrorCode(e) !== 'BucketAlreadyOwnedByYou') throw toS3Error(e, this.ctx('creating the bucket'));
    }
  }

  private async exists(client: S3Client, key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key, ...this.sse }));
      return true;
    } catch (e) {
      const err = toS3Error(e, this.ctx(`checking ${key}`));
      if (err.code === 'NOT_FOUND' && s3ErrorCode(e) !== 'NoSuchBucket') return false;
      throw err;
    }
  }

  async open(): Promise<Uint8Array> {
    const client = await this.c();
    try {
      return await this.getBytes(client, `${this.o.prefix}CONFIG`, undefined, 'reading CONFIG');
    } catch (e) {
      if (e instanceof KlosetError && e.code === 'NOT_FOUND' && s3ErrorCode(e.cause) !== 'NoSuchBucket') {
        throw new KlosetError('NOT_FOUND', `no Kloset store at ${this.location}: no CONFIG`, e.details, { cause: e });
      }
      throw e;
    }
  }

  async list(resource: StorageResource): Promise<Uint8Array[]> {
    const client = await this.c();
    const base = `${this.o.prefix}${FOLDER[resource]}`;
    const name = resource === 'lock' ? /^([0-9a-f]{64})$/ : /^([0-9a-f]{2})\/([0-9a-f]{64})$/;
    const out: Uint8Array[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: base, ContinuationToken: token }));
      } catch (e) {
        throw toS3Error(e, this.ctx(`listing ${base}`));
      }
      for (const obj of page.Contents ?? []) {
        const m = name.exec(obj.Key!.slice(base.length));
        // other keys (a console's folder markers, foreign files) are not store objects
        if (!m || (m.length === 3 && m[2]!.slice(0, 2) !== m[1])) continue;
        out.push(fromHex(m[m.length - 1]!));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    const client = await this.c();
    const key = this.key(resource, mac);
    this.blocks?.forget(key);
    const size = bodySize(body);
    if (!Number.isSafeInteger(size) || size < 0) throw corrupt(`put body has an invalid size ${size}`);
    // CONFIG and locks stay STANDARD (plakar does the same): they are read back right away
    const storageClass = resource === 'lock' ? undefined : this.o.storageClass;
    if (size <= MULTIPART_ABOVE) {
      const bytes = body instanceof Uint8Array ? body : await collect(body, size);
      await this.putBytes(client, key, bytes, storageClass, `writing ${key}`);
      return;
    }
    // The body is gathered into one buffer first, reused from one packfile to the next (the
    // writer uploads one at a time): given a stream, lib-storage concatenated each 8 MiB part
    // into a fresh buffer, and faulting those pages in took 2.2 s of the main thread per GiB
    // uploaded (a CPU profile of a 913 MiB backup into a bucket). A stream that fails or has
    // the wrong length fails here, before any request.
    const gathered = body instanceof Uint8Array ? null : this.gather.take(size);
    try {
      const bytes = body instanceof Uint8Array ? body : await collect(body, size, gathered!);
      const upload = new Upload({
        client,
        params: {
          Bucket: this.o.bucket,
          Key: key,
          Body: bytes,
          ContentLength: size,
          ...(storageClass ? { StorageClass: storageClass as StorageClass } : {}),
          ...this.sse,
        },
        partSize: PART_SIZE,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false, // a failed upload is aborted: nothing becomes visible
      });
      await upload.done().catch((e: unknown) => {
        throw toS3Error(e, this.ctx(`uploading ${key}`));
      });
    } finally {
      if (gathered) this.gather.give(gathered);
    }
  }

  private async putBytes(client: S3Client, key: string, bytes: Uint8Array, storageClass: string | undefined, what: string): Promise<void> {
    try {
      await client.send(new PutObjectCommand({
        Bucket: this.o.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
        ContentMD5: createHash('md5').update(bytes).digest('base64'),
        ...(storageClass ? { StorageClass: storageClass as StorageClass } : {}),
        ...this.sse,
      }));
    } catch (e) {
      throw toS3Error(e, this.ctx(what));
    }
  }

  async get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    const client = await this.c();
    const key = this.key(resource, mac);
    if (range) {
      const { offset, length } = range;
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw corrupt(`range ${offset}+${length} is invalid for ${resource} ${key}`);
      }
      if (length === 0) {
        // HTTP has no empty range: check the object and the offset with a HEAD
        const size = await this.size(client, key);
        if (offset > size) throw corrupt(`range ${offset}+0 is outside ${resource} ${key} (${size} bytes)`);
        return new Uint8Array(0);
      }
    }
    if (range && resource === 'packfile' && this.blocks && range.length <= this.blocks.blockBytes / 4) {
      const got = await this.blocks.read(key, range, (offset, length) => this.getUpTo(client, key, offset, length));
      if (got.length !== range.length) throw corrupt(`range ${range.offset}+${range.length} is outside ${key} (got ${got.length} bytes)`);
      return got;
    }
    return this.getBytes(client, key, range, `reading ${key}`);
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the object; none past it). */
  private async getUpTo(client: S3Client, key: string, offset: number, length: number): Promise<Uint8Array> {
    return retryTransient(async () => {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}`, ...this.sse }));
        const bytes = await res.Body!.transformToByteArray();
        if (res.ContentLength !== undefined && bytes.length !== res.ContentLength) throw new KlosetError('IO', `${key}: connection closed early`);
        return bytes;
      } catch (e) {
        if (s3ErrorCode(e) === 'InvalidRange' || httpStatus(e) === 416) return new Uint8Array(0);
        throw e;
      }
    }, (e) => toS3Error(e, this.ctx(`reading ${key}`)));
  }

  private async size(client: S3Client, key: string): Promise<number> {
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key, ...this.sse }));
      return h.ContentLength ?? 0;
    } catch (e) {
      throw toS3Error(e, this.ctx(`reading ${key}`));
    }
  }

  private async getBytes(client: S3Client, key: string, range: ByteRange | undefined, what: string): Promise<Uint8Array> {
    const bytes = await retryTransient(async () => {
      const res = await client.send(new GetObjectCommand({
        Bucket: this.o.bucket,
        Key: key,
        ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        ...this.sse,
      }));
      const got = await res.Body!.transformToByteArray();
      // a body shorter than its Content-Length is a dropped connection, not a short object
      if (res.ContentLength !== undefined && got.length !== res.ContentLength) throw new KlosetError('IO', `${key}: read ${got.length} of ${res.ContentLength} bytes`);
      return got;
    }, (e) => toS3Error(e, this.ctx(what)));
    // S3 answers a range that runs past the end with what there is: the caller's index is wrong
    if (range && bytes.length !== range.length) {
      throw corrupt(`range ${range.offset}+${range.length} is outside ${key} (got ${bytes.length} bytes)`);
    }
    return bytes;
  }

  async delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    const client = await this.c();
    const key = this.key(resource, mac);
    this.blocks?.forget(key);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }));
    } catch (e) {
      const err = toS3Error(e, this.ctx(`deleting ${key}`));
      if (err.code !== 'NOT_FOUND' || s3ErrorCode(e) === 'NoSuchBucket') throw err;
    }
  }

  async close(): Promise<void> {
    this.blocks?.clear();
    this.client?.destroy();
    this.client = null;
    this.connecting = null;
  }
}

/** The body's bytes, into `into` (a view of `size` bytes) when given. */
async function collect(body: Exclude<PutBody, Uint8Array>, size: number, into?: Uint8Array): Promise<Uint8Array> {
  const out = into ?? new Uint8Array(size);
  let n = 0;
  for await (const part of checkedStream(body, size)) {
    out.set(part, n);
    n += part.length;
  }
  return out;
}

/** The body's stream, failing (before the upload can complete) when it is not exactly `size` bytes. */
async function* checkedStream(body: Exclude<PutBody, Uint8Array>, size: number): AsyncIterable<Uint8Array> {
  let n = 0;
  for await (const part of body.stream()) {
    n += part.length;
    if (n > size) throw corrupt(`put body stream is longer than its declared size ${size}`);
    if (part.length) yield part;
  }
  if (n !== size) throw corrupt(`put body stream ended after ${n} of ${size} bytes`);
}

/**
 * Backs up a bucket or a prefix of one. Each object becomes the file `/<key>` as plakar records
 * it (spec §15.3), with size and mtime = LastModified, and — beyond plakar — its metadata as
 * `user.s3.*` xattrs (metadata.ts), so a restore into a bucket can re-apply it. Keys that are not
 * plain paths (`a//b`, folder markers ending in `/`, `.`/`..` segments) are escaped one-to-one
 * (key-path.ts), so every key round-trips exactly.
 *
 * Throughput: the listing pages and the GETs of small objects run ahead of the backup (up to
 * PREFETCH_OBJECTS objects and PREFETCH_BYTES bytes), because a bucket of small objects is
 * bound by request latency, not bandwidth. A GET answers content and metadata at once; large
 * objects get a HEAD for their metadata and are streamed when the backup reads them.
 *
 * An object that cannot be read (archived in GLACIER, access denied, deleted meanwhile) becomes
 * an error entry and the backup goes on.
 *
 * Cancel: each request gets its own signal linked to the scan's (abort-fanout.ts), so 64
 * prefetching GETs add one listener to the caller's signal, not 128.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type GetObjectCommandOutput, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { KlosetError } from '../../kloset/base/errors.js';
import { ByteBudget } from '../../kloset/base/byte-budget.js';
import type { ImportedItem, Importer, ImportRecord, ScanHints } from '../../kloset/snapshot/importer.js';
import type { FileInfo } from '../../kloset/snapshot/vfs/file-info.js';
import { goModeFromPosix } from '../../kloset/snapshot/vfs/go-mode.js';
import { AbortFanout } from './abort-fanout.js';
import { connectS3, type S3ClientTuning } from './client.js';
import { toS3Error } from './errors.js';
import { keyToPath } from './key-path.js';
import { metadataToXattrs } from './metadata.js';
import { retryTransient } from './retry.js';
import type { S3Options } from './options.js';

/** Objects up to this size are fetched ahead in one GET; larger ones are streamed when read. */
export const SMALL_OBJECT = 8 << 20;
const PREFETCH_OBJECTS = 64;
const PREFETCH_BYTES = 96 << 20;

export class S3Source implements Importer {
  readonly type = 's3';
  readonly origin: string;
  readonly root: string;
  private client: S3Client | null = null;
  /** requests made by the last scans (what a re-backup saves shows here) */
  readonly requests = { list: 0, get: 0, head: 0 };
  /** SSE-C objects can only be read with their key */
  private readonly sse: { SSECustomerAlgorithm?: string; SSECustomerKey?: string };

  constructor(private readonly o: S3Options, private readonly tuning: S3ClientTuning = {}) {
    this.origin = `${o.host}/${o.bucket}`;
    this.sse = o.sseCustomerKey ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: o.sseCustomerKey } : {};
    this.root = o.prefix ? keyToPath(o.prefix.replace(/\/$/, '')) : '/';
  }

  private ctx(what: string) {
    return { endpoint: this.o.endpoint, bucket: this.o.bucket, what };
  }

  async close(): Promise<void> {
    this.client?.destroy();
    this.client = null;
  }

  async *scan(signal?: AbortSignal, hints: ScanHints = {}): AsyncIterable<ImportRecord> {
    this.client ??= (await connectS3(this.o, this.tuning).catch((e: unknown) => { throw toS3Error(e, this.ctx('connecting')); })).client;
    const budget = new ByteBudget(PREFETCH_BYTES);
    const fanout = new AbortFanout(signal);
    const queue: { size: number; rec: Promise<ImportRecord> }[] = [];
    const take = async (): Promise<ImportRecord> => {
      const head = queue.shift()!;
      const rec = await head.rec;
      budget.release(head.size);
      return rec;
    };
    for await (const obj of this.objects(fanout)) {
      if ('error' in obj) {
        yield obj;
        continue;
      }
      const size = (obj.Size ?? 0) <= SMALL_OBJECT ? obj.Size ?? 0 : 0;
      await budget.acquire(size);
      queue.push({ size, rec: this.record(obj, hints, fanout) });
      while (queue.length >= PREFETCH_OBJECTS) yield await take();
    }
    while (queue.length) yield await take();
  }

  /**
   * The listing, page after page (the next page is asked for while this one is processed).
   * A key that is also the folder of other keys (`a/b` next to `a/b/c`) cannot be a file and a
   * directory in one snapshot: it becomes an error entry naming the conflict. Keys sharing a
   * prefix are contiguous in S3's sorted listing, so only the chain of keys that are prefixes of
   * the current one is held back.
   */
  private async *objects(fanout: AbortFanout): AsyncIterable<_Object | { error: { path: string; error: string } }> {
    const held: _Object[] = [];
    let token: string | undefined;
    let next = this.page(undefined, fanout);
    do {
      const page = await next;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (token) next = this.page(token, fanout);
      for (const obj of page.Contents ?? []) {
        const key = obj.Key!;
        while (held.length && !key.startsWith(held[held.length - 1]!.Key!)) yield held.pop()!;
        for (let i = held.length - 1; i >= 0; i--) {
          const k = held[i]!.Key!;
          if (key.startsWith(`${k}/`)) {
            held.splice(i, 1);
            yield { error: { path: keyToPath(k), error: `object '${k}' is also the folder of other objects ('${key}'): a snapshot cannot hold a file and a folder at one path` } };
          }
        }
        held.push(obj);
      }
    } while (token);
    while (held.length) yield held.shift()!;
  }

  private async page(token: string | undefined, fanout: AbortFanout) {
    try {
      this.requests.list++;
      return await fanout.run((abortSignal) => this.client!.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: this.o.prefix || undefined, ContinuationToken: token }), { abortSignal }));
    } catch (e) {
      throw toS3Error(e, this.ctx(`listing ${this.o.prefix || 'the bucket'}`));
    }
  }

  /** Never rejects: a failure is the object's error record. */
  private async record(obj: _Object, hints: ScanHints, fanout: AbortFanout): Promise<ImportRecord> {
    const signal = fanout.parent;
    const key = obj.Key!;
    const path = keyToPath(key);
    try {
      signal?.throwIfAborted();
      const unchanged = await this.unchanged(obj, path, hints);
      if (unchanged) return { item: unchanged };
      const toError = (e: unknown) => toS3Error(e, this.ctx(`reading ${key}`));
      if ((obj.Size ?? 0) <= SMALL_OBJECT) {
        // the linked signal covers the body read too: a cancel also stops a body coming in
        const { res, body } = await retryTransient(() => fanout.run(async (abortSignal) => {
          this.requests.get++;
          const res = await this.client!.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: key, ...this.sse }), { abortSignal });
          const body = await res.Body!.transformToByteArray();
          if (res.ContentLength !== undefined && body.length !== res.ContentLength) {
            throw new KlosetError('IO', `read ${body.length} of ${res.ContentLength} bytes (connection closed early)`);
          }
          return { res, body };
        }), toError, { ...(signal ? { signal } : {}) });
        const item = this.item(path, body.length, res.LastModified ?? obj.LastModified, res.ETag ?? obj.ETag, metadataToXattrs(res, obj.StorageClass));
        item.open = async function* () {
          yield body;
        };
        return { item };
      }
      this.requests.head++;
      const head = await fanout.run((abortSignal) => this.client!.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key, ...this.sse }), { abortSignal }));
      const size = head.ContentLength ?? obj.Size ?? 0;
      const etag = head.ETag ?? obj.ETag;
      const item = this.item(path, size, head.LastModified ?? obj.LastModified, etag, metadataToXattrs(head, obj.StorageClass));
      item.open = () => this.stream(key, etag, size, fanout);
      return { item };
    } catch (e) {
      if (signal?.aborted) throw e;
      return { error: { path, error: toS3Error(e, this.ctx(`reading ${key}`)).message } };
    }
  }

  /**
   * An object whose size, LastModified and ETag match the previous snapshot's entry: no request
   * now. The builder takes its content and metadata from the previous snapshot; should it read
   * the content after all, the GET also fills in the metadata.
   */
  private async unchanged(obj: _Object, path: string, hints: ScanHints): Promise<ImportedItem | undefined> {
    const prev = hints.previous ? await hints.previous(path) : undefined;
    if (!prev || obj.Size === undefined || !obj.LastModified) return undefined;
    const size = obj.Size;
    const item = this.item(path, size, obj.LastModified, obj.ETag, new Map());
    const f = item.fileInfo;
    if (prev.size !== f.size || prev.ino !== f.ino || prev.modTime.sec !== f.modTime.sec || prev.modTime.nsec !== f.modTime.nsec || f.ino === 0n) return undefined;
    delete item.xattrs;
    delete item.readXattr;
    item.xattrsFromPrevious = true;
    const key = obj.Key!;
    const storageClass = obj.StorageClass;
    item.open = () => this.stream(key, obj.ETag, size, new AbortFanout(undefined), (res) => {
      const x = metadataToXattrs(res, storageClass);
      const te = new TextEncoder();
      item.xattrs = [...x.keys()];
      item.readXattr = async (name) => te.encode(x.get(name) ?? '');
    });
    return item;
  }

  /**
   * A large object's content. If-Match makes a change during the backup an error, not a mix of
   * two versions; a connection dropped midway resumes with a ranged GET from where it stopped.
   */
  private async *stream(key: string, etag: string | undefined, size: number, fanout: AbortFanout, onFirst?: (res: GetObjectCommandOutput) => void): AsyncIterable<Uint8Array> {
    const signal = fanout.parent;
    let done = 0;
    let failures = 0;
    while (done < size || size === 0) {
      // one linked signal per GET, held while its body streams
      const link = fanout.link();
      try {
        this.requests.get++;
        const res = await this.client!.send(new GetObjectCommand({
          Bucket: this.o.bucket, Key: key, ...(etag ? { IfMatch: etag } : {}), ...(done ? { Range: `bytes=${done}-` } : {}), ...this.sse,
        }), { abortSignal: link.signal });
        if (onFirst && done === 0) onFirst(res);
        for await (const piece of res.Body as AsyncIterable<Uint8Array>) {
          done += piece.length;
          yield piece;
        }
        if (done >= size) return;
        throw new KlosetError('IO', `connection closed after ${done} of ${size} bytes`);
      } catch (e) {
        if (signal?.aborted) throw e;
        const err = toS3Error(e, this.ctx(`reading ${key}`));
        if (err.code !== 'IO' || ++failures >= 5) {
          // IO: the builder records it as this file's error and goes on
          throw new KlosetError('IO', err.message, undefined, { cause: e });
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** failures));
      } finally {
        link.done();
      }
    }
  }

  private item(path: string, size: number, mtime: Date | undefined, etag: string | undefined, xattrs: Map<string, string>): ImportedItem {
    // whole seconds: a GET's Last-Modified header has no milliseconds, the listing has them
    const ms = Math.floor((mtime?.getTime() ?? 0) / 1000) * 1000;
    const fileInfo: FileInfo = {
      name: path.slice(path.lastIndexOf('/') + 1),
      size: BigInt(size),
      mode: goModeFromPosix(0o100644),
      modTime: { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 },
      dev: 1n,
      // the ETag stands in for the inode: an unchanged re-backup also needs the same ETag
      ino: etagInode(etag),
      uid: 0n,
      gid: 0n,
      nlink: 1,
      username: '',
      groupname: '',
      flags: 0,
    };
    const te = new TextEncoder();
    return {
      path,
      fileInfo,
      xattrs: [...xattrs.keys()],
      readXattr: async (name) => te.encode(xattrs.get(name) ?? ''),
    };
  }
}

function etagInode(etag: string | undefined): bigint {
  const hex = /[0-9a-f]{16}/i.exec(etag ?? '')?.[0];
  return hex ? BigInt(`0x${hex}`) & 0x7fffffffffffffffn : 0n;
}

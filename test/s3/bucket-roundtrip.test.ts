/**
 * Bucket → snapshot → bucket against a real S3 server: every key (spaces, unicode, '+', '%',
 * '//', folder markers, very long keys) comes back exactly, with its content and metadata
 * (Content-Type, user metadata, Cache-Control…), into another bucket or a prefix; a subtree
 * restores alone; skip-identical uploads nothing the second time; a local-folder restore gets
 * the metadata as user.s3.* xattrs; and a store that itself lives in a bucket works end to end.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { FsDestination } from '../../src/connectors/fs/destination.js';
import { S3Destination } from '../../src/connectors/s3/destination.js';
import { parseS3Options } from '../../src/connectors/s3/options.js';
import { S3Source } from '../../src/connectors/s3/source.js';
import { S3Storage } from '../../src/connectors/s3/storage.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { restore } from '../../src/kloset/restore/restore.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { newRepo, tempDir } from '../support/engine.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

function opts(bucket: string, prefix = '', extra: Record<string, string> = {}) {
  return parseS3Options({ location: `s3://${s3.host}/${bucket}${prefix ? `/${prefix}` : ''}`, access_key: s3.accessKey, secret_access_key: s3.secretKey, use_tls: 'false', ...extra });
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

interface Obj {
  body: Uint8Array;
  ContentType?: string;
  Metadata?: Record<string, string>;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
}

const KEYS: Record<string, Obj> = {
  'plain.txt': { body: Buffer.from('hello\n'), ContentType: 'text/plain' },
  'dir/with space/and+plus.json': { body: Buffer.from('{"a":1}'), ContentType: 'application/json', Metadata: { owner: 'ann', project: 'x-1' } },
  'unicode/é中文🙂.bin': { body: randomBytes(3000) },
  'percent/100%25 %41.txt': { body: Buffer.from('percent'), CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="p.txt"' },
  'double//slash': { body: Buffer.from('double slash') },
  'marker/': { body: new Uint8Array(0), ContentType: 'application/x-directory' },
  'gz/data.txt.gz': { body: randomBytes(100), ContentEncoding: 'gzip', ContentType: 'text/plain' },
  [`long/${'k'.repeat(900)}`]: { body: Buffer.from('long key') },
  'big/object.bin': { body: randomBytes(12 << 20), ContentType: 'application/octet-stream', Metadata: { kind: 'big' } },
};

async function fill(bucket: string): Promise<void> {
  for (const [Key, o] of Object.entries(KEYS)) {
    const { body, ...meta } = o;
    if (body.length > (8 << 20)) {
      await new Upload({ client: s3.client(), params: { Bucket: bucket, Key, Body: body, ...meta }, partSize: 5 << 20 }).done();
    } else {
      await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key, Body: body, ...meta }));
    }
  }
}

async function listKeys(bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

async function expectSameObjects(bucket: string, prefix: string, keys: string[]): Promise<void> {
  expect(await listKeys(bucket, prefix)).toEqual(keys.map((k) => prefix + k).sort());
  for (const k of keys) {
    const want = KEYS[k]!;
    const got = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: prefix + k }));
    const body = await got.Body!.transformToByteArray();
    expect(md5(body), k).toBe(md5(want.body));
    if (want.ContentType) expect(got.ContentType, k).toBe(want.ContentType);
    expect(got.Metadata ?? {}, k).toEqual(want.Metadata ?? {});
    if (want.CacheControl && s3.kind === 'radosgw') expect(got.CacheControl, k).toBe(want.CacheControl);
    if (want.ContentDisposition && s3.kind === 'radosgw') expect(got.ContentDisposition, k).toBe(want.ContentDisposition);
  }
}

describe('bucket backup and restore', () => {
  let snapId: Uint8Array;
  let repo: Awaited<ReturnType<typeof newRepo>>;
  let source: string;

  beforeAll(async () => {
    source = await s3.createBucket('src');
    await fill(source);
    repo = await newRepo();
    const src = new S3Source(opts(source));
    const result = await backup(repo, src, {});
    await src.close();
    snapId = result.snapshotId;
    expect(result.progress.errors).toBe(0);
  }, 120_000);

  it('records every object as /<key> with its metadata, and checks clean', async () => {
    const snap = await SnapshotReader.open(repo, snapId);
    expect(snap.header.sources[0]!.importer.type).toBe('s3');
    expect(snap.header.sources[0]!.importer.origin).toBe(`${s3.host}/${source}`);
    const e = (await snap.stat('/dir/with space/and+plus.json'))!;
    expect(Number(e.fileInfo.size)).toBe(7);
    const x = new Map((await snap.xattrs(e)).map(({ entry, value }) => [entry.name, new TextDecoder().decode(value)]));
    expect(x.get('user.s3.content-type')).toBe('application/json');
    expect(x.get('user.s3.meta.owner')).toBe('ann');
    expect(x.get('user.s3.etag')).toBe(`"${md5(KEYS['dir/with space/and+plus.json']!.body)}"`);
    expect((await snap.stat('/marker/%'))!.fileInfo.size).toBe(0n);
    const report = await checkSnapshot(snap);
    expect(report.problems).toEqual([]);
  });

  it('restores into another bucket: same keys, bytes and metadata', async () => {
    const target = await s3.createBucket('dst');
    const snap = await SnapshotReader.open(repo, snapId);
    const dest = new S3Destination(opts(target), { unescapeKeys: true });
    const p = await restore(snap, '/', dest);
    expect(p.errors).toEqual([]);
    expect(p.files).toBe(Object.keys(KEYS).length);
    await expectSameObjects(target, '', Object.keys(KEYS));
  }, 120_000);

  it('restores a subtree under a prefix; skip-identical then uploads nothing', async () => {
    const target = await s3.createBucket('sub');
    const snap = await SnapshotReader.open(repo, snapId);
    const first = await restore(snap, '/dir', new S3Destination(opts(target, 'restored'), { unescapeKeys: true }));
    expect(first.errors).toEqual([]);
    expect(await listKeys(target)).toEqual(['restored/dir/with space/and+plus.json']);
    const again = new S3Destination(opts(target, 'restored'), { unescapeKeys: true, conflict: 'skip-identical' });
    const second = await restore(snap, '/dir', again);
    expect(second.errors).toEqual([]);
    expect(again.skipped).toBe(1);
    expect(second.bytes).toBe(0);
    // a changed object is uploaded again
    await s3.client().send(new PutObjectCommand({ Bucket: target, Key: 'restored/dir/with space/and+plus.json', Body: 'changed' }));
    const third = new S3Destination(opts(target, 'restored'), { unescapeKeys: true, conflict: 'skip-identical' });
    await restore(snap, '/dir', third);
    expect(third.skipped).toBe(0);
    const h = await s3.client().send(new HeadObjectCommand({ Bucket: target, Key: 'restored/dir/with space/and+plus.json' }));
    expect(h.ContentLength).toBe(7);
    expect(h.Metadata).toEqual({ owner: 'ann', project: 'x-1' });
  }, 120_000);

  it('restores into a local folder with the metadata as user.s3.* xattrs', async () => {
    const t = tempDir();
    try {
      const snap = await SnapshotReader.open(repo, snapId);
      const p = await restore(snap, '/dir', new FsDestination(t.path));
      expect(p.errors).toEqual([]);
      const file = join(t.path, 'dir/with space/and+plus.json');
      expect(readFileSync(file, 'utf8')).toBe('{"a":1}');
      expect(xattr.getAttributeSync(file, 'user.s3.content-type')?.toString()).toBe('application/json');
    } finally {
      t.cleanup();
    }
  });

  it('a re-backup skips unchanged objects (content and metadata from the previous snapshot) and re-reads changed ones', async () => {
    const prev = await SnapshotReader.open(repo, snapId);
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'plain.txt', Body: 'changed!', ContentType: 'text/x-changed' }));
    const src = new S3Source(opts(source));
    const again = await backup(repo, src, { previous: prev });
    await src.close();
    expect(again.progress.errors).toBe(0);
    expect(again.progress.unchanged).toBe(Object.keys(KEYS).length - 1);
    expect(src.requests, 'only the changed object is read').toMatchObject({ get: 1, head: 0 });
    const snap = await SnapshotReader.open(repo, again.snapshotId);
    const meta = async (path: string) => new Map((await snap.xattrs((await snap.stat(path))!)).map(({ entry, value }) => [entry.name, new TextDecoder().decode(value)]));
    expect((await meta('/dir/with space/and+plus.json')).get('user.s3.meta.owner')).toBe('ann');
    expect((await meta('/plain.txt')).get('user.s3.content-type')).toBe('text/x-changed');
    const parts: Uint8Array[] = [];
    for await (const p of snap.content((await snap.stat('/plain.txt'))!)) parts.push(p);
    expect(Buffer.concat(parts).toString()).toBe('changed!');
    expect((await checkSnapshot(snap)).problems).toEqual([]);
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'plain.txt', Body: KEYS['plain.txt']!.body, ContentType: 'text/plain' }));
  }, 120_000);

  it('an archived or unreadable object is an error entry and the backup goes on', async () => {
    const bucket = await s3.createBucket('err');
    await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'ok.txt', Body: 'fine' }));
    await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'file', Body: 'a file' }));
    await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'file/child', Body: 'and a child' }));
    const r2 = await newRepo();
    const result = await backup(r2, new S3Source(opts(bucket)), {});
    expect(result.progress.errors).toBe(1);
    const snap = await SnapshotReader.open(r2, result.snapshotId);
    const errors: string[] = [];
    for await (const e of snap.errors()) errors.push(`${e.name}: ${e.error}`);
    expect(errors).toEqual([expect.stringMatching(/^\/file: object 'file' is also the folder of other objects/)]);
    expect((await snap.stat('/ok.txt'))!.fileInfo.size).toBe(4n);
    expect((await snap.stat('/file/child'))!.fileInfo.size).toBe(11n);
  });
});

describe('a store in a bucket', () => {
  it('backs up a bucket into a store kept in another bucket and reads it back', async () => {
    const storeBucket = await s3.createBucket('store');
    const source = await s3.createBucket('src2');
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'x/y.txt', Body: 'y content', ContentType: 'text/plain' }));
    const storage = new S3Storage(opts(storeBucket, 'kloset'));
    const repo = await newRepo({}, storage);
    const result = await backup(repo, new S3Source(opts(source)), {});
    await repo.close();
    const { Repository } = await import('../../src/kloset/repository/repository.js');
    const { PASS, testPrims } = await import('../support/engine.js');
    const reopened = await Repository.open(new S3Storage(opts(storeBucket, 'kloset')), testPrims, PASS);
    const snap = await SnapshotReader.open(reopened, result.snapshotId);
    const parts: Uint8Array[] = [];
    for await (const p of snap.content((await snap.stat('/x/y.txt'))!)) parts.push(p);
    expect(Buffer.concat(parts).toString()).toBe('y content');
    expect((await checkSnapshot(snap)).problems).toEqual([]);
    await reopened.close();
    expect((await listKeys(storeBucket, 'kloset/')).some((k) => k.startsWith('kloset/packfiles/'))).toBe(true);
  }, 120_000);
});

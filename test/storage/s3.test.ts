/**
 * S3Storage against a real S3-compatible server on 127.0.0.1 (fauxqs by default; radosgw in the
 * conformance pass of scripts/test.sh): the same contract suite as memory, fs and ptar, plus what
 * only S3 has — plakar's key layout, prefixes, bucket creation, and one clear error for a
 * missing bucket, refused keys, an unreachable endpoint or the wrong TLS mode, with the store
 * left untouched.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { KlosetError } from '../../src/kloset/base/errors.js';
import { parseS3Options } from '../../src/connectors/s3/options.js';
import { S3Storage } from '../../src/connectors/s3/storage.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';
import { pattern, randomMac, rejectsWith, storageContract } from './contract.js';

let s3: TestS3;
let shared: string;
let n = 0;

beforeAll(async () => {
  s3 = await startTestS3();
  shared = await s3.createBucket('contract');
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

function storageAt(bucket: string, prefix = '', extra: Record<string, string> = {}): S3Storage {
  return new S3Storage(parseS3Options({
    location: `s3://${s3.host}/${bucket}${prefix ? `/${prefix}` : ''}`,
    access_key: s3.accessKey,
    secret_access_key: s3.secretKey,
    use_tls: 'false',
    ...extra,
  }), { maxAttempts: 3 });
}

// Each contract test gets a fresh prefix in one bucket (bucket creation is slow on radosgw).
storageContract('s3', async () => ({ storage: storageAt(shared, `t${++n}/store`), cleanup: async () => {} }));

describe('S3Storage', () => {
  it('writes plakar\'s key layout under the prefix', async () => {
    const s = storageAt(shared, 'layout/deep');
    await s.create(new Uint8Array([1, 2, 3]));
    const m = randomMac();
    await s.put('packfile', m, pattern(10));
    await s.put('state', m, pattern(11));
    await s.put('lock', m, pattern(12));
    await s.close();
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'layout/' }));
    const hex = toHex(m);
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      'layout/deep/CONFIG',
      `layout/deep/locks/${hex}`,
      `layout/deep/packfiles/${hex.slice(0, 2)}/${hex}`,
      `layout/deep/states/${hex.slice(0, 2)}/${hex}`,
    ]);
    const cfg = await s3.client().send(new GetObjectCommand({ Bucket: shared, Key: 'layout/deep/CONFIG' }));
    expect([...await cfg.Body!.transformToByteArray()]).toEqual([1, 2, 3]);
  });

  it('ignores foreign keys when listing (folder markers, other files)', async () => {
    const s = storageAt(shared, 'foreign');
    await s.create(new Uint8Array([9]));
    const m = randomMac();
    await s.put('packfile', m, pattern(5));
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    for (const Key of ['foreign/packfiles/', 'foreign/packfiles/zz/notes.txt', `foreign/packfiles/00/${'ab'.repeat(32)}`]) {
      await s3.client().send(new PutObjectCommand({ Bucket: shared, Key, Body: 'x' }));
    }
    expect((await s.list('packfile')).map(toHex)).toEqual([toHex(m)]);
    await s.close();
  });

  it('create makes a missing bucket', async () => {
    const bucket = `kloset-new-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    const s = storageAt(bucket);
    await s.create(new Uint8Array([7]));
    expect([...await s.open()]).toEqual([7]);
    await s.close();
    const { DeleteObjectCommand, DeleteBucketCommand } = await import('@aws-sdk/client-s3');
    await s3.client().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'CONFIG' }));
    await s3.client().send(new DeleteBucketCommand({ Bucket: bucket }));
  });

  it('a missing bucket is NOT_FOUND naming the bucket', async () => {
    const s = storageAt('no-such-bucket-kloset');
    const e = await s.open().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KlosetError);
    expect((e as KlosetError).code).toBe('NOT_FOUND');
    expect((e as KlosetError).message).toMatch(/bucket 'no-such-bucket-kloset' does not exist|no Kloset store/);
    await s.close();
  });

  it('an empty prefix with no CONFIG is NOT_FOUND "no Kloset store"', async () => {
    const s = storageAt(shared, 'nothing-here');
    await rejectsWith(s.open(), 'NOT_FOUND');
    await expect(s.open()).rejects.toThrow(/no Kloset store at s3:\/\//);
    await s.close();
  });

  it.skipIf(process.env.KLOSET_TEST_S3_KIND !== 'radosgw')('wrong keys are AUTH, and nothing is written', async () => {
    const s = storageAt(shared, 'auth', { secret_access_key: 'wrong-secret' });
    const e = await s.create(new Uint8Array([1])).catch((x: unknown) => x);
    expect((e as KlosetError).code).toBe('AUTH');
    expect((e as KlosetError).message).toMatch(/refused the credentials/);
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'auth/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
    await s.close();
  });

  it.skipIf(process.env.KLOSET_TEST_S3_KIND !== 'radosgw')('without keys, the SDK credential chain (environment) is used', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.accessKey;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretKey;
    try {
      const s = new S3Storage(parseS3Options({ location: `s3://${s3.host}/${shared}/chain`, use_tls: 'false' }), { maxAttempts: 3 });
      await s.create(new Uint8Array([4, 2]));
      expect([...await s.open()]).toEqual([4, 2]);
      await s.close();
      process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
      const bad = new S3Storage(parseS3Options({ location: `s3://${s3.host}/${shared}/chain`, use_tls: 'false' }), { maxAttempts: 1 });
      await rejectsWith(bad.open(), 'AUTH');
      await bad.close();
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('an unreachable endpoint is IO "cannot reach", quickly', async () => {
    const s = new S3Storage(parseS3Options({ location: 's3://127.0.0.1:9/b', access_key: 'a', secret_access_key: 'b', use_tls: 'false' }), { maxAttempts: 2 });
    const t0 = Date.now();
    const e = await s.open().catch((x: unknown) => x);
    expect((e as KlosetError).code).toBe('IO');
    expect((e as KlosetError).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await s.close();
  });

  it('TLS against a plain-HTTP endpoint says use_tls=false', async () => {
    const s = new S3Storage(parseS3Options({ location: `s3://${s3.host}/${shared}`, access_key: s3.accessKey, secret_access_key: s3.secretKey }), { maxAttempts: 1 });
    const e = await s.open().catch((x: unknown) => x);
    expect((e as KlosetError).code).toBe('IO');
    expect((e as KlosetError).message).toMatch(/use_tls=false/);
    await s.close();
  });
});

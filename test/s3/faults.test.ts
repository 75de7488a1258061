/**
 * Backups and restores through a loopback proxy that injects S3 faults — 503 SlowDown, 500
 * InternalError, reset connections (before and during bodies) and stalls — still complete with
 * identical content; a cancelled restore into a bucket stops and leaves no partial object.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Destination } from '../../src/connectors/s3/destination.js';
import { parseS3Options } from '../../src/connectors/s3/options.js';
import { S3Source } from '../../src/connectors/s3/source.js';
import { S3Storage } from '../../src/connectors/s3/storage.js';
import { Repository } from '../../src/kloset/repository/repository.js';
import { restore } from '../../src/kloset/restore/restore.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { checkSnapshot } from '../../src/kloset/check/check.js';
import { newRepo, PASS, testPrims } from '../support/engine.js';
import { everyNth, startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';

let s3: TestS3;
let proxy: FaultProxy;
beforeAll(async () => {
  s3 = await startTestS3();
  proxy = await startFaultProxy(s3.endpoint, { stallMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
});

/** Through the proxy, with a short idle timeout so a stall is abandoned and retried. */
const TUNING = { maxAttempts: 12, idleTimeoutMs: 1000, connectionTimeoutMs: 2000 };
function viaProxy(bucket: string, prefix = '') {
  return parseS3Options({ location: `s3://${proxy.host}/${bucket}${prefix ? `/${prefix}` : ''}`, access_key: s3.accessKey, secret_access_key: s3.secretKey, use_tls: 'false' });
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function contents(bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const list = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const o of list.Contents ?? []) {
    const got = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    out.set(o.Key!, sha(await got.Body!.transformToByteArray()));
  }
  return out;
}

describe('S3 under injected faults', () => {
  it('bucket → store in a bucket → bucket completes with identical content', async () => {
    const source = await s3.createBucket('fsrc');
    const storeBucket = await s3.createBucket('fstore');
    const target = await s3.createBucket('fdst');
    for (let i = 0; i < 24; i++) {
      await s3.client().send(new PutObjectCommand({ Bucket: source, Key: `d${i % 4}/obj-${i}.bin`, Body: randomBytes(1000 + i * 997), ContentType: 'application/x-test' }));
    }
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'large.bin', Body: randomBytes(10 << 20) }));
    const want = await contents(source);

    // every 5th request fails; stalls (each costs a socket timeout) are capped at 4
    const base = everyNth(5, ['slowdown', 'internal', 'reset', 'stall']);
    let stalls = 0;
    proxy.setPlan((req) => {
      const f = base(req);
      return f === 'stall' && ++stalls > 4 ? 'reset' : f;
    });
    const t0 = Date.now();
    const repo = await newRepo({}, new S3Storage(viaProxy(storeBucket, 'kloset'), TUNING));
    const src = new S3Source(viaProxy(source), TUNING);
    const result = await backup(repo, src, {});
    await src.close();
    expect(result.progress.errors).toBe(0);
    await repo.close();

    const reopened = await Repository.open(new S3Storage(viaProxy(storeBucket, 'kloset'), TUNING), testPrims, PASS);
    const snap = await SnapshotReader.open(reopened, result.snapshotId);
    expect((await checkSnapshot(snap)).problems).toEqual([]);
    const p = await restore(snap, '/', new S3Destination(viaProxy(target), { unescapeKeys: true }, TUNING));
    expect(p.errors).toEqual([]);
    await reopened.close();
    proxy.setPlan(() => null);
    // a stall costs the idle timeout (1 s here), not the server's 30 s hold
    expect(Date.now() - t0).toBeLessThan(60_000);

    expect(await contents(target)).toEqual(want);
    for (const kind of ['slowdown', 'internal', 'reset', 'stall'] as const) expect(proxy.injected[kind], kind).toBeGreaterThan(0);
  }, 300_000);

  it('a cancelled restore into a bucket stops with CANCELLED and leaves no partial large object', async () => {
    const source = await s3.createBucket('csrc');
    const target = await s3.createBucket('cdst');
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'big.bin', Body: randomBytes(10 << 20) }));
    const repo = await newRepo();
    const r = await backup(repo, new S3Source(viaProxy(source), TUNING), {});
    const snap = await SnapshotReader.open(repo, r.snapshotId);
    const controller = new AbortController();
    // uploads into the target stall, so the cancel lands while the upload runs
    proxy.setPlan((req) => (req.url.includes(target) && req.method === 'PUT' && req.url.includes('uploadId=') ? 'stall' : null));
    const dest = new S3Destination(viaProxy(target), { unescapeKeys: true, signal: controller.signal }, TUNING);
    const running = restore(snap, '/', dest, { signal: controller.signal });
    setTimeout(() => controller.abort(), 500);
    const t0 = Date.now();
    const e = await running.then(() => null, (x: unknown) => x);
    proxy.setPlan(() => null);
    expect(Date.now() - t0, 'the cancel is prompt').toBeLessThan(5000);
    expect(e, 'restore must report the cancel').not.toBeNull();
    const list = await s3.client().send(new ListObjectsV2Command({ Bucket: target }));
    expect(list.KeyCount ?? 0).toBe(0);
  }, 120_000);
});

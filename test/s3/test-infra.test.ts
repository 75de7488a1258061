/**
 * The S3 test infrastructure itself, with the raw SDK: the server from startTestS3 behaves like
 * S3 where the connector tests rely on it (bytes, ranges, listing pages, multipart), its buckets
 * are unique and cleaned up, and the fault proxy really injects each fault — a retrying client
 * still moves identical bytes through it, a client without retries fails. If the proxy forwarded
 * faults silently or not at all, the connectors' fault tests would prove nothing.
 *
 * Runs against fauxqs by default and against radosgw in the conformance pass of scripts/test.sh.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { everyNth, seededRandomPlan, startFaultProxy, type Fault, type FaultProxy, type FaultProxyOptions, type ProxiedRequest } from '../support/fault-proxy.js';
import { startTestS3, uniqueBucketName, type TestS3 } from '../support/s3-server.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

// Whatever a test starts (proxies, clients) is stopped after it, pass or fail.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function proxyTo(options?: FaultProxyOptions): Promise<FaultProxy> {
  const p = await startFaultProxy(s3.endpoint, options);
  cleanups.push(() => p.close());
  return p;
}

interface ClientTuning {
  maxAttempts: number;
  /** idle-socket timeout: what abandons a stalled request in @smithy/node-http-handler 4.x */
  socketTimeout?: number;
  /** total-request timer: only warns unless throwOnRequestTimeout is set */
  requestTimeout?: number;
}

function clientFor(endpoint: string, t: ClientTuning): S3Client {
  const c = new S3Client({
    endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    maxAttempts: t.maxAttempts,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 2000,
      ...(t.socketTimeout ? { socketTimeout: t.socketTimeout } : {}),
      ...(t.requestTimeout ? { requestTimeout: t.requestTimeout } : {}),
      httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }),
    }),
  });
  cleanups.push(() => c.destroy());
  return c;
}

/**
 * GetObject plus reading the body, the read repeated when the body breaks off: the SDK retries
 * only until the response headers arrive, so a connection cut during the body is the caller's
 * to retry (src/connectors/s3/retry.ts does this for the connectors).
 */
async function getBytes(c: S3Client, bucket: string, key: string, range?: string): Promise<{ bytes: Uint8Array; bodyRetries: number }> {
  for (let bodyRetries = 0; ; bodyRetries++) {
    const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    try {
      return { bytes: await out.Body!.transformToByteArray(), bodyRetries };
    } catch (e) {
      if (bodyRetries >= 5) throw e;
    }
  }
}

/** Objects of the sizes that matter: empty, tiny, one socket buffer, past the SDK's 100-continue threshold. */
function sampleObjects(): Map<string, Uint8Array> {
  const sizes = [0, 1, 1000, 64 * 1024 + 3, 300 * 1024, 2 * MiB + 17];
  return new Map(sizes.map((n, i) => [`obj/${i}-${n}.bin`, randomBytes(n)]));
}

/** Writes, lists, reads back whole and by range: every byte must come back identical. */
async function roundTrip(c: S3Client, bucket: string): Promise<{ bodyRetries: number }> {
  const objects = sampleObjects();
  for (const [key, body] of objects) await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'obj/' }));
  expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([...objects.keys()].sort());
  let bodyRetries = 0;
  for (const [key, body] of objects) {
    const got = await getBytes(c, bucket, key);
    bodyRetries += got.bodyRetries;
    expect(sha(got.bytes), key).toBe(sha(body));
    if (body.length > 100) {
      const part = await getBytes(c, bucket, key, 'bytes=50-99');
      bodyRetries += part.bodyRetries;
      expect(Buffer.from(part.bytes).equals(body.subarray(50, 100)), `${key} range`).toBe(true);
    }
  }
  return { bodyRetries };
}

describe('startTestS3', () => {
  it('stores and returns exact bytes, metadata and ranges', async () => {
    const bucket = await s3.createBucket('infra-basic');
    const body = randomBytes(100_000);
    await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a b+ü.bin', Body: body, ContentType: 'application/x-test', Metadata: { color: 'blue' } }));
    const head = await s3.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/a b+ü.bin' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ContentType).toBe('application/x-test');
    expect(head.Metadata).toEqual({ color: 'blue' });
    const whole = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/a b+ü.bin' }));
    expect(sha(await whole.Body!.transformToByteArray())).toBe(sha(body));
    const ranged = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/a b+ü.bin', Range: 'bytes=99990-99999' }));
    expect(ranged.$metadata.httpStatusCode).toBe(206);
    expect(ranged.ContentRange).toBe(`bytes 99990-99999/${body.length}`);
    expect(Buffer.from(await ranged.Body!.transformToByteArray()).equals(body.subarray(99990))).toBe(true);
    await expect(s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('lists in pages with continuation tokens, and by delimiter', async () => {
    const bucket = await s3.createBucket('infra-list');
    const keys = Array.from({ length: 25 }, (_, i) => `p/k${String(i).padStart(2, '0')}`);
    for (const k of [...keys, 'q/x/1', 'q/y/2', 'q/top']) await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'p/', MaxKeys: 10, ContinuationToken: token }));
      pages++;
      expect(page.Contents?.length ?? 0).toBeLessThanOrEqual(10);
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
    const tree = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'q/', Delimiter: '/' }));
    expect(tree.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['q/x/', 'q/y/']);
    expect(tree.Contents?.map((o) => o.Key)).toEqual(['q/top']);
  });

  it('takes a 13 MiB multipart upload in 5 MiB parts (lib-storage) and serves ranges across parts', async () => {
    const bucket = await s3.createBucket('infra-mpu');
    const body = randomBytes(13 * MiB + 123);
    const parts: number[] = [];
    const upload = new Upload({ client: s3.client(), params: { Bucket: bucket, Key: 'big.bin', Body: body }, partSize: 5 * MiB, queueSize: 2 });
    upload.on('httpUploadProgress', (p) => {
      if (p.part) parts.push(p.part);
    });
    await upload.done();
    expect(new Set(parts).size).toBe(3);
    const head = await s3.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect(head.ContentLength).toBe(body.length);
    // a multipart ETag is md5-of-md5s with the part count; connectors must not take it for an MD5
    expect(head.ETag).toMatch(/-3"$/);
    const got = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect(sha(await got.Body!.transformToByteArray())).toBe(sha(body));
    const across = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
    expect(Buffer.from(await across.Body!.transformToByteArray()).equals(body.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
  }, 120_000);

  it.runIf(process.env.KLOSET_TEST_S3_ENDPOINT === undefined)('fauxqs refuses single PUTs above its 11 MiB body limit (an emulator limit, not S3)', async () => {
    const bucket = await s3.createBucket('infra-limit');
    expect(s3.maxPutBytes).toBe(11 * MiB);
    const e = await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'too-big', Body: randomBytes(12 * MiB) })).then(() => null, (x: unknown) => x);
    expect(e).toMatchObject({ $metadata: { httpStatusCode: 413 } });
  }, 60_000);

  it('makes unique S3-valid bucket names', () => {
    const names = new Set<string>();
    for (const prefix of [undefined, 'UPPER_case.dots', '---', 'xn--punycode', 'a'.repeat(80), 'ok-1']) {
      for (let i = 0; i < 50; i++) names.add(uniqueBucketName(prefix));
    }
    expect(names.size).toBe(300);
    for (const n of names) {
      expect(n).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
      expect(n.startsWith('xn--')).toBe(false);
    }
  });

  it('stop() deletes its buckets with their objects and unfinished uploads, and leaves others alone', async () => {
    // A second TestS3 on the same server, as the "external" kind (so nothing is started): this is
    // also the path every test takes in the radosgw conformance pass.
    const other = await startTestS3({
      KLOSET_TEST_S3_ENDPOINT: s3.endpoint,
      KLOSET_TEST_S3_ACCESS_KEY: s3.accessKey,
      KLOSET_TEST_S3_SECRET_KEY: s3.secretKey,
      KLOSET_TEST_S3_KIND: s3.kind === 'radosgw' ? 'radosgw' : undefined,
    });
    cleanups.push(() => other.stop());
    expect(other.endpoint).toBe(s3.endpoint);
    const mine = await s3.createBucket('infra-keep');
    const theirs = await other.createBucket('infra-gone');
    const empty = await other.createBucket('infra-gone-empty');
    for (let i = 0; i < 30; i++) await other.client().send(new PutObjectCommand({ Bucket: theirs, Key: `x/${i}`, Body: 'x' }));
    // fauxqs cannot list unfinished uploads, so no client can abort them: only real servers here
    if (s3.kind !== 'fauxqs') {
      const { UploadId } = await other.client().send(new CreateMultipartUploadCommand({ Bucket: theirs, Key: 'unfinished' }));
      await other.client().send(new UploadPartCommand({ Bucket: theirs, Key: 'unfinished', UploadId, PartNumber: 1, Body: randomBytes(1000) }));
    }
    await other.stop();
    for (const gone of [theirs, empty]) {
      await expect(s3.client().send(new HeadBucketCommand({ Bucket: gone })), gone).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    }
    await s3.client().send(new HeadBucketCommand({ Bucket: mine }));
    expect(() => other.client()).toThrow(/after stop/);
  }, 60_000);
});

describe('fault proxy', () => {
  it('forwards requests unchanged and lets the plan see each one', async () => {
    const seen: ProxiedRequest[] = [];
    const proxy = await proxyTo({ plan: (r) => (seen.push(r), null) });
    expect(proxy.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const c = clientFor(proxy.endpoint, { maxAttempts: 1 });
    const bucket = await s3.createBucket('fp-plain');
    await roundTrip(c, bucket);
    // signed requests pass a server that verifies SigV4 (radosgw) only if Host and every signed header arrive unchanged
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'sp ace/ü?&=.txt', Body: 'odd key' }));
    const odd = await getBytes(c, bucket, 'sp ace/ü?&=.txt');
    expect(Buffer.from(odd.bytes).toString()).toBe('odd key');
    expect(proxy.requests).toBe(seen.length);
    expect(seen.map((r) => r.n)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.some((r) => r.method === 'PUT' && r.url.startsWith(`/${bucket}/obj/`))).toBe(true);
    expect(seen.some((r) => r.method === 'GET' && r.url.includes('list-type=2'))).toBe(true);
    expect(Object.values(proxy.injected).every((v) => v === 0)).toBe(true);
  }, 60_000);

  it('everyNth cycles through its faults on every nth request', () => {
    const plan = everyNth(3, ['slowdown', 'reset']);
    const got = Array.from({ length: 12 }, (_, i) => plan({ method: 'GET', url: '/', n: i + 1 }));
    expect(got).toEqual([null, null, 'slowdown', null, null, 'reset', null, null, 'slowdown', null, null, 'reset']);
  });

  it('the seeded random plan is repeatable and roughly keeps its rate', () => {
    const run = (seed: number) => {
      const plan = seededRandomPlan(seed, 0.25);
      return Array.from({ length: 2000 }, (_, i) => plan({ method: 'GET', url: '/', n: i + 1 }));
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    expect(run(43)).not.toEqual(a);
    const faults = a.filter((f) => f !== null);
    expect(faults.length).toBeGreaterThan(400);
    expect(faults.length).toBeLessThan(600);
    for (const f of ['slowdown', 'internal', 'reset', 'stall'] as const) expect(faults.filter((x) => x === f).length, f).toBeGreaterThan(60);
  });

  // Every second or third request is faulted; the SDK must retry each and the bytes must survive.
  it.each<Fault>(['slowdown', 'internal', 'reset', 'stall'])('with retries, %s faults are injected and bytes come back identical', async (fault) => {
    // slow faults (throttling backs off from 500 ms, a stall costs a timeout) every third request
    const proxy = await proxyTo({ plan: everyNth(fault === 'slowdown' || fault === 'stall' ? 3 : 2, [fault]), stallMs: 20_000 });
    // each stall costs one socket timeout: short, but far above any pause of a healthy transfer here
    const c = clientFor(proxy.endpoint, { maxAttempts: 10, socketTimeout: 600 });
    const bucket = await s3.createBucket(`fp-${fault}`);
    await roundTrip(c, bucket);
    expect(proxy.injected[fault]).toBeGreaterThanOrEqual(5);
    for (const other of ['slowdown', 'internal', 'reset', 'stall'] as const) if (other !== fault) expect(proxy.injected[other]).toBe(0);
    if (fault === 'reset') {
      expect(proxy.resets.beforeRequest).toBeGreaterThan(0);
      expect(proxy.resets.afterUpstream).toBeGreaterThan(0);
    }
  }, 120_000);

  // Without retries the same faults must fail the request: otherwise the tests above would pass
  // whether or not anything was injected.
  it.each<[Fault, object]>([
    ['slowdown', { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }],
    ['internal', { name: 'InternalError', $metadata: { httpStatusCode: 500 } }],
    ['reset', {}],
    ['stall', { name: 'TimeoutError' }],
  ])('without retries, %s fails the request', async (fault, shape) => {
    const bucket = await s3.createBucket(`fp-no-${fault}`);
    const proxy = await proxyTo({ plan: () => fault, stallMs: 20_000, resetFlavours: ['beforeRequest'] });
    const c = clientFor(proxy.endpoint, { maxAttempts: 1, socketTimeout: 1000 });
    const t0 = Date.now();
    const e = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' })).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject(shape);
    expect(Date.now() - t0, 'a stall is abandoned at the socket timeout, not at stallMs').toBeLessThan(10_000);
    expect(proxy.injected[fault]).toBe(1);
    // and nothing was written where the request never reached the server
    proxy.setPlan(() => null);
    await expect(c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }, 60_000);

  it('a body cut after the headers is not retried by the SDK: the read fails, reading again works', async () => {
    const bucket = await s3.createBucket('fp-midbody');
    const body = randomBytes(3 * MiB);
    await s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body }));
    const proxy = await proxyTo({ plan: ({ method }) => (method === 'GET' ? 'reset' : null), resetFlavours: ['midBody'] });
    const c = clientFor(proxy.endpoint, { maxAttempts: 10, socketTimeout: 1000 });
    const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(out.ContentLength).toBe(body.length);
    await expect(out.Body!.transformToByteArray()).rejects.toThrow();
    expect(proxy.resets.midBody).toBe(1);
    proxy.setPlan(() => null);
    const again = await getBytes(c, bucket, 'k');
    expect(sha(again.bytes)).toBe(sha(body));
  }, 60_000);

  it('a multipart upload through all four faults completes with identical bytes', async () => {
    const bucket = await s3.createBucket('fp-mpu');
    const proxy = await proxyTo({ plan: everyNth(2, ['slowdown', 'internal', 'reset', 'stall']), stallMs: 20_000, resetFlavours: ['beforeRequest'] });
    const c = clientFor(proxy.endpoint, { maxAttempts: 10, socketTimeout: 2000 });
    const body = randomBytes(12 * MiB + 5);
    await new Upload({ client: c, params: { Bucket: bucket, Key: 'big.bin', Body: body }, partSize: 5 * MiB, queueSize: 2 }).done();
    expect(proxy.injected.slowdown + proxy.injected.internal + proxy.injected.reset + proxy.injected.stall).toBeGreaterThanOrEqual(2);
    proxy.setPlan(() => null);
    expect(sha((await getBytes(c, bucket, 'big.bin')).bytes)).toBe(sha(body));
  }, 120_000);

  it('a CompleteMultipartUpload whose answer is lost: how the server takes the retry', async () => {
    const bucket = await s3.createBucket('fp-complete');
    let completes = 0;
    const proxy = await proxyTo({
      plan: ({ method, url }) => (method === 'POST' && url.includes('uploadId=') && ++completes === 1 ? 'reset' : null),
      resetFlavours: ['afterUpstream'],
    });
    const c = clientFor(proxy.endpoint, { maxAttempts: 3, socketTimeout: 2000 });
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' }));
    const part = await c.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: 1, Body: 'only part' }));
    const outcome = await c
      .send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))
      .then((r) => `ok etag=${JSON.stringify(r.ETag)}`, (x: unknown) => `error ${(x as Error).name}`);
    console.log(`[${s3.kind}] retried CompleteMultipartUpload after a lost answer: ${outcome}`);
    expect(proxy.resets.afterUpstream).toBe(1);
    expect(completes).toBe(2);
    // the first attempt completed the upload, whatever the retry was told
    const got = await getBytes(s3.client(), bucket, 'k');
    expect(Buffer.from(got.bytes).toString()).toBe('only part');
  }, 60_000);

  it('requestTimeout alone does not abandon a stalled request (socketTimeout does)', async () => {
    // @smithy/node-http-handler 4.x: requestTimeout is a whole-request timer that only logs a
    // warning unless throwOnRequestTimeout is set; the idle-socket timeout is socketTimeout.
    const bucket = await s3.createBucket('fp-timeouts');
    const proxy = await proxyTo({ plan: () => 'stall', stallMs: 30_000 });
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const c = new S3Client({
      endpoint: proxy.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
      maxAttempts: 1,
      logger: quiet,
      requestHandler: new NodeHttpHandler({ requestTimeout: 500, logger: quiet }),
    });
    cleanups.push(() => c.destroy());
    const pending = c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })).then(
      () => 'answered',
      () => 'failed',
    );
    expect(await Promise.race([pending, sleep(3000).then(() => 'still waiting')])).toBe('still waiting');
    // close() ends stalled sockets: the request fails now instead of after stallMs
    const t0 = Date.now();
    await proxy.close();
    expect(await pending).toBe('failed');
    expect(Date.now() - t0).toBeLessThan(2000);
  }, 30_000);

  it('survives a seeded random mix of faults over many requests', async () => {
    const proxy = await proxyTo({ plan: seededRandomPlan(7, 0.2), stallMs: 20_000 });
    const c = clientFor(proxy.endpoint, { maxAttempts: 10, socketTimeout: 600 });
    const bucket = await s3.createBucket('fp-random');
    const objects = new Map(Array.from({ length: 30 }, (_, i) => [`r/${i}`, randomBytes(500 + i * 4001)] as const));
    for (const [key, body] of objects) await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    for (const [key, body] of objects) expect(sha((await getBytes(c, bucket, key)).bytes), key).toBe(sha(body));
    for (const f of ['slowdown', 'internal', 'reset', 'stall'] as const) expect(proxy.injected[f], f).toBeGreaterThan(0);
    expect(proxy.requests).toBeGreaterThan(60);
  }, 180_000);
});

/**
 * The S3 server a test file talks to. By default fauxqs runs in this process on a loopback
 * port: fast, in memory, nothing to install, and it dies with the test. When
 * KLOSET_TEST_S3_ENDPOINT is set (scripts/test.sh sets it for the radosgw conformance pass) the
 * same tests run against that server instead, so one suite checks the connectors against an
 * emulator and a real S3 implementation.
 *
 * Each test makes its own fresh bucket with `createBucket`, so tests (and test files running in
 * parallel against one shared external server) never see each other's objects; `stop` deletes
 * those buckets again, because an external server outlives the test process.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface TestS3 {
  kind: 'fauxqs' | 'radosgw' | 'external';
  /** e.g. http://127.0.0.1:PORT */
  endpoint: string;
  /** '127.0.0.1:PORT', for s3://host:port/bucket locations */
  host: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /**
   * The largest single PUT the server takes: fauxqs caps request bodies at 11 MiB (a Fastify
   * limit, not an S3 one), real servers take 5 GiB. A 413 above this is the emulator, not a bug.
   */
  maxPutBytes: number;
  /** path-style, pointed at endpoint, static credentials; one shared client, destroyed by stop() */
  client(): S3Client;
  /** a fresh, uniquely named, S3-valid bucket; deleted again by stop() */
  createBucket(prefix?: string): Promise<string>;
  /** deletes the buckets it created (objects, versions, unfinished uploads), stops what it started */
  stop(): Promise<void>;
}

// The SDK warns on Node 20 that releases after January 2027 need Node 22; the pinned version
// runs here, and the warning would be printed once per test file.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const REGION = 'us-east-1';
/** radosgw answers the first CreateBucket only once its placement groups have peered (~3 s) */
const CREATE_BUCKET_PATIENCE_MS = 60_000;

/** `env` is only a parameter so a test can exercise the external-server branch. */
export async function startTestS3(env: NodeJS.ProcessEnv = process.env): Promise<TestS3> {
  const external = env.KLOSET_TEST_S3_ENDPOINT;
  if (external) {
    const kind = env.KLOSET_TEST_S3_KIND === 'radosgw' ? 'radosgw' : 'external';
    return makeTestS3({
      kind,
      endpoint: external.replace(/\/+$/, ''),
      accessKey: env.KLOSET_TEST_S3_ACCESS_KEY ?? 'TESTAK',
      secretKey: env.KLOSET_TEST_S3_SECRET_KEY ?? 'TESTSK',
      maxPutBytes: 5 * 1024 ** 3,
      stopServer: async () => {},
    });
  }
  // Imported lazily: runs against an external server need not load the emulator.
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false });
  // fauxqs' own startFauxqs() binds 0.0.0.0; tests bind loopback only.
  const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
  return makeTestS3({
    kind: 'fauxqs',
    endpoint,
    // fauxqs does not check signatures; any static pair works
    accessKey: 'FAUXQSAK',
    secretKey: 'FAUXQSSK',
    maxPutBytes: 11 * 1024 * 1024,
    stopServer: () => app.close(),
  });
}

interface Setup {
  kind: TestS3['kind'];
  endpoint: string;
  accessKey: string;
  secretKey: string;
  maxPutBytes: number;
  stopServer: () => Promise<void>;
}

let bucketCounter = 0;

/** S3 rules: 3–63 of [a-z0-9-], starting and ending with a letter or digit, no `xn--` prefix. */
export function uniqueBucketName(prefix = 'kt'): string {
  let p = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24);
  if (!p || p.startsWith('xn--')) p = `k${p}`;
  // pid + time + counter + random: unique across the parallel test processes sharing one server
  const suffix = `${process.pid.toString(36)}-${Date.now().toString(36)}-${(bucketCounter++).toString(36)}${randomBytes(2).toString('hex')}`;
  return `${p}-${suffix}`.replace(/-+$/, '');
}

function makeTestS3(s: Setup): TestS3 {
  const host = new URL(s.endpoint).host;
  const created: string[] = [];
  let client: S3Client | undefined;
  let stopped = false;
  const getClient = (): S3Client => {
    if (stopped) throw new Error('TestS3: client() after stop()');
    client ??= new S3Client({
      endpoint: s.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
      maxAttempts: 5,
      // Ceph 16 rejects the aws-chunked bodies the SDK sends for its default CRC32 trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }), connectionTimeout: 5000 }),
    });
    return client;
  };

  return {
    kind: s.kind,
    endpoint: s.endpoint,
    host,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: REGION,
    maxPutBytes: s.maxPutBytes,
    client: getClient,
    async createBucket(prefix?: string): Promise<string> {
      const name = uniqueBucketName(prefix);
      await createWithPatience(getClient(), name);
      created.push(name);
      return name;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      const failures: string[] = [];
      // fauxqs cannot list unfinished multipart uploads, so a bucket holding one cannot be
      // deleted through the API; its memory goes with the server, so that is not worth a warning.
      const mustClean = s.kind !== 'fauxqs';
      if (client || created.length) {
        const c = getClient();
        for (const bucket of created.splice(0)) {
          try {
            await deleteBucketDeep(c, bucket);
          } catch (e) {
            failures.push(`${bucket}: ${(e as Error).name}: ${(e as Error).message}`);
          }
        }
      }
      stopped = true;
      client?.destroy();
      await s.stopServer();
      if (mustClean && failures.length) console.warn(`TestS3 (${s.kind}): could not delete test buckets:\n  ${failures.join('\n  ')}`);
    },
  };
}

/** CreateBucket, retried while the server is still warming up (5xx, resets, timeouts). */
async function createWithPatience(client: S3Client, bucket: string): Promise<void> {
  const deadline = Date.now() + CREATE_BUCKET_PATIENCE_MS;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2000)) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return;
    } catch (e) {
      // an attempt whose answer was lost may have created it already
      if ((e as Error).name === 'BucketAlreadyOwnedByYou') return;
      if (!isTransientS3Error(e) || Date.now() + wait > deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Worth another try: 5xx, throttling, and network failures that never produced a status. */
export function isTransientS3Error(e: unknown): boolean {
  const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429 || err.name === 'SlowDown';
  return true; // no HTTP answer at all: refused, reset, timed out
}

/**
 * Empties and deletes a bucket: objects, object versions and delete markers (if a test turned
 * versioning on), unfinished multipart uploads (they keep a bucket "not empty" on real servers
 * and cost storage on AWS). Repeats a few times because a cancelled upload may still be landing.
 */
export async function deleteBucketDeep(client: S3Client, bucket: string): Promise<void> {
  for (let round = 1; ; round++) {
    await deleteAllObjects(client, bucket);
    await deleteAllVersions(client, bucket);
    await abortAllUploads(client, bucket);
    try {
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      return;
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'NoSuchBucket') return;
      if (round >= 3 || (name !== 'BucketNotEmpty' && !isTransientS3Error(e))) throw e;
      await new Promise((r) => setTimeout(r, 500 * round));
    }
  }
}

async function deleteKeys(client: S3Client, bucket: string, objects: ObjectIdentifier[]): Promise<void> {
  for (let i = 0; i < objects.length; i += 1000) {
    const out = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000), Quiet: true } }));
    const failed = out.Errors ?? [];
    if (failed.length) throw new Error(`DeleteObjects: ${failed.length} failed, first ${failed[0]?.Key}: ${failed[0]?.Code}`);
  }
}

async function deleteAllObjects(client: S3Client, bucket: string): Promise<void> {
  // Listing and deleting page by page would skip keys as the listing shifts; collect first.
  const keys: ObjectIdentifier[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push({ Key: o.Key });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await deleteKeys(client, bucket, keys);
}

async function deleteAllVersions(client: S3Client, bucket: string): Promise<void> {
  const versions: ObjectIdentifier[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  try {
    do {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (v.Key !== undefined && v.VersionId) versions.push({ Key: v.Key, VersionId: v.VersionId });
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      versionMarker = more ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
  } catch (e) {
    // Servers without versioning (emulators) may refuse the listing: nothing versioned there.
    if (isTransientS3Error(e)) throw e;
    return;
  }
  await deleteKeys(client, bucket, versions);
}

async function abortAllUploads(client: S3Client, bucket: string): Promise<void> {
  const uploads: { Key: string; UploadId: string }[] = [];
  let keyMarker: string | undefined;
  let uploadMarker: string | undefined;
  try {
    do {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadMarker }));
      for (const u of page.Uploads ?? []) if (u.Key !== undefined && u.UploadId) uploads.push({ Key: u.Key, UploadId: u.UploadId });
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  } catch (e) {
    if (isTransientS3Error(e)) throw e;
    return;
  }
  for (const u of uploads) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    } catch (e) {
      if ((e as Error).name !== 'NoSuchUpload') throw e;
    }
  }
}

/**
 * The S3 client every connector uses, built from S3Options: keep-alive sockets sized for
 * parallel transfers, the SDK's retries (throttling 503s, 500s, resets) with enough attempts to
 * ride out a flaky network, a socket timeout so a stalled connection is retried rather than
 * waited on forever, and the bucket's region found once when it was not given.
 *
 * Checksums: the SDK's default CRC32 trailers are turned off (`WHEN_REQUIRED`) because
 * S3-compatible servers (Ceph 16, older MinIO) reject aws-chunked uploads; every object the
 * engine reads is verified by its own MAC anyway.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3Options } from './options.js';
import { httpStatus } from './errors.js';

// The SDK warns on Node 20 that releases after January 2027 will need Node 22. The version in
// package-lock.json runs here; a warning on every CLI run would only teach users to ignore stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3ClientTuning {
  /** parallel sockets (default 64) */
  maxSockets?: number;
  /** SDK attempts per request, including the first (default 10) */
  maxAttempts?: number;
  /**
   * ms without any socket activity before a request is abandoned and retried (default 60 s): a
   * stalled server or path costs this long, never forever; a slow but moving upload is fine
   */
  idleTimeoutMs?: number;
  /** ms to establish a connection (default 10 s) */
  connectionTimeoutMs?: number;
}

export function makeS3Client(o: S3Options, t: S3ClientTuning = {}, region = o.region ?? 'us-east-1'): S3Client {
  const maxSockets = t.maxSockets ?? 64;
  const config: S3ClientConfig = {
    endpoint: o.endpoint,
    region,
    forcePathStyle: o.forcePathStyle,
    followRegionRedirects: true,
    maxAttempts: t.maxAttempts ?? 10,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: t.connectionTimeoutMs ?? 10_000,
      // socketTimeout is inactivity; the handler's requestTimeout would bound the whole request
      // (a large part on a slow link) and only warns unless told to throw
      socketTimeout: t.idleTimeoutMs ?? 60_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, rejectUnauthorized: !o.tlsInsecureNoVerify }),
    }),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
  };
  return new S3Client(config);
}

/**
 * A client in the bucket's region. AWS tells the region in `x-amz-bucket-region` on HeadBucket
 * (also on its 301/403 answers); self-hosted servers accept any region, so it is only asked
 * when the endpoint is AWS and no region was given.
 */
export async function connectS3(o: S3Options, t: S3ClientTuning = {}): Promise<{ client: S3Client; region: string }> {
  const client = makeS3Client(o, t);
  if (o.region || !/amazonaws\.com/i.test(o.host)) return { client, region: o.region ?? 'us-east-1' };
  let found: string | undefined;
  try {
    found = (await client.send(new HeadBucketCommand({ Bucket: o.bucket }))).BucketRegion;
  } catch (e) {
    const headers = (e as { $response?: { headers?: Record<string, string> } }).$response?.headers;
    found = headers?.['x-amz-bucket-region'];
    if (!found && httpStatus(e) === undefined) throw e;
  }
  if (!found || found === 'us-east-1') return { client, region: 'us-east-1' };
  client.destroy();
  return { client: makeS3Client(o, t, found), region: found };
}

/**
 * Aborting a multipart upload until it is gone (src/connectors/s3/abort-upload.ts), against the
 * test S3 server: an aborted upload is no longer listed, aborting a gone one is not an error, a
 * failed abort is retried, and an abort that never works is reported, not swallowed.
 */
import { randomBytes } from 'node:crypto';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortMultipartUpload } from '../../src/connectors/s3/abort-upload.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';

let s3: TestS3;
/** whether the server lists open uploads (radosgw and AWS do; the in-process emulator does not) */
let listsUploads = false;
beforeAll(async () => {
  s3 = await startTestS3();
  const probe = await s3.createBucket('probe');
  await openUpload(probe, 'p');
  listsUploads = (await openUploads(probe)) === 1;
  if (!listsUploads) console.log('this S3 server does not list open multipart uploads: the listing checks run in the radosgw pass');
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

async function openUpload(bucket: string, key: string): Promise<string> {
  const { UploadId } = await s3.client().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  await s3.client().send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(5 << 20) }));
  return UploadId!;
}

async function openUploads(bucket: string): Promise<number> {
  return (await s3.client().send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
}

/** The real client, except that the first `failures` AbortMultipartUpload calls fail like a 500. */
function failingAborts(failures: number): { client: S3Client; aborts: () => number } {
  const real = s3.client();
  let aborts = 0;
  const client = {
    send(cmd: { constructor: { name: string } }) {
      if (cmd.constructor.name === 'AbortMultipartUploadCommand' && aborts++ < failures) {
        return Promise.reject(Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }));
      }
      return real.send(cmd as never);
    },
  } as unknown as S3Client;
  return { client, aborts: () => aborts };
}

const noWait = async () => undefined;

describe('abortMultipartUpload', () => {
  it('leaves no open upload, and a second abort of the same upload is not an error', async () => {
    const bucket = await s3.createBucket('abort1');
    const UploadId = await openUpload(bucket, 'a/big.bin');
    if (listsUploads) expect(await openUploads(bucket)).toBe(1);
    await abortMultipartUpload(s3.client(), { Bucket: bucket, Key: 'a/big.bin', UploadId });
    expect(await openUploads(bucket)).toBe(0);
    await expect(abortMultipartUpload(s3.client(), { Bucket: bucket, Key: 'a/big.bin', UploadId })).resolves.toBeUndefined();
  });

  it('retries an abort that failed, until the upload is gone', async () => {
    const bucket = await s3.createBucket('abort2');
    const UploadId = await openUpload(bucket, 'big.bin');
    const f = failingAborts(2);
    await abortMultipartUpload(f.client, { Bucket: bucket, Key: 'big.bin', UploadId }, noWait);
    expect(f.aborts()).toBe(3);
    expect(await openUploads(bucket)).toBe(0);
  });

  it('reports an abort that never works (the upload is still open)', async () => {
    const bucket = await s3.createBucket('abort3');
    const UploadId = await openUpload(bucket, 'big.bin');
    const f = failingAborts(Infinity);
    await expect(abortMultipartUpload(f.client, { Bucket: bucket, Key: 'big.bin', UploadId }, noWait)).rejects.toThrow(/internal error/);
    expect(f.aborts()).toBe(4);
    if (listsUploads) expect(await openUploads(bucket)).toBe(1);
    await abortMultipartUpload(s3.client(), { Bucket: bucket, Key: 'big.bin', UploadId });
  });
});

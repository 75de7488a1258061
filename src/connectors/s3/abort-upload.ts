/**
 * Aborting a multipart upload so that it is really gone. S3 documents that a part still being
 * uploaded when the abort arrives "might or might not succeed", so an upload may need to be
 * aborted more than once to free everything (a cancelled restore in the radosgw conformance run
 * once left an open upload behind). So: abort, then list the key's open uploads, and abort
 * again while this one is still among them. An abort answered NoSuchUpload means it is gone.
 *
 * Deliberately not linked to a cancel signal: this is what a cancel must still do.
 */
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ErrorCode } from './errors.js';

/** Abort attempts before giving up (the error of the last one is thrown). */
const ATTEMPTS = 4;
/** Wait before checking again, ms (doubled each time: parts in progress need to land). */
const FIRST_WAIT_MS = 100;

export interface UploadRef {
  Bucket: string;
  Key: string;
  UploadId: string;
}

export async function abortMultipartUpload(client: S3Client, ref: UploadRef, wait = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await wait(FIRST_WAIT_MS * 2 ** (attempt - 1));
    try {
      await client.send(new AbortMultipartUploadCommand(ref));
    } catch (e) {
      if (s3ErrorCode(e) === 'NoSuchUpload') return;
      last = e;
      continue;
    }
    try {
      // the key itself sorts first among those with its prefix: its uploads are on page one
      // unless it has over a thousand open at once
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: ref.Bucket, Prefix: ref.Key }));
      if (!open.Uploads?.some((u) => u.UploadId === ref.UploadId)) return;
      last = new Error(`multipart upload ${ref.UploadId} of ${ref.Key} is still listed after its abort`);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

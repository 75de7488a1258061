/**
 * Memory of a restore into a bucket: the S3 destination holds at most its byte budget of object
 * content at once, however many large files the restore starts together.
 *
 * Measured two ways: the destination's own count of the bytes it holds (single PUT bodies and
 * multipart parts, with a high-water mark), and — independently of that count — a proxy between
 * the destination and the server that adds up the request bodies not yet answered (the client
 * holds at least those). Every restored object is compared with its source by SHA-256.
 * Also: an object larger than the whole budget restores; a cancel during large uploads stops
 * promptly and leaves no multipart upload open and no object that is not complete; no
 * MaxListenersExceededWarning during a bucket backup or restore with a cancel signal.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsImporter } from '../../src/connectors/fs/importer.js';
import { S3Destination } from '../../src/connectors/s3/destination.js';
import { parseS3Options } from '../../src/connectors/s3/options.js';
import { S3Source } from '../../src/connectors/s3/source.js';
import { restore } from '../../src/kloset/restore/restore.js';
import { backup } from '../../src/kloset/snapshot/builder.js';
import { SnapshotReader } from '../../src/kloset/snapshot/reader.js';
import { newRepo, tempDir } from '../support/engine.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';

const MiB = 1 << 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** the restore's data set: large files (multipart), medium ones (single PUTs of MiBs), small ones */
const LARGE = 12;
const files = new Map<string, Buffer>();
for (let i = 0; i < LARGE; i++) files.set(`mix/large/obj-${String(i).padStart(2, '0')}.bin`, randomBytes(20 * MiB + i * 4099));
for (let i = 0; i < 4; i++) files.set(`mix/medium/m-${i}.bin`, randomBytes(6 * MiB + i * 131));
for (let i = 0; i < 30; i++) files.set(`mix/small/s-${String(i).padStart(2, '0')}.bin`, randomBytes(1 + ((i * 7919) % 300) * 1024));
files.set('huge/huge.bin', randomBytes(40 * MiB + 7));
const wantSha = new Map([...files].map(([k, v]) => [k, sha(v)]));

let s3: TestS3;
let proxy: CountingProxy;
let snap: SnapshotReader;
let root: string;
let cleanup: () => void;

beforeAll(async () => {
  s3 = await startTestS3();
  proxy = await startCountingProxy(s3.endpoint);
  const t = tempDir();
  cleanup = t.cleanup;
  for (const [rel, body] of files) {
    mkdirSync(join(t.path, rel, '..'), { recursive: true });
    writeFileSync(join(t.path, rel), body);
  }
  const repo = await newRepo();
  const r = await backup(repo, new FsImporter(t.path), {});
  expect(r.progress.errors).toBe(0);
  snap = await SnapshotReader.open(repo, r.snapshotId);
  root = new FsImporter(t.path).root;
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
  cleanup?.();
});

function viaProxy(bucket: string) {
  return parseS3Options({ location: `s3://${proxy.host}/${bucket}`, access_key: s3.accessKey, secret_access_key: s3.secretKey, use_tls: 'false' });
}
function direct(bucket: string) {
  return parseS3Options({ location: `s3://${s3.host}/${bucket}`, access_key: s3.accessKey, secret_access_key: s3.secretKey, use_tls: 'false' });
}

async function listed(bucket: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

async function shaOf(bucket: string, key: string): Promise<string> {
  const got = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha(await got.Body!.transformToByteArray());
}

async function openUploads(bucket: string): Promise<number> {
  const r = await s3.client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return r.Uploads?.length ?? 0;
}

const keysUnder = (prefix: string) => [...files.keys()].filter((k) => k.startsWith(prefix)).sort();

describe('S3 destination memory', () => {
  it('holds at most its byte budget while many large objects restore at once; every byte arrives', async () => {
    const bucket = await s3.createBucket('mem');
    const budget = 64 * MiB;
    const dest = new S3Destination(viaProxy(bucket), { maxBytesInFlight: budget });
    proxy.resetPeak();
    const t0 = Date.now();
    const p = await restore(snap, `${root}/mix`, dest);
    const seconds = (Date.now() - t0) / 1000;
    expect(p.errors).toEqual([]);
    const stats = dest.bytesInFlight;
    const demand = LARGE * 3 * 8 * MiB; // every large file with all its parts buffered, as before
    console.log(`restore of ${files.size - 1} objects (${LARGE} × 20 MiB): ${seconds.toFixed(1)} s; held peak ${(stats.peak / MiB).toFixed(1)} MiB of a ${budget / MiB} MiB budget; request bodies in flight at most ${(proxy.peak / MiB).toFixed(1)} MiB (unbounded it could reach ${demand / MiB} MiB); ${dest.multipartUploadsAtOnce} multipart uploads at once`);
    expect(stats.limit).toBe(budget);
    expect(stats.peak).toBeLessThanOrEqual(budget);
    // the budget was the bound, not a lack of concurrency: several parts were held at once
    expect(stats.peak).toBeGreaterThan(3 * 8 * MiB);
    expect(stats.held).toBe(0);
    // independent of the destination's own count
    expect(proxy.peak).toBeLessThanOrEqual(budget);
    expect(proxy.answered.get('PUT part') ?? 0).toBeGreaterThanOrEqual(LARGE * 3);

    const want = keysUnder('mix/');
    expect(await listed(bucket)).toEqual(want);
    for (const k of want) expect(await shaOf(bucket, k), k).toBe(wantSha.get(k));
    expect(await openUploads(bucket)).toBe(0);
  }, 180_000);

  it('restores an object larger than the whole budget, part after part', async () => {
    const bucket = await s3.createBucket('huge');
    const dest = new S3Destination(viaProxy(bucket), { maxBytesInFlight: 16 * MiB });
    proxy.resetPeak();
    const p = await restore(snap, `${root}/huge`, dest);
    expect(p.errors).toEqual([]);
    expect(dest.bytesInFlight.peak).toBeLessThanOrEqual(16 * MiB);
    expect(proxy.peak).toBeLessThanOrEqual(16 * MiB);
    expect(await listed(bucket)).toEqual(['huge/huge.bin']);
    expect(await shaOf(bucket, 'huge/huge.bin')).toBe(wantSha.get('huge/huge.bin'));

    // a budget below one part is raised to one part: the parts then go one at a time
    const again = await s3.createBucket('huge1');
    const tiny = new S3Destination(viaProxy(again), { maxBytesInFlight: 1 * MiB });
    expect(tiny.bytesInFlight.limit).toBe(8 * MiB);
    proxy.resetPeak();
    expect((await restore(snap, `${root}/huge`, tiny)).errors).toEqual([]);
    expect(tiny.bytesInFlight.peak).toBeLessThanOrEqual(8 * MiB);
    expect(proxy.peak).toBeLessThanOrEqual(8 * MiB);
    expect(await shaOf(again, 'huge/huge.bin')).toBe(wantSha.get('huge/huge.bin'));
    console.log(`40 MiB object: held peak ${(dest.bytesInFlight.peak / MiB).toFixed(1)} MiB with a 16 MiB budget, ${(tiny.bytesInFlight.peak / MiB).toFixed(1)} MiB with 1 MiB (raised to 8)`);
  }, 120_000);

  it('a cancel during large uploads stops promptly: no open multipart upload, no incomplete object, no success', async () => {
    const bucket = await s3.createBucket('cancel');
    const controller = new AbortController();
    const dest = new S3Destination(viaProxy(bucket), { maxBytesInFlight: 64 * MiB, signal: controller.signal });
    let parts = 0;
    let abortedAt = 0;
    proxy.onAnswer = (kind) => {
      if (kind === 'PUT part' && ++parts === 6) {
        abortedAt = Date.now();
        controller.abort();
      }
    };
    try {
      const outcome = await restore(snap, `${root}/mix`, dest, { signal: controller.signal }).then(
        (p) => ({ ok: p }),
        (e: unknown) => ({ error: e }),
      );
      expect(abortedAt, 'the cancel landed during the restore').toBeGreaterThan(0);
      expect('error' in outcome, 'a cancelled restore must not report success').toBe(true);
      // restore() waits for the writes under way (and their clean-up) before it rejects
      expect(dest.bytesInFlight.held, 'nothing held once restore() has returned').toBe(0);
      expect(await openUploads(bucket), 'no open multipart upload once restore() has returned').toBe(0);
      const stopped = Date.now() - abortedAt;
      console.log(`cancel: every upload stopped ${stopped} ms after the abort (${parts} parts answered by then)`);
      expect(stopped, 'the cancel is prompt').toBeLessThan(5000);
    } finally {
      proxy.onAnswer = undefined;
    }
    expect(dest.bytesInFlight.held).toBe(0);
    expect(await openUploads(bucket)).toBe(0);
    // what is there is complete and right; the large objects did not all make it
    const present = await listed(bucket);
    for (const k of present) expect(await shaOf(bucket, k), k).toBe(wantSha.get(k));
    expect(present.filter((k) => k.startsWith('mix/large/')).length).toBeLessThan(LARGE);
  }, 120_000);

  it('prints no MaxListenersExceededWarning during a bucket backup and restore with a cancel signal', async () => {
    const source = await s3.createBucket('wsrc');
    for (let i = 0; i < 80; i++) {
      await s3.client().send(new PutObjectCommand({ Bucket: source, Key: `w/${i}.txt`, Body: randomBytes(2000 + i * 37), ContentType: 'text/plain' }));
    }
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const repo = await newRepo();
      const src = new S3Source(direct(source));
      const r = await backup(repo, src, { signal: controller.signal });
      await src.close();
      expect(r.progress.errors).toBe(0);
      const target = await s3.createBucket('wdst');
      const s = await SnapshotReader.open(repo, r.snapshotId);
      const dest = new S3Destination(direct(target), { unescapeKeys: true, signal: controller.signal });
      const p = await restore(s, '/', dest, { signal: controller.signal });
      expect(p.errors).toEqual([]);
      expect(p.files).toBe(80);
      // process 'warning' is emitted on a later tick
      await new Promise((resolve) => setTimeout(resolve, 50));
      // the cancel signal carries no listener once everything is done
      const { getEventListeners } = await import('node:events');
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
  }, 120_000);
});

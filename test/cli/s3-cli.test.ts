/**
 * The `kloset` command with S3, end to end against a real S3 server: named sources,
 * destinations and stores (`kloset source|destination|store add`, secrets from the environment
 * here; the keychain path is tested in test/host), `backup @bucket` into a local store,
 * `restore -to @bucket` into another bucket with content and metadata intact, a store kept in a
 * bucket, and one clear line for a missing bucket.
 *
 * The CLI runs as an asynchronous child: the S3 server may live in this process (fauxqs), so
 * the event loop must keep running while the child talks to it.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/engine.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';

const bin = fileURLToPath(new URL('../../bin/kloset.js', import.meta.url));
const work = tempDir('kloset-s3-cli-');
let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3();
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  work.cleanup();
});

function run(args: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], {
      env: {
        ...process.env,
        KLOSET_PASSPHRASE: 'cli s3 passphrase',
        PLAKAR_PASSPHRASE: undefined,
        KLOSET_CACHE_DIR: join(work.path, 'cache'),
        KLOSET_CONFIG_DIR: join(work.path, 'config'),
        // no keychain in this test: secrets come from the environment
        DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent',
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('kloset with S3', () => {
  let secretsEnv: Record<string, string>;

  beforeAll(async () => {
    secretsEnv = {
      KLOSET_SOURCE_BUCKET_SECRET_ACCESS_KEY: s3.secretKey,
      KLOSET_DESTINATION_OUT_SECRET_ACCESS_KEY: s3.secretKey,
      KLOSET_STORE_REMOTE_SECRET_ACCESS_KEY: s3.secretKey,
    };
  });

  it('backs up a bucket, lists and reads it, and restores it into another bucket with metadata', async () => {
    const source = await s3.createBucket('clisrc');
    const target = await s3.createBucket('clidst');
    const objects: Record<string, { body: Buffer; type: string; meta?: Record<string, string> }> = {
      'photos/a b+c.jpg': { body: randomBytes(5000), type: 'image/jpeg', meta: { camera: 'x100' } },
      'docs/readme.txt': { body: Buffer.from('read me\n'), type: 'text/plain' },
      'folder/': { body: Buffer.alloc(0), type: 'application/x-directory' },
    };
    for (const [Key, o] of Object.entries(objects)) {
      await s3.client().send(new PutObjectCommand({ Bucket: source, Key, Body: o.body, ContentType: o.type, Metadata: o.meta }));
    }
    const common = [`access_key=${s3.accessKey}`, 'use_tls=false'];
    let r = await run(['source', 'add', 'bucket', `location=s3://${s3.host}/${source}`, ...common]);
    expect(r.status, r.stderr).toBe(0);
    r = await run(['destination', 'add', 'out', `location=s3://${s3.host}/${target}/restored`, ...common]);
    expect(r.status, r.stderr).toBe(0);
    const store = join(work.path, 'store');
    expect((await run(['at', store, 'create'])).status).toBe(0);

    r = await run(['at', store, 'backup', '@bucket'], secretsEnv);
    expect(r.status, r.stderr).toBe(0);
    const id = /([0-9a-f]{64})\s*$/.exec(r.stdout)![1]!;
    r = await run(['at', store, 'ls']);
    expect(r.stdout).toContain(id.slice(0, 8));
    r = await run(['at', store, 'ls', `${id}:/photos`]);
    expect(r.stdout).toContain('a b+c.jpg');
    r = await run(['at', store, 'cat', `${id}:/docs/readme.txt`]);
    expect(r.stdout).toBe('read me\n');

    r = await run(['at', store, 'restore', '-to', '@out', id], secretsEnv);
    expect(r.status, r.stderr).toBe(0);
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: target }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(Object.keys(objects).map((k) => `restored/${k}`).sort());
    for (const [k, o] of Object.entries(objects)) {
      const got = await s3.client().send(new GetObjectCommand({ Bucket: target, Key: `restored/${k}` }));
      expect(md5(await got.Body!.transformToByteArray()), k).toBe(md5(o.body));
      expect(got.ContentType, k).toBe(o.type);
      expect(got.Metadata ?? {}, k).toEqual(o.meta ?? {});
    }
  }, 120_000);

  it('makes a ptar archive of a bucket (kloset ptar -o FILE @source) that lists and reads back', async () => {
    const source = await s3.createBucket('ptarsrc');
    const body = randomBytes(300_000);
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'data/blob.bin', Body: body, ContentType: 'application/octet-stream' }));
    await s3.client().send(new PutObjectCommand({ Bucket: source, Key: 'note.txt', Body: 'a note\n', ContentType: 'text/plain' }));
    let r = await run(['source', 'add', 'forptar', `location=s3://${s3.host}/${source}`, `access_key=${s3.accessKey}`, 'use_tls=false']);
    expect(r.status, r.stderr).toBe(0);
    const archive = join(work.path, 'bucket.ptar');
    r = await run(['ptar', '-o', archive, '@forptar'], { KLOSET_SOURCE_FORPTAR_SECRET_ACCESS_KEY: s3.secretKey });
    expect(r.status, r.stderr).toBe(0);
    const id = /([0-9a-f]{64})\s*$/.exec(r.stdout)![1]!;
    r = await run(['at', archive, 'cat', `${id}:/note.txt`]);
    expect(r.stdout).toBe('a note\n');
    r = await run(['at', archive, 'check']);
    expect(r.status, r.stderr).toBe(0);
    const out = join(work.path, 'from-ptar');
    r = await run(['at', archive, 'restore', '-to', out, `${id}:/data`]);
    expect(r.status, r.stderr).toBe(0);
    expect(md5(readFileSync(join(out, 'data', 'blob.bin')))).toBe(md5(body));
  }, 120_000);

  it('keeps a store in a bucket (@store) and backs up a local folder into it', async () => {
    const bucket = await s3.createBucket('clistore');
    let r = await run(['store', 'add', 'remote', `location=s3://${s3.host}/${bucket}/kloset`, `access_key=${s3.accessKey}`, 'use_tls=false']);
    expect(r.status, r.stderr).toBe(0);
    r = await run(['at', '@remote', 'create'], secretsEnv);
    expect(r.status, r.stderr).toBe(0);
    const dir = join(work.path, 'local-src');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub/file.txt'), 'local content');
    r = await run(['at', '@remote', 'backup', dir], secretsEnv);
    expect(r.status, r.stderr).toBe(0);
    const id = /([0-9a-f]{64})\s*$/.exec(r.stdout)![1]!;
    const out = join(work.path, 'restored-local');
    r = await run(['at', '@remote', 'restore', '-to', out, `${id}:${dir}/sub`], secretsEnv);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'sub/file.txt'), 'utf8')).toBe('local content');
    r = await run(['at', '@remote', 'check'], secretsEnv);
    expect(r.status, r.stderr + r.stdout).toBe(0);
  }, 120_000);

  it('a missing secret, an unknown name and a missing bucket each get one clear line', async () => {
    const store = join(work.path, 'store2');
    expect((await run(['at', store, 'create'])).status).toBe(0);
    let r = await run(['at', store, 'backup', '@bucket']); // secret not in env, no keychain
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/secret_access_key|keychain/);
    expect(r.stderr).not.toMatch(/passphrase/i);
    r = await run(['at', store, 'backup', '@nosuch']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no source named 'nosuch'/);
    r = await run(['source', 'add', 'gone', `location=s3://${s3.host}/no-such-bucket-here`, `access_key=${s3.accessKey}`, 'use_tls=false']);
    expect(r.status, r.stderr).toBe(0);
    r = await run(['at', store, 'backup', '@gone'], { KLOSET_SOURCE_GONE_SECRET_ACCESS_KEY: s3.secretKey });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/bucket 'no-such-bucket-here' does not exist/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});

/**
 * The S3 location/options model (pure parsing, no server) and the key ↔ path mapping that makes
 * every S3 key round-trip through a snapshot.
 */
import { describe, expect, it } from 'vitest';
import { KlosetError } from '../../src/kloset/base/errors.js';
import { displayLocation, parseS3Options } from '../../src/connectors/s3/options.js';
import { keyToPath, pathToKey } from '../../src/connectors/s3/key-path.js';
import { metadataToXattrs, xattrsToMetadata } from '../../src/connectors/s3/metadata.js';
import { assertSafeSnapshotPath, cleanPath } from '../../src/kloset/snapshot/vfs/paths.js';

const keys = { access_key: 'AK', secret_access_key: 'SK' };

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof KlosetError ? `${e.code}: ${e.message}` : `other: ${String(e)}`;
  }
  return 'no error';
}

describe('parseS3Options', () => {
  it('reads host, port, bucket and prefix from the location', () => {
    const o = parseS3Options({ location: 's3://127.0.0.1:9000/bucket/a/b/', use_tls: 'false', ...keys });
    expect(o).toMatchObject({ endpoint: 'http://127.0.0.1:9000', host: '127.0.0.1:9000', bucket: 'bucket', prefix: 'a/b/', useTls: false, forcePathStyle: true });
    expect(o.credentials).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    expect(displayLocation(o)).toBe('s3://127.0.0.1:9000/bucket/a/b');
    expect(parseS3Options({ location: 's3://h/b', ...keys }).prefix).toBe('');
    expect(parseS3Options({ location: 's3://h/b/', ...keys }).prefix).toBe('');
    expect(parseS3Options({ location: 's3://h/b//x//', ...keys }).prefix).toBe('x/');
  });

  it('defaults to TLS, as plakar does, and parses booleans like Go', () => {
    expect(parseS3Options({ location: 's3://minio.lan/b', ...keys }).endpoint).toBe('https://minio.lan');
    expect(parseS3Options({ location: 's3://h/b', use_tls: 'F', ...keys }).useTls).toBe(false);
    expect(parseS3Options({ location: 's3://h/b', tls_insecure_no_verify: 'true', ...keys }).tlsInsecureNoVerify).toBe(true);
    expect(code(() => parseS3Options({ location: 's3://h/b', use_tls: 'yes', ...keys }))).toMatch(/UNSUPPORTED: S3: use_tls=yes is not a boolean/);
  });

  it('addresses AWS virtual-host style and self-hosted servers path style, overridable', () => {
    expect(parseS3Options({ location: 's3://s3.eu-west-3.amazonaws.com/b', ...keys })).toMatchObject({ forcePathStyle: false, region: 'eu-west-3' });
    expect(parseS3Options({ location: 's3://s3.amazonaws.com/b', ...keys })).toMatchObject({ forcePathStyle: false });
    expect(parseS3Options({ location: 's3://s3.amazonaws.com/b', ...keys }).region).toBeUndefined();
    expect(parseS3Options({ location: 's3://s3.amazonaws.com/my.dotted.bucket', ...keys }).forcePathStyle).toBe(true);
    expect(parseS3Options({ location: 's3://acct.r2.cloudflarestorage.com/b', region: 'auto', ...keys })).toMatchObject({ forcePathStyle: true, region: 'auto' });
    expect(parseS3Options({ location: 's3://minio.lan/b', addressing: 'virtual', ...keys }).forcePathStyle).toBe(false);
    expect(parseS3Options({ location: 's3://minio.lan/b', virtual_host: 'true', ...keys }).forcePathStyle).toBe(false);
    expect(parseS3Options({ location: 's3://s3.amazonaws.com/b', addressing: 'path', ...keys }).forcePathStyle).toBe(true);
  });

  it('endpoint overrides the host; storage classes are checked', () => {
    const o = parseS3Options({ location: 's3://ignored/b', endpoint: 'https://s3.wasabisys.com/', storage_class: 'standard_ia', ...keys });
    expect(o).toMatchObject({ endpoint: 'https://s3.wasabisys.com', storageClass: 'STANDARD_IA' });
    expect(code(() => parseS3Options({ location: 's3://h/b', storage_class: 'COLD', ...keys }))).toMatch(/unknown storage_class 'COLD'/);
  });

  it('uses the SDK credential chain without keys, and refuses half a key pair', () => {
    expect(parseS3Options({ location: 's3://h/b' }).credentials).toBeUndefined();
    expect(parseS3Options({ location: 's3://h/b', profile: 'work' }).profile).toBe('work');
    expect(code(() => parseS3Options({ location: 's3://h/b', access_key: 'AK' }))).toMatch(/^AUTH: .*secret_access_key is missing/);
    expect(code(() => parseS3Options({ location: 's3://h/b', secret_access_key: 'SK' }))).toMatch(/^AUTH/);
    const withToken = parseS3Options({ location: 's3://h/b', ...keys, session_token: 'T' });
    expect(withToken.credentials?.sessionToken).toBe('T');
  });

  it('takes an SSE-C key only when it is the base64 of 32 bytes', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(parseS3Options({ location: 's3://h/b', sse_customer_key: key, ...keys }).sseCustomerKey).toBe(key);
    expect(code(() => parseS3Options({ location: 's3://h/b', sse_customer_key: Buffer.alloc(16).toString('base64'), ...keys }))).toMatch(/32-byte key/);
    expect(code(() => parseS3Options({ location: 's3://h/b', sse_customer_key: '!!!', ...keys }))).toMatch(/32-byte key/);
  });

  it('refuses malformed locations and unknown options with one clear line', () => {
    expect(code(() => parseS3Options({ location: 'http://h/b', ...keys }))).toMatch(/is not s3:\/\/host/);
    expect(code(() => parseS3Options({ location: 's3://h', ...keys }))).toMatch(/names no bucket/);
    expect(code(() => parseS3Options({ location: 's3://h/Bad Bucket!', ...keys }))).toMatch(/not a valid bucket name/);
    expect(code(() => parseS3Options({ ...keys } as Record<string, string>))).toMatch(/location=s3:\/\/.* is required/);
    expect(code(() => parseS3Options({ location: 's3://h/b', acces_key: 'typo' }))).toMatch(/unknown S3 option 'acces_key'/);
    expect(code(() => parseS3Options({ location: 's3://h/b', addressing: 'weird', ...keys }))).toMatch(/addressing must be/);
  });
});

describe('S3 keys as snapshot paths', () => {
  const hostile = [
    'plain.txt', 'dir/file', 'with space/and+plus', 'unicode/é中文🙂', 'percent/%41%2F%', '100%', 'a//b', '/leading', 'folder/',
    'trailing//', '.', '..', 'a/./b', 'a/../b', '%', '%%', '%.', '%..', '%%%..', '...', 'x/%/y', `long/${'k'.repeat(1000)}`, '///',
  ];

  it('round-trips every key exactly, one-to-one', () => {
    const paths = new Set<string>();
    for (const k of hostile) {
      const p = keyToPath(k);
      expect(pathToKey(p), k).toBe(k);
      paths.add(p);
    }
    expect(paths.size).toBe(hostile.length);
  });

  it('gives clean, safe snapshot paths (nothing empty, "." or "..")', () => {
    for (const k of hostile) {
      const p = keyToPath(k);
      expect(cleanPath(p), k).toBe(p);
      expect(() => assertSafeSnapshotPath(p), k).not.toThrow();
    }
  });

  it('keeps plain keys as /<key>, as plakar records them', () => {
    expect(keyToPath('photos/2024/a b+c.jpg')).toBe('/photos/2024/a b+c.jpg');
    expect(keyToPath('folder/')).toBe('/folder/%');
    expect(pathToKey('/x/y', 'restored/')).toBe('restored/x/y');
  });
});

describe('S3 metadata as xattrs', () => {
  it('round-trips Content-Type, user metadata and the rest', () => {
    const expires = new Date('2030-01-02T03:04:05Z');
    const x = metadataToXattrs({
      ContentType: 'image/png', CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="a.png"',
      ContentEncoding: 'gzip', ContentLanguage: 'fr', Expires: expires, ETag: '"abc"', Metadata: { Owner: 'ann', 'x-y': 'z' },
    }, 'STANDARD_IA');
    expect(x.get('user.s3.content-type')).toBe('image/png');
    expect(x.get('user.s3.meta.owner')).toBe('ann');
    expect(x.get('user.s3.storage-class')).toBe('STANDARD_IA');
    const back = xattrsToMetadata(x);
    expect(back).toEqual({
      ContentType: 'image/png', CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="a.png"',
      ContentEncoding: 'gzip', ContentLanguage: 'fr', Expires: expires, StorageClass: 'STANDARD_IA', Metadata: { owner: 'ann', 'x-y': 'z' },
    });
  });
});

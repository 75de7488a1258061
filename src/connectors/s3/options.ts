/**
 * One S3 location and options model for the storage, source and destination connectors, as
 * plakar's S3 integration writes them (spec §15.1): `location=s3://host[:port]/bucket[/prefix]`,
 * `access_key`, `secret_access_key`, `use_tls` (default true), `tls_insecure_no_verify`,
 * `storage_class` — plus what AWS, MinIO, Ceph, R2 and Wasabi users need and plakar lacks:
 * `region` (else found from the bucket), `addressing=auto|path|virtual` (plakar's
 * `virtual_host=true` is accepted too), `session_token`, `endpoint` (overrides the URL's host), and
 * the AWS SDK's standard credential chain (environment, ~/.aws profiles, `profile=`) when no keys
 * are given. Parsing is pure: nothing here talks to the network.
 */
import { KlosetError } from '../../kloset/base/errors.js';

export const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING',
  'GLACIER', 'GLACIER_IR', 'DEEP_ARCHIVE', 'EXPRESS_ONEZONE', 'OUTPOSTS', 'SNOW',
] as const;
export type StorageClassName = (typeof STORAGE_CLASSES)[number];

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Options {
  /** scheme + host[:port], e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000` */
  endpoint: string;
  /** host[:port] as written in the location (for display and the header's origin) */
  host: string;
  bucket: string;
  /** key prefix: '' or 'a/b/' (no leading '/', always a trailing '/') */
  prefix: string;
  useTls: boolean;
  tlsInsecureNoVerify: boolean;
  storageClass?: StorageClassName;
  /** undefined: taken from an AWS host name, else discovered from the bucket */
  region?: string;
  /** path-style requests (`host/bucket/key`) rather than virtual-host (`bucket.host/key`) */
  forcePathStyle: boolean;
  /** static keys; undefined: the SDK's standard chain (env, ~/.aws, instance roles…) */
  credentials?: S3Credentials;
  /** a named profile of ~/.aws/config for the standard chain */
  profile?: string;
  /** SSE-C: base64 of a 256-bit key the server encrypts the store's objects with (plakar's sse_customer_key) */
  sseCustomerKey?: string;
}

/** Option names every S3 connector accepts (others are rejected, so typos do not pass silently). */
export const S3_OPTION_NAMES = new Set([
  'location', 'access_key', 'secret_access_key', 'session_token', 'use_tls', 'tls_insecure_no_verify',
  'storage_class', 'region', 'addressing', 'virtual_host', 'endpoint', 'profile', 'sse_customer_key',
]);

/** The options that are secrets: they live in the OS keychain, never in config files or logs. */
export const S3_SECRET_OPTIONS = new Set(['secret_access_key', 'session_token', 'sse_customer_key']);

const AWS_HOST = /^s3(?:[.-]([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$/;

export function isS3Location(location: string): boolean {
  return /^s3:\/\//i.test(location);
}

/** Parses `location` and the options around it; every mistake is one clear UNSUPPORTED/CORRUPT error. */
export function parseS3Options(params: Readonly<Record<string, string>>): S3Options {
  for (const k of Object.keys(params)) {
    if (!S3_OPTION_NAMES.has(k)) throw new KlosetError('UNSUPPORTED', `unknown S3 option '${k}' (known: ${[...S3_OPTION_NAMES].join(', ')})`);
  }
  const location = params.location;
  if (!location) throw new KlosetError('UNSUPPORTED', 'S3: location=s3://host[:port]/bucket[/prefix] is required');
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(location);
  if (!m) throw new KlosetError('UNSUPPORTED', `S3: location '${location}' is not s3://host[:port]/bucket[/prefix]`);
  let host = m[1]!;
  const path = (m[2] ?? '').replace(/^\/+/, '');
  const slash = path.indexOf('/');
  const bucket = slash < 0 ? path : path.slice(0, slash);
  const rawPrefix = slash < 0 ? '' : path.slice(slash + 1);
  if (!bucket) throw new KlosetError('UNSUPPORTED', `S3: location '${location}' names no bucket (s3://host/bucket)`);
  if (!/^[a-z0-9][a-z0-9.\-_]{0,254}$/i.test(bucket)) throw new KlosetError('UNSUPPORTED', `S3: '${bucket}' is not a valid bucket name`);
  const prefix = rawPrefix.replace(/^\/+|\/+$/g, '') ? `${rawPrefix.replace(/^\/+|\/+$/g, '')}/` : '';

  const useTls = bool(params, 'use_tls', true);
  const tlsInsecureNoVerify = bool(params, 'tls_insecure_no_verify', false);
  if (params.endpoint) host = params.endpoint.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  const endpoint = `${useTls ? 'https' : 'http'}://${host}`;

  let storageClass: StorageClassName | undefined;
  if (params.storage_class) {
    const sc = params.storage_class.toUpperCase();
    if (!(STORAGE_CLASSES as readonly string[]).includes(sc)) throw new KlosetError('UNSUPPORTED', `S3: unknown storage_class '${params.storage_class}' (${STORAGE_CLASSES.join(', ')})`);
    storageClass = sc as StorageClassName;
  }

  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const aws = AWS_HOST.exec(hostname);
  const region = params.region || (aws?.[1] && aws[1] !== 'external-1' ? aws[1] : undefined);

  let forcePathStyle: boolean;
  const addressing = params.addressing ?? (params.virtual_host !== undefined ? (bool(params, 'virtual_host', false) ? 'virtual' : 'path') : 'auto');
  if (addressing === 'path') forcePathStyle = true;
  else if (addressing === 'virtual') forcePathStyle = false;
  else if (addressing === 'auto') {
    // AWS wants virtual-host requests (path style is deprecated there) unless the bucket name
    // has dots, which break the *.s3 TLS certificate; self-hosted servers (MinIO, Ceph, IPs,
    // localhost, custom ports) answer path-style, which needs no wildcard DNS.
    forcePathStyle = !aws || (useTls && bucket.includes('.'));
  } else throw new KlosetError('UNSUPPORTED', `S3: addressing must be auto, path or virtual (not '${addressing}')`);

  let credentials: S3Credentials | undefined;
  if (params.access_key) {
    if (!params.secret_access_key) {
      throw new KlosetError('AUTH', `S3: access_key ${params.access_key} is set but its secret_access_key is missing (add it to the keychain with 'kloset store|source|destination add', or set it in the environment)`);
    }
    credentials = { accessKeyId: params.access_key, secretAccessKey: params.secret_access_key, ...(params.session_token ? { sessionToken: params.session_token } : {}) };
  } else if (params.secret_access_key) {
    throw new KlosetError('AUTH', 'S3: secret_access_key is set without access_key');
  }

  const sse = params.sse_customer_key;
  if (sse !== undefined && sse !== '') {
    let raw: Uint8Array;
    try {
      raw = Uint8Array.from(atob(sse), (c) => c.charCodeAt(0));
    } catch {
      raw = new Uint8Array(0);
    }
    if (raw.length !== 32) throw new KlosetError('UNSUPPORTED', 'S3: sse_customer_key must be the base64 of a 32-byte key');
  }

  return {
    endpoint, host, bucket, prefix, useTls, tlsInsecureNoVerify, forcePathStyle,
    ...(storageClass ? { storageClass } : {}),
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
    ...(params.profile ? { profile: params.profile } : {}),
    ...(sse ? { sseCustomerKey: sse } : {}),
  };
}

function bool(params: Readonly<Record<string, string>>, key: string, dflt: boolean): boolean {
  const v = params[key];
  if (v === undefined || v === '') return dflt;
  // Go's strconv.ParseBool, which plakar uses
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new KlosetError('UNSUPPORTED', `S3: ${key}=${v} is not a boolean (true/false)`);
}

/** `s3://host/bucket/prefix` without secrets, for messages and `Storage.location`. */
export function displayLocation(o: Pick<S3Options, 'host' | 'bucket' | 'prefix'>): string {
  return `s3://${o.host}/${o.bucket}${o.prefix ? `/${o.prefix.replace(/\/$/, '')}` : ''}`;
}

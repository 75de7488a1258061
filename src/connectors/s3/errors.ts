/**
 * S3 failures as KlosetErrors with one clear line each: the user learns whether the bucket is
 * missing, the keys are refused, the endpoint is unreachable or speaks another TLS mode — never
 * a raw SDK dump, and never anything that reads like a wrong passphrase.
 */
import { KlosetError, isKlosetError } from '../../kloset/base/errors.js';

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  cause?: unknown;
}

const AUTH_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'InvalidToken', 'ExpiredToken', 'InvalidSecurity', 'AuthorizationHeaderMalformed']);
const NETWORK_CODES = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError', 'RequestTimeout']);
const TLS_TRUST_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** The S3 error code (NoSuchKey…) or Node's system error code (ECONNREFUSED…), whichever is known. */
export function s3ErrorCode(e: unknown): string {
  const x = (e ?? {}) as SdkError;
  const inner = (x.cause ?? {}) as SdkError;
  return x.Code ?? x.code ?? inner.code ?? x.name ?? '';
}

export function httpStatus(e: unknown): number | undefined {
  const x = (e ?? {}) as SdkError;
  return x.$metadata?.httpStatusCode ?? x.$response?.statusCode;
}

export interface S3ErrorContext {
  endpoint: string;
  bucket: string;
  /** what was being done, e.g. "reading packfiles/ab/…" */
  what: string;
}

export function toS3Error(e: unknown, ctx: S3ErrorContext): KlosetError {
  if (isKlosetError(e)) return e;
  const code = s3ErrorCode(e);
  const status = httpStatus(e);
  const msg = ((e as SdkError)?.message ?? String(e)).split('\n')[0]!;
  const where = `${ctx.endpoint}/${ctx.bucket}`;
  const details = { s3Code: code, httpStatus: status, endpoint: ctx.endpoint, bucket: ctx.bucket };
  const err = (c: ConstructorParameters<typeof KlosetError>[0], m: string) => new KlosetError(c, m, details, { cause: e });

  if (code === 'AbortError' || (e as SdkError)?.name === 'AbortError') return err('CANCELLED', `S3: ${ctx.what}: cancelled`);
  if (code === 'NoSuchBucket') return err('NOT_FOUND', `S3: bucket '${ctx.bucket}' does not exist at ${ctx.endpoint}`);
  if (code === 'NoSuchKey' || (status === 404 && (code === 'NotFound' || code === 'UnknownError' || code === ''))) {
    return err('NOT_FOUND', `S3: ${ctx.what}: no such object in ${where}`);
  }
  if (AUTH_CODES.has(code) || status === 403) {
    return err('AUTH', `S3: ${where} refused the credentials (${code || `HTTP ${status}`}) while ${ctx.what}: check access_key and secret_access_key`);
  }
  if (code === 'InvalidRange' || status === 416) return err('CORRUPT', `S3: ${ctx.what}: range outside the object in ${where}`);
  if (code === 'InvalidObjectState') return err('IO', `S3: ${ctx.what}: the object is archived (GLACIER/DEEP_ARCHIVE) and must be restored in S3 before it can be read`);
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(msg)) {
    return err('IO', `S3: TLS handshake with ${ctx.endpoint} failed (${code || msg}): the server may speak plain HTTP — set use_tls=false`);
  }
  if (TLS_TRUST_CODES.has(code)) {
    return err('IO', `S3: the TLS certificate of ${ctx.endpoint} is not trusted (${code}): install its CA, or set tls_insecure_no_verify=true for a self-signed test server`);
  }
  if (NETWORK_CODES.has(code)) return err('IO', `S3: cannot reach ${ctx.endpoint} (${code}) while ${ctx.what}`);
  if (status === 400 && /https/i.test(msg)) {
    return err('IO', `S3: ${ctx.endpoint} expects HTTPS (HTTP 400: ${msg}): set use_tls=true`);
  }
  if (code === 'SlowDown' || code === 'ServiceUnavailable' || status === 503) {
    return err('IO', `S3: ${where} is throttling requests (${code || 503}) while ${ctx.what}, still after retries`);
  }
  return err('IO', `S3: ${ctx.what} at ${where} failed: ${code ? `${code}: ` : ''}${msg}${status ? ` (HTTP ${status})` : ''}`);
}

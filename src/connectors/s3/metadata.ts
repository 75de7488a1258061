/**
 * An object's S3 metadata as extended attributes of its snapshot entry, so a bucket backup keeps
 * what a restore into a bucket must re-apply (plakar's importer records none of it, spec §15.3).
 *
 * Names live under `user.s3.`: restored into a Linux folder they become real user xattrs, and
 * a later backup of that folder still carries them. Values are UTF-8 text:
 *   user.s3.content-type, .cache-control, .content-disposition, .content-encoding,
 *   .content-language, .expires (HTTP date), .etag (quoted, as S3 returns it),
 *   .storage-class, .meta.<name> (one per x-amz-meta-<name>; S3 lowercases the names).
 */
import type { GetObjectCommandOutput, HeadObjectCommandOutput } from '@aws-sdk/client-s3';

export const XATTR_PREFIX = 'user.s3.';
export const META_PREFIX = `${XATTR_PREFIX}meta.`;

type ObjectHeaders = Pick<
  GetObjectCommandOutput | HeadObjectCommandOutput,
  'ContentType' | 'CacheControl' | 'ContentDisposition' | 'ContentEncoding' | 'ContentLanguage' | 'Expires' | 'ETag' | 'StorageClass' | 'Metadata'
>;

/** The metadata of a GET/HEAD answer as xattr name → value (only what is set). */
export function metadataToXattrs(h: ObjectHeaders, listedStorageClass?: string): Map<string, string> {
  const out = new Map<string, string>();
  const set = (name: string, v: string | undefined) => {
    if (v !== undefined && v !== '') out.set(XATTR_PREFIX + name, v);
  };
  set('content-type', h.ContentType);
  set('cache-control', h.CacheControl);
  set('content-disposition', h.ContentDisposition);
  set('content-encoding', h.ContentEncoding);
  set('content-language', h.ContentLanguage);
  set('expires', h.Expires ? h.Expires.toUTCString() : undefined);
  set('etag', h.ETag);
  // GET omits the class for STANDARD; the listing says it for every object
  set('storage-class', h.StorageClass ?? listedStorageClass);
  for (const [k, v] of Object.entries(h.Metadata ?? {})) out.set(`${META_PREFIX}${k.toLowerCase()}`, v);
  return out;
}

/** What a PutObject/CreateMultipartUpload needs to re-create the metadata recorded in xattrs. */
export interface PutMetadata {
  ContentType?: string;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
  ContentLanguage?: string;
  Expires?: Date;
  StorageClass?: string;
  Metadata?: Record<string, string>;
}

export function xattrsToMetadata(xattrs: ReadonlyMap<string, string>): PutMetadata {
  const m: PutMetadata = {};
  const user: Record<string, string> = {};
  for (const [name, v] of xattrs) {
    if (name.startsWith(META_PREFIX)) {
      user[name.slice(META_PREFIX.length)] = v;
      continue;
    }
    switch (name.slice(XATTR_PREFIX.length)) {
      case 'content-type': m.ContentType = v; break;
      case 'cache-control': m.CacheControl = v; break;
      case 'content-disposition': m.ContentDisposition = v; break;
      case 'content-encoding': m.ContentEncoding = v; break;
      case 'content-language': m.ContentLanguage = v; break;
      case 'expires': {
        const d = new Date(v);
        if (!Number.isNaN(d.getTime())) m.Expires = d;
        break;
      }
      case 'storage-class': m.StorageClass = v; break;
    }
  }
  if (Object.keys(user).length) m.Metadata = user;
  return m;
}

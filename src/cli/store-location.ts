/**
 * `<store>`, source and destination arguments as plakar takes them: a folder path, `fs://path`,
 * `ptar://file.ptar` (a local path ending in .ptar is a ptar too), `s3://host[:port]/bucket[/prefix]`
 * (credentials from the AWS SDK's standard chain), or `@NAME` — a location saved with
 * `kloset store|source|destination add`, whose options and keychain secrets come with it.
 *
 * The S3 connectors (and with them the AWS SDK, ~0.3 s of module loading) are imported only
 * when a location is an s3:// one: local commands start without them.
 */
import { FsDestination } from '../connectors/fs/destination.js';
import { FsImporter } from '../connectors/fs/importer.js';
import { FsStorage } from '../connectors/fs/storage.js';
import { PtarStorage } from '../connectors/ptar/storage.js';
import type { ConflictPolicy } from '../connectors/s3/destination.js';
import { isS3Location, parseS3Options } from '../connectors/s3/options.js';
import { KlosetError } from '../kloset/base/errors.js';
import type { Destination } from '../kloset/restore/restore.js';
import type { Importer } from '../kloset/snapshot/importer.js';
import { CachingStorage } from '../kloset/storage/caching.js';
import { DiskCache, sha256Hex } from '../kloset/storage/node/disk-cache.js';
import type { Storage } from '../kloset/storage/storage.js';
import { isNamedRef, resolveNamed, type LocationKind } from '../host/named.js';
import { localLocation } from './local-location.js';

export type Params = Record<string, string>;

/** The parameters behind an argument: `@NAME` from the config (with its secrets), else `{location}`. */
export async function resolveLocation(kind: LocationKind, arg: string): Promise<Params> {
  return isNamedRef(arg) ? resolveNamed(kind, arg) : { location: arg };
}

/** Options of a location that are not the connector's own. */
function without(params: Params, ...keys: string[]): Params {
  const out = { ...params };
  for (const k of keys) delete out[k];
  return out;
}

/** The storage for a store's parameters, with states cached on local disk (see CachingStorage). */
export async function storageFor(params: Params): Promise<Storage> {
  const location = params.location ?? '';
  let inner: Storage;
  if (isS3Location(location)) {
    const { S3Storage } = await import('../connectors/s3/storage.js');
    inner = new S3Storage(parseS3Options(without(params, 'passphrase')));
  }
  else {
    const loc = localLocation(location);
    inner = loc.kind === 'fs' ? new FsStorage(loc.path) : new PtarStorage(loc.path);
  }
  return new CachingStorage(inner, new DiskCache(), sha256Hex);
}

/** Whether a location names a ptar archive (ptar://… or a local path ending in .ptar). */
export function isPtarLocation(location: string): boolean {
  return !isS3Location(location) && localLocation(location).kind === 'ptar';
}

/** Throws for a ptar location: an archive is written once, whole, by `kloset ptar`. */
export function refuseArchive(params: Params): void {
  const location = params.location ?? '';
  if (!isPtarLocation(location)) return;
  throw new KlosetError('UNSUPPORTED', `${location} is a ptar archive: it cannot be changed once written (make a new one with 'kloset ptar -o FILE.ptar <source>')`);
}

export interface OpenedSource {
  importer: Importer;
  close(): Promise<void>;
}

export async function sourceFor(params: Params): Promise<OpenedSource> {
  const location = params.location ?? '.';
  if (isS3Location(location)) {
    const { S3Source } = await import('../connectors/s3/source.js');
    const s = new S3Source(parseS3Options(params));
    return { importer: s, close: () => s.close() };
  }
  const loc = localLocation(location);
  if (loc.kind !== 'fs') throw new KlosetError('UNSUPPORTED', `cannot back up from ${location}: sources are folders or s3:// buckets`);
  return { importer: new FsImporter(loc.path), close: async () => {} };
}

export interface DestinationChoice {
  conflict?: ConflictPolicy;
  /** the snapshot came from a bucket (its keys were escaped, see connectors/s3/key-path.ts) */
  fromBucket?: boolean;
  signal?: AbortSignal;
}

export async function destinationFor(params: Params, choice: DestinationChoice = {}): Promise<Destination> {
  const location = params.location ?? '.';
  const conflict = (choice.conflict ?? params.conflict) as ConflictPolicy | undefined;
  if (conflict && conflict !== 'overwrite' && conflict !== 'skip-identical') {
    throw new KlosetError('UNSUPPORTED', `conflict must be overwrite or skip-identical (not '${conflict}')`);
  }
  if (isS3Location(location)) {
    const { S3Destination } = await import('../connectors/s3/destination.js');
    return new S3Destination(parseS3Options(without(params, 'conflict')), {
      ...(conflict ? { conflict } : {}),
      unescapeKeys: choice.fromBucket ?? false,
      ...(choice.signal ? { signal: choice.signal } : {}),
    });
  }
  const loc = localLocation(location);
  if (loc.kind !== 'fs') throw new KlosetError('UNSUPPORTED', `cannot restore into ${location}: destinations are folders or s3:// buckets`);
  return new FsDestination(loc.path);
}

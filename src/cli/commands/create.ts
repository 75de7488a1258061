import { KlosetError } from '../../kloset/base/errors.js';
import { nodePrimitives } from '../../kloset/node/primitives.js';
import type { CreateOptions } from '../../kloset/repository/config-file.js';
import { Repository } from '../../kloset/repository/repository.js';
import type { Storage } from '../../kloset/storage/storage.js';
import { parseFlags, type Flags } from '../args.js';
import { readPassphrase } from '../passphrase.js';
import { localLocation } from '../local-location.js';
import { isPtarLocation, resolveLocation, storageFor, type Params } from '../store-location.js';

/** The flags that shape a new store (also taken by `kloset ptar`). */
export const CREATE_FLAGS = { plaintext: 'bool', 'no-compression': 'bool', hashing: 'string', compression: 'string' } as const;

/** kloset at <store> create [-plaintext] [-no-compression] [-hashing sha256|blake3] */
export async function create(store: string, args: string[]): Promise<number> {
  const { flags } = parseFlags(args, CREATE_FLAGS);
  const options = createOptions(flags);
  const params = await resolveLocation('store', store);
  const location = params.location ?? '';
  if (isPtarLocation(location)) {
    // an empty archive could never take a snapshot: a ptar is written whole
    throw new KlosetError('UNSUPPORTED', `${location}: a ptar archive is made with its snapshot in one go: kloset ptar -o ${localLocation(location).path} <source>`);
  }
  const storage = await storageFor(params);
  const repo = await createRepository(storage, params, options);
  process.stdout.write(`created ${repo.encrypted ? 'encrypted' : 'plaintext'} store ${storage.location}\n`);
  await repo.close();
  return 0;
}

/** CREATE_FLAGS as the engine's options. */
export function createOptions(flags: Flags): CreateOptions {
  const hashing = String(flags.hashing ?? 'blake3').toUpperCase();
  if (hashing !== 'BLAKE3' && hashing !== 'SHA256') throw new KlosetError('UNSUPPORTED', `-hashing must be sha256 or blake3`);
  return {
    plaintext: Boolean(flags.plaintext),
    noCompression: Boolean(flags['no-compression']),
    hashing,
    compression: String(flags.compression ?? 'LZ4').toUpperCase() === 'ZSTD' ? 'ZSTD' : 'LZ4',
  };
}

/** A new store in `storage`; the passphrase (twice on a prompt) unless it is plaintext. */
export async function createRepository(storage: Storage, params: Params, options: CreateOptions): Promise<Repository> {
  const passphrase = options.plaintext ? null
    : params.passphrase ? new TextEncoder().encode(params.passphrase)
    : await readPassphrase(`passphrase for the new store ${storage.location}: `, true);
  return Repository.create(storage, nodePrimitives, passphrase, options);
}

import { nodePrimitives } from '../../kloset/node/primitives.js';
import { Repository } from '../../kloset/repository/repository.js';
import { parseFlags } from '../args.js';
import { readPassphrase } from '../passphrase.js';
import { resolveLocation, storageFor } from '../store-location.js';

/** kloset at <store> create [-plaintext] [-no-compression] [-hashing sha256|blake3] */
export async function create(store: string, args: string[]): Promise<number> {
  const { flags } = parseFlags(args, { plaintext: 'bool', 'no-compression': 'bool', hashing: 'string', compression: 'string' });
  const hashing = String(flags.hashing ?? 'blake3').toUpperCase();
  if (hashing !== 'BLAKE3' && hashing !== 'SHA256') throw new Error(`-hashing must be sha256 or blake3`);
  const params = await resolveLocation('store', store);
  const storage = await storageFor(params);
  const passphrase = flags.plaintext ? null
    : params.passphrase ? new TextEncoder().encode(params.passphrase)
    : await readPassphrase(`passphrase for the new store ${storage.location}: `, true);
  const repo = await Repository.create(storage, nodePrimitives, passphrase, {
    plaintext: Boolean(flags.plaintext),
    noCompression: Boolean(flags['no-compression']),
    hashing,
    compression: String(flags.compression ?? 'LZ4').toUpperCase() === 'ZSTD' ? 'ZSTD' : 'LZ4',
  });
  process.stdout.write(`created ${repo.encrypted ? 'encrypted' : 'plaintext'} store ${storage.location}\n`);
  await repo.close();
  return 0;
}

import { toHex } from '../../kloset/base/bytes.js';
import { peekConfigFile } from '../../kloset/repository/config-file.js';
import { isoTime } from '../format.js';
import { resolveLocation, storageFor } from '../store-location.js';

/** kloset at <store> info — CONFIG, readable without the passphrase. */
export async function info(store: string): Promise<number> {
  const storage = await storageFor(await resolveLocation('store', store));
  try {
    const c = peekConfigFile(await storage.open());
    const id = toHex(c.repositoryId);
    const lines = [
      `location: ${storage.location}`,
      `repository id: ${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
      `created: ${isoTime(c.timestamp.sec)}`,
      `encryption: ${c.encryption ? `${c.encryption.dataAlgorithm} (subkeys ${c.encryption.subKeyAlgorithm}, KDF ${c.encryption.kdfParams.kdf})` : 'none'}`,
      `compression: ${c.compression?.algorithm ?? 'none'}`,
      `hashing: ${c.hashing.algorithm}-${c.hashing.bits}`,
      `chunking: ${c.chunking.algorithm} ${c.chunking.minSize}/${c.chunking.normalSize}/${c.chunking.maxSize}`,
      `packfile max size: ${c.packfile.maxSize}`,
      `states: ${(await storage.list('state')).length}, packfiles: ${(await storage.list('packfile')).length}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    await storage.close();
  }
}

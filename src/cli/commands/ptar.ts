import { PtarStorage } from '../../connectors/ptar/storage.js';
import { KlosetError } from '../../kloset/base/errors.js';
import { parseFlags } from '../args.js';
import { localLocation } from '../local-location.js';
import { BACKUP_FLAGS, backupSource } from './backup.js';
import { CREATE_FLAGS, createOptions, createRepository } from './create.js';

/** CONFIG's Packfile.MaxSize in a ptar, as plakar writes it (its one packfile has no limit). */
const UNLIMITED_PACKFILE = (1n << 64n) - 1n;

const USAGE = 'usage: kloset ptar [-plaintext] [-no-compression] [-hashing sha256|blake3] [-tag T] [-name N] -o <file.ptar> <dir | s3://… | @source>';

/**
 * kloset ptar … -o <file.ptar> <source> — plakar's `ptar`: a new single-file archive (spec §1.4)
 * holding one snapshot of the source. The archive's one packfile is written while the backup
 * runs (memory stays bounded whatever its size) into a temporary file beside the target, which
 * takes the target's name only once complete: an interrupted run leaves no archive behind, and
 * an existing file is never replaced. The archive then opens like any store (`kloset at
 * <file.ptar> ls|cat|restore|check|sync …`) but cannot be changed.
 */
export async function ptar(args: string[], argv: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, { ...CREATE_FLAGS, ...BACKUP_FLAGS, o: 'string' });
  const out = flags.o;
  if (typeof out !== 'string' || out === '' || rest.length !== 1) throw new KlosetError('UNSUPPORTED', USAGE);
  const options = { ...createOptions(flags), packfileMaxSize: UNLIMITED_PACKFILE };
  // -o takes a path (its name need not end in .ptar) or a ptar:// URL
  const path = out.startsWith('ptar://') ? localLocation(out).path : localLocation(`ptar://${out}`).path;
  return backupSource(rest[0]!, () => createRepository(new PtarStorage(path), {}, options), flags, argv);
}

/**
 * Starts the store's key derivation before the CLI loads the rest of its code. Unlocking is on
 * the critical path of every store command: measured on a re-backup (session 12), the CLI's
 * modules took ~230 ms to load before the derivation (0.5–0.75 s) could begin, and the command's
 * own work waited for both. bin/kloset.js calls this first; the derivation the command then asks
 * for (Repository.open → deriveKeyInWorker) takes this one's result when its parameters and
 * passphrase are the same, and starts its own otherwise.
 *
 * Only what can be known without the rest of the CLI is started early: a store given as a folder
 * path or fs:// URL (its CONFIG is a file; an S3 store would need the AWS SDK loaded, a @name the
 * config file and keychain) whose passphrase is in KLOSET_PASSPHRASE or PLAKAR_PASSPHRASE (a
 * prompt waits for the user anyway). Anything unusual (no CONFIG, a damaged one, a plaintext
 * store) is left to the command, which reports it as usual: nothing here fails or prints.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isS3Location } from '../connectors/s3/options.js';
import { prestartKdfProcess, startDerivationEarly } from '../kloset/crypto/node/kdf-worker.js';
import { MAX_CONFIG_SIZE, peekConfigFile } from '../kloset/repository/config-file.js';
import { localLocation } from './local-location.js';

/** For `at <store> <command> …` (argv without node and the script). */
export function startEarlyUnlock(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const [at, store, command] = argv;
  if (at !== 'at' || !store || !command) return;
  prestartKdfProcess(); // whatever happens below, the child's start-up overlaps module loading
  // create derives a key from a salt it has yet to draw, info reads CONFIG without unlocking;
  // sync unlocks its source first, the store given here
  if (command === 'create' || command === 'info') return;
  const passphrase = env.KLOSET_PASSPHRASE ?? env.PLAKAR_PASSPHRASE;
  // '@' is host/named.ts's rule for a saved location (that module loads the config and keychain)
  if (store.startsWith('@') || isS3Location(store) || passphrase === undefined || passphrase === '') return;
  try {
    const loc = localLocation(store);
    if (loc.kind !== 'fs') return;
    const path = join(loc.path, 'CONFIG');
    // a regular file of CONFIG's size only: a FIFO or device there must not block the start
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_CONFIG_SIZE) return;
    const enc = peekConfigFile(readFileSync(path)).encryption;
    if (enc) startDerivationEarly(enc.kdfParams, new TextEncoder().encode(passphrase));
  } catch {
    // the command opens the store itself and says what is wrong
  }
}


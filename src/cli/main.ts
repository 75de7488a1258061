/**
 * `kloset` — the command line, shaped like plakar's: `kloset at <store> <command> [args]`.
 * Exit status 0 on success; on error one clear line on stderr and a non-zero status.
 */
import { readFileSync } from 'node:fs';
import { isKlosetError } from '../kloset/base/errors.js';
import { backup } from './commands/backup.js';
import { cat } from './commands/cat.js';
import { check } from './commands/check.js';
import { configCommand } from './commands/config.js';
import { create } from './commands/create.js';
import { info } from './commands/info.js';
import { ls } from './commands/ls.js';
import { ptar } from './commands/ptar.js';
import { restore } from './commands/restore.js';
import { rm } from './commands/rm.js';
import { sync } from './commands/sync.js';

const HELP = `usage: kloset [--version] [--help] at <store> <command> [args]

<store> is a folder path, fs://path, ptar://file.ptar, s3://host[:port]/bucket[/prefix] or @name
(a store saved with 'kloset store add'). Sources and destinations take the same forms.

  kloset at <store> create [-plaintext] [-no-compression] [-hashing sha256|blake3]
  kloset at <store> backup [-tag T] <dir | s3://… | @source>
  kloset at <store> ls [<snap>[:<path>]]
  kloset at <store> cat <snap>:<path>
  kloset at <store> restore -to <dir | s3://… | @destination> [-conflict overwrite|skip-identical] <snap>[:<path>]
  kloset at <store> check [<snap>]
  kloset at <store> rm <snap>...
  kloset at <store> sync [<snap>...] to <store>
  kloset at <store> info
  kloset ptar [-plaintext] [-no-compression] [-hashing sha256|blake3] [-tag T] -o <file.ptar> <dir | s3://… | @source>
  kloset store|source|destination add [-f] <name> <location> [key=value...]
  kloset store|source|destination ls [<name>]
  kloset store|source|destination rm <name>...

S3 options (key=value): access_key, secret_access_key, session_token, use_tls (default true),
tls_insecure_no_verify, storage_class, region, addressing=auto|path|virtual, endpoint, profile.
Without keys the AWS SDK's credential chain is used (environment, ~/.aws). Secrets
(secret_access_key, session_token, passphrase) go to the OS keychain, never to the config file;
without a keychain set KLOSET_<KIND>_<NAME>_<KEY>, e.g. KLOSET_SOURCE_PHOTOS_SECRET_ACCESS_KEY.

The passphrase of an encrypted store comes from its saved passphrase (@name), KLOSET_PASSPHRASE
(or PLAKAR_PASSPHRASE), else a hidden prompt on a terminal. <snap> is a snapshot ID or a unique
prefix of one. sync asks for the target store's passphrase through KLOSET_TO_PASSPHRASE (else
the same one).
A ptar archive is written whole by 'kloset ptar' and opens like a store, read-only.
Not implemented yet: ui, maintenance (see README.md).
`;

const PLANNED = new Set(['ui']);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (first === '--version' || first === 'version') {
    process.stdout.write(`kloset ${version()}\n`);
    return 0;
  }
  if (first === 'store' || first === 'source' || first === 'destination') return configCommand(first, rest);
  if (first === 'ptar') return ptar(rest, argv);
  if (first !== 'at') {
    process.stderr.write(`kloset: unknown command '${argv.join(' ')}' (try 'kloset --help')\n`);
    return 2;
  }
  const [store, command, ...args] = rest;
  if (!store || !command) {
    process.stderr.write('kloset: usage: kloset at <store> <command> [args]\n');
    return 2;
  }
  switch (command) {
    case 'create': return create(store, args);
    case 'backup': return backup(store, args, argv);
    case 'ls': return ls(store, args);
    case 'cat': return cat(store, args);
    case 'restore': return restore(store, args);
    case 'check': return check(store, args);
    case 'info': return info(store);
    case 'rm': return rm(store, args);
    case 'sync': return sync(store, args);
  }
  if (PLANNED.has(command)) {
    process.stderr.write(`kloset: '${command}' is not implemented yet in this build (see README.md)\n`);
    return 2;
  }
  process.stderr.write(`kloset: unknown command '${command}' (try 'kloset --help')\n`);
  return 2;
}

// A closed stdout (`kloset at s ls | head`) ends the command quietly, as SIGPIPE ends C tools
// (exit status 128 + 13): what was asked for has been read. Nothing else reaches stdout before
// a store is committed, so no write is cut short by it.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(141);
  process.stderr.write(`kloset: cannot write to standard output: ${e.message}\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    const msg = isKlosetError(e) ? e.message : e instanceof Error ? e.message : String(e);
    process.stderr.write(`kloset: ${msg}\n`);
    process.exitCode = isKlosetError(e, 'AUTH') ? 3 : 1;
  },
);

/**
 * `kloset` — the command line, shaped like plakar's (`kloset at <store> <command>`).
 * Part 1 of the engine ships the format primitives only; the store commands arrive with the
 * next issues, and until then they say so and exit non-zero instead of pretending.
 */
import { readFileSync } from 'node:fs';

const PLANNED = new Set(['create', 'backup', 'ls', 'cat', 'restore', 'check', 'rm', 'sync', 'info', 'ui']);

const HELP = `usage: kloset [--version] [--help] <command> [args]

Store commands (plakar-shaped):
  kloset at <store> create [-plaintext] [-no-compression] [-hashing sha256|blake3]
  kloset at <store> backup [-tag T] <dir>
  kloset at <store> ls [<snap>:<path>]
  kloset at <store> cat <snap>:<path>
  kloset at <store> restore -to <dir> <snap>[:<path>]
  kloset at <store> check [<snap>]
  kloset at <store> rm <snap>
  kloset at <store> sync [<snap>] to <store>
  kloset at <store> info
  kloset at <store> ui

Status: this build contains the Kloset v1.1 format engine (crypto, hashing, compression,
chunking, msgpack, wrapper and CONFIG) and its tests. The store commands above are not
implemented yet: they exit with status 2 and say so. See README.md.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function main(argv: string[]): number {
  const [first, ...rest] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (first === '--version' || first === 'version') {
    process.stdout.write(`kloset ${version()}\n`);
    return 0;
  }
  if (first === 'at') {
    const command = rest[1];
    if (!rest[0] || !command) {
      process.stderr.write('kloset: usage: kloset at <store> <command> [args]\n');
      return 2;
    }
    if (PLANNED.has(command)) {
      process.stderr.write(`kloset: '${command}' is not implemented yet in this build (see README.md)\n`);
      return 2;
    }
  }
  process.stderr.write(`kloset: unknown command '${argv.join(' ')}' (try 'kloset --help')\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));

#!/usr/bin/env -S node --max-semi-space-size=8
// Entry of the `kloset` command: the compiled CLI in dist/ (`npm run build`, which setup and
// the test command run), or the TypeScript sources through tsx's loader when there is no build
// (or KLOSET_FROM_SOURCES=1). Running compiled JS saves ~0.3 s of start-up and ~40 MB per run.
// The shebang gives node the flags V8 reads only at start-up (START_FLAGS in v8-tuning.js: the
// young generation's size, ~20 MiB of a backup's peak); `node bin/kloset.js` runs without them.
import { existsSync } from 'node:fs';
import { tuneProcess } from './process-tuning.js';

// malloc settings and V8 flags first, before the modules that allocate and compile
tuneProcess();
const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built) && process.env.KLOSET_FROM_SOURCES !== '1') {
  // `at <store> …` unlocks the store (unless it is plaintext): the key derivation starts now,
  // while the CLI's modules load (~0.2 s), rather than after them (src/cli/early-unlock.ts)
  if (process.argv[2] === 'at') {
    const { startEarlyUnlock } = await import(new URL('../dist/cli/early-unlock.js', import.meta.url).href);
    startEarlyUnlock(process.argv.slice(2));
  }
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}

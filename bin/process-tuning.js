// glibc malloc settings and V8 flags for the command this process runs, applied in-process
// before the CLI's modules load. Earlier the command ran itself a second time with them in its
// environment and command line (glibc and V8 read those only at start-up); that second Node
// start-up cost 0.1–0.4 s on every command (`kloset at … ls`: 0.67–0.98 s without it, 0.77–1.17 s
// with it, measured in session 12). Now mallopt(3) sets malloc's (native/codec/malloc_tuning.c)
// and v8.setFlagsFromString the flag, both before anything big is allocated or compiled.
//
// Why these settings: glibc's malloc, left to itself, keeps the multi-MiB buffers a backup frees
// in its heap (its mmap threshold rises after each large free) and gives threads arenas of their
// own: a 1 GiB backup peaked at 361 MiB that way, 267 MiB with a fixed threshold (measured;
// docs/benchmarks.md). The fixed threshold has a price: every buffer above it is then a fresh
// mmap, and each of its pages a page fault (~10 µs on this VM kind): a 1 GiB restore took 11–12 s
// with it and 8–9 s without, at the same peak. So only the commands that encode and pack data
// (backup, sync) get the threshold; every command gets the 2 arenas. The threshold is 1 MiB: at
// 128 KiB every encoded blob (most are 0.3–1.1 MiB) was a fresh mapping — 280,000 faults and ~5 s
// of system time in a 1 GiB backup; at 2 MiB the heap's free memory grew through a 4 GiB backup
// (session 9, docs/benchmarks.md). A variable the user set (MALLOC_ARENA_MAX,
// MALLOC_MMAP_THRESHOLD_) wins, as glibc reads it at start-up; KLOSET_MALLOC_TUNING=0 turns the
// malloc part off, KLOSET_V8_TUNING=0 the V8 part (bin/v8-tuning.js).
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { v8FlagsFor } from './v8-tuning.js';

const ARENAS = 2;
const THRESHOLD = 1 << 20;

/** `kloset at <store> <command> …` or `kloset <command> …` → the malloc settings for that command. */
export function mallocSettingsFor(args) {
  const at = args.indexOf('at');
  const command = at >= 0 ? args[at + 2] : args[0];
  return command === 'backup' || command === 'sync' ? { arenaMax: ARENAS, mmapThreshold: THRESHOLD } : { arenaMax: ARENAS, mmapThreshold: 0 };
}

/**
 * Applies the settings for `args`; returns what was applied, or why not (for the tests):
 * { malloc: {arenaMax, mmapThreshold} | string, v8Flags }.
 */
export function tuneProcess(args = process.argv.slice(2), env = process.env) {
  const v8Flags = v8FlagsFor(process.execArgv, env);
  for (const flag of v8Flags) setFlagsFromString(flag);
  return { malloc: tuneMalloc(args, env), v8Flags };
}

function tuneMalloc(args, env) {
  if (process.platform !== 'linux') return 'not Linux';
  if (env.KLOSET_MALLOC_TUNING === '0') return 'turned off by KLOSET_MALLOC_TUNING=0';
  const wanted = mallocSettingsFor(args);
  // glibc already read the user's own values at start-up: leave those alone
  const applied = {
    arenaMax: env.MALLOC_ARENA_MAX === undefined ? wanted.arenaMax : 0,
    mmapThreshold: env.MALLOC_MMAP_THRESHOLD_ === undefined ? wanted.mmapThreshold : 0,
  };
  let addon;
  try {
    // the engine's native codec carries the mallopt call (bin/ is two levels above it, as the
    // engine's loader in src/kloset/base/node/native-codec.ts); a path in KLOSET_NATIVE_CODEC wins
    const path = env.KLOSET_NATIVE_CODEC?.endsWith('.node') ? env.KLOSET_NATIVE_CODEC : new URL('../native/codec/build/Release/kloset_codec.node', import.meta.url).pathname;
    addon = createRequire(import.meta.url)(path);
  } catch (e) {
    return `no native codec: ${String(e.message).split('\n')[0]}`;
  }
  if (typeof addon.tuneMalloc !== 'function') return 'the native codec predates tuneMalloc (run npm run build:native)';
  const r = addon.tuneMalloc(applied.mmapThreshold, applied.arenaMax);
  return r === 1 ? applied : r === 0 ? 'not glibc' : 'glibc refused the settings';
}

import { readFileSync } from 'node:fs';

// V8 flags the `kloset` command sets on itself (process-tuning.js, v8.setFlagsFromString) before
// its modules load. Set that late, they still apply: V8 reads the interrupt budget whenever it
// gives a function its budget (user CPU of a backup and re-backup measured the same as with the
// flag on the command line, session 12).
//
// --interrupt-budget: how much bytecode a function runs before V8 considers optimizing it. At
// the default (66 KiB) TurboFan compiled hundreds of lukewarm functions per backup — file-type's
// 1,700-line signature matcher, module loaders, one-shot set-up code — on the same two cores
// the backup needs: 9 % of a 1 GiB backup's CPU samples were the optimizing compiler (perf
// record). At 16× the hot loops still get optimized within their first milliseconds, and user
// CPU fell ~10 % for a 1 GiB backup (median 10.0 → 8.9 s, 3 runs each, alternating) and ~20 %
// for an unchanged re-backup (2.0 → 1.6 s); restore ~5 % (bench/timed-kloset.sh, alternating
// with KLOSET_V8_TUNING=0; docs/benchmarks.md, session 6).
//
// --max-semi-space-size=8 (MiB): the young generation's two halves, 16 MiB each by default on
// 64-bit and all of it resident once a backup has churned through it (new_space 32.0 MiB at the
// peak of a 4 GiB backup, v8.getHeapSpaceStatistics). At 8 the engine peaked at 233–242 MiB
// instead of 257–270 for a 1 GiB backup and 262–284 instead of 276–312 for 4 GiB, a re-backup at
// 96–98 instead of 112–114, with the same wall and user CPU (alternating runs, session 17); at 4
// the re-backup took ~5 % more CPU. V8 reads it only when it sets up a heap: set here it reaches
// the threads started later (the encoder's), and the main thread gets it from the command line —
// the shebang of bin/kloset.js carries START_FLAGS, and the benchmarks pass the same.
export const START_FLAGS = ['--max-semi-space-size=8'];
/** Flags set in-process; START_FLAGS must also be on node's command line to reach the main thread (bin/kloset.js's shebang). */
export const V8_FLAGS = ['--interrupt-budget=1081344', ...START_FLAGS];

/** The node flags on a script's `#!/usr/bin/env -S node …` line ([] for a plain `node` one). */
export function shebangFlags(firstLine) {
  const m = /^#!\S*env\s+(?:-S\s+)?node((?:\s+-\S+)*)\s*$/.exec(firstLine);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/** The node flags of a script's shebang (the benchmarks run kloset as the installed command runs). */
export function startFlagsOf(scriptPath) {
  return shebangFlags(readFileSync(scriptPath, 'utf8').split('\n', 1)[0]);
}

/** The flags not already set on the command line (a user's own value wins); none with KLOSET_V8_TUNING=0. */
export function v8FlagsFor(execArgv, env = process.env) {
  if (env.KLOSET_V8_TUNING === '0') return [];
  return V8_FLAGS.filter((f) => !execArgv.some((a) => a.startsWith(`${f.split('=')[0]}=`)));
}

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
export const V8_FLAGS = ['--interrupt-budget=1081344'];

/** The flags not already set on the command line (a user's own value wins); none with KLOSET_V8_TUNING=0. */
export function v8FlagsFor(execArgv, env = process.env) {
  if (env.KLOSET_V8_TUNING === '0') return [];
  return V8_FLAGS.filter((f) => !execArgv.some((a) => a.startsWith(`${f.split('=')[0]}=`)));
}

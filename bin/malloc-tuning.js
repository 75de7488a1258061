// glibc's malloc, left to itself, keeps the multi-MiB buffers a backup frees in its heap (its
// mmap threshold rises after each large free) and gives threads arenas of their own: a 1 GiB
// backup peaked at 361 MiB that way, 267 MiB with a fixed threshold (measured; docs/benchmarks.md).
// The fixed threshold has a price: every buffer above it is then a fresh mmap, and each of its
// pages a page fault (~10 µs on this VM kind): a 1 GiB restore took 11–12 s with it and 8–9 s
// without, at the same peak (230–275 MiB; restore's memory is bounded by files and chunks in
// flight, not by the heap's habits). So only the commands that encode and pack data (backup,
// sync) get the threshold; every command gets the 2 arenas. The threshold is 1 MiB: at 128 KiB
// every encoded blob (most are 0.3–1.1 MiB) was a fresh mapping — 280,000 faults and ~5 s of
// system time in a 1 GiB backup, 900,000 at 4 GiB; from 1 MiB up most of them reuse freed heap
// memory. Measured (bench/timed-kloset.sh, session 9, docs/benchmarks.md): 1 GiB backup
// 11.3–12.0 s at 128 KiB, 9.2–10.0 s at 1 MiB, 7.0–9.6 s at 2 MiB; 4 GiB 36.9 / 29.5 / 21–26 s,
// peak 257–309 / 275–308 / 292–435 MiB — at 2 MiB the heap's free memory grew through the run.
// glibc reads these settings only at start-up, so on Linux the command runs itself once more
// with them set. The first process only waits: it passes on SIGTERM/SIGHUP, ignores SIGINT (the
// terminal sends it to both), and if it is killed outright, the second one notices its IPC
// channel closing (or its parent PID changing) and dies the same way. KLOSET_MALLOC_TUNING=0 turns this off.
import { spawn } from 'node:child_process';
import { v8FlagsFor } from './v8-tuning.js';

const ARENAS = { MALLOC_ARENA_MAX: '2' };
const THRESHOLD = { MALLOC_MMAP_THRESHOLD_: String(1 << 20) };

/** `kloset at <store> <command> …` or `kloset <command> …` → the settings for that command. */
export function mallocSettingsFor(args) {
  const at = args.indexOf('at');
  const command = at >= 0 ? args[at + 2] : args[0];
  return command === 'backup' || command === 'sync' ? { ...ARENAS, ...THRESHOLD } : ARENAS;
}

/** True when this process handed the command to a tuned child (and will exit with it). */
export async function reexecWithMallocTuning() {
  if (process.env.KLOSET_REEXECED === '1') {
    // the tuned child: die with the parent, whatever killed it. The IPC channel closing says
    // so at once; a check of the parent PID covers the parent dying while this one starts.
    const parent = Number(process.env.KLOSET_PARENT_PID);
    const die = () => process.kill(process.pid, 'SIGKILL');
    if (process.channel) {
      process.channel.unref();
      process.on('disconnect', die);
    }
    if (process.ppid !== parent) die();
    setInterval(() => { if (process.ppid !== parent) die(); }, 200).unref();
    return false;
  }
  // (other C libraries ignore these variables: no need to tell glibc apart)
  if (process.platform !== 'linux' || process.env.KLOSET_MALLOC_TUNING === '0') return false;
  // the child also gets the V8 flags of v8-tuning.js (they can only be set at start-up)
  const child = spawn(process.execPath, [...process.execArgv, ...v8FlagsFor(process.execArgv), ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...mallocSettingsFor(process.argv.slice(2)), ...process.env, KLOSET_REEXECED: '1', KLOSET_PARENT_PID: String(process.pid) },
  });
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  await new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      }
      process.exitCode = code ?? 1;
      resolve();
    });
    child.on('error', (e) => {
      console.error(`kloset: ${e.message}`);
      process.exitCode = 1;
      resolve();
    });
  });
  return true;
}

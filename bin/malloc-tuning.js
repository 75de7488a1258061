// glibc's malloc, left to itself, keeps the multi-MiB buffers a backup frees in its heap (its
// mmap threshold rises after each large free) and gives threads arenas of their own: a 1 GiB
// backup peaked at 361 MiB that way, 267 MiB with a fixed threshold (measured; docs/benchmarks.md).
// glibc reads these settings only at start-up, so on Linux the command runs itself once more
// with them set. The first process only waits: it passes on SIGTERM/SIGHUP, ignores SIGINT (the
// terminal sends it to both), and if it is killed outright, the second one notices its IPC
// channel closing (or its parent PID changing) and dies the same way. KLOSET_MALLOC_TUNING=0 turns this off.
import { spawn } from 'node:child_process';

const SETTINGS = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' };

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
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...SETTINGS, ...process.env, KLOSET_REEXECED: '1', KLOSET_PARENT_PID: String(process.pid) },
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

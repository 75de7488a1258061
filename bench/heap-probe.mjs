// Loaded with `node --import` (e.g. NODEFLAGS="--import $PWD/bench/heap-probe.mjs" with
// bench/timed-kloset.sh): samples process.memoryUsage() every 20 ms in the CLI's process (not
// the key derivation's child, which is forked without it) and appends, at exit, the sample taken at the highest RSS to $KLOSET_HEAP_FILE — where a
// peak's memory is: V8 heap (total / used), external memory and array buffers, in MiB.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.KLOSET_HEAP_FILE;
if (file && isMainThread) {
  let peak = process.memoryUsage();
  let peakAt = 0;
  setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) { peak = m; peakAt = performance.now(); }
  }, 20).unref();
  process.on('exit', () => {
    const mib = (n) => (n / 2 ** 20).toFixed(0);
    appendFileSync(file, `rss ${mib(peak.rss)} heapTotal ${mib(peak.heapTotal)} heapUsed ${mib(peak.heapUsed)} external ${mib(peak.external)} arrayBuffers ${mib(peak.arrayBuffers)} at ${(peakAt / 1000).toFixed(1)}s of ${(performance.now() / 1000).toFixed(1)}s\n`);
  });
}

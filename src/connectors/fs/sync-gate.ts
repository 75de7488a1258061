/**
 * Whether the local filesystem answers fast enough for synchronous calls.
 *
 * A synchronous call on a warm page cache (lstat, a small read or write) takes a few µs, a
 * trip through libuv's thread pool several times that in event-loop time and latency; on a
 * cold disk or a network filesystem a synchronous call would stall everything for
 * milliseconds. So callers go synchronous while calls stay fast — on average (a moving average
 * over the last ~20 calls: a VM's scheduler alone makes one call in a few hundred take over a
 * millisecond) — and a single call that stalls for STALL_MS counts at once; then they use the
 * thread pool for a spell of calls and try synchronous calls again afterwards.
 */

/** Synchronous calls slower than this (ms) on average mean the data is not cached. */
const SLOW_MS = 0.5;
/** One synchronous call this slow (ms) is a disk or network wait, not scheduling noise. */
const STALL_MS = 20;
/** Weight of the newest call in the moving average. */
const AVERAGE_WEIGHT = 0.05;
/** Calls made through the thread pool after slow synchronous ones, before trying again. */
const POOL_SPELL = 2000;

export class SyncGate {
  private poolLeft = 0;
  private averageMs = 0;

  /** `slowMs` < 0 sends every call through the thread pool (tests compare both modes). */
  constructor(private readonly slowMs = SLOW_MS) {
    if (slowMs < 0) this.poolLeft = Infinity;
  }

  /** Whether the next call should go through the thread pool. */
  get usingThreadPool(): boolean {
    return this.poolLeft > 0;
  }

  /** Counts a call made through the pool: the spell ends after POOL_SPELL of them. */
  tookPool(): void {
    if (this.poolLeft > 0) this.poolLeft--;
  }

  /** Runs a synchronous call and times it. */
  time<T>(call: () => T): T {
    const t0 = performance.now();
    try {
      return call();
    } finally {
      this.observe(performance.now() - t0);
    }
  }

  /** Records how long a synchronous call took (public for tests). */
  observe(ms: number): void {
    this.averageMs += (ms - this.averageMs) * AVERAGE_WEIGHT;
    if (ms > Math.max(STALL_MS, this.slowMs) || this.averageMs > this.slowMs) {
      this.poolLeft = POOL_SPELL;
      this.averageMs = 0;
    }
  }
}

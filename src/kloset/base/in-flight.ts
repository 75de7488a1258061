/**
 * Tasks under way, with a cheap "wait until one of them ends" for loops that keep a bounded
 * number going. `Promise.race` over the set would add a reaction to every pending task on each
 * call; a task that stays pending long (a large file while thousands of small ones pass) piles
 * them up, and each call costs as much as the set is large.
 */
export class InFlight {
  private readonly tasks = new Set<Promise<void>>();
  private waiters: (() => void)[] = [];

  /** `onEnd` runs after each task ends and has left the set. */
  constructor(private readonly onEnd?: () => void) {}

  get size(): number {
    return this.tasks.size;
  }

  /** Tracks a task; its failure is kept for `all()` (never an unhandled rejection). */
  add(task: Promise<void>): void {
    const p: Promise<void> = task.finally(() => {
      this.tasks.delete(p);
      const waiting = this.waiters;
      this.waiters = [];
      for (const wake of waiting) wake();
      this.onEnd?.();
    });
    p.catch(() => undefined);
    this.tasks.add(p);
  }

  /** Resolves once a task ends (at once when none is under way). */
  oneEnded(): Promise<void> {
    if (this.tasks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Waits for every task under way; rejects with the first failure, as Promise.all does. */
  all(): Promise<void[]> {
    return Promise.all(this.tasks);
  }

  /** Waits for every task under way to settle, failed or not. */
  settled(): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled([...this.tasks]);
  }
}

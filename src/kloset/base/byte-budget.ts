/**
 * A budget of bytes in flight: work that holds buffers acquires their size first and waits
 * while the budget is spent, so concurrency never multiplies memory beyond the budget.
 * A single request larger than the whole budget is let through alone.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: { size: number; resolve: () => void }[] = [];

  constructor(private readonly limit: number) {}

  async acquire(size: number): Promise<void> {
    if (this.used === 0 || this.used + size <= this.limit) {
      this.used += size;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ size, resolve }));
  }

  release(size: number): void {
    this.used -= size;
    while (this.waiters.length) {
      const next = this.waiters[0]!;
      if (this.used !== 0 && this.used + next.size > this.limit) break;
      this.waiters.shift();
      this.used += next.size;
      next.resolve();
    }
  }
}

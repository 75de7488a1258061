/**
 * ByteBudget (kloset/base/byte-budget.ts) as the S3 destination needs it: requests are granted
 * strictly in arrival order (a large part never starves behind a stream of small objects that
 * happen to fit), a wait can be cancelled, and the bytes held are counted with their high-water
 * mark so tests and callers can see what the budget really bounded.
 *
 * Like ByteBudget, a request larger than the whole limit is granted alone (when nothing else is
 * held), so it can never wait forever.
 */
import { ByteBudget } from '../../kloset/base/byte-budget.js';
import { KlosetError } from '../../kloset/base/errors.js';

export interface BudgetStats {
  /** the limit */
  limit: number;
  /** granted and not yet released */
  held: number;
  /** the most held at any time */
  peak: number;
}

export class FairBudget {
  private readonly budget: ByteBudget;
  /** the last request handed to ByteBudget: the next one asks only once this one is granted */
  private tail: Promise<void> = Promise.resolve();
  private heldNow = 0;
  private peakHeld = 0;

  constructor(readonly limit: number) {
    this.budget = new ByteBudget(limit);
  }

  /**
   * Waits until `size` fits, then counts it as held. Rejects with CANCELLED when `signal` aborts
   * first; the grant that comes later is then given back at once.
   */
  acquire(size: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    const turn = this.tail.then(() => this.budget.acquire(size));
    this.tail = turn;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      void turn.then(() => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) {
          this.budget.release(size);
          return;
        }
        settled = true;
        this.heldNow += size;
        if (this.heldNow > this.peakHeld) this.peakHeld = this.heldNow;
        resolve();
      });
    });
  }

  release(size: number): void {
    this.heldNow -= size;
    this.budget.release(size);
  }

  get stats(): BudgetStats {
    return { limit: this.limit, held: this.heldNow, peak: this.peakHeld };
  }
}

function cancelled(): KlosetError {
  return new KlosetError('CANCELLED', 'cancelled');
}

/**
 * Starts a source's walk before the store is open. Unlocking an encrypted store costs about
 * half a second of Argon2id in another process; the walk (lstat, xattr names, directory
 * listings, or a bucket's listing pages) does not need the key, so it runs meanwhile and the
 * backup finds the first records waiting. The records are held in a bounded queue: the walk
 * pauses when it is `limit` records ahead of the backup, so memory does not grow with the tree.
 *
 * Only sources that say their records are cheap (Importer.walkAhead) are walked ahead; the
 * others pass through as they are (a bucket's records carry prefetched content: thousands
 * drained ahead of the backup would be held at once).
 *
 * Hints (ScanHints) reach the source only once the backup asks for the records: a source that
 * consults the previous snapshot while it walks (the bucket source skipping unchanged objects)
 * simply waits for them at its first question.
 */
import { KlosetError } from '../base/errors.js';
import { nextTurn } from '../base/next-turn.js';
import type { ImportRecord, Importer, ScanHints } from './importer.js';

/** Records walked ahead at most (a record is a path and its stat data: a few hundred bytes). */
const DEFAULT_LIMIT = 10_000;
/** Records walked between two turns of the event loop. */
const YIELD_EVERY = 32;

export class ScanAhead implements Importer {
  readonly type: string;
  readonly origin: string;
  readonly root: string;
  private readonly queue: ImportRecord[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  /** wakes the consumer when a record arrives or the walk ends */
  private wakeConsumer: (() => void) | undefined;
  /** wakes the walk when the queue has room again */
  private wakeWalk: (() => void) | undefined;
  private resolveHints!: (h: ScanHints) => void;
  private readonly hints = new Promise<ScanHints>((r) => { this.resolveHints = r; });
  private readonly stopped = new AbortController();
  private scanned = false;
  /** the source's walk reached its end (not stopped half-way) */
  private walkedAll = false;

  constructor(private readonly inner: Importer, signal?: AbortSignal, private readonly limit = DEFAULT_LIMIT) {
    this.type = inner.type;
    this.origin = inner.origin;
    this.root = inner.root;
    if (!inner.walkAhead) return;
    const stop = () => this.stop();
    if (signal?.aborted) this.stopped.abort();
    else signal?.addEventListener('abort', stop, { once: true });
    void this.walk().finally(() => signal?.removeEventListener('abort', stop));
  }

  /** Ends the walk (the backup will not ask for its records: a wrong passphrase, a cancel). */
  stop(): void {
    this.stopped.abort();
    this.wakeWalk?.();
  }

  private async walk(): Promise<void> {
    // the hints the backup will pass, asked for lazily: the walk starts before they exist
    const late: ScanHints = { previous: async (path) => (await this.hints).previous?.(path) };
    try {
      let sinceYield = 0;
      for await (const rec of this.inner.scan(this.stopped.signal, late)) {
        this.queue.push(rec);
        this.wakeConsumer?.();
        // A walk on a warm page cache runs on synchronous calls and would never let the event
        // loop turn: the store's unlocking (reading CONFIG, starting the KDF) would wait for it.
        if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          await nextTurn();
        }
        while (this.queue.length >= this.limit && !this.stopped.signal.aborted) await new Promise<void>((r) => { this.wakeWalk = r; });
        if (this.stopped.signal.aborted) break;
      }
      this.walkedAll = !this.stopped.signal.aborted;
    } catch (e) {
      if (!this.stopped.signal.aborted) this.failure = { error: e };
    } finally {
      this.ended = true;
      this.wakeConsumer?.();
    }
  }

  /** The records, the ones walked ahead first; once only. */
  async *scan(signal?: AbortSignal, hints: ScanHints = {}): AsyncIterable<ImportRecord> {
    if (this.scanned) throw new Error('ScanAhead: scan() can be called once');
    this.scanned = true;
    if (!this.inner.walkAhead) {
      yield* this.inner.scan(signal, hints);
      return;
    }
    this.resolveHints(hints);
    try {
      for (;;) {
        signal?.throwIfAborted();
        const rec = this.queue.shift();
        if (rec) {
          if (this.queue.length < this.limit) this.wakeWalk?.();
          yield rec;
          continue;
        }
        if (this.ended) {
          if (this.failure) throw this.failure.error;
          if (this.stopped.signal.aborted && !this.walkedAll) {
            // never a partial walk passed off as the whole tree
            signal?.throwIfAborted();
            throw new KlosetError('CANCELLED', 'the walk of the source was stopped');
          }
          return;
        }
        await new Promise<void>((r) => { this.wakeConsumer = r; });
        this.wakeConsumer = undefined;
      }
    } finally {
      this.stop(); // a backup that ends early (failure, cancel) ends the walk too
    }
  }
}


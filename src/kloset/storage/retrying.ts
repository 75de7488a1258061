/**
 * RetryingStorage: wraps a Storage and retries calls that failed with IO — the one code that
 * means "the environment failed, trying again may work" (network blip, S3 503, EAGAIN). Every
 * other code is an answer, not a failure, and is returned at once: NOT_FOUND, CONFLICT, CORRUPT,
 * AUTH, INTEGRITY… Retrying those would only delay the same answer.
 *
 * Waits grow exponentially (base·2^n, capped at maxDelayMs) with jitter, so many clients
 * failing together do not retry in lockstep. `sleep` and `random` are injectable for tests.
 *
 * Which calls are retried: open, list, put, get, delete — all idempotent under the contract
 * (put replaces with the same bytes). Not create (a half-done first attempt makes the retry
 * answer CONFLICT, hiding the real error) nor close (for a ptar it completes the file once).
 * A stream body is re-read from `stream()` on each attempt: the same PutBody is handed to the
 * inner storage again, and every backend calls `stream()` afresh per put.
 */
import { isKlosetError } from '../base/errors.js';
import type { ByteRange, PackfileStream, PutBody, Storage, StorageResource } from './storage.js';

export interface RetryOptions {
  /** total tries, including the first (default 5) */
  attempts?: number;
  /** wait before the first retry, doubled for each further one (default 50 ms) */
  baseDelayMs?: number;
  /** cap on one wait (default 2000 ms) */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** uniform in [0, 1); default Math.random (jitter needs no cryptographic quality) */
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RetryingStorage implements Storage {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** the inner storage's, not retried: a stream's writes cannot be replayed from here */
  readonly openPackfileStream?: (mac: Uint8Array) => Promise<PackfileStream>;

  constructor(
    private readonly inner: Storage,
    options: RetryOptions = {},
  ) {
    this.attempts = Math.max(1, Math.floor(options.attempts ?? 5));
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    if (inner.openPackfileStream) this.openPackfileStream = (mac) => inner.openPackfileStream!(mac);
  }

  get location(): string {
    return this.inner.location;
  }

  create(config: Uint8Array): Promise<void> {
    return this.inner.create(config);
  }

  open(): Promise<Uint8Array> {
    return this.retry(() => this.inner.open());
  }

  list(resource: StorageResource): Promise<Uint8Array[]> {
    return this.retry(() => this.inner.list(resource));
  }

  put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    return this.retry(() => this.inner.put(resource, mac, body));
  }

  get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    return this.retry(() => this.inner.get(resource, mac, range));
  }

  delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    return this.retry(() => this.inner.delete(resource, mac));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The wait before retry number `n` (0-based): half fixed, half random ("equal jitter"). */
  delayMs(n: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
    return cap / 2 + (cap / 2) * this.random();
  }

  private async retry<T>(call: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await call();
      } catch (e) {
        if (!isKlosetError(e, 'IO') || n + 1 >= this.attempts) throw e;
      }
      await this.sleep(this.delayMs(n));
    }
  }
}

/**
 * Retries for what the SDK cannot retry: it retries a request until the response headers
 * arrive, but a connection dropped while the body is read fails after that. Such reads are
 * repeated here (a failed attempt has no effect on the bucket); answers like NoSuchKey, access
 * denied or a bad range are returned at once.
 */
import { KlosetError } from '../../kloset/base/errors.js';

export interface TransientRetry {
  attempts?: number;
  baseDelayMs?: number;
  signal?: AbortSignal;
}

/** IO is the one code that means "the network or server failed; again may work". */
export function isTransient(e: KlosetError): boolean {
  return e.code === 'IO';
}

export async function retryTransient<T>(fn: () => Promise<T>, toError: (e: unknown) => KlosetError, o: TransientRetry = {}): Promise<T> {
  const attempts = o.attempts ?? 5;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const err = toError(e);
      if (o.signal?.aborted) throw new KlosetError('CANCELLED', 'cancelled', undefined, { cause: e });
      if (i >= attempts || !isTransient(err)) throw err;
      const wait = (o.baseDelayMs ?? 100) * 2 ** (i - 1) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, Math.min(wait, 3000)));
    }
  }
}

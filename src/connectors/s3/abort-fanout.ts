/**
 * One caller's cancel signal handed on to many concurrent SDK requests without piling
 * listeners onto it.
 *
 * Every `client.send(…, { abortSignal })` adds its own 'abort' listeners to the signal it is
 * given (the HTTP handler one, the retry middleware another) and removes them when the request
 * is over. With one shared signal and 32–64 requests in flight, Node warns
 * `MaxListenersExceededWarning: 11 abort listeners added to [AbortSignal]` on every bucket
 * backup and restore.
 *
 * Why not `events.setMaxListeners(n, signal)`: the signal belongs to the caller (the CLI's
 * SIGINT controller, an app's cancel button) and may be shared with other work; raising its limit
 * from inside a connector changes it for everyone and would also hide a real listener leak. And
 * `AbortSignal.any([parent])` per request leaks dependent signals that follow a long-lived
 * source on Node 20-22 (nodejs/node#54614, #55351). Instead each request gets its own AbortController; the fanout holds a single
 * listener on the parent while at least one request is linked (none when idle) and aborts every
 * linked request when the parent aborts. A request's signal thus carries only that request's own
 * listeners (two), and the parent carries one per connector, whatever the concurrency.
 */

export interface LinkedSignal {
  /** undefined when there is no parent signal */
  readonly signal: AbortSignal | undefined;
  /** unlinks from the parent; call it once the request (and its body) is over */
  done(): void;
}

const NO_LINK: LinkedSignal = { signal: undefined, done: () => {} };

export class AbortFanout {
  private readonly linked = new Set<AbortController>();
  private listening = false;

  constructor(readonly parent: AbortSignal | undefined) {}

  private readonly onAbort = (): void => {
    this.listening = false;
    const reason = this.parent?.reason;
    for (const c of this.linked) c.abort(reason);
    this.linked.clear();
  };

  /** A signal of its own for one request, aborted with the parent. */
  link(): LinkedSignal {
    const parent = this.parent;
    if (!parent) return NO_LINK;
    const c = new AbortController();
    if (parent.aborted) {
      c.abort(parent.reason);
      return { signal: c.signal, done: () => {} };
    }
    this.linked.add(c);
    if (!this.listening) {
      parent.addEventListener('abort', this.onAbort, { once: true });
      this.listening = true;
    }
    return {
      signal: c.signal,
      done: () => {
        if (!this.linked.delete(c) || this.linked.size || !this.listening) return;
        parent.removeEventListener('abort', this.onAbort);
        this.listening = false;
      },
    };
  }

  /** Runs `fn` with a linked signal, unlinked when `fn` settles. */
  async run<T>(fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    const l = this.link();
    try {
      return await fn(l.signal);
    } finally {
      l.done();
    }
  }

  /** requests linked right now (tests) */
  get size(): number {
    return this.linked.size;
  }
}

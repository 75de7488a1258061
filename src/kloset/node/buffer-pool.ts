/**
 * Recycled chunk buffers for the worker encoder. A backup copies every chunk out of the
 * chunker's window into a buffer of its own, which moves to the encoder thread; a fresh
 * megabyte-sized buffer each time cost the main thread ~0.7 ms per MiB in page faults (glibc
 * maps every allocation over 128 KiB anew under the backup's malloc settings) — 1.6 s of a
 * 1 GiB backup, the largest item on its critical path. The encoder thread hands each buffer
 * back with its answer and the pool gives it out again.
 *
 * Buffers come in power-of-two classes from MIN_POOLED; a view of the asked length is given
 * out. Smaller requests get plain arrays (the malloc heap serves those without faults).
 */
export const MIN_POOLED = 128 * 1024;
/** Spare buffers kept per class: enough for the chunks a backup keeps in flight. */
const KEEP_PER_CLASS = 8;

export class BufferPool {
  private readonly spare = new Map<number, ArrayBuffer[]>();
  private readonly mine = new WeakSet<ArrayBuffer>();

  /** A view of `n` bytes (contents undefined), over a pooled buffer when `n` is large. */
  take(n: number): Uint8Array {
    if (n < MIN_POOLED) return new Uint8Array(n);
    const size = classOf(n);
    const buf = this.spare.get(size)?.pop() ?? this.fresh(size);
    return new Uint8Array(buf, 0, n);
  }

  /** Whether `view` lies in a buffer of this pool (which may then travel and come back). */
  owns(view: Uint8Array): boolean {
    return view.byteOffset === 0 && this.mine.has(view.buffer as ArrayBuffer);
  }

  /**
   * Takes back a buffer that `take` gave out. It may be another object than the one given out:
   * a buffer moved to another thread and back arrives as a new ArrayBuffer over the same memory.
   * Anything that cannot be one of the pool's (not a class size, detached) is ignored.
   */
  give(buf: ArrayBuffer): void {
    if (buf.byteLength < MIN_POOLED || classOf(buf.byteLength) !== buf.byteLength) return;
    this.mine.add(buf);
    let list = this.spare.get(buf.byteLength);
    if (!list) this.spare.set(buf.byteLength, (list = []));
    if (list.length < KEEP_PER_CLASS && !list.includes(buf)) list.push(buf);
  }

  private fresh(size: number): ArrayBuffer {
    const buf = new ArrayBuffer(size);
    this.mine.add(buf);
    return buf;
  }
}

function classOf(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

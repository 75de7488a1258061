/**
 * Recycled chunk buffers for the worker encoder. A backup copies every chunk out of the
 * chunker's window into a buffer of its own, which moves to the encoder thread; a fresh
 * megabyte-sized buffer each time cost the main thread ~0.7 ms per MiB in page faults (glibc
 * mapped every allocation over 128 KiB anew under the backup's malloc settings then) — 1.6 s of a
 * 1 GiB backup, the largest item on its critical path. The encoder thread hands each buffer
 * back with its answer and the pool gives it out again.
 *
 * Buffers come in power-of-two classes from MIN_POOLED; a view of the asked length is given
 * out. Smaller requests get plain arrays (the malloc heap serves those without faults).
 */
export const MIN_POOLED = 4 * 1024;
/** Spare buffers kept per class: enough for the chunks a backup keeps in flight. */
const KEEP_PER_CLASS = 8;
/**
 * Bytes of spare buffers kept over all classes. Eight per class of up to 8 MiB would hold
 * 128 MiB of address space, and each spare keeps the pages of the largest chunk it carried;
 * the builder keeps at most 24 MiB of chunks in flight, so more spares than that sit unused.
 */
export const MAX_SPARE_BYTES = 32 << 20;

export class BufferPool {
  private readonly spare = new Map<number, ArrayBuffer[]>();
  private readonly mine = new WeakSet<ArrayBuffer>();
  private spareBytes = 0;

  /** `maxSpareBytes`: bytes of spare buffers kept over all classes (MAX_SPARE_BYTES). */
  constructor(private readonly maxSpareBytes = MAX_SPARE_BYTES) {}

  /** A view of `n` bytes (contents undefined), over a pooled buffer when `n` is large. */
  take(n: number): Uint8Array {
    if (n < MIN_POOLED) return new Uint8Array(n);
    const size = classOf(n);
    const spare = this.spare.get(size)?.pop();
    if (spare) this.spareBytes -= size;
    return new Uint8Array(spare ?? this.fresh(size), 0, n);
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
    if (list.length < KEEP_PER_CLASS && this.spareBytes + buf.byteLength <= this.maxSpareBytes && !list.includes(buf)) {
      list.push(buf);
      this.spareBytes += buf.byteLength;
    }
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

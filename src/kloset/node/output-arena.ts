/**
 * Memory shared between the main thread and one encoding thread, which seals a backup's chunks
 * straight into it: a ring of bytes in a SharedArrayBuffer, written by the encoding thread
 * (`ArenaWriter`, it alone moves the tail) and given back by the main thread (`OutputArena`, it
 * alone moves the head) once a packfile holding the blobs has been stored.
 *
 * Why: each encoded chunk used to be fresh memory, moved to the main thread and kept there until
 * its packfile was stored, and small ones were copied again into fresh packfile slabs. Fresh
 * memory costs page faults here: of a 1 GiB backup's ~150,000 (`perf record -e page-faults -g`),
 * half were the encoder writing sealed chunks and a quarter those copies. With the ring: ~100,000
 * faults, ~1.3 s less CPU (docs/benchmarks.md, session 14). Full collections of the main thread
 * went from 60–92 to 56 only: they are driven by more than the buffers moved between threads.
 *
 * When the ring has no room (a packfile's upload is slow, blobs are bigger than expected), the
 * encoder falls back to fresh memory for that blob: the ring bounds what it holds, never blocks.
 *
 * The ring uses physical offsets, with one byte always left free so that head = tail means
 * empty. An allocation that does not fit before the end starts at 0, and the bytes it skipped
 * belong to it (they are given back with it). A stale head read by the writer only
 * underestimates the room, so no lock is needed: the head moves by Atomics.store.
 */

/**
 * 32 MiB: in three alternating 1 GiB backups each (`KLOSET_ENCODER_RING_MIB=… bash
 * bench/timed-kloset.sh …`), 32 / 40 / 48 MiB peaked at 258–266 / 250–269 / 278–282 MiB with
 * ~110,000 / ~100,000 / ~100,000 page faults (session 14); a 4 GiB backup (with the malloc trim
 * between packfiles) peaked at 271 / 284 MiB with 32 against 289 / 314 with 40 (session 15):
 * the memory goal holds at 4 GiB only with the smaller ring.
 */
const DEFAULT_RING_MIB = 32;

/**
 * Bytes of the ring per encoding thread: the blobs of two packfiles (one being filled, one being
 * stored, 16 MiB each) and of the chunks being encoded. KLOSET_ENCODER_RING_MIB overrides it
 * (a whole number of MiB, 0 = no ring), for diagnostics and the tests.
 */
export function arenaBytes(env: Record<string, string | undefined> = process.env): number {
  const mib = Number(env.KLOSET_ENCODER_RING_MIB ?? DEFAULT_RING_MIB);
  return Number.isInteger(mib) && mib >= 0 && mib <= 1024 ? mib << 20 : DEFAULT_RING_MIB << 20;
}

/** The shared part: the bytes and a control word (the head), sent once to the encoding thread. */
export interface ArenaShare {
  bytes: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** Where the writer put one blob: its bytes at `offset`, and the ring's tail before and after it. */
export interface ArenaSlot {
  /** the tail before the allocation (where the skipped bytes, if any, start) */
  from: number;
  /** the tail after it */
  to: number;
  offset: number;
  length: number;
}

const HEAD = 0;

/** Encoding-thread side: takes room at the tail. */
export class ArenaWriter {
  private readonly bytes: Uint8Array;
  private readonly control: Int32Array;
  private tail = 0;

  constructor(share: ArenaShare) {
    this.bytes = new Uint8Array(share.bytes);
    this.control = new Int32Array(share.control);
  }

  /** Room for `n` bytes, or null when the ring has none now. */
  take(n: number): ArenaSlot | null {
    const size = this.bytes.length;
    const head = Atomics.load(this.control, HEAD);
    const from = this.tail;
    let offset: number;
    if (from >= head) {
      // free: [tail, size) and [0, head), one byte short of the head
      if (size - from - (head === 0 ? 1 : 0) >= n) offset = from;
      else if (head - 1 >= n) offset = 0;
      else return null;
    } else if (head - from - 1 >= n) {
      offset = from;
    } else {
      return null;
    }
    const to = offset + n === size ? 0 : offset + n;
    this.tail = to;
    return { from, to, offset, length: n };
  }

  /** The view of a slot's bytes. */
  view(slot: ArenaSlot): Uint8Array {
    return this.bytes.subarray(slot.offset, slot.offset + slot.length);
  }

  /**
   * Gives back the last slot taken (encoding failed after the room was taken): only the most
   * recent one can be, as nothing after it exists yet.
   */
  untake(slot: ArenaSlot): void {
    if (this.tail === slot.to) this.tail = slot.from;
  }
}

/** Main-thread side: views of the blobs the writer sealed, and their return. */
export class OutputArena {
  readonly share: ArenaShare;
  private readonly bytes: Uint8Array;
  private readonly control: Int32Array;
  /** slots in the order they were taken (the writer's order), not yet past the head */
  private readonly slots: { to: number; released: boolean }[] = [];
  private first = 0;

  constructor(size = arenaBytes()) {
    this.share = { bytes: new SharedArrayBuffer(size), control: new SharedArrayBuffer(4) };
    this.bytes = new Uint8Array(this.share.bytes);
    this.control = new Int32Array(this.share.control);
  }

  /**
   * The view of a slot the writer reported (in the order it took them), and the function that
   * gives its room back — once, when nothing reads the view any more.
   */
  adopt(slot: ArenaSlot): { view: Uint8Array; release: () => void } {
    const entry = { to: slot.to, released: false };
    this.slots.push(entry);
    return {
      view: this.bytes.subarray(slot.offset, slot.offset + slot.length),
      release: () => {
        if (entry.released) return;
        entry.released = true;
        this.advance();
      },
    };
  }

  /** Slots given out and not yet past the head (for tests and diagnostics). */
  get pendingSlots(): number {
    return this.slots.length - this.first;
  }

  /** Moves the head over the released slots at the front. */
  private advance(): void {
    let head = -1;
    while (this.first < this.slots.length && this.slots[this.first]!.released) head = this.slots[this.first++]!.to;
    if (head < 0) return;
    if (this.first > 1024 && this.first * 2 > this.slots.length) {
      this.slots.splice(0, this.first);
      this.first = 0;
    }
    Atomics.store(this.control, HEAD, head);
  }
}

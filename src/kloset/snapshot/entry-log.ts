/**
 * The stored VFS entries of a backup in progress, kept for the dirpacks and trees written at
 * the end: each entry's MAC and bytes appended to large slabs, named by a number.
 *
 * Why not one Uint8Array per entry: a small typed array costs its own JSArrayBuffer, a backing
 * store and an allocation besides its bytes (~250 bytes of overhead for a 32-byte MAC or a
 * 200-byte entry); a heap snapshot of a 20,000-file backup held 132,000 Uint8Arrays and
 * 119,000 ArrayBuffers, mostly those. Here an entry costs its bytes plus 36.
 *
 * Entries taken unchanged from the previous snapshot are already in memory, as views of the
 * dirpack chunk they were read from: `keep` holds those views instead of copying them (in a
 * re-backup of 100,000 files the copies were 30 MB of fresh pages, ~0.5 s of page faults on
 * this VM kind).
 */
const SLAB_SIZE = 1 << 20;
const HEADER = 4 + 32; // u32le length, 32-byte MAC
/** refs are slab * 2^32 + offset: exact in a double for 2^21 slabs */
const SLAB_SPAN = 2 ** 32;

export class EntryLog {
  private readonly slabs: Uint8Array[] = [];
  /** kept views (refs -1, -2, …) */
  private readonly keptMacs: Uint8Array[] = [];
  private readonly keptBytes: Uint8Array[] = [];
  private current: Uint8Array | null = null;
  private used = 0;

  /** Bytes held in slabs (for tests and measurements). */
  get heldBytes(): number {
    return this.slabs.reduce((n, s) => n + s.length, 0);
  }

  /** Copies `mac` (32 bytes) and `bytes` in; returns the entry's ref. */
  append(mac: Uint8Array, bytes: Uint8Array): number {
    if (mac.length !== 32) throw new TypeError(`entry MAC of ${mac.length} bytes`);
    const need = HEADER + bytes.length;
    if (!this.current || this.used + need > this.current.length) {
      // an entry larger than a slab (long xattr name lists) gets a slab of its own size
      this.current = new Uint8Array(Math.max(SLAB_SIZE, need));
      this.slabs.push(this.current);
      this.used = 0;
    }
    const at = this.used, slab = this.current;
    const len = bytes.length;
    slab[at] = len & 0xff; slab[at + 1] = (len >>> 8) & 0xff; slab[at + 2] = (len >>> 16) & 0xff; slab[at + 3] = len >>> 24;
    slab.set(mac, at + 4);
    slab.set(bytes, at + HEADER);
    this.used += need;
    return (this.slabs.length - 1) * SLAB_SPAN + at;
  }

  /** Holds `mac` and `bytes` as they are (the caller will not change them); returns the ref. */
  keep(mac: Uint8Array, bytes: Uint8Array): number {
    if (mac.length !== 32) throw new TypeError(`entry MAC of ${mac.length} bytes`);
    this.keptMacs.push(mac);
    this.keptBytes.push(bytes);
    return -this.keptMacs.length;
  }

  /** The entry's MAC (a view: copy it to keep it beyond the log). */
  mac(ref: number): Uint8Array {
    if (ref < 0) return this.kept(this.keptMacs, ref);
    const [slab, at] = this.locate(ref);
    return slab.subarray(at + 4, at + HEADER);
  }

  /** The entry's encoded bytes (a view). */
  bytes(ref: number): Uint8Array {
    if (ref < 0) return this.kept(this.keptBytes, ref);
    const [slab, at] = this.locate(ref);
    const len = (slab[at]! | (slab[at + 1]! << 8) | (slab[at + 2]! << 16) | (slab[at + 3]! << 24)) >>> 0;
    return slab.subarray(at + HEADER, at + HEADER + len);
  }

  private kept(list: Uint8Array[], ref: number): Uint8Array {
    const v = list[-ref - 1];
    if (!v) throw new RangeError(`no entry ${ref}`);
    return v;
  }

  private locate(ref: number): [Uint8Array, number] {
    const slab = this.slabs[Math.floor(ref / SLAB_SPAN)];
    if (!slab) throw new RangeError(`no entry ${ref}`);
    return [slab, ref % SLAB_SPAN];
  }

  /** Drops every entry (after the snapshot is persisted). */
  clear(): void {
    this.slabs.length = 0;
    this.keptMacs.length = 0;
    this.keptBytes.length = 0;
    this.current = null;
    this.used = 0;
  }
}

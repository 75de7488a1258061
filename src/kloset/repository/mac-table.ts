/**
 * A hash table from a blob address — a type byte and a 32-byte MAC — to a non-negative int32,
 * held in two typed arrays (open addressing, linear probing, backward-shift deletion).
 *
 * Why not a Map keyed by a 33-character string: a store of a million files has a million or
 * more blobs. As a Map, each one was a heap string and a Map slot (~85 bytes on the JS heap):
 * every scavenge and mark had them to visit, and loading the index image meant creating them
 * all again (the 1,000,000-entry store's open took 5.2 s). Here a blob is 37 bytes of slot in
 * array buffers the garbage collector never looks inside, a lookup allocates nothing, and an
 * image is read back by copying keys into slots.
 *
 * The slot of a key comes from its MAC bytes mixed with a random seed of the table: MACs are
 * uniform already, but a plaintext store's MACs are plain hashes of data an attacker may
 * choose, and without the seed they could be picked to pile into one run of slots.
 */
const KEY = 33;
const EMPTY = -1;
/** grow beyond 70 % full (linear probing's runs lengthen quickly above that) */
const MAX_LOAD = 0.7;
const MIN_CAPACITY = 16;

export class MacTable {
  private keys: Uint8Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;
  private readonly seed: number;

  /** `expected`: how many keys are coming (sizes the table once instead of doubling). */
  constructor(expected = 0) {
    let cap = MIN_CAPACITY;
    while (cap * MAX_LOAD < expected) cap *= 2;
    this.keys = new Uint8Array(cap * KEY);
    this.values = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for (type, mac), or −1. */
  get(type: number, mac: Uint8Array): number {
    const values = this.values;
    for (let i = this.home(type, mac); ; i = (i + 1) & this.mask) {
      const v = values[i]!;
      if (v === EMPTY || this.equals(i, type, mac, 0)) return v;
    }
  }

  has(type: number, mac: Uint8Array): boolean {
    return this.get(type, mac) !== EMPTY;
  }

  /** Stores `value` (≥ 0) for (type, mac), replacing what was there. */
  set(type: number, mac: Uint8Array, value: number): void {
    if (mac.length !== 32) throw new RangeError(`a MAC of ${mac.length} bytes`);
    this.setAt(type, mac, 0, value);
  }

  /** `set` for the MAC at bytes[offset…offset+32] (an image read in place: no view per key). */
  setAt(type: number, bytes: Uint8Array, offset: number, value: number): void {
    if (!(value >= 0 && value <= 0x7fffffff && (value | 0) === value)) throw new RangeError(`MacTable value ${value}`);
    if (offset < 0 || offset + 32 > bytes.length) throw new RangeError('a MAC out of bounds');
    if (this.count + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    const values = this.values, mask = this.mask;
    let i = this.home(type, bytes, offset);
    for (; values[i] !== EMPTY; i = (i + 1) & mask) {
      if (this.equals(i, type, bytes, offset)) {
        values[i] = value;
        return;
      }
    }
    const keys = this.keys, o = i * KEY;
    keys[o] = type;
    // byte by byte: set() with a view per key cost more than the 32 copies
    for (let b = 0; b < 32; b++) keys[o + 1 + b] = bytes[offset + b]!;
    values[i] = value;
    this.count++;
  }

  /** Removes (type, mac); whether it was there. */
  delete(type: number, mac: Uint8Array): boolean {
    const mask = this.mask, values = this.values, keys = this.keys;
    let i = this.home(type, mac);
    for (; ; i = (i + 1) & mask) {
      if (values[i] === EMPTY) return false;
      if (this.equals(i, type, mac, 0)) break;
    }
    // Backward shift: move later members of the run into the hole when their home slot allows
    // it, so lookups never need tombstones.
    let hole = i;
    for (let j = (i + 1) & mask; values[j] !== EMPTY; j = (j + 1) & mask) {
      const h = this.homeOfSlot(j);
      // j's entry may fill the hole unless its home lies cyclically in (hole, j]
      const between = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (between) continue;
      keys.copyWithin(hole * KEY, j * KEY, j * KEY + KEY);
      values[hole] = values[j]!;
      hole = j;
    }
    values[hole] = EMPTY;
    keys.fill(0, hole * KEY, hole * KEY + KEY);
    this.count--;
    return true;
  }

  /**
   * Calls `fn` for every entry, in slot order; the MAC is `bytes[offset…offset+32]`, the
   * table's own memory (no view made per entry), valid during the call only. The table must
   * not change meanwhile.
   */
  forEach(fn: (type: number, bytes: Uint8Array, offset: number, value: number) => void): void {
    const values = this.values, keys = this.keys;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v !== EMPTY) fn(keys[i * KEY]!, keys, i * KEY + 1, v);
    }
  }

  /** The home slot of (type, the 32 MAC bytes at m[o…]): only the first 8 bytes are mixed. */
  private home(type: number, m: Uint8Array, o = 0): number {
    let h = (m[o]! | (m[o + 1]! << 8) | (m[o + 2]! << 16) | (m[o + 3]! << 24)) ^ this.seed;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ (m[o + 4]! | (m[o + 5]! << 8) | (m[o + 6]! << 16) | (m[o + 7]! << 24)) ^ type;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  private homeOfSlot(i: number): number {
    return this.home(this.keys[i * KEY]!, this.keys, i * KEY + 1);
  }

  private equals(i: number, type: number, mac: Uint8Array, offset: number): boolean {
    const k = this.keys, o = i * KEY + 1;
    if (k[o - 1] !== type) return false;
    for (let j = 0; j < 32; j++) if (k[o + j] !== mac[offset + j]) return false;
    return true;
  }

  private grow(): void {
    const oldKeys = this.keys, oldValues = this.values;
    const cap = (this.mask + 1) * 2;
    this.keys = new Uint8Array(cap * KEY);
    this.values = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    const keys = this.keys, values = this.values, mask = this.mask;
    for (let i = 0; i < oldValues.length; i++) {
      const v = oldValues[i]!;
      if (v === EMPTY) continue;
      const from = i * KEY;
      let j = this.home(oldKeys[from]!, oldKeys, from + 1);
      while (values[j] !== EMPTY) j = (j + 1) & mask;
      // byte by byte: a subarray and set() per key cost more than the 33 copies
      const to = j * KEY;
      for (let b = 0; b < KEY; b++) keys[to + b] = oldKeys[from + b]!;
      values[j] = v;
    }
  }
}

/**
 * The merged blob index (spec §7.3, repository.go: RebuildState, GetSubpartForBlob,
 * ListSnapshots): every state's entries applied in topological order, answering "where is blob
 * (type, MAC)?" and "which snapshots exist?".
 *
 * Semantics, as kloset's aggregate state:
 * - entries apply in stream order; ET_DELETE removes what is in the index at that moment
 *   (writers emit deletes first, so they target earlier states);
 * - a location is keyed by (type, blob, packfile): a blob may live in several packfiles, a
 *   repeated (type, blob, packfile) replaces the earlier record;
 * - `lookup` returns the first location (in insertion order) whose packfile is declared by an
 *   ET_PACKFILE entry and not coloured as RT_PACKFILE;
 * - a snapshot is an RT_SNAPSHOT location in a declared packfile whose ID is not coloured as
 *   RT_SNAPSHOT (a coloured packfile does not hide a snapshot, as in ListSnapshots);
 * - configuration keeps the entry with the latest createdAt per key (ties keep the first);
 * - deleting a packfile entry does not drop its locations (they become unreachable because
 *   lookups require a declared packfile); kloset's newer SQL cache drops them eagerly, with the
 *   same observable lookups.
 *
 * Memory, all of it in array buffers outside the JS heap: a blob costs one 37-byte slot of a
 * MacTable (type, MAC, first location; 53–106 bytes a blob at its 35–70 % fill) plus one
 * 28-byte slot in parallel typed arrays (packfile number, offset, length, version, flags,
 * next-slot link) for each location. Packfiles are interned to numbers once (a few thousand per
 * store); snapshots, coloured entries and configuration are small maps.
 */
import { toHex } from '../base/bytes.js';
import { corrupt } from '../base/errors.js';
import { readIndexImage, writeIndexImage } from './blob-index-image.js';
import { MacTable } from './mac-table.js';
import { ET_COLOURED, ET_LOCATIONS, ET_PACKFILE, type StateMetadata, type StateStreamInput } from './state.js';

/** resources.RT_PACKFILE, as a coloured type */
const RT_PACKFILE = 4;
/** resources.RT_SNAPSHOT */
const RT_SNAPSHOT = 5;

export interface Location {
  packfile: Uint8Array;
  offset: number;
  length: number;
  blobVersion: number;
  flags: number;
}

export interface StateInfo {
  id: Uint8Array;
  parent: Uint8Array | null;
  metadata: StateMetadata;
}

const NONE = -1;
const DECLARED = 1;
const COLOURED = 2;

/**
 * Compact Map/Set key: the type byte then the MAC bytes as char codes (a flat one-byte string
 * of 33 characters, ~56 bytes on the heap against ~90 for type + hex).
 */
export function blobKey(type: number, m: Uint8Array): string {
  return String.fromCharCode(
    type, m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!, m[8]!, m[9]!, m[10]!, m[11]!, m[12]!, m[13]!, m[14]!, m[15]!,
    m[16]!, m[17]!, m[18]!, m[19]!, m[20]!, m[21]!, m[22]!, m[23]!, m[24]!, m[25]!, m[26]!, m[27]!, m[28]!, m[29]!, m[30]!, m[31]!,
  );
}

function macFromKey(key: string): Uint8Array {
  const out = new Uint8Array(key.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = key.charCodeAt(i + 1);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class BlobIndex {
  /** (type, blob) → first location slot */
  private heads = new MacTable();
  /** keys of RT_SNAPSHOT blobs with at least one location (snapshots are few) */
  private snapshotKeys = new Set<string>();

  // Location slab: parallel arrays indexed by slot; `next` chains a blob's locations and the free list.
  private capacity = 0;
  private top = 0;
  private freeSlot = NONE;
  private count = 0;
  private slotPack = new Uint32Array(0);
  private slotOffset = new Float64Array(0);
  private slotLength = new Uint32Array(0);
  private slotVersion = new Uint32Array(0);
  private slotFlags = new Uint32Array(0);
  private slotNext = new Int32Array(0);

  // Packfiles, interned to small numbers.
  private packIds = new Map<string, number>();
  private readonly packMacs: Uint8Array[] = [];
  private packBits = new Uint8Array(64);
  private packInfo = new Map<number, { stateId: Uint8Array; timestamp: bigint }>();
  private lastPack = -1;

  private coloured = new Map<string, bigint>();
  private config = new Map<string, { value: Uint8Array; createdAt: bigint }>();
  private readonly states = new Map<string, StateInfo>();

  /** The index as bytes (blob-index-image.ts), for the local index cache. */
  toImage(): Uint8Array {
    return writeIndexImage({
      count: this.count, top: this.top, freeSlot: this.freeSlot,
      slotPack: this.slotPack, slotOffset: this.slotOffset, slotLength: this.slotLength,
      slotVersion: this.slotVersion, slotFlags: this.slotFlags, slotNext: this.slotNext,
      heads: this.heads, snapshotKeys: this.snapshotKeys, packMacs: this.packMacs, packBits: this.packBits,
      packInfo: this.packInfo, coloured: this.coloured, config: this.config, states: [...this.states.values()],
    });
  }

  /** An index from `toImage`'s bytes; CORRUPT when they are damaged. */
  static fromImage(bytes: Uint8Array): BlobIndex {
    const f = readIndexImage(bytes);
    const x = new BlobIndex();
    x.count = f.count;
    x.top = x.capacity = f.top;
    x.freeSlot = f.freeSlot;
    x.slotPack = f.slotPack;
    x.slotOffset = f.slotOffset;
    x.slotLength = f.slotLength;
    x.slotVersion = f.slotVersion;
    x.slotFlags = f.slotFlags;
    x.slotNext = f.slotNext;
    x.heads = f.heads;
    x.snapshotKeys = f.snapshotKeys;
    f.packMacs.forEach((m, i) => { x.packIds.set(blobKey(0, m), i); x.packMacs.push(m); });
    x.packBits = f.packBits;
    x.packInfo = f.packInfo;
    x.coloured = f.coloured;
    x.config = f.config;
    for (const s of f.states) x.states.set(toHex(s.id), s);
    return x;
  }

  /** Number of locations held (a blob stored in two packfiles counts twice). */
  get size(): number {
    return this.count;
  }

  /**
   * Merges one state. A state already merged (same ID) is ignored and `false` is returned.
   * The stream is checked before anything changes, so a refused state leaves the index as it was.
   */
  apply(stateId: Uint8Array, s: StateStreamInput): boolean {
    const id = toHex(stateId);
    if (this.states.has(id)) return false;
    for (const e of s.entries) {
      if (e.kind === 'delete' && e.entryType !== ET_LOCATIONS && e.entryType !== ET_COLOURED && e.entryType !== ET_PACKFILE) {
        throw corrupt(`delete entry targets unknown entry type ${e.entryType}`);
      }
    }
    for (const e of s.entries) {
      switch (e.kind) {
        case 'location':
          this.putLocation(e.blobType, e.blob, this.internPack(e.packfile), e.offset, e.length, e.blobVersion, e.flags);
          break;
        case 'coloured':
          this.coloured.set(blobKey(e.type, e.mac), e.when);
          if (e.type === RT_PACKFILE) this.packBits[this.internPack(e.mac)]! |= COLOURED;
          break;
        case 'packfile': {
          const p = this.internPack(e.packfile);
          this.packBits[p]! |= DECLARED;
          this.packInfo.set(p, { stateId: e.stateId.slice(), timestamp: e.timestamp });
          break;
        }
        case 'configuration': {
          const old = this.config.get(e.key);
          if (!old || old.createdAt < e.createdAt) this.config.set(e.key, { value: e.value.slice(), createdAt: e.createdAt });
          break;
        }
        case 'delete':
          if (e.entryType === ET_LOCATIONS) this.deleteLocation(e.blobType, e.blob, e.packfile);
          else if (e.entryType === ET_COLOURED) this.uncolour(e.blobType, e.blob);
          else this.deletePackfile(e.packfile);
          break;
      }
    }
    this.states.set(id, {
      id: stateId.slice(),
      parent: s.parent ? s.parent.slice() : null,
      metadata: { version: s.metadata.version, timestamp: s.metadata.timestamp, serial: s.metadata.serial.slice() },
    });
    return true;
  }

  /** Where to read blob (type, mac): the first location in a declared, uncoloured packfile. */
  lookup(type: number, mac: Uint8Array): Location | undefined {
    for (let s = this.heads.get(type, mac); s !== NONE; s = this.slotNext[s]!) {
      if (this.packBits[this.slotPack[s]!] === DECLARED) return this.location(s);
    }
    return undefined;
  }

  has(type: number, mac: Uint8Array): boolean {
    return this.lookup(type, mac) !== undefined;
  }

  /** Every recorded location of a blob, in insertion order, reachable or not (diagnostics, check). */
  locations(type: number, mac: Uint8Array): Location[] {
    const out: Location[] = [];
    for (let s = this.heads.get(type, mac); s !== NONE; s = this.slotNext[s]!) out.push(this.location(s));
    return out;
  }

  /** IDs of the snapshots present and not deleted, in the order they were first recorded. */
  snapshots(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const k of this.snapshotKeys) {
      if (this.coloured.has(k)) continue;
      const mac = macFromKey(k);
      for (let s = this.heads.get(RT_SNAPSHOT, mac); s !== NONE; s = this.slotNext[s]!) {
        if (this.packBits[this.slotPack[s]!]! & DECLARED) {
          out.push(mac);
          break;
        }
      }
    }
    return out;
  }

  /** Packfiles declared by an ET_PACKFILE entry (coloured ones included: see `isColoured`). */
  packfiles(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let p = 0; p < this.packMacs.length; p++) if (this.packBits[p]! & DECLARED) out.push(this.packMacs[p]!.slice());
    return out;
  }

  /** Whether (type, mac) is coloured: a deleted snapshot (5) or a packfile awaiting removal (4). */
  isColoured(type: number, mac: Uint8Array): boolean {
    return this.coloured.has(blobKey(type, mac));
  }

  /** The live value of a configuration key (latest createdAt). */
  configuration(key: string): { value: Uint8Array; createdAt: bigint } | undefined {
    const c = this.config.get(key);
    return c && { value: c.value.slice(), createdAt: c.createdAt };
  }

  /** IDs of the merged states, in merge order. */
  stateIds(): Uint8Array[] {
    return [...this.states.values()].map((s) => s.id.slice());
  }

  /** Parent and metadata of a merged state. */
  state(id: Uint8Array): StateInfo | undefined {
    const s = this.states.get(toHex(id));
    return s && { id: s.id.slice(), parent: s.parent && s.parent.slice(), metadata: { ...s.metadata, serial: s.metadata.serial.slice() } };
  }

  private location(s: number): Location {
    return {
      packfile: this.packMacs[this.slotPack[s]!]!.slice(),
      offset: this.slotOffset[s]!,
      length: this.slotLength[s]!,
      blobVersion: this.slotVersion[s]!,
      flags: this.slotFlags[s]!,
    };
  }

  /** Packfile MAC → small number; consecutive entries usually name the same packfile. */
  private internPack(mac: Uint8Array): number {
    if (this.lastPack >= 0 && sameBytes(this.packMacs[this.lastPack]!, mac)) return this.lastPack;
    const k = blobKey(0, mac);
    let p = this.packIds.get(k);
    if (p === undefined) {
      p = this.packMacs.length;
      this.packIds.set(k, p);
      this.packMacs.push(mac.slice());
      if (p >= this.packBits.length) {
        const bits = new Uint8Array(this.packBits.length * 2);
        bits.set(this.packBits);
        this.packBits = bits;
      }
    }
    this.lastPack = p;
    return p;
  }

  private findPack(mac: Uint8Array): number | undefined {
    return this.packIds.get(blobKey(0, mac));
  }

  private putLocation(type: number, blob: Uint8Array, pack: number, offset: number, length: number, blobVersion: number, flags: number): void {
    let prev = NONE;
    for (let s = this.heads.get(type, blob); s !== NONE; s = this.slotNext[s]!) {
      if (this.slotPack[s] === pack) {
        this.fill(s, pack, offset, length, blobVersion, flags);
        return;
      }
      prev = s;
    }
    const slot = this.alloc();
    this.fill(slot, pack, offset, length, blobVersion, flags);
    this.slotNext[slot] = NONE;
    this.count++;
    if (prev === NONE) {
      this.heads.set(type, blob, slot);
      if (type === RT_SNAPSHOT) this.snapshotKeys.add(blobKey(type, blob));
    } else {
      this.slotNext[prev] = slot;
    }
  }

  private deleteLocation(type: number, blob: Uint8Array, packfile: Uint8Array): void {
    const pack = this.findPack(packfile);
    if (pack === undefined) return;
    let prev = NONE;
    for (let s = this.heads.get(type, blob); s !== NONE; s = this.slotNext[s]!) {
      if (this.slotPack[s] !== pack) {
        prev = s;
        continue;
      }
      const next = this.slotNext[s]!;
      if (prev !== NONE) this.slotNext[prev] = next;
      else if (next !== NONE) this.heads.set(type, blob, next);
      else {
        this.heads.delete(type, blob);
        if (type === RT_SNAPSHOT) this.snapshotKeys.delete(blobKey(type, blob));
      }
      this.slotNext[s] = this.freeSlot;
      this.freeSlot = s;
      this.count--;
      return;
    }
  }

  private uncolour(type: number, mac: Uint8Array): void {
    this.coloured.delete(blobKey(type, mac));
    if (type !== RT_PACKFILE) return;
    const p = this.findPack(mac);
    if (p !== undefined) this.packBits[p]! &= ~COLOURED;
  }

  private deletePackfile(mac: Uint8Array): void {
    const p = this.findPack(mac);
    if (p === undefined) return;
    this.packBits[p]! &= ~DECLARED;
    this.packInfo.delete(p);
  }

  private fill(s: number, pack: number, offset: number, length: number, blobVersion: number, flags: number): void {
    this.slotPack[s] = pack;
    this.slotOffset[s] = offset;
    this.slotLength[s] = length;
    this.slotVersion[s] = blobVersion;
    this.slotFlags[s] = flags;
  }

  private alloc(): number {
    if (this.freeSlot !== NONE) {
      const s = this.freeSlot;
      this.freeSlot = this.slotNext[s]!;
      return s;
    }
    if (this.top === this.capacity) this.grow();
    return this.top++;
  }

  private grow(): void {
    const cap = Math.max(1024, this.capacity * 2);
    const u32 = (old: Uint32Array) => {
      const a = new Uint32Array(cap);
      a.set(old);
      return a;
    };
    this.slotPack = u32(this.slotPack);
    this.slotLength = u32(this.slotLength);
    this.slotVersion = u32(this.slotVersion);
    this.slotFlags = u32(this.slotFlags);
    const offsets = new Float64Array(cap);
    offsets.set(this.slotOffset);
    this.slotOffset = offsets;
    const next = new Int32Array(cap);
    next.set(this.slotNext);
    this.slotNext = next;
    this.capacity = cap;
  }
}

/**
 * Orders states so that each comes after its parent (kloset's TopoSort before merging). States
 * without a parent (v1.0 streams, the first state, an all-zero parent) or whose parent is not
 * in the list (already merged, or missing) are roots. Siblings and roots are taken in
 * ascending ID order so the result does not depend on listing order. Each state has one
 * parent, so a cycle (only possible in a forged store) is a ring: it is broken at its smallest
 * ID, which is treated as a root. Duplicate IDs are merged (the first one's parent is used).
 */
export function orderStates(states: readonly { id: Uint8Array; parent: Uint8Array | null }[]): Uint8Array[] {
  const byId = new Map<string, { id: Uint8Array; hex: string; parent: string | null }>();
  for (const s of states) {
    const hex = toHex(s.id);
    if (byId.has(hex)) continue;
    const parent = s.parent && s.parent.some((b) => b !== 0) ? toHex(s.parent) : null;
    byId.set(hex, { id: s.id, hex, parent });
  }
  const sorted = [...byId.values()].sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0));
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const s of sorted) {
    if (s.parent === null || s.parent === s.hex || !byId.has(s.parent)) roots.push(s.hex);
    else {
      const list = children.get(s.parent);
      if (list) list.push(s.hex);
      else children.set(s.parent, [s.hex]);
    }
  }
  const out: Uint8Array[] = [];
  const done = new Set<string>();
  // Iterative pre-order walk: a parent is always emitted before its children; long chains of
  // states cannot overflow the call stack.
  const walk = (start: string): void => {
    const stack = [start];
    while (stack.length > 0) {
      const hex = stack.pop()!;
      if (done.has(hex)) continue;
      done.add(hex);
      out.push(byId.get(hex)!.id);
      const kids = children.get(hex);
      if (kids) for (let i = kids.length - 1; i >= 0; i--) if (!done.has(kids[i]!)) stack.push(kids[i]!);
    }
  };
  for (const r of roots) walk(r);
  // Whatever is left is a ring of states plus the trees hanging off it: follow parents from
  // the smallest remaining ID into the ring and restart from the ring's smallest ID.
  for (const s of sorted) {
    if (done.has(s.hex)) continue;
    const seen: string[] = [];
    const at = new Map<string, number>();
    let cur = s.hex;
    while (!at.has(cur)) {
      at.set(cur, seen.length);
      seen.push(cur);
      cur = byId.get(cur)!.parent!;
    }
    const ring = seen.slice(at.get(cur)!);
    walk(ring.reduce((a, b) => (b < a ? b : a)));
  }
  return out;
}

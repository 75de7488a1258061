import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/kloset/base/bytes.js';
import { BlobIndex, orderStates } from '../../src/kloset/repository/blob-index.js';
import { parseState, serializeState, STATE_VERSION_1_1, type StateEntry, type StateStream } from '../../src/kloset/repository/state.js';

const filled = (b: number) => new Uint8Array(32).fill(b);
const hexes = (list: Uint8Array[]) => list.map(toHex);
const V1 = 0x00010000;
const CHUNK = 9;
const OBJECT = 7;
const SNAPSHOT = 5;
const PACKFILE = 4;

// Identities borrowed from kloset's golden state fixtures (repository/state/golden_test.go).
const state1 = filled(0xa1);
const state2 = filled(0xa2);
const state3 = filled(0xa3);
const snap1 = filled(0x51);
const snap2 = filled(0x52);
const chunk1 = filled(0xc1);
const chunk2 = filled(0xc2);
const orphan = filled(0xc0);
const obj1 = filled(0x0b);
const pack1 = filled(0xb1);
const pack2 = filled(0xb2);
const pack3 = filled(0xb3);
const packMissing = filled(0xbf);

const loc = (blobType: number, blob: Uint8Array, packfile: Uint8Array, offset: number, length: number, flags = 0): StateEntry => ({
  kind: 'location', blobType, blobVersion: V1, blob, packfile, offset, length, flags,
});
const declare = (packfile: Uint8Array, stateId: Uint8Array = state1): StateEntry => ({ kind: 'packfile', packfile, stateId, timestamp: 1n });
const colour = (type: number, mac: Uint8Array): StateEntry => ({ kind: 'coloured', type, mac, when: 2n });
const del = (entryType: number, blobType: number, blob: Uint8Array, packfile: Uint8Array): StateEntry => ({ kind: 'delete', entryType, blobType, blob, packfile });
const cfg = (key: string, value: string, createdAt: bigint): StateEntry => ({ kind: 'configuration', key, value: new TextEncoder().encode(value), createdAt });
const stream = (entries: StateEntry[], parent: Uint8Array | null = null): StateStream => ({
  parent, entries, metadata: { version: STATE_VERSION_1_1, timestamp: 7n, serial: new Uint8Array(16).fill(1) },
});
/** Through the real bytes, so the index sees streams in the order a writer emits them. */
const wire = (s: StateStream): StateStream => parseState(serializeState(s, STATE_VERSION_1_1), STATE_VERSION_1_1);

const backup = () =>
  wire(stream([
    loc(SNAPSHOT, snap1, pack1, 0, 100),
    loc(SNAPSHOT, snap2, pack2, 0, 120),
    loc(CHUNK, chunk1, pack1, 100, 50, 7),
    loc(CHUNK, chunk2, pack2, 120, 60),
    loc(OBJECT, obj1, pack3, 0, 70),
    loc(CHUNK, orphan, packMissing, 0, 10),
    declare(pack1), declare(pack2), declare(pack3),
  ]));
const rm = () => wire(stream([colour(SNAPSHOT, snap2), colour(PACKFILE, pack2)], state1));
const maintenance = () => wire(stream([del(2, CHUNK, chunk2, pack2), del(4, 0, new Uint8Array(32), pack2), del(3, PACKFILE, pack2, new Uint8Array(32))], state2));

describe('BlobIndex merge (kloset golden lifecycle: backup → rm → maintenance)', () => {
  it('backup: lookups need a declared packfile; snapshots are listed', () => {
    const idx = new BlobIndex();
    expect(idx.apply(state1, backup())).toBe(true);
    expect(idx.size).toBe(6);
    expect(idx.lookup(CHUNK, chunk1)).toEqual({ packfile: pack1, offset: 100, length: 50, blobVersion: V1, flags: 7 });
    expect(idx.has(CHUNK, chunk2)).toBe(true);
    expect(idx.has(OBJECT, obj1)).toBe(true);
    expect(idx.has(CHUNK, orphan)).toBe(false); // its packfile was never declared
    expect(idx.locations(CHUNK, orphan)).toHaveLength(1);
    expect(idx.has(OBJECT, chunk1)).toBe(false); // the type is part of the address
    expect(idx.has(CHUNK, filled(0xee))).toBe(false);
    expect(hexes(idx.snapshots())).toEqual(hexes([snap1, snap2]));
    expect(hexes(idx.packfiles())).toEqual(hexes([pack1, pack2, pack3]));
    expect(hexes(idx.stateIds())).toEqual(hexes([state1]));
  });

  it('rm: a coloured snapshot disappears, a coloured packfile hides its blobs', () => {
    const idx = new BlobIndex();
    idx.apply(state1, backup());
    idx.apply(state2, rm());
    expect(hexes(idx.snapshots())).toEqual(hexes([snap1]));
    expect(idx.isColoured(SNAPSHOT, snap2)).toBe(true);
    expect(idx.isColoured(PACKFILE, pack2)).toBe(true);
    expect(idx.has(CHUNK, chunk2)).toBe(false);
    expect(idx.lookup(CHUNK, chunk2)).toBeUndefined();
    expect(idx.has(CHUNK, chunk1)).toBe(true);
    expect(hexes(idx.packfiles())).toEqual(hexes([pack1, pack2, pack3])); // still declared, only coloured
  });

  it('maintenance: ET_DELETE removes the location, the packfile entry and the packfile colour', () => {
    const idx = new BlobIndex();
    idx.apply(state1, backup());
    idx.apply(state2, rm());
    idx.apply(state3, maintenance());
    expect(idx.isColoured(PACKFILE, pack2)).toBe(false);
    expect(idx.isColoured(SNAPSHOT, snap2)).toBe(true); // only the packfile was uncoloured
    expect(hexes(idx.packfiles())).toEqual(hexes([pack1, pack3]));
    expect(idx.locations(CHUNK, chunk2)).toEqual([]);
    expect(idx.size).toBe(5);
    expect(idx.has(SNAPSHOT, snap2)).toBe(false); // its packfile is no longer declared
    expect(hexes(idx.snapshots())).toEqual(hexes([snap1]));
    expect(hexes(idx.stateIds())).toEqual(hexes([state1, state2, state3]));
    expect(toHex(idx.state(state3)!.parent!)).toBe(toHex(state2));
    expect(idx.state(state1)!.parent).toBeNull();
  });

  it('a state merged twice is ignored', () => {
    const idx = new BlobIndex();
    idx.apply(state1, backup());
    expect(idx.apply(state1, wire(stream([del(2, CHUNK, chunk1, pack1)])))).toBe(false);
    expect(idx.has(CHUNK, chunk1)).toBe(true);
    expect(idx.stateIds()).toHaveLength(1);
  });
});

describe('BlobIndex semantics', () => {
  it('ET_DELETE applies in stream order: a writer puts deletes first, so they only reach earlier states', () => {
    const entries = [loc(CHUNK, chunk1, pack1, 0, 1), declare(pack1), del(2, CHUNK, chunk1, pack1)];
    const viaWire = new BlobIndex();
    viaWire.apply(state1, wire(stream(entries))); // serialized: delete, location, packfile
    expect(viaWire.has(CHUNK, chunk1)).toBe(true);
    const asGiven = new BlobIndex();
    asGiven.apply(state1, stream(entries)); // location, packfile, delete
    expect(asGiven.has(CHUNK, chunk1)).toBe(false);
    expect(asGiven.size).toBe(0);
    // deletes of things never seen are no-ops
    asGiven.apply(state2, stream([del(2, CHUNK, chunk2, pack3), del(3, SNAPSHOT, snap1, pack1), del(4, 0, chunk1, pack3)]));
    expect(asGiven.size).toBe(0);
  });

  it('un-colouring a snapshot brings it back; colouring works across states and before the location', () => {
    const idx = new BlobIndex();
    idx.apply(state1, stream([colour(SNAPSHOT, snap1)]));
    idx.apply(state2, stream([loc(SNAPSHOT, snap1, pack1, 0, 10), declare(pack1)]));
    expect(idx.snapshots()).toEqual([]);
    expect(idx.has(SNAPSHOT, snap1)).toBe(true); // colouring a snapshot does not hide its blob
    idx.apply(state3, stream([del(3, SNAPSHOT, snap1, new Uint8Array(32))]));
    expect(hexes(idx.snapshots())).toEqual(hexes([snap1]));
  });

  it('a snapshot in a coloured packfile is still listed, one in an undeclared packfile is not; duplicates are listed once', () => {
    const idx = new BlobIndex();
    idx.apply(state1, stream([
      loc(SNAPSHOT, snap1, pack1, 0, 10), loc(SNAPSHOT, snap1, pack2, 0, 10),
      loc(SNAPSHOT, snap2, pack3, 0, 10),
      declare(pack1), declare(pack2), colour(PACKFILE, pack1),
    ]));
    expect(hexes(idx.snapshots())).toEqual(hexes([snap1]));
    expect(idx.lookup(SNAPSHOT, snap1)!.packfile).toEqual(pack2);
  });

  it('multiple locations per blob: the first live one wins; a repeated (type, blob, packfile) replaces', () => {
    const idx = new BlobIndex();
    idx.apply(state1, stream([loc(CHUNK, chunk1, pack1, 10, 1), loc(CHUNK, chunk1, pack2, 20, 2), declare(pack1), declare(pack2)]));
    expect(idx.size).toBe(2);
    expect(idx.locations(CHUNK, chunk1).map((l) => l.offset)).toEqual([10, 20]);
    expect(idx.lookup(CHUNK, chunk1)).toMatchObject({ packfile: pack1, offset: 10 });
    idx.apply(state2, stream([colour(PACKFILE, pack1)]));
    expect(idx.lookup(CHUNK, chunk1)).toMatchObject({ packfile: pack2, offset: 20 });
    idx.apply(state3, stream([del(4, 0, new Uint8Array(32), pack2)]));
    expect(idx.lookup(CHUNK, chunk1)).toBeUndefined();
    idx.apply(filled(0xa4), stream([del(3, PACKFILE, pack1, new Uint8Array(32))]));
    expect(idx.lookup(CHUNK, chunk1)).toMatchObject({ packfile: pack1, offset: 10 });
    idx.apply(filled(0xa5), stream([loc(CHUNK, chunk1, pack1, 99, 9, 1)]));
    expect(idx.size).toBe(2);
    expect(idx.lookup(CHUNK, chunk1)).toEqual({ packfile: pack1, offset: 99, length: 9, blobVersion: V1, flags: 1 });
    // removing the head of a chain keeps the rest, and freed slots are reused
    idx.apply(filled(0xa6), stream([del(2, CHUNK, chunk1, pack1), declare(pack2)]));
    expect(idx.locations(CHUNK, chunk1).map((l) => l.offset)).toEqual([20]);
    expect(idx.lookup(CHUNK, chunk1)).toMatchObject({ packfile: pack2 });
    idx.apply(filled(0xa7), stream([loc(CHUNK, chunk2, pack1, 5, 5)]));
    expect(idx.size).toBe(2);
    expect(idx.lookup(CHUNK, chunk2)).toMatchObject({ offset: 5 });
    expect(idx.lookup(CHUNK, chunk1)).toMatchObject({ offset: 20 });
  });

  it('a packfile declared in a later state makes earlier locations visible', () => {
    const idx = new BlobIndex();
    idx.apply(state1, stream([loc(CHUNK, chunk1, pack1, 0, 1)]));
    expect(idx.has(CHUNK, chunk1)).toBe(false);
    idx.apply(state2, stream([declare(pack1, state2)]));
    expect(idx.has(CHUNK, chunk1)).toBe(true);
  });

  it('configuration: the latest createdAt wins per key, whatever the merge order; ties keep the first', () => {
    const idx = new BlobIndex();
    idx.apply(state1, stream([cfg('k', 'v2', 2n), cfg('other', 'x', 5n)]));
    idx.apply(state2, stream([cfg('k', 'v1', 1n)]));
    expect(new TextDecoder().decode(idx.configuration('k')!.value)).toBe('v2');
    idx.apply(state3, stream([cfg('k', 'v3', 3n), cfg('other', 'y', 5n)]));
    expect(idx.configuration('k')).toEqual({ value: new TextEncoder().encode('v3'), createdAt: 3n });
    expect(new TextDecoder().decode(idx.configuration('other')!.value)).toBe('x');
    expect(idx.configuration('missing')).toBeUndefined();
  });

  it('refuses a stream with a delete of an unknown kind before changing anything', () => {
    const idx = new BlobIndex();
    const bad = stream([loc(CHUNK, chunk1, pack1, 0, 1), declare(pack1), del(5, CHUNK, chunk1, pack1)]);
    expect(() => idx.apply(state1, bad)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(idx.size).toBe(0);
    expect(idx.stateIds()).toEqual([]);
  });

  it('returned bytes are copies: mutating them or the applied stream does not change the index', () => {
    const idx = new BlobIndex();
    const s = stream([loc(CHUNK, filled(1), filled(2), 0, 1), declare(filled(2))]);
    idx.apply(state1, s);
    (s.entries[0] as { blob: Uint8Array }).blob.fill(9);
    (s.entries[1] as { packfile: Uint8Array }).packfile.fill(9);
    idx.lookup(CHUNK, filled(1))!.packfile.fill(7);
    idx.packfiles()[0]!.fill(7);
    expect(idx.lookup(CHUNK, filled(1))!.packfile).toEqual(filled(2));
  });
});

describe('orderStates', () => {
  const id = (b: number) => filled(b);
  const order = (list: { id: Uint8Array; parent: Uint8Array | null }[]) => orderStates(list).map((x) => x[0]!);

  it('puts parents first, whatever the listing order', () => {
    const a = { id: id(0x30), parent: null };
    const b = { id: id(0x10), parent: id(0x30) };
    const c = { id: id(0x20), parent: id(0x10) };
    expect(order([c, b, a])).toEqual([0x30, 0x10, 0x20]);
    expect(order([a, c, b])).toEqual([0x30, 0x10, 0x20]);
  });

  it('roots are states without parent, with a zero parent or an unknown one; ties go by ID', () => {
    const list = [
      { id: id(5), parent: id(0xee) }, // parent not in the list (already merged)
      { id: id(9), parent: null }, // v1.0 state
      { id: id(1), parent: new Uint8Array(32) }, // zero parent = none
      { id: id(3), parent: id(1) },
      { id: id(2), parent: id(1) },
    ];
    expect(order(list)).toEqual([1, 2, 3, 5, 9]);
    expect(order([...list].reverse())).toEqual([1, 2, 3, 5, 9]);
  });

  it('children across states: applying in topological order makes a child delete its parent\'s entries', () => {
    const parentStream = wire(stream([loc(CHUNK, chunk1, pack1, 0, 1), declare(pack1)]));
    const childStream = wire(stream([del(2, CHUNK, chunk1, pack1)], filled(0xf0)));
    const listed = [{ id: filled(0x01), stream: childStream }, { id: filled(0xf0), stream: parentStream }];
    const idx = new BlobIndex();
    for (const sid of orderStates(listed.map((s) => ({ id: s.id, parent: s.stream.parent })))) {
      idx.apply(sid, listed.find((s) => toHex(s.id) === toHex(sid))!.stream);
    }
    expect(hexes(idx.stateIds())).toEqual(hexes([filled(0xf0), filled(0x01)]));
    expect(idx.has(CHUNK, chunk1)).toBe(false);
    // the listing order (child first) would have left the location in place
    const naive = new BlobIndex();
    for (const s of listed) naive.apply(s.id, s.stream);
    expect(naive.has(CHUNK, chunk1)).toBe(true);
  });

  it('breaks cycles deterministically at the smallest ID of the ring, keeping hanging states after it', () => {
    const ring = [
      { id: id(4), parent: id(2) },
      { id: id(2), parent: id(7) },
      { id: id(7), parent: id(4) },
      { id: id(1), parent: id(7) }, // hangs off the ring; smaller than every ring member
      { id: id(8), parent: id(8) }, // its own parent
    ];
    const got = order(ring);
    expect(got).toEqual([8, 2, 4, 7, 1]);
    expect(order([...ring].reverse())).toEqual(got);
  });

  it('handles long chains and duplicates without recursion', () => {
    const n = 20_000;
    const chain = Array.from({ length: n }, (_, i) => {
      const mk = (k: number) => {
        const b = new Uint8Array(32);
        new DataView(b.buffer).setUint32(0, k);
        return b;
      };
      return { id: mk(n - i), parent: i === n - 1 ? null : mk(n - i - 1) };
    });
    const got = orderStates([...chain, chain[0]!]);
    expect(got).toHaveLength(n);
    expect(new DataView(got[0]!.buffer).getUint32(0)).toBe(1);
    expect(new DataView(got[n - 1]!.buffer).getUint32(0)).toBe(n);
  });
});

describe('BlobIndex at scale', () => {
  it('builds a 200,000-location index in well under a second', () => {
    const n = 200_000;
    const macs = new Uint8Array(n * 32);
    for (let o = 0; o < macs.length; o += 65536) crypto.getRandomValues(macs.subarray(o, Math.min(macs.length, o + 65536)));
    const packs = Array.from({ length: 40 }, (_, i) => filled(0x80 + i));
    const entries: StateEntry[] = [];
    for (let i = 0; i < n; i++) entries.push(loc(CHUNK, macs.subarray(i * 32, i * 32 + 32), packs[i % 40]!, i * 100, 100));
    for (const p of packs) entries.push(declare(p));
    const bytes = serializeState(stream(entries), STATE_VERSION_1_1);

    const t0 = performance.now();
    const parsed = parseState(bytes, STATE_VERSION_1_1);
    const t1 = performance.now();
    const idx = new BlobIndex();
    idx.apply(state1, parsed);
    const t2 = performance.now();
    console.log(`200k locations: parse ${(t1 - t0).toFixed(0)} ms, index ${(t2 - t1).toFixed(0)} ms`);
    expect(t2 - t1).toBeLessThan(1000);
    expect(t2 - t0).toBeLessThan(2000);
    expect(idx.size).toBe(n);
    for (const i of [0, 1, 12_345, n - 1]) {
      expect(idx.lookup(CHUNK, macs.subarray(i * 32, i * 32 + 32))).toEqual({ packfile: packs[i % 40], offset: i * 100, length: 100, blobVersion: V1, flags: 0 });
    }
    let found = 0;
    for (let i = 0; i < n; i += 97) if (idx.has(CHUNK, macs.subarray(i * 32, i * 32 + 32))) found++;
    expect(found).toBe(Math.ceil(n / 97));
  });
});

describe('BlobIndex image (the local index cache)', () => {
  const observe = (idx: BlobIndex) => ({
    size: idx.size,
    lookups: [[SNAPSHOT, snap1], [SNAPSHOT, snap2], [CHUNK, chunk1], [CHUNK, chunk2], [CHUNK, orphan], [OBJECT, obj1]].map(([t, m]) => [idx.lookup(t as number, m as Uint8Array), idx.locations(t as number, m as Uint8Array)]),
    snapshots: hexes(idx.snapshots()),
    packfiles: hexes(idx.packfiles()),
    coloured: [idx.isColoured(SNAPSHOT, snap2), idx.isColoured(PACKFILE, pack2)],
    config: idx.configuration('k'),
    states: hexes(idx.stateIds()).map((id) => idx.state(new Uint8Array(Buffer.from(id, 'hex')))),
  });

  it('answers as the index it was made from, at each step of the lifecycle, and goes on merging the same', () => {
    const live = new BlobIndex();
    const steps: [Uint8Array, StateStream][] = [
      [state1, wire(stream([...backup().entries, cfg('k', 'v1', 5n)]))],
      [state2, rm()],
      [state3, maintenance()],
    ];
    for (const [i, [id, s]] of steps.entries()) {
      live.apply(id, s);
      const copy = BlobIndex.fromImage(live.toImage());
      expect(observe(copy), `after step ${i}`).toEqual(observe(live));
      const next = steps[i + 1];
      if (next) {
        // the copy merges the next state exactly as the original does
        const a = BlobIndex.fromImage(live.toImage());
        a.apply(next[0], next[1]);
        const b = BlobIndex.fromImage(live.toImage());
        b.apply(next[0], next[1]);
        expect(observe(a)).toEqual(observe(b));
        expect(a.apply(id, s)).toBe(false); // a merged state is known to the copy
      }
    }
  });

  it('a truncated or inconsistent image is CORRUPT, not a wrong index', () => {
    const idx = new BlobIndex();
    idx.apply(state1, backup());
    const image = idx.toImage();
    for (const cut of [0, 7, 20, image.length >> 1, image.length - 1]) {
      expect(() => BlobIndex.fromImage(image.subarray(0, cut)), `cut at ${cut}`).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    }
    expect(() => BlobIndex.fromImage(new Uint8Array([...image, 0]))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    const badLink = image.slice();
    // the first slot's link (after magic, version, count, top, free slot and five slab arrays)
    const top = new DataView(badLink.buffer).getUint32(12, true);
    new DataView(badLink.buffer).setInt32(20 + top * (4 + 8 + 4 + 4 + 4), top + 5, true);
    expect(() => BlobIndex.fromImage(badLink)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    const badVersion = image.slice();
    badVersion[4] = 9;
    expect(() => BlobIndex.fromImage(badVersion)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

/**
 * Persisted B+tree (spec §9.1/§9.2): comparators against a UTF-8 byte reference, bulk build →
 * read round trips through a content-addressed in-memory node store (MAC = sha256 of the node's
 * msgpack), the written shape checked node by node (sizes, separators = descent rule, leaf
 * `next` chain, Go's right-to-left post-order put sequence), corrupt trees, and timings.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulberry32 as rng } from '../support/test-helpers.js';
import { toHex } from '../../src/kloset/base/bytes.js';
import { KlosetError, isKlosetError } from '../../src/kloset/base/errors.js';
import { decodeStruct, encodeStruct } from '../../src/kloset/encoding/schema.js';
import { buildBTree } from '../../src/kloset/snapshot/btree/builder.js';
import { compareBytewise, pathCompare } from '../../src/kloset/snapshot/btree/compare.js';
import { btreeDescriptorSchema, btreeNodeSchema, type BTreeNode } from '../../src/kloset/snapshot/btree/node.js';
import { BTreeReader, MAX_DEPTH } from '../../src/kloset/snapshot/btree/reader.js';

type Cmp = (a: string, b: string) => number;

// ------------------------------------------------------------------ helpers

/** Content-addressed node store as a repository would be: Map of MAC hex → encoded node. */
class MemStore {
  readonly blobs = new Map<string, Uint8Array>();
  readonly puts: string[] = [];
  gets = 0;

  put = async (node: BTreeNode): Promise<Uint8Array> => {
    // Go's persist order: whatever a node points at (children, right sibling) already exists.
    for (const p of node.pointers) if (!this.blobs.has(toHex(p))) throw new Error('child put after its parent');
    if (node.next && !this.blobs.has(toHex(node.next))) throw new Error('leaf put before its right sibling');
    const bytes = encodeStruct(btreeNodeSchema, node);
    const mac = new Uint8Array(createHash('sha256').update(bytes).digest());
    const id = toHex(mac);
    if (this.blobs.has(id)) throw new Error('node put twice');
    this.blobs.set(id, bytes);
    this.puts.push(id);
    return mac;
  };

  get = async (mac: Uint8Array): Promise<BTreeNode> => {
    this.gets++;
    const bytes = this.blobs.get(toHex(mac));
    if (!bytes) throw new KlosetError('NOT_FOUND', `no node ${toHex(mac)}`);
    return decodeStruct(btreeNodeSchema, bytes);
  };
}

/** Reference orders, computed on the UTF-8 bytes independently of the code under test. */
const utf8Cmp: Cmp = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const slashes = (s: string) => s.split('/').length - 1;
const pathRef: Cmp = (a, b) => slashes(a) - slashes(b) || utf8Cmp(a, b);

function sortBy(keys: string[], ref: 'bytes' | 'path'): string[] {
  const dec = keys.map((k) => ({ k, b: Buffer.from(k, 'utf8'), d: slashes(k) }));
  dec.sort((x, y) => (ref === 'path' ? x.d - y.d : 0) || Buffer.compare(x.b, y.b));
  return dec.map((x) => x.k);
}


// Characters around the UTF-16 vs UTF-8 disagreement, plus plain ASCII.
const ALPHABET = ['a', 'b', 'z', 'A', '0', '-', '.', 'é', 'ß', '中', '\uE000', '\uFF01', '\uFFFD', '😀', '𝄞', '\u{10000}'];
const SEGMENTS = ['etc', 'usr', 'home', 'bin', 'lib', 'a', 'b', 'é', '中文', '\uFF01x', '😀', 'x\u{1F600}y', 'Z'];

/** n distinct keys of mixed scripts (some with characters above U+FFFF), sorted bytewise. */
function bytewiseKeys(n: number, seed = 1): string[] {
  const r = rng(seed);
  const out = new Set<string>();
  while (out.size < n) {
    let s = '';
    const len = 1 + Math.floor(r() * 6);
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    out.add(s + (out.size % 7 === 0 ? '' : out.size.toString(36)));
  }
  return sortBy([...out], 'bytes');
}

/** n distinct absolute paths of depth 0–6 (including "/"), sorted like Go's vfs.PathCmp. */
function pathKeys(n: number, seed = 2): string[] {
  const r = rng(seed);
  const out = new Set<string>(n > 0 ? ['/'] : []);
  while (out.size < n) {
    const depth = 1 + Math.floor(r() * 6);
    const parts: string[] = [];
    for (let i = 0; i < depth; i++) parts.push(SEGMENTS[Math.floor(r() * SEGMENTS.length)]! + (r() < 0.5 ? Math.floor(r() * 1000) : ''));
    out.add('/' + parts.join('/'));
  }
  return sortBy([...out], 'path');
}

/** The value stored under the i-th key: a fake MAC carrying i. */
function valueFor(i: number): Uint8Array {
  const v = new Uint8Array(32);
  new DataView(v.buffer).setUint32(0, i);
  v[31] = 0xa5;
  return v;
}
const indexOf = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset).getUint32(0);

function lowerBound(keys: string[], key: string, cmp: Cmp): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (cmp(keys[m]!, key) < 0) lo = m + 1;
    else hi = m;
  }
  return lo;
}

async function collect(it: AsyncIterable<[string, Uint8Array]>, limit = Infinity): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  for await (const e of it) {
    out.push(e);
    if (out.length >= limit) break;
  }
  return out;
}

interface Shape {
  leaves: string[]; // MAC hex, left to right
  leafKeys: string[];
  postOrder: string[]; // Go's persist order: children right to left, then the node
  height: number;
}

/**
 * Walks the stored tree from the root and checks every node: sizes, the descent rule
 * (separator keys[i] = smallest key of pointers[i + 1], everything left of it smaller),
 * all leaves at one depth, and that leaf `next` links chain the leaves left to right.
 */
async function checkShape(store: MemStore, root: Uint8Array, order: number, cmp: Cmp): Promise<Shape> {
  const leaves: string[] = [];
  const leafKeys: string[] = [];
  const postOrder: string[] = [];
  const nexts = new Map<string, string | null>();
  const depths = new Set<number>();
  // returns [min key, max key] of the subtree
  const walk = async (mac: Uint8Array, depth: number, isRoot: boolean): Promise<[string, string] | null> => {
    const id = toHex(mac);
    const node = await store.get(mac);
    expect(node.version).toBe(0);
    expect(node.prev ?? null).toBeNull();
    if (node.pointers.length === 0) {
      depths.add(depth);
      expect(node.values.length).toBe(node.keys.length);
      expect(node.keys.length).toBeLessThanOrEqual(order - 1);
      if (!isRoot) expect(node.keys.length).toBeGreaterThan(0);
      for (let i = 1; i < node.keys.length; i++) if (cmp(node.keys[i - 1]!, node.keys[i]!) >= 0) expect.fail(`leaf keys unsorted at #${i}`);
      leaves.push(id);
      leafKeys.push(...node.keys);
      nexts.set(id, node.next ? toHex(node.next) : null);
      postOrder.push(id);
      return node.keys.length ? [node.keys[0]!, node.keys[node.keys.length - 1]!] : null;
    }
    expect(node.values).toEqual([]);
    expect(node.next ?? null).toBeNull();
    expect(node.pointers.length).toBe(node.keys.length + 1);
    expect(node.pointers.length).toBeGreaterThanOrEqual(2);
    expect(node.pointers.length).toBeLessThanOrEqual(order);
    const ranges: [string, string][] = [];
    const before = postOrder.length;
    const sub: string[][] = [];
    for (const p of node.pointers) {
      const mark = postOrder.length;
      const r = await walk(p, depth + 1, false);
      expect(r).not.toBeNull();
      ranges.push(r!);
      sub.push(postOrder.splice(mark));
    }
    // Go's order: the right-most child's subtree first.
    postOrder.splice(before, 0, ...sub.reverse().flat());
    postOrder.push(id);
    for (let i = 0; i < node.keys.length; i++) {
      expect(node.keys[i]).toBe(ranges[i + 1]![0]); // smallest key of the right subtree
      expect(cmp(ranges[i]![1], node.keys[i]!)).toBeLessThan(0); // left subtree entirely below
    }
    return [ranges[0]![0], ranges[ranges.length - 1]![1]];
  };
  await walk(root, 0, true);
  expect(depths.size).toBe(1);
  // next chain: each leaf points at the following one, the last at nothing.
  for (let i = 0; i < leaves.length; i++) expect(nexts.get(leaves[i]!)).toBe(i + 1 < leaves.length ? leaves[i + 1] : null);
  return { leaves, leafKeys, postOrder, height: [...depths][0]! };
}

async function build(keys: string[], cmp: Cmp, order?: number) {
  const store = new MemStore();
  const built = await buildBTree(
    keys.map((k, i) => [k, valueFor(i)] as [string, Uint8Array]),
    store.put,
    order === undefined ? { compare: cmp } : { compare: cmp, order },
  );
  return { store, built };
}

async function expectCorrupt(p: Promise<unknown>, re?: RegExp): Promise<KlosetError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isKlosetError(e, 'CORRUPT'), String(e)).toBe(true);
  if (re) expect((e as KlosetError).message).toMatch(re);
  return e as KlosetError;
}

// ------------------------------------------------------------------ comparators

describe('comparators', () => {
  it('compareBytewise is UTF-8 byte order, not UTF-16 code-unit order', () => {
    // U+1F600 is F0 9F 98 80 in UTF-8 (> EF BF BF) but D83D DE00 in UTF-16 (< FFFF).
    expect(compareBytewise('😀', '\uFFFF')).toBe(1);
    expect(compareBytewise('\uFFFF', '😀')).toBe(-1);
    expect('😀' < '\uFFFF').toBe(true); // the JavaScript order that must not be used
    expect(compareBytewise('\u{10000}', '\uE000')).toBe(1);
    expect(compareBytewise('a\uFF01', 'a𝄞')).toBe(-1);
    expect(compareBytewise('😀', '😁')).toBe(-1);
    expect(compareBytewise('\uD7FF', '😀')).toBe(-1);
    expect(compareBytewise('abc', 'abc')).toBe(0);
    expect(compareBytewise('ab', 'abc')).toBe(-1);
    expect(compareBytewise('abc', 'ab')).toBe(1);
    expect(compareBytewise('', 'a')).toBe(-1);
    expect(compareBytewise('B', 'a')).toBe(-1);
    expect(compareBytewise('é', 'z')).toBe(1);
    expect(compareBytewise('😀a', '😀b')).toBe(-1);
  });

  it('compareBytewise agrees with Buffer.compare on random mixed strings', () => {
    const r = rng(7);
    const pick = () => {
      let s = '';
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
      return s;
    };
    for (let i = 0; i < 20_000; i++) {
      const a = pick();
      const b = r() < 0.2 ? a + pick() : pick();
      expect(compareBytewise(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(utf8Cmp(a, b)));
    }
  });

  it('pathCompare orders by depth first, then bytewise (Go vfs.PathCmp)', () => {
    const shuffled = ['/a/x/z', '/b/y', '/b', '/a/x', '/', '/a'];
    expect(shuffled.sort(pathCompare)).toEqual(['/', '/a', '/b', '/a/x', '/b/y', '/a/x/z']);
    expect(pathCompare('/zzz', '/a/b')).toBe(-1); // fewer slashes wins regardless of bytes
    expect(pathCompare('/a/b', '/a/b')).toBe(0);
    expect(pathCompare('/a/😀', '/a/\uFFFF')).toBe(1);
    expect(pathCompare('/etc/hostsuser.foo:', '/etc/hosts')).toBe(1);
    const ps = [...pathKeys(400, 11)].reverse();
    const r = rng(9);
    for (let i = 0; i < 20_000; i++) {
      const a = ps[Math.floor(r() * ps.length)]!;
      const b = ps[Math.floor(r() * ps.length)]!;
      expect(pathCompare(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(pathRef(a, b)));
    }
  });
});

// ------------------------------------------------------------------ round trips

const SIZES = [0, 1, 49, 50, 51, 2_500, 200_000];
const COMPARATORS: [string, Cmp, (n: number) => string[]][] = [
  ['compareBytewise', compareBytewise, (n) => bytewiseKeys(n)],
  ['pathCompare', pathCompare, (n) => pathKeys(n)],
];

describe.each(COMPARATORS)('round trip with %s', (_name, cmp, gen) => {
  it.each(SIZES)('%i keys', async (n) => {
    const keys = gen(n);
    expect(keys.length).toBe(n);
    const { store, built } = await build(keys, cmp);

    expect(built.count).toBe(n);
    expect(built.descriptor).toEqual({ version: 0, order: 50, count: 0, root: built.root });
    expect(toHex(encodeStruct(btreeDescriptorSchema, built.descriptor))).toBe(
      '84a756657273696f6ece00000000a54f7264657232a5436f756e7400a4526f6f74c420' + toHex(built.root),
    );

    const shape = await checkShape(store, built.root, 50, cmp);
    expect(shape.leafKeys).toEqual(keys);
    expect(shape.leaves.length).toBe(Math.max(1, Math.ceil(n / 49)));
    expect(store.puts).toEqual(shape.postOrder);
    expect(store.puts[store.puts.length - 1]).toBe(toHex(built.root));
    if (n === 0) {
      // an empty tree is one empty root leaf, all lists written as nil
      expect(toHex(store.blobs.get(toHex(built.root))!)).toBe('84a776657273696f6ece00000000a46b657973c0a8706f696e74657273c0a676616c756573c0');
    }

    const reader = new BTreeReader(built.root, store.get, cmp);
    // every key, in order (consecutive keys share leaves) …
    for (let i = 0; i < n; i++) {
      const v = await reader.find(keys[i]!);
      if (v === undefined || indexOf(v) !== i) expect.fail(`key #${i} ${JSON.stringify(keys[i])} not found or wrong value`);
    }
    // … and a sample in random order
    const r = rng(n + 3);
    for (let j = 0; j < Math.min(n, 500); j++) {
      const i = Math.floor(r() * n);
      expect(indexOf((await reader.find(keys[i]!))!)).toBe(i);
    }
    // absent keys: below, above, and between present ones
    const present = new Set(keys);
    const absent = ['', '\u0000', '/\u{10FFFF}/\u{10FFFF}/\u{10FFFF}/\u{10FFFF}/\u{10FFFF}/\u{10FFFF}/\u{10FFFF}/\u{10FFFF}', '\u{10FFFF}'];
    for (let j = 0; j < Math.min(n, 300); j++) absent.push(keys[Math.floor(r() * n)]! + '\u0001');
    for (const k of absent) if (!present.has(k)) expect(await reader.find(k)).toBeUndefined();

    // full scan
    const all = await collect(reader.scan());
    expect(all.length).toBe(n);
    for (let i = 0; i < n; i++) if (all[i]![0] !== keys[i] || indexOf(all[i]![1]) !== i) expect.fail(`scan entry #${i}`);

    // scans from arbitrary start keys (present and absent), with and without an upper bound
    const starts = [...absent.slice(0, 10)];
    for (let j = 0; j < 20 && n > 0; j++) starts.push(keys[Math.floor(r() * n)]!);
    for (const from of starts) {
      const lo = lowerBound(keys, from, cmp);
      const got = await collect(reader.scan(from), 120);
      expect(got.map((e) => e[0])).toEqual(keys.slice(lo, lo + 120));
      const toIdx = Math.min(n, lo + Math.floor(r() * 130));
      const to = toIdx < n && r() < 0.7 ? keys[toIdx]! : (keys[toIdx - 1] ?? '') + '\u0001';
      const hi = lowerBound(keys, to, cmp);
      const bounded = await collect(reader.scan(from, to));
      expect(bounded.map((e) => e[0])).toEqual(keys.slice(lo, Math.max(lo, hi)));
    }
    // upper bound alone, and an empty range
    if (n > 0) {
      const mid = keys[n >> 1]!;
      expect((await collect(reader.scan(undefined, mid))).length).toBe(n >> 1);
      expect(await collect(reader.scan(mid, mid))).toEqual([]);
    }
  });
});

describe('builder', () => {
  it('spreads keys over the fewest leaves, none nearly empty', async () => {
    for (const n of [49, 50, 98, 99, 2_451]) {
      const { store, built } = await build(bytewiseKeys(n), compareBytewise);
      const shape = await checkShape(store, built.root, 50, compareBytewise);
      const sizes = await Promise.all(shape.leaves.map(async (id) => (await store.get(Buffer.from(id, 'hex'))).keys.length));
      expect(sizes.length).toBe(Math.ceil(n / 49));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('small orders give deep trees that still read back', async () => {
    const keys = pathKeys(3_000, 5);
    for (const order of [3, 4, 7]) {
      const { store, built } = await build(keys, pathCompare, order);
      expect(built.descriptor.order).toBe(order);
      const shape = await checkShape(store, built.root, order, pathCompare);
      expect(shape.height).toBeGreaterThanOrEqual(4);
      const reader = new BTreeReader(built.root, store.get, pathCompare);
      expect((await collect(reader.scan())).map((e) => e[0])).toEqual(keys);
      for (const i of [0, 1, 1_234, 2_999]) expect(indexOf((await reader.find(keys[i]!))!)).toBe(i);
    }
  });

  it('accepts an async iterable', async () => {
    const keys = bytewiseKeys(300);
    async function* gen() {
      for (let i = 0; i < keys.length; i++) yield [keys[i]!, valueFor(i)] as [string, Uint8Array];
    }
    const store = new MemStore();
    const built = await buildBTree(gen(), store.put);
    expect(built.count).toBe(300);
    const reader = new BTreeReader(built.root, store.get, compareBytewise);
    expect((await collect(reader.scan())).map((e) => e[0])).toEqual(keys);
  });

  it('rejects out-of-order and duplicate keys, bad values and bad orders with a RangeError', async () => {
    const v = valueFor(0);
    const put = new MemStore().put;
    await expect(buildBTree([['b', v], ['a', v]], put)).rejects.toThrow(RangeError);
    await expect(buildBTree([['a', v], ['a', v]], put)).rejects.toThrow(/repeats/);
    // JavaScript order but not byte order
    await expect(buildBTree([['😀', v], ['\uFFFF', v]], put)).rejects.toThrow(RangeError);
    // bytewise order is not path order
    await expect(buildBTree([['/a/b', v], ['/c', v]], put, { compare: pathCompare })).rejects.toThrow(RangeError);
    await expect(buildBTree([['/a/b', v], ['/c', v]], new MemStore().put)).resolves.toMatchObject({ count: 2 });
    await expect(buildBTree([['a', new Uint8Array(31)]], put)).rejects.toThrow(RangeError);
    await expect(buildBTree([], put, { order: 2 })).rejects.toThrow(RangeError);
    await expect(buildBTree([], put, { order: 3.5 })).rejects.toThrow(RangeError);
    async function* late() {
      yield ['b', v] as [string, Uint8Array];
      yield ['a', v] as [string, Uint8Array];
    }
    await expect(buildBTree(late(), put)).rejects.toThrow(RangeError);
  });

  it('propagates a putNode failure', async () => {
    const err = new Error('disk full');
    await expect(buildBTree([['a', valueFor(0)]], async () => Promise.reject(err))).rejects.toBe(err);
  });
});

// ------------------------------------------------------------------ corrupt trees

/** Hand-made trees with chosen MACs (no content addressing, so cycles are possible). */
function fakeStore(nodes: Record<number, Partial<BTreeNode>>) {
  const mac = (id: number) => new Uint8Array(32).fill(id);
  const full = (n: Partial<BTreeNode>): BTreeNode => ({ version: 0, keys: [], pointers: [], values: [], next: null, ...n });
  let gets = 0;
  const get = async (m: Uint8Array): Promise<BTreeNode> => {
    if (++gets > 10_000) throw new Error('reader does not terminate');
    const n = nodes[m[0]!];
    if (!n) throw new KlosetError('NOT_FOUND', `node ${m[0]} missing`);
    return full(n);
  };
  return { mac, get };
}

describe('corrupt trees', () => {
  const { mac } = fakeStore({});
  const leaf = (keys: string[], next?: number): Partial<BTreeNode> => ({
    keys,
    values: keys.map((_, i) => valueFor(i)),
    next: next === undefined ? null : mac(next),
  });

  it('a cycle in next links', async () => {
    const s = fakeStore({ 1: { keys: ['m'], pointers: [mac(2), mac(3)] }, 2: leaf(['a'], 3), 3: leaf(['m'], 2) });
    const r = new BTreeReader(mac(1), s.get, compareBytewise);
    expect(await r.find('m')).toBeDefined();
    await expectCorrupt(collect(r.scan()), /backwards/);
    const self = fakeStore({ 1: leaf(['a', 'b'], 1) });
    await expectCorrupt(collect(new BTreeReader(mac(1), self.get, compareBytewise).scan()), /backwards/);
  });

  it('a cycle through empty leaves', async () => {
    const s = fakeStore({ 1: leaf([], 2), 2: leaf([], 3), 3: leaf([], 2) });
    await expectCorrupt(collect(new BTreeReader(mac(1), s.get, compareBytewise).scan()), /cycle/);
  });

  it('a next link to an internal node', async () => {
    const s = fakeStore({ 1: leaf(['a'], 2), 2: { keys: ['m'], pointers: [mac(1), mac(1)] } });
    await expectCorrupt(collect(new BTreeReader(mac(1), s.get, compareBytewise).scan()), /internal/);
  });

  it('wrong pointer or value counts', async () => {
    const cases: Partial<BTreeNode>[] = [
      { keys: ['m'], pointers: [mac(2)] },
      { keys: ['m'], pointers: [mac(2), mac(2), mac(2)] },
      { keys: ['m'], pointers: [mac(2), mac(2)], values: [valueFor(0)] },
      { keys: ['a', 'b'], values: [valueFor(0)] },
      { keys: [], values: [valueFor(0)] },
    ];
    for (const root of cases) {
      const s = fakeStore({ 1: root, 2: leaf(['a']) });
      const r = new BTreeReader(mac(1), s.get, compareBytewise);
      await expectCorrupt(r.find('a'), /B-tree node/);
      await expectCorrupt(collect(r.scan()), /B-tree node/);
    }
  });

  it('unsorted or duplicate keys', async () => {
    for (const keys of [['b', 'a'], ['a', 'a'], ['😀', '\uFFFF']]) {
      const s = fakeStore({ 1: leaf(keys) });
      await expectCorrupt(new BTreeReader(mac(1), s.get, compareBytewise).find('a'), /out of order/);
    }
    // path order checked with the tree's comparator
    const p = fakeStore({ 1: leaf(['/a/b', '/c']) });
    expect(await new BTreeReader(mac(1), p.get, compareBytewise).find('/c')).toBeDefined();
    await expectCorrupt(new BTreeReader(mac(1), p.get, pathCompare).find('/c'), /out of order/);
  });

  it('a child whose keys fall outside its separators', async () => {
    const s = fakeStore({ 1: { keys: ['m'], pointers: [mac(2), mac(3)] }, 2: leaf(['a', 'z']), 3: leaf(['m', 'n']) });
    await expectCorrupt(new BTreeReader(mac(1), s.get, compareBytewise).find('a'), /outside/);
    const t = fakeStore({ 1: { keys: ['m'], pointers: [mac(2), mac(3)] }, 2: leaf(['a']), 3: leaf(['b', 'n']) });
    await expectCorrupt(new BTreeReader(mac(1), t.get, compareBytewise).find('n'), /outside/);
  });

  it('pointer cycles and over-deep trees stop at the depth limit', async () => {
    const loop = fakeStore({ 1: { keys: [], pointers: [mac(1)] } });
    await expectCorrupt(new BTreeReader(mac(1), loop.get, compareBytewise).find('a'), /deeper/);
    const chain: Record<number, Partial<BTreeNode>> = {};
    for (let i = 1; i <= MAX_DEPTH + 5; i++) chain[i] = { keys: [], pointers: [mac(i + 1)] };
    chain[MAX_DEPTH + 6] = leaf(['a']);
    const deep = fakeStore(chain);
    await expectCorrupt(collect(new BTreeReader(mac(1), deep.get, compareBytewise).scan()), /deeper/);
    const ok: Record<number, Partial<BTreeNode>> = {};
    for (let i = 1; i < MAX_DEPTH; i++) ok[i] = { keys: [], pointers: [mac(i + 1)] };
    ok[MAX_DEPTH] = leaf(['a']);
    expect(await new BTreeReader(mac(1), fakeStore(ok).get, compareBytewise).find('a')).toBeDefined();
  });

  it('a missing node: the store error propagates', async () => {
    const s = fakeStore({ 1: { keys: ['m'], pointers: [mac(2), mac(3)] }, 2: leaf(['a'], 3) });
    const r = new BTreeReader(mac(1), s.get, compareBytewise);
    expect(await r.find('a')).toBeDefined();
    await expect(r.find('m')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(collect(r.scan())).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

// ------------------------------------------------------------------ timings

describe('timings', () => {
  it('builds, scans and seeks a 1,000,000-key tree', async () => {
    const N = 1_000_000;
    const keys = new Array<string>(N);
    // one depth, zero-padded: byte order = path order
    for (let i = 0; i < N; i++) keys[i] = `/home/user/projects/p${String(i >> 12).padStart(4, '0')}/file-${String(i).padStart(7, '0')}.ts`;
    // Values are views into one buffer, as MACs decoded from a blob are: a million separate
    // 32-byte ArrayBuffers would cost more than the tree itself.
    const macs = new Uint8Array(32 * N);
    for (let i = 0; i < N; i++) macs.set(valueFor(i), 32 * i);
    const store = new MemStore();
    function* entries(): Generator<[string, Uint8Array]> {
      for (let i = 0; i < N; i++) yield [keys[i]!, macs.subarray(32 * i, 32 * i + 32)];
    }
    let t = performance.now();
    const built = await buildBTree(entries(), store.put, { compare: pathCompare });
    const buildMs = performance.now() - t;

    t = performance.now();
    const reader = new BTreeReader(built.root, store.get, pathCompare);
    let count = 0;
    let prev = '';
    for await (const [k] of reader.scan()) {
      if (k !== keys[count]) expect.fail(`scan #${count}: ${k} after ${prev}`);
      prev = k;
      count++;
    }
    const scanMs = performance.now() - t;
    expect(count).toBe(N);

    const from = keys[N / 2 + 17]!;
    const fresh = new BTreeReader(built.root, store.get, pathCompare);
    t = performance.now();
    const first = await collect(fresh.scan(from), 1_000);
    const seekMs = performance.now() - t;
    expect(first.map((e) => e[0])).toEqual(keys.slice(N / 2 + 17, N / 2 + 1_017));

    t = performance.now();
    for (let j = 0; j < 1_000; j++) {
      const i = (j * 7_919) % N;
      if (indexOf((await fresh.find(keys[i]!))!) !== i) expect.fail(`find #${i}`);
    }
    const findMs = performance.now() - t;

    console.log(
      `B+tree 1,000,000 keys: build ${buildMs.toFixed(0)} ms (${store.blobs.size} nodes), full scan ${scanMs.toFixed(0)} ms, ` +
        `scan(from) first 1,000 ${seekMs.toFixed(1)} ms, 1,000 random finds ${findMs.toFixed(0)} ms`,
    );
    expect(seekMs).toBeLessThan(50);
  });
});

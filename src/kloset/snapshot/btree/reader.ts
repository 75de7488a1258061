/**
 * Reads a persisted B+tree (spec §9.1): point lookups by descent, range scans along the leaves'
 * `next` links.
 *
 * Nodes come from an untrusted store, so every node is checked before use and a malformed tree
 * is a CORRUPT error, never a wrong answer that looks right and never a hang:
 * - shape: internal nodes have `keys.length + 1` pointers and no values; leaves have one value
 *   per key and no pointers; keys strictly ascending under the tree's comparator;
 * - bounds: a child's keys lie within the separators that led to it, so a subtree that was
 *   swapped or misplaced is noticed on the way down;
 * - depth: a descent longer than MAX_DEPTH levels (a pointer cycle, or a hostile chain) stops;
 * - `next` links: keys keep ascending from leaf to leaf, so a link back into visited leaves
 *   is noticed at once; a cycle through empty leaves only is caught by remembering them.
 *
 * The xattr tree is written by Go with `pathCompare` but read by Go with `strings.Compare`
 * (spec §9.1 caveat): open it here with `pathCompare`, the order its nodes really have.
 */
import { corrupt } from '../../base/errors.js';
import { toHex } from '../../base/bytes.js';
import type { KeyCompare } from './compare.js';
import type { BTreeNode } from './node.js';

/** 50-way nodes reach 50^64 keys long before 64 levels; anything deeper is a broken tree. */
export const MAX_DEPTH = 64;
/** Decoded nodes kept per reader: enough for the upper levels that every lookup crosses. */
const CACHE_SIZE = 256;

export class BTreeReader {
  /** Small LRU of validated nodes, keyed by MAC (a Map iterates in insertion order). */
  private readonly cache = new Map<string, BTreeNode>();

  constructor(
    readonly root: Uint8Array,
    private readonly getNode: (mac: Uint8Array) => Promise<BTreeNode>,
    private readonly compare: KeyCompare,
  ) {}

  /** The value stored under `key`, or undefined when the tree has no such key. */
  async find(key: string): Promise<Uint8Array | undefined> {
    const leaf = await this.descend(key);
    const i = this.lowerBound(leaf.keys, key);
    return i < leaf.keys.length && this.compare(leaf.keys[i]!, key) === 0 ? leaf.values[i] : undefined;
  }

  /**
   * Entries with `from` ≤ key < `to` in ascending order (either bound may be left out):
   * descends once to the leaf that would hold `from`, then follows the `next` links.
   */
  async *scan(from?: string, to?: string): AsyncGenerator<[string, Uint8Array]> {
    const cmp = this.compare;
    let leaf = await this.descend(from);
    let i = from === undefined ? 0 : this.lowerBound(leaf.keys, from);
    let last: string | undefined; // greatest key seen so far, in this leaf or before it
    const emptySeen = new Set<string>();
    for (;;) {
      const { keys, values } = leaf;
      for (; i < keys.length; i++) {
        const key = keys[i]!;
        if (to !== undefined && cmp(key, to) >= 0) return;
        yield [key, values[i]!];
      }
      if (keys.length > 0) last = keys[keys.length - 1];
      const next = leaf.next;
      if (next === null || next === undefined) return;
      leaf = await this.load(next);
      if (!isLeaf(leaf)) throw corrupt('B-tree leaf links to an internal node', { node: toHex(next) });
      if (leaf.keys.length === 0) {
        // Go never writes empty leaves beside others; tolerate them but not a loop of them.
        const id = toHex(next);
        if (emptySeen.has(id)) throw corrupt('B-tree leaf links form a cycle', { node: id });
        emptySeen.add(id);
      } else if (last !== undefined && cmp(leaf.keys[0]!, last) <= 0) {
        throw corrupt('B-tree leaf links go backwards (cycle or misordered leaves)', { node: toHex(next) });
      }
      i = 0;
    }
  }

  /** The leaf where `key` belongs (the left-most leaf when key is undefined), per §9.1. */
  private async descend(key: string | undefined): Promise<BTreeNode> {
    let mac = this.root;
    let lo: string | undefined; // every key of the current subtree is ≥ lo …
    let hi: string | undefined; // … and < hi
    for (let depth = 0; ; depth++) {
      if (depth >= MAX_DEPTH) throw corrupt(`B-tree deeper than ${MAX_DEPTH} levels (pointer cycle?)`, { root: toHex(this.root) });
      const node = await this.load(mac);
      this.checkBounds(node, lo, hi, mac);
      if (isLeaf(node)) return node;
      // Go's findleaf: idx = lowerBound(keys, key), one further on an exact match, so
      // separator keys[i] is the smallest key of pointers[i + 1].
      let idx = 0;
      if (key !== undefined) {
        idx = this.lowerBound(node.keys, key);
        if (idx < node.keys.length && this.compare(node.keys[idx]!, key) === 0) idx++;
      }
      if (idx > 0) lo = node.keys[idx - 1];
      if (idx < node.keys.length) hi = node.keys[idx];
      mac = node.pointers[idx]!;
    }
  }

  /** Fetches a node through the LRU, validating its shape the first time it is seen. */
  private async load(mac: Uint8Array): Promise<BTreeNode> {
    const id = macKey(mac);
    const hit = this.cache.get(id);
    if (hit !== undefined) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const node = await this.getNode(mac);
    this.checkShape(node, mac);
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, node);
    return node;
  }

  private checkShape(node: BTreeNode, mac: Uint8Array): void {
    const bad = (why: string) => corrupt(`B-tree node ${why}`, { node: toHex(mac) });
    if (!Array.isArray(node?.keys) || !Array.isArray(node.pointers) || !Array.isArray(node.values)) throw bad('is not a node');
    const { keys, pointers, values } = node;
    if (pointers.length > 0) {
      if (pointers.length !== keys.length + 1) throw bad(`has ${keys.length} keys but ${pointers.length} pointers (internal nodes need keys + 1)`);
      if (values.length !== 0) throw bad(`has both pointers and ${values.length} values`);
    } else if (values.length !== keys.length) {
      throw bad(`is a leaf with ${keys.length} keys but ${values.length} values`);
    }
    for (let i = 1; i < keys.length; i++) {
      if (this.compare(keys[i - 1]!, keys[i]!) >= 0) throw bad(`keys out of order at #${i}: ${JSON.stringify(keys[i])}`);
    }
  }

  /** Keys are sorted (checked on load), so the first and last key bound them all. */
  private checkBounds(node: BTreeNode, lo: string | undefined, hi: string | undefined, mac: Uint8Array): void {
    const { keys } = node;
    if (keys.length === 0) return;
    if ((lo !== undefined && this.compare(keys[0]!, lo) < 0) || (hi !== undefined && this.compare(keys[keys.length - 1]!, hi) >= 0)) {
      throw corrupt('B-tree node holds keys outside the range its parent assigns it', { node: toHex(mac) });
    }
  }

  /** First index whose key is ≥ `key` (Go's slices.BinarySearchFunc). */
  private lowerBound(keys: readonly string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Go's `isleaf`: a node without pointers. */
function isLeaf(node: BTreeNode): boolean {
  return node.pointers.length === 0;
}

/** A compact map key for a MAC (one char per byte; cheaper than hex on the hot path). */
function macKey(mac: Uint8Array): string {
  return String.fromCharCode.apply(null, mac as unknown as number[]);
}

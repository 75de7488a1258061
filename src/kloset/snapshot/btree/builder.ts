/**
 * Bulk-loads a persisted B+tree (spec §9.1) from keys already in ascending order.
 *
 * Go builds its trees by inserting keys one at a time and then persists them (`persist.go`);
 * readers only rely on the persisted shape, so a bulk load that writes the same node format
 * is interchangeable and much cheaper: every node is built once, never split or rewritten.
 *
 * Shape: the fewest leaves that hold at most `order − 1` keys each (Go splits a node when it
 * reaches `order` keys), with the keys spread evenly so no leaf is left nearly empty; then
 * levels of internal nodes of at most `order` children, spread the same way, up to one root.
 * A separator is the smallest key of the subtree on its right, which is what Go's descent rule
 * expects (`keys[i]` = smallest key of `pointers[i+1]`).
 *
 * Write order: each leaf names its right sibling's MAC in `next`, so the right sibling must be
 * written first. Nodes are therefore put post-order from the right-most leaf, children right to
 * left before their parent, exactly as Go's `persist` walks the tree.
 *
 * Memory: the right-most leaf is only known once the input ends, so all keys and value MACs are
 * held (i.e. the content of every leaf) until the tree is written; internal nodes exist only
 * while they are being written, and nothing is kept once `buildBTree` returns.
 */
import type { BTreeDescriptor, BTreeNode } from './node.js';
import { compareBytewise, type KeyCompare } from './compare.js';

export interface BuildBTreeOptions {
  /** Fan-out: leaves hold ≤ order − 1 keys, internal nodes ≤ order children. plakar uses 50. */
  order?: number;
  /**
   * The tree's key order, used to check that input is strictly ascending: `pathCompare` for the
   * VFS and xattr trees, `compareBytewise` (the default) for every other tree (spec §9.1).
   */
  compare?: KeyCompare;
}

export interface BuiltBTree {
  /** MAC of the root node, as returned by `putNode`. */
  root: Uint8Array;
  /** Number of keys stored. */
  count: number;
  /** The descriptor blob's content; `count` is 0 because plakar always writes 0 there. */
  descriptor: BTreeDescriptor;
}

export const DEFAULT_BTREE_ORDER = 50;
const MAC_SIZE = 32;

/**
 * Builds and stores a tree. `putNode` stores one node and returns its MAC (the caller encodes
 * and hashes it); calls are sequential, in the order described above. Throws a RangeError when
 * keys are not strictly ascending, a value is not a 32-byte MAC, or the order is invalid.
 */
export async function buildBTree(
  entries: AsyncIterable<[string, Uint8Array]> | Iterable<[string, Uint8Array]>,
  putNode: (node: BTreeNode) => Promise<Uint8Array>,
  options: BuildBTreeOptions = {},
): Promise<BuiltBTree> {
  const order = options.order ?? DEFAULT_BTREE_ORDER;
  // Go refuses orders below 3 (btree.ErrOrder); the even spreading below also needs it so
  // that every internal node gets at least two children.
  if (!Number.isSafeInteger(order) || order < 3) throw new RangeError(`B-tree order must be an integer ≥ 3, got ${order}`);
  const { keys, values } = await collect(entries, options.compare ?? compareBytewise);

  const leafBounds = spread(keys.length, order - 1);
  // levels[0] splits keys into leaves; levels[h] splits the nodes of level h−1 into parents.
  const levels = [leafBounds];
  while (levels[levels.length - 1]!.length - 1 > 1) levels.push(spread(levels[levels.length - 1]!.length - 1, order));

  let nextLeaf: Uint8Array | null = null; // MAC of the leaf right of the one being written
  // First leaf index under node `i` of `level`: the smallest key of that subtree is its first key.
  const firstLeaf = (level: number, i: number): number => {
    for (let h = level; h > 0; h--) i = levels[h]![i]!;
    return i;
  };
  const write = async (level: number, i: number): Promise<Uint8Array> => {
    const bounds = levels[level]!;
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    if (level === 0) {
      const node: BTreeNode = {
        version: 0,
        keys: keys.slice(start, end),
        pointers: [],
        values: values.slice(start, end),
        next: nextLeaf,
      };
      nextLeaf = await putNode(node);
      return nextLeaf;
    }
    const pointers = new Array<Uint8Array>(end - start);
    for (let c = end - 1; c >= start; c--) pointers[c - start] = await write(level - 1, c);
    const separators: string[] = [];
    for (let c = start + 1; c < end; c++) separators.push(keys[leafBounds[firstLeaf(level - 1, c)]!]!);
    return putNode({ version: 0, keys: separators, pointers, values: [], next: null });
  };

  const root = await write(levels.length - 1, 0);
  return { root, count: keys.length, descriptor: { version: 0, order, count: 0, root } };
}

/** Reads the input, checking strict ascending order and MAC sizes as it goes. */
async function collect(
  entries: AsyncIterable<[string, Uint8Array]> | Iterable<[string, Uint8Array]>,
  compare: KeyCompare,
): Promise<{ keys: string[]; values: Uint8Array[] }> {
  const keys: string[] = [];
  const values: Uint8Array[] = [];
  const add = ([key, value]: [string, Uint8Array]): void => {
    if (typeof key !== 'string') throw new RangeError(`B-tree key #${keys.length} is not a string`);
    if (!(value instanceof Uint8Array) || value.length !== MAC_SIZE) {
      throw new RangeError(`B-tree value for key ${JSON.stringify(key)} is not a ${MAC_SIZE}-byte MAC`);
    }
    if (keys.length > 0) {
      const prev = keys[keys.length - 1]!;
      const c = compare(prev, key);
      if (c >= 0) {
        throw new RangeError(
          `B-tree keys must be strictly ascending: ${JSON.stringify(key)} ${c === 0 ? 'repeats' : 'sorts before'} ${JSON.stringify(prev)}`,
        );
      }
    }
    keys.push(key);
    values.push(value);
  };
  // A plain loop for synchronous input: `for await` would cost a microtask per entry.
  if (Symbol.asyncIterator in entries) for await (const e of entries as AsyncIterable<[string, Uint8Array]>) add(e);
  else for (const e of entries as Iterable<[string, Uint8Array]>) add(e);
  return { keys, values };
}

/**
 * Splits `n` items into the fewest groups of at most `max`, sizes differing by at most one;
 * returns the group boundaries (length groups + 1). Zero items still make one (empty) group:
 * an empty tree is a single empty root leaf.
 */
function spread(n: number, max: number): number[] {
  const groups = Math.max(1, Math.ceil(n / max));
  const bounds = new Array<number>(groups + 1);
  for (let g = 0; g <= groups; g++) bounds[g] = Math.floor((g * n) / groups);
  return bounds;
}

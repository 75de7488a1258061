/**
 * Persisted B+tree (spec §9.1, btree/btree.go + persist.go). A descriptor blob names the root
 * node; nodes hold sorted string keys and either child pointers (internal) or values (leaf),
 * both 32-byte MACs. Leaves link to their right neighbour through `next`.
 */
import { defineSchema, type Schema } from '../../encoding/schema.js';

export interface BTreeNode {
  version: number;
  keys: string[];
  /** internal nodes: keys.length + 1 child MACs; leaves: empty (written as nil) */
  pointers: Uint8Array[];
  /** leaves: one MAC per key; internal nodes: empty (written as nil) */
  values: Uint8Array[];
  /** never written by kloset (declared "unused for now" in btree.go); kept so bytes round-trip */
  prev?: Uint8Array | null;
  /** right sibling of a leaf; null for internal nodes and the right-most leaf */
  next: Uint8Array | null;
}

export interface BTreeDescriptor { version: number; order: number; count: number; root: Uint8Array }

export const btreeNodeSchema: Schema<BTreeNode> = defineSchema('btree.Node', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'keys', prop: 'keys', type: { array: 'str' }, nilIfEmpty: true },
  { key: 'pointers', prop: 'pointers', type: { array: 'mac' }, nilIfEmpty: true },
  { key: 'values', prop: 'values', type: { array: 'mac' }, nilIfEmpty: true },
  { key: 'prev', prop: 'prev', type: { nullable: 'mac' }, omitempty: true },
  { key: 'next', prop: 'next', type: { nullable: 'mac' }, omitempty: true },
]);

/** Untagged Go struct: keys are the field names. */
export const btreeDescriptorSchema: Schema<BTreeDescriptor> = defineSchema('btree.BTree', [
  { key: 'Version', prop: 'version', type: 'u32' },
  { key: 'Order', prop: 'order', type: 'int' },
  { key: 'Count', prop: 'count', type: 'int' },
  { key: 'Root', prop: 'root', type: 'mac' },
]);

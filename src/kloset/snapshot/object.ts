/**
 * Object and Chunk (spec §9.4, objects/objects.go): a file's content as an ordered list of
 * chunk blobs. `contentMAC` of a chunk is its RT_CHUNK address; of an object, the MAC of the
 * whole content.
 */
import { defineSchema, type Schema } from '../encoding/schema.js';

export const OBJECT_VERSION = 0x00010000;
export const CHUNK_VERSION = 0x00010000;

export interface Chunk { version: number; contentMac: Uint8Array; length: number; entropy: number; flags: number }
export interface KObject {
  version: number;
  contentMac: Uint8Array;
  chunks: Chunk[];
  contentType: string;
  entropy: number;
  flags: number;
}

export const chunkSchema: Schema<Chunk> = defineSchema('objects.Chunk', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'contentMAC', prop: 'contentMac', type: 'mac' },
  { key: 'length', prop: 'length', type: 'u32' },
  { key: 'entropy', prop: 'entropy', type: 'f64' },
  { key: 'flags', prop: 'flags', type: 'u32' },
]);

export const objectSchema: Schema<KObject> = defineSchema('objects.Object', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'contentMAC', prop: 'contentMac', type: 'mac' },
  { key: 'chunks', prop: 'chunks', type: { array: { struct: chunkSchema } }, nilIfEmpty: true },
  { key: 'content_type', prop: 'contentType', type: 'str', omitempty: true },
  { key: 'entropy', prop: 'entropy', type: 'f64', omitempty: true },
  { key: 'flags', prop: 'flags', type: 'u32' },
]);

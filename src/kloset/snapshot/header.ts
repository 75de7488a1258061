/**
 * Snapshot header (spec §8, snapshot/header/header.go): the RT_SNAPSHOT blob, addressed by the
 * random snapshot ID. `sources[0].root` leads to the VFS, xattr and error trees.
 */
import { defineSchema, type Schema } from '../encoding/schema.js';
import type { GoTime } from '../encoding/go-time.js';
import { summarySchema, type Summary } from './vfs/summary.js';

export const HEADER_VERSION = 0x00010000;

export interface KeyValue { key: string; value: string }
export interface Importer { type: string; origin: string; directory: string }
export interface VfsRoots { root: Uint8Array; xattrs: Uint8Array; errors: Uint8Array }
export interface IndexRef { name: string; type: string; value: Uint8Array }
export interface Source { importer: Importer; context: KeyValue[]; vfs: VfsRoots; indexes: IndexRef[]; summary: Summary }
export interface ClassProbability { name: string; probability: number }
export interface HeaderClassification { analyzer: string; classes: ClassProbability[] }
export interface Identity { identifier: Uint8Array; publicKey: Uint8Array }
export interface Header {
  version: number;
  identifier: Uint8Array;
  timestamp: GoTime;
  /** nanoseconds (time.Duration) */
  duration: bigint;
  identity: Identity;
  name: string;
  category: string;
  environment: string;
  perimeter: string;
  job: string;
  replicas: number;
  dataset: string;
  dataClasses: string[];
  classifications: HeaderClassification[];
  tags: string[];
  context: KeyValue[];
  sources: Source[];
}

const keyValueSchema = defineSchema<KeyValue>('header.KeyValue', [
  { key: 'key', prop: 'key', type: 'str' },
  { key: 'value', prop: 'value', type: 'str' },
]);
const importerSchema = defineSchema<Importer>('header.Importer', [
  { key: 'type', prop: 'type', type: 'str' },
  { key: 'origin', prop: 'origin', type: 'str' },
  { key: 'directory', prop: 'directory', type: 'str' },
]);
const vfsRootsSchema = defineSchema<VfsRoots>('header.VFS', [
  { key: 'root', prop: 'root', type: 'mac' },
  { key: 'xattrs', prop: 'xattrs', type: 'mac' },
  { key: 'errors', prop: 'errors', type: 'mac' },
]);
const indexSchema = defineSchema<IndexRef>('header.Index', [
  { key: 'name', prop: 'name', type: 'str' },
  { key: 'type', prop: 'type', type: 'str' },
  { key: 'value', prop: 'value', type: 'mac' },
]);
const sourceSchema = defineSchema<Source>('header.Source', [
  { key: 'importer', prop: 'importer', type: { struct: importerSchema } },
  { key: 'context', prop: 'context', type: { array: { struct: keyValueSchema } } },
  { key: 'root', prop: 'vfs', type: { struct: vfsRootsSchema } },
  { key: 'indexes', prop: 'indexes', type: { array: { struct: indexSchema } } },
  { key: 'summary', prop: 'summary', type: { struct: summarySchema } },
]);
const classSchema = defineSchema<ClassProbability>('header.Class', [
  { key: 'name', prop: 'name', type: 'str' },
  { key: 'probability', prop: 'probability', type: 'f64' },
]);
const classificationSchema = defineSchema<HeaderClassification>('header.Classification', [
  { key: 'analyzer', prop: 'analyzer', type: 'str' },
  { key: 'classes', prop: 'classes', type: { array: { struct: classSchema } }, nilIfEmpty: true },
]);
const identitySchema = defineSchema<Identity>('header.Identity', [
  { key: 'identifier', prop: 'identifier', type: 'uuid' },
  { key: 'public_key', prop: 'publicKey', type: 'bin', nilIfEmpty: true },
]);

/**
 * Field order follows header.go of kloset v1.1 (spec §8). `dataset` and `data_classes` were
 * added in v1.1; their position is taken from the spec, not yet checked against a plakar store.
 */
export const headerSchema: Schema<Header> = defineSchema('header.Header', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'identifier', prop: 'identifier', type: 'mac' },
  { key: 'timestamp', prop: 'timestamp', type: 'time' },
  { key: 'duration', prop: 'duration', type: 'i64' },
  { key: 'identity', prop: 'identity', type: { struct: identitySchema } },
  { key: 'name', prop: 'name', type: 'str' },
  { key: 'category', prop: 'category', type: 'str' },
  { key: 'environment', prop: 'environment', type: 'str' },
  { key: 'perimeter', prop: 'perimeter', type: 'str' },
  { key: 'job', prop: 'job', type: 'str' },
  { key: 'replicas', prop: 'replicas', type: 'u32' },
  { key: 'dataset', prop: 'dataset', type: 'str' },
  { key: 'data_classes', prop: 'dataClasses', type: { array: 'str' }, nilIfEmpty: true },
  { key: 'classifications', prop: 'classifications', type: { array: { struct: classificationSchema } } },
  { key: 'tags', prop: 'tags', type: { array: 'str' } },
  { key: 'context', prop: 'context', type: { array: { struct: keyValueSchema } } },
  { key: 'sources', prop: 'sources', type: { array: { struct: sourceSchema } } },
]);

/**
 * VFS entry (spec §9.3, snapshot/vfs/entry.go): one file, directory or link of a snapshot,
 * stored as an RT_VFS_ENTRY blob addressed by the MAC of these bytes.
 */
import { defineSchema, type Schema } from '../../encoding/schema.js';
import { fileInfoSchema, type FileInfo } from './file-info.js';
import { summarySchema, type Summary } from './summary.js';

export const VFS_ENTRY_VERSION = 0x00010000;

export interface Score { key: string; value: number }
export interface EntryClassification { analyzer: string; classes: string[]; scores: Score[] }
export interface CustomMetadata { key: string; value: Uint8Array }

export interface Entry {
  version: number;
  parentPath: string;
  fileInfo: FileInfo;
  /** Written as nil by v1.1+ builders (summaries live in the `summary` index). */
  summary: Summary | null;
  symlinkTarget: string;
  /** MAC of the RT_OBJECT; all zero for non-regular files. */
  object: Uint8Array;
  contentType: string;
  entropy: number;
  chunks: bigint;
  alternateDataStreams: string[];
  securityDescriptor: Uint8Array;
  fileAttributes: number;
  extendedAttributes: string[];
  classifications: EntryClassification[];
  customMetadata: CustomMetadata[];
  tags: string[];
}

const scoreSchema = defineSchema<Score>('vfs.Score', [
  { key: 'key', prop: 'key', type: 'str' },
  { key: 'value', prop: 'value', type: 'f64' },
]);
const classificationSchema = defineSchema<EntryClassification>('vfs.Classification', [
  { key: 'analyzer', prop: 'analyzer', type: 'str' },
  { key: 'classes', prop: 'classes', type: { array: 'str' }, nilIfEmpty: true },
  { key: 'scores', prop: 'scores', type: { array: { struct: scoreSchema } }, nilIfEmpty: true },
]);
const customMetadataSchema = defineSchema<CustomMetadata>('vfs.CustomMetadata', [
  { key: 'key', prop: 'key', type: 'str' },
  { key: 'value', prop: 'value', type: 'bin', nilIfEmpty: true },
]);

export const entrySchema: Schema<Entry> = defineSchema('vfs.Entry', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'parent_path', prop: 'parentPath', type: 'str' },
  { key: 'file_info', prop: 'fileInfo', type: { struct: fileInfoSchema } },
  { key: 'summary', prop: 'summary', type: { nullable: { struct: summarySchema } } },
  { key: 'symlink_target', prop: 'symlinkTarget', type: 'str', omitempty: true },
  { key: 'object', prop: 'object', type: 'mac', omitempty: true },
  { key: 'content_type', prop: 'contentType', type: 'str', omitempty: true },
  { key: 'entropy', prop: 'entropy', type: 'f64', omitempty: true },
  { key: 'chunks', prop: 'chunks', type: 'u64', omitempty: true },
  { key: 'alternate_data_streams', prop: 'alternateDataStreams', type: { array: 'str' }, omitempty: true },
  { key: 'security_descriptor', prop: 'securityDescriptor', type: 'bin', omitempty: true },
  { key: 'file_attributes', prop: 'fileAttributes', type: 'u32', omitempty: true },
  { key: 'extended_attributes', prop: 'extendedAttributes', type: { array: 'str' }, omitempty: true },
  { key: 'classifications', prop: 'classifications', type: { array: { struct: classificationSchema } }, omitempty: true },
  { key: 'custom_metadata', prop: 'customMetadata', type: { array: { struct: customMetadataSchema } }, omitempty: true },
  { key: 'tags', prop: 'tags', type: { array: 'str' }, omitempty: true },
]);

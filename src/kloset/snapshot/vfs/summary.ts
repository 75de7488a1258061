/**
 * Directory summaries (spec §9.6, snapshot/vfs/summary.go): counters for a directory itself
 * (`directory`) and for everything below it (`below`). Stored as RT_VFS_SUMMARY blobs and in
 * the snapshot header for the root.
 */
import { defineSchema, type FieldDef, type Schema } from '../../encoding/schema.js';

const u64 = (key: string, prop: string): FieldDef => ({ key, prop, type: 'u64', omitempty: true });
const i64 = (key: string, prop: string): FieldDef => ({ key, prop, type: 'i64', omitempty: true });
const f64 = (key: string, prop: string): FieldDef => ({ key, prop, type: 'f64', omitempty: true });

const counts: FieldDef[] = [
  u64('directories', 'directories'), u64('files', 'files'), u64('symlinks', 'symlinks'),
  u64('devices', 'devices'), u64('pipes', 'pipes'), u64('sockets', 'sockets'),
  u64('children', 'children'), u64('setuid', 'setuid'), u64('setgid', 'setgid'), u64('sticky', 'sticky'),
  u64('objects', 'objects'), u64('chunks', 'chunks'),
  u64('min_size', 'minSize'), u64('max_size', 'maxSize'),
];
const mimes: FieldDef[] = [
  u64('hi_entropy', 'hiEntropy'), u64('lo_entropy', 'loEntropy'),
  u64('MIME_audio', 'mimeAudio'), u64('MIME_video', 'mimeVideo'), u64('MIME_image', 'mimeImage'),
  u64('MIME_text', 'mimeText'), u64('MIME_application', 'mimeApplication'), u64('MIME_other', 'mimeOther'),
];

export interface SummaryCounters {
  directories: bigint; files: bigint; symlinks: bigint; devices: bigint; pipes: bigint; sockets: bigint;
  children: bigint; setuid: bigint; setgid: bigint; sticky: bigint; objects: bigint; chunks: bigint;
  minSize: bigint; maxSize: bigint; size: bigint; minModTime: bigint; maxModTime: bigint;
  minEntropy: number; maxEntropy: number; hiEntropy: bigint; loEntropy: bigint;
  mimeAudio: bigint; mimeVideo: bigint; mimeImage: bigint; mimeText: bigint; mimeApplication: bigint; mimeOther: bigint;
  errors: bigint;
}
export interface DirectorySummary extends SummaryCounters { avgSize: bigint; sumEntropy: number; avgEntropy: number }
export type BelowSummary = SummaryCounters;
export interface Summary { directory: DirectorySummary; below: BelowSummary }

export const directorySummarySchema: Schema<DirectorySummary> = defineSchema('vfs.Directory', [
  ...counts, u64('avg_size', 'avgSize'), u64('size', 'size'),
  i64('min_mod_time', 'minModTime'), i64('max_mod_time', 'maxModTime'),
  f64('min_entropy', 'minEntropy'), f64('max_entropy', 'maxEntropy'),
  f64('sum_entropy', 'sumEntropy'), f64('avg_entropy', 'avgEntropy'),
  ...mimes, u64('errors', 'errors'),
]);
export const belowSummarySchema: Schema<BelowSummary> = defineSchema('vfs.Below', [
  ...counts, u64('size', 'size'),
  i64('min_mod_time', 'minModTime'), i64('max_mod_time', 'maxModTime'),
  f64('min_entropy', 'minEntropy'), f64('max_entropy', 'maxEntropy'),
  ...mimes, { key: 'errors', prop: 'errors', type: 'u64' }, // not omitempty: `below` is always written
]);
export const summarySchema: Schema<Summary> = defineSchema('vfs.Summary', [
  { key: 'directory', prop: 'directory', type: { struct: directorySummarySchema }, omitempty: true },
  { key: 'below', prop: 'below', type: { struct: belowSummarySchema }, omitempty: true },
]);

/**
 * Extended attributes (spec §9.7, snapshot/vfs/xattr.go): one RT_XATTR_ENTRY per attribute,
 * its value stored as an RT_OBJECT; the xattr tree key is path + name + ":" with no separator
 * between path and name (`ToPath`).
 */
import { defineSchema, type Schema } from '../../encoding/schema.js';

export const XATTR_VERSION = 0x00010000;
/** objects.Attribute: 0 extended attribute, 1 Windows alternate data stream */
export const XATTR_EXTENDED = 0;

export interface XattrEntry { version: number; path: string; name: string; size: bigint; type: number; object: Uint8Array }

export const xattrSchema: Schema<XattrEntry> = defineSchema('vfs.Xattr', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'path', prop: 'path', type: 'str' },
  { key: 'name', prop: 'name', type: 'str' },
  { key: 'size', prop: 'size', type: 'i64' },
  { key: 'type', prop: 'type', type: 'u8' },
  { key: 'object', prop: 'object', type: 'mac', omitempty: true },
]);

export function xattrKey(path: string, name: string, type = XATTR_EXTENDED): string {
  return path + name + (type === XATTR_EXTENDED ? ':' : type === 1 ? '@' : '#');
}

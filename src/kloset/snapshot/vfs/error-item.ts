/** An item the backup could not read (spec §9.7, snapshot/vfs/errors.go): RT_ERROR_ENTRY. */
import { defineSchema, type Schema } from '../../encoding/schema.js';

export const ERROR_ITEM_VERSION = 0x00010000;

export interface ErrorItem { version: number; name: string; error: string }

export const errorItemSchema: Schema<ErrorItem> = defineSchema('vfs.ErrorItem', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'name', prop: 'name', type: 'str' },
  { key: 'error', prop: 'error', type: 'str' },
]);

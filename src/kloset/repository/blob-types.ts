/** Blob types (resources.go RT_*, spec §6.1); stored as one byte in states. */
export const BlobType = {
  SNAPSHOT: 5,
  SIGNATURE: 6,
  OBJECT: 7,
  CHUNK: 9,
  VFS_BTREE: 10,
  VFS_NODE: 11,
  VFS_ENTRY: 12,
  ERROR_BTREE: 13,
  ERROR_NODE: 14,
  ERROR_ENTRY: 15,
  XATTR_BTREE: 16,
  XATTR_NODE: 17,
  XATTR_ENTRY: 18,
  BTREE_ROOT: 19,
  BTREE_NODE: 20,
  VFS_SUMMARY: 21,
  RANDOM: 255,
} as const;

export type BlobTypeValue = (typeof BlobType)[keyof typeof BlobType];

/** Every blob type is at version 1.0.0 (versioning.Register in kloset). */
export const BLOB_VERSION = 0x00010000;

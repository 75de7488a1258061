/**
 * Errors with stable codes. Callers (CLI, RPC, UI) branch on `code`, never on message text,
 * and the code survives process boundaries (see `toKlosetError`).
 *
 * - NOT_FOUND: the named thing does not exist (store object, snapshot, path).
 * - AUTH: a secret is wrong or an authenticated decryption failed (wrong passphrase, bad tag).
 * - INTEGRITY: bytes were read but their MAC/checksum does not match (tampering or bit rot).
 * - CORRUPT: bytes are structurally invalid (truncated, bad lengths, malformed encoding).
 * - CANCELLED: the operation was aborted by its caller.
 * - UNSUPPORTED: valid but not handled by this version (newer format, unknown algorithm).
 * - IO: the environment failed (disk, network, permissions).
 * - CONFLICT: the target already exists or is locked.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'AUTH'
  | 'INTEGRITY'
  | 'CORRUPT'
  | 'CANCELLED'
  | 'UNSUPPORTED'
  | 'IO'
  | 'CONFLICT';

export class KlosetError extends Error {
  override readonly name = 'KlosetError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isKlosetError(e: unknown, code?: ErrorCode): e is KlosetError {
  return e instanceof KlosetError && (code === undefined || e.code === code);
}

export const corrupt = (message: string, details?: Record<string, unknown>, cause?: unknown) =>
  new KlosetError('CORRUPT', message, details, { cause });
export const integrity = (message: string, details?: Record<string, unknown>) =>
  new KlosetError('INTEGRITY', message, details);
export const authError = (message: string, details?: Record<string, unknown>) =>
  new KlosetError('AUTH', message, details);
export const unsupported = (message: string, details?: Record<string, unknown>) =>
  new KlosetError('UNSUPPORTED', message, details);

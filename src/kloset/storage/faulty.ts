/**
 * FaultyStorage: a Storage wrapper for tests that injects the failures real backends produce,
 * so the layers above (retries, integrity checks, bounds checks) can be tested against them:
 *
 * - `fail(op, { nth, count, code, after })`: calls nth..nth+count-1 (1-based) of `op` throw a
 *   KlosetError with `code` (default IO). With `after`, the inner call runs first and its result
 *   is thrown away (a write that landed but whose answer was lost).
 * - `corruptRead(resource, mac, position)`: reads of that object come back with the byte at
 *   `position` (in object coordinates) flipped, as bit rot on the medium would; ranged reads
 *   that do not cover the position are untouched.
 * - `truncateRead(resource, mac, length)`: reads of that object behave as if it ended after
 *   `length` bytes — short answers, including for ranges past that point (a lying backend).
 *
 * `calls` counts every call per operation, failed or not.
 */
import { toHex } from '../base/bytes.js';
import { KlosetError, type ErrorCode } from '../base/errors.js';
import type { ByteRange, PutBody, Storage, StorageResource } from './storage.js';

export type StorageOperation = 'create' | 'open' | 'list' | 'put' | 'get' | 'delete' | 'close';

export interface FailOptions {
  /** first call (1-based) that fails; default 1 */
  nth?: number;
  /** how many consecutive calls fail from `nth`; default 1 */
  count?: number;
  /** default IO */
  code?: ErrorCode;
  /** run the inner call, then fail anyway */
  after?: boolean;
}

interface Failure {
  from: number;
  to: number;
  code: ErrorCode;
  after: boolean;
}

type ReadFault = { kind: 'flip'; position: number } | { kind: 'truncate'; length: number };

export class FaultyStorage implements Storage {
  readonly calls: Record<StorageOperation, number> = { create: 0, open: 0, list: 0, put: 0, get: 0, delete: 0, close: 0 };
  private failures: Partial<Record<StorageOperation, Failure[]>> = {};
  private readFaults = new Map<string, ReadFault[]>();

  constructor(readonly inner: Storage) {}

  get location(): string {
    return this.inner.location;
  }

  fail(op: StorageOperation, options: FailOptions = {}): this {
    const from = options.nth ?? 1;
    const failure = { from, to: from + (options.count ?? 1) - 1, code: options.code ?? 'IO', after: options.after ?? false };
    (this.failures[op] ??= []).push(failure);
    return this;
  }

  corruptRead(resource: StorageResource, mac: Uint8Array, position: number): this {
    return this.addReadFault(resource, mac, { kind: 'flip', position });
  }

  truncateRead(resource: StorageResource, mac: Uint8Array, length: number): this {
    return this.addReadFault(resource, mac, { kind: 'truncate', length });
  }

  /** Removes every injected fault (call counts are kept). */
  heal(): this {
    this.failures = {};
    this.readFaults.clear();
    return this;
  }

  create(config: Uint8Array): Promise<void> {
    return this.run('create', () => this.inner.create(config));
  }

  open(): Promise<Uint8Array> {
    return this.run('open', () => this.inner.open());
  }

  list(resource: StorageResource): Promise<Uint8Array[]> {
    return this.run('list', () => this.inner.list(resource));
  }

  put(resource: StorageResource, mac: Uint8Array, body: PutBody): Promise<void> {
    return this.run('put', () => this.inner.put(resource, mac, body));
  }

  get(resource: StorageResource, mac: Uint8Array, range?: ByteRange): Promise<Uint8Array> {
    return this.run('get', async () => {
      const bytes = await this.inner.get(resource, mac, range);
      const faults = this.readFaults.get(key(resource, mac));
      return faults ? applyReadFaults(bytes, range?.offset ?? 0, faults) : bytes;
    });
  }

  delete(resource: StorageResource, mac: Uint8Array): Promise<void> {
    return this.run('delete', () => this.inner.delete(resource, mac));
  }

  close(): Promise<void> {
    return this.run('close', () => this.inner.close());
  }

  private addReadFault(resource: StorageResource, mac: Uint8Array, fault: ReadFault): this {
    const k = key(resource, mac);
    this.readFaults.set(k, [...(this.readFaults.get(k) ?? []), fault]);
    return this;
  }

  private async run<T>(op: StorageOperation, call: () => Promise<T>): Promise<T> {
    const n = ++this.calls[op];
    const failure = this.failures[op]?.find((f) => n >= f.from && n <= f.to);
    if (!failure) return call();
    if (failure.after) await call();
    throw new KlosetError(failure.code, `injected ${failure.code} failure on ${op} call ${n} (${this.location})`, {
      injected: true,
      op,
      call: n,
    });
  }
}

function key(resource: StorageResource, mac: Uint8Array): string {
  return `${resource}:${toHex(mac)}`;
}

/** `bytes` are the object's bytes from `offset`; faults are in object coordinates. */
function applyReadFaults(bytes: Uint8Array, offset: number, faults: readonly ReadFault[]): Uint8Array {
  let out = bytes;
  for (const f of faults) {
    if (f.kind === 'flip') {
      const i = f.position - offset;
      if (i >= 0 && i < out.length) {
        if (out === bytes) out = bytes.slice();
        out[i] = out[i]! ^ 0xff;
      }
    } else {
      out = out.subarray(0, Math.max(0, Math.min(out.length, f.length - offset)));
    }
  }
  return out;
}

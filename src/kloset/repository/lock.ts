/**
 * Store locks (spec §11): a backup holds a shared lock named by its snapshot ID; maintenance
 * (not implemented yet) takes an exclusive one. A lock older than LOCK_TTL is stale and removed.
 * A backup refuses to start while a fresh exclusive lock exists (CONFLICT).
 */
import { KlosetError } from '../base/errors.js';
import { decodeStruct, encodeStruct, defineSchema, type Schema } from '../encoding/schema.js';
import type { GoTime } from '../encoding/go-time.js';
import type { Repository } from './repository.js';
import { ResourceType, unwrap, version, wrap } from './wrapper.js';

export const LOCK_VERSION = version(1, 0, 0);
/** 2 × the 5-minute refresh rate, as kloset */
export const LOCK_TTL_MS = 10 * 60 * 1000;
export const LOCK_REFRESH_MS = 5 * 60 * 1000;

export interface Lock { version: number; timestamp: GoTime; hostname: string; exclusive: boolean }

export const lockSchema: Schema<Lock> = defineSchema('repository.Lock', [
  { key: 'version', prop: 'version', type: 'u32' },
  { key: 'timestamp', prop: 'timestamp', type: 'time' },
  { key: 'hostname', prop: 'hostname', type: 'str' },
  { key: 'exclusive', prop: 'exclusive', type: 'bool' },
]);

export interface HeldLock {
  /** removes the lock (idempotent) */
  release(): Promise<void>;
}

function lockBytes(repo: Repository, hostname: string, exclusive: boolean): Uint8Array {
  const ms = repo.prims.now();
  const sec = Math.floor(ms / 1000);
  // kloset's newLock leaves Version at 0
  const lock: Lock = { version: 0, timestamp: { sec, nsec: Math.round((ms - sec * 1000) * 1e6) }, hostname, exclusive };
  return wrap(ResourceType.LOCK, LOCK_VERSION, repo.codec.encode(encodeStruct(lockSchema, lock)), repo.mac);
}

/**
 * Takes a shared (or exclusive) lock named `id`, after removing stale locks and checking that no
 * fresh exclusive lock (or, for an exclusive request, no fresh lock at all) is held by others.
 * The lock is refreshed while held so a long backup does not look stale.
 */
export async function acquireLock(repo: Repository, id: Uint8Array, hostname: string, exclusive = false): Promise<HeldLock> {
  await repo.storage.put('lock', id, lockBytes(repo, hostname, exclusive));
  try {
    for (const other of await repo.storage.list('lock')) {
      if (other.every((b, i) => b === id[i])) continue;
      let lock: Lock;
      try {
        const { payload } = unwrap(await repo.storage.get('lock', other), ResourceType.LOCK, repo.mac);
        lock = decodeStruct(lockSchema, repo.codec.decode(payload, 1 << 20));
      } catch (e) {
        if (e instanceof KlosetError && e.code === 'NOT_FOUND') continue; // released meanwhile
        throw e;
      }
      const age = repo.prims.now() - (lock.timestamp.sec * 1000 + lock.timestamp.nsec / 1e6);
      if (age >= LOCK_TTL_MS) {
        await repo.storage.delete('lock', other);
        continue;
      }
      if (lock.exclusive || exclusive) {
        throw new KlosetError('CONFLICT', `the store is locked by ${lock.hostname || 'another client'}${lock.exclusive ? ' (exclusive: maintenance in progress)' : ''}`);
      }
    }
  } catch (e) {
    await repo.storage.delete('lock', id);
    throw e;
  }
  const timer = setInterval(() => {
    void repo.storage.put('lock', id, lockBytes(repo, hostname, exclusive)).catch(() => undefined);
  }, LOCK_REFRESH_MS);
  (timer as { unref?: () => void }).unref?.();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await repo.storage.delete('lock', id);
    },
  };
}

/**
 * The storage wrapper every stored object wears (spec §2.1, connectors/storage/serialization.go):
 *
 *   "_KLOSET_" | u32le resource type | u32le version (major<<16 | minor<<8 | patch) | payload | 32-byte MAC
 *
 * The MAC covers everything before it. Readers also accept the legacy magic "_PLAKAR_".
 */
import { constantTimeEqual } from '../base/bytes.js';
import { corrupt, integrity, unsupported } from '../base/errors.js';
import type { Mac } from '../hashing/mac.js';
import type { PutBody } from '../storage/storage.js';

export const WRAPPER_HEADER_SIZE = 16;
export const WRAPPER_MAC_SIZE = 32;
const MAGIC = new TextEncoder().encode('_KLOSET_');
const LEGACY_MAGIC = new TextEncoder().encode('_PLAKAR_');

/** Storage resource types used in wrappers (resources.go RT_*). */
export const ResourceType = { CONFIG: 1, LOCK: 2, STATE: 3, PACKFILE: 4 } as const;
export type ResourceTypeValue = (typeof ResourceType)[keyof typeof ResourceType];
const TYPE_NAMES: Record<number, string> = { 1: 'CONFIG', 2: 'LOCK', 3: 'STATE', 4: 'PACKFILE' };

export function version(major: number, minor: number, patch: number): number {
  return ((major << 16) | (minor << 8) | patch) >>> 0;
}

export function formatVersion(v: number): string {
  return `${v >>> 16}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Rejects objects written by a newer format version than this engine reads (as Go does). */
export function checkVersion(found: number, supported: number, what: string): void {
  if (found > supported) throw unsupported(`${what} version ${formatVersion(found)} is newer than the supported ${formatVersion(supported)}`);
}

export function wrap(type: ResourceTypeValue, ver: number, payload: Uint8Array, mac: Mac): Uint8Array {
  const out = new Uint8Array(WRAPPER_HEADER_SIZE + payload.length + WRAPPER_MAC_SIZE);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, type, true);
  dv.setUint32(12, ver, true);
  out.set(payload, WRAPPER_HEADER_SIZE);
  out.set(mac.sum(out.subarray(0, WRAPPER_HEADER_SIZE + payload.length)), WRAPPER_HEADER_SIZE + payload.length);
  return out;
}

/** The wrapper's first 16 bytes: what a streamed object (a ptar's packfile) starts with; its MAC follows the payload. */
export function wrapperHeader(type: ResourceTypeValue, ver: number): Uint8Array {
  const header = new Uint8Array(WRAPPER_HEADER_SIZE);
  header.set(MAGIC, 0);
  const dv = new DataView(header.buffer);
  dv.setUint32(8, type, true);
  dv.setUint32(12, ver, true);
  return header;
}

export interface Unwrapped {
  type: number;
  version: number;
  payload: Uint8Array;
}

/**
 * Checks the wrapper and returns the payload (a view into `bytes`). With `mac === null` the
 * trailer is not verified: only for reading CONFIG's KDF parameters before the key is known.
 */
export function unwrap(bytes: Uint8Array, expected: ResourceTypeValue, mac: Mac | null): Unwrapped {
  const what = TYPE_NAMES[expected];
  if (bytes.length < WRAPPER_HEADER_SIZE + WRAPPER_MAC_SIZE) throw corrupt(`${what} object truncated (${bytes.length} bytes)`);
  const magic = bytes.subarray(0, 8);
  if (!constantTimeEqual(magic, MAGIC) && !constantTimeEqual(magic, LEGACY_MAGIC)) throw corrupt(`${what} object has no Kloset wrapper (bad magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint32(8, true);
  if (type !== expected) throw corrupt(`expected a ${what} object, found resource type ${TYPE_NAMES[type] ?? type}`);
  const end = bytes.length - WRAPPER_MAC_SIZE;
  if (mac && !constantTimeEqual(mac.sum(bytes.subarray(0, end)), bytes.subarray(end))) {
    throw integrity(`${what} object failed its MAC check (damaged or not from this store)`);
  }
  return { type, version: dv.getUint32(12, true), payload: bytes.subarray(WRAPPER_HEADER_SIZE, end) };
}

/**
 * `wrap` for a payload held as several parts (a packfile being flushed): the MAC is computed
 * incrementally and the result is a sized stream, so the parts are never concatenated.
 */
export async function wrapParts(type: ResourceTypeValue, ver: number, parts: readonly Uint8Array[], mac: Mac): Promise<PutBody> {
  const header = wrapperHeader(type, ver);
  const h = await mac.stream();
  h.update(header);
  let size = WRAPPER_HEADER_SIZE + WRAPPER_MAC_SIZE;
  for (const p of parts) {
    h.update(p);
    size += p.length;
  }
  const trailer = h.digest();
  return {
    size,
    async *stream() {
      yield header;
      yield* parts;
      yield trailer;
    },
  };
}

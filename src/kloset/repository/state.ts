/**
 * State streams (spec §7.1/§7.2, repository/state/state.go): the cleartext inside an RT_STATE
 * object, before `encode`. A state is an append-only delta of the store's blob index.
 *
 *   [32-byte parent state ID, zero = none]           v1.1.0 only
 *   repeat: u8 entry type | u32le length | entry     (unknown types are skipped by length)
 *   u8 ET_METADATA | u32le version | i64le timestamp (UnixNano) | 16-byte serial
 *
 * Writers emit ET_DELETE first, then locations, coloured, packfiles and configuration, so a
 * delete always targets entries of earlier states (the merge applies entries in stream order).
 *
 * All timestamps are signed UnixNano: Go writes `uint64(t.UnixNano())` and reads it back
 * through `int64`, so the signed reading is the one that round-trips.
 */
import { utf8, view } from '../base/bytes.js';
import { corrupt, unsupported } from '../base/errors.js';
import { MAC_SIZE } from '../hashing/mac.js';
import { formatVersion, version } from './wrapper.js';

export const STATE_VERSION_1_0 = version(1, 0, 0);
export const STATE_VERSION_1_1 = version(1, 1, 0);

export const ET_METADATA = 1;
export const ET_LOCATIONS = 2;
/** ET_COLOURED in v1.1 (ET_DELETED in v1.0, same layout and meaning) */
export const ET_COLOURED = 3;
export const ET_PACKFILE = 4;
export const ET_CONFIGURATION = 5;
/** v1.1 only */
export const ET_DELETE = 6;

const LOCATION_SIZE = 85;
const COLOURED_SIZE = 41;
const PACKFILE_SIZE = 72;
const DELETE_SIZE = 66;
const METADATA_SIZE = 4 + 8 + 16;
const SERIAL_SIZE = 16;
/** keyLen u8 + valueLen u16 + createdAt u64 around the key and value */
const CONFIGURATION_OVERHEAD = 1 + 2 + 8;
const MAX_CONFIG_KEY = 0xff;
const MAX_CONFIG_VALUE = 0xffff;

/** ET_LOCATIONS: blob (type, MAC) lives at [offset, offset+length) of a packfile's payload. */
export interface LocationEntry {
  kind: 'location';
  blobType: number;
  blobVersion: number;
  blob: Uint8Array;
  packfile: Uint8Array;
  offset: number;
  length: number;
  flags: number;
}

/** ET_COLOURED: marks a snapshot (type 5) or packfile (type 4) as deleted. */
export interface ColouredEntry {
  kind: 'coloured';
  type: number;
  mac: Uint8Array;
  /** UnixNano */
  when: bigint;
}

/** ET_PACKFILE: declares a packfile live (written by state `stateId`). */
export interface PackfileEntry {
  kind: 'packfile';
  packfile: Uint8Array;
  stateId: Uint8Array;
  /** UnixNano */
  timestamp: bigint;
}

/** ET_CONFIGURATION: a key/value setting; the latest `createdAt` wins per key. */
export interface ConfigurationEntry {
  kind: 'configuration';
  /** at most 255 UTF-8 bytes */
  key: string;
  /** at most 65535 bytes */
  value: Uint8Array;
  /** UnixNano */
  createdAt: bigint;
}

/**
 * ET_DELETE (v1.1): removes an entry present in the merged index. `entryType` 2 removes the
 * location (blobType, blob, packfile); 3 un-colours (blobType, blob); 4 removes the packfile
 * entry `packfile`. Fields a kind does not use are zero when kloset writes them.
 */
export interface DeleteEntry {
  kind: 'delete';
  entryType: number;
  blobType: number;
  blob: Uint8Array;
  packfile: Uint8Array;
}

export type StateEntry = LocationEntry | ColouredEntry | PackfileEntry | ConfigurationEntry | DeleteEntry;

export interface StateMetadata {
  /** version written in the terminator (kloset writes its STATE version) */
  version: number;
  /** UnixNano */
  timestamp: bigint;
  /** 16-byte UUID shared by the states of one "serial" lineage */
  serial: Uint8Array;
}

export interface StateStream {
  /** parent state ID (v1.1); null when none (all-zero on disk) or for v1.0 streams */
  parent: Uint8Array | null;
  entries: StateEntry[];
  metadata: StateMetadata;
}

/**
 * What `serializeState` and `BlobIndex.apply` read: a stream whose entries may be any
 * iterable that can be walked several times (the writer generates its location entries from
 * the packfiles' compact indexes instead of holding one object per blob until the commit).
 */
export interface StateStreamInput {
  parent: Uint8Array | null;
  entries: Iterable<StateEntry>;
  metadata: StateMetadata;
}

/** v1.0.x streams have no parent header and no ET_DELETE; 1.1.0 adds both (Go: `ver == 1.1.0`). */
function hasParentHeader(stateVersion: number, what: string): boolean {
  if (stateVersion > STATE_VERSION_1_1) {
    throw unsupported(`${what} version ${formatVersion(stateVersion)} is newer than the supported ${formatVersion(STATE_VERSION_1_1)}`);
  }
  return stateVersion === STATE_VERSION_1_1;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function need(ok: boolean, what: string): void {
  if (!ok) throw new TypeError(what);
}
function checkMac(b: Uint8Array, what: string): void {
  need(b instanceof Uint8Array && b.length === MAC_SIZE, `${what} must be ${MAC_SIZE} bytes`);
}
function checkInt(n: number, max: number, what: string): void {
  need(Number.isInteger(n) && n >= 0 && n <= max, `${what} ${n} is out of range`);
}
function checkI64(n: bigint, what: string): void {
  need(typeof n === 'bigint' && n >= I64_MIN && n <= I64_MAX, `${what} ${n} is not an i64`);
}

/** Serialization order of kloset's SerializeToStream. */
const ORDER: readonly StateEntry['kind'][] = ['delete', 'location', 'coloured', 'packfile', 'configuration'];

/**
 * Serializes a state stream in kloset's order (deletes, locations, coloured, packfiles,
 * configuration, metadata), keeping the relative order of entries of one kind. A v1.0.0
 * stream cannot carry a parent nor ET_DELETE entries (UNSUPPORTED); malformed fields are a
 * programming error (TypeError).
 */
export function serializeState(s: StateStreamInput, stateVersion: number): Uint8Array {
  const withParent = hasParentHeader(stateVersion, 'STATE');
  if (!withParent) {
    if (s.parent !== null && s.parent.some((b) => b !== 0)) throw unsupported('a STATE 1.0.0 stream has no parent header');
    for (const e of s.entries) if (e.kind === 'delete') throw unsupported('a STATE 1.0.0 stream cannot carry ET_DELETE entries');
  }
  if (s.parent !== null) checkMac(s.parent, 'parent state ID');
  checkInt(s.metadata.version, 0xffffffff, 'metadata version');
  checkI64(s.metadata.timestamp, 'metadata timestamp');
  need(s.metadata.serial instanceof Uint8Array && s.metadata.serial.length === SERIAL_SIZE, `serial must be ${SERIAL_SIZE} bytes`);

  // Validate and size everything first, then write one buffer.
  const keys = new Map<ConfigurationEntry, Uint8Array>();
  let size = (withParent ? MAC_SIZE : 0) + 1 + METADATA_SIZE;
  const kinds = new Set<StateEntry['kind']>();
  for (const e of s.entries) {
    size += 5 + entrySize(e, keys);
    kinds.add(e.kind);
  }

  const out = new Uint8Array(size);
  const dv = view(out);
  let o = 0;
  if (withParent) {
    if (s.parent) out.set(s.parent, 0);
    o = MAC_SIZE;
  }
  // one pass per kind present (a writer's state has two: locations and packfiles)
  for (const kind of ORDER) if (kinds.has(kind)) for (const e of s.entries) if (e.kind === kind) o = writeEntry(out, dv, o, e, keys);
  out[o] = ET_METADATA;
  dv.setUint32(o + 1, s.metadata.version, true);
  dv.setBigInt64(o + 5, s.metadata.timestamp, true);
  out.set(s.metadata.serial, o + 13);
  return out;
}

function entrySize(e: StateEntry, keys: Map<ConfigurationEntry, Uint8Array>): number {
  switch (e.kind) {
    case 'location':
      checkInt(e.blobType, 0xff, 'blob type');
      checkInt(e.blobVersion, 0xffffffff, 'blob version');
      checkMac(e.blob, 'blob MAC');
      checkMac(e.packfile, 'packfile MAC');
      need(Number.isSafeInteger(e.offset) && e.offset >= 0, `offset ${e.offset} is out of range`);
      checkInt(e.length, 0xffffffff, 'length');
      checkInt(e.flags, 0xffffffff, 'flags');
      return LOCATION_SIZE;
    case 'coloured':
      checkInt(e.type, 0xff, 'coloured type');
      checkMac(e.mac, 'coloured MAC');
      checkI64(e.when, 'coloured time');
      return COLOURED_SIZE;
    case 'packfile':
      checkMac(e.packfile, 'packfile MAC');
      checkMac(e.stateId, 'state ID');
      checkI64(e.timestamp, 'packfile timestamp');
      return PACKFILE_SIZE;
    case 'configuration': {
      const key = utf8.encode(e.key);
      need(key.length <= MAX_CONFIG_KEY, `configuration key of ${key.length} bytes (max ${MAX_CONFIG_KEY})`);
      need(e.value instanceof Uint8Array && e.value.length <= MAX_CONFIG_VALUE, `configuration value over ${MAX_CONFIG_VALUE} bytes`);
      checkI64(e.createdAt, 'configuration time');
      keys.set(e, key);
      return CONFIGURATION_OVERHEAD + key.length + e.value.length;
    }
    case 'delete':
      need(e.entryType === ET_LOCATIONS || e.entryType === ET_COLOURED || e.entryType === ET_PACKFILE, `delete entry type ${e.entryType} is not 2, 3 or 4`);
      checkInt(e.blobType, 0xff, 'blob type');
      checkMac(e.blob, 'blob MAC');
      checkMac(e.packfile, 'packfile MAC');
      return DELETE_SIZE;
    default:
      throw new TypeError(`unknown state entry kind ${(e as { kind: unknown }).kind}`);
  }
}

function writeEntry(out: Uint8Array, dv: DataView, o: number, e: StateEntry, keys: Map<ConfigurationEntry, Uint8Array>): number {
  const body = o + 5;
  switch (e.kind) {
    case 'location':
      out[o] = ET_LOCATIONS;
      dv.setUint32(o + 1, LOCATION_SIZE, true);
      out[body] = e.blobType;
      dv.setUint32(body + 1, e.blobVersion, true);
      out.set(e.blob, body + 5);
      out.set(e.packfile, body + 37);
      dv.setBigUint64(body + 69, BigInt(e.offset), true);
      dv.setUint32(body + 77, e.length, true);
      dv.setUint32(body + 81, e.flags, true);
      return body + LOCATION_SIZE;
    case 'coloured':
      out[o] = ET_COLOURED;
      dv.setUint32(o + 1, COLOURED_SIZE, true);
      out[body] = e.type;
      out.set(e.mac, body + 1);
      dv.setBigInt64(body + 33, e.when, true);
      return body + COLOURED_SIZE;
    case 'packfile':
      out[o] = ET_PACKFILE;
      dv.setUint32(o + 1, PACKFILE_SIZE, true);
      out.set(e.packfile, body);
      out.set(e.stateId, body + 32);
      dv.setBigInt64(body + 64, e.timestamp, true);
      return body + PACKFILE_SIZE;
    case 'configuration': {
      const key = keys.get(e)!;
      const len = CONFIGURATION_OVERHEAD + key.length + e.value.length;
      out[o] = ET_CONFIGURATION;
      dv.setUint32(o + 1, len, true);
      out[body] = key.length;
      out.set(key, body + 1);
      dv.setUint16(body + 1 + key.length, e.value.length, true);
      out.set(e.value, body + 3 + key.length);
      dv.setBigInt64(body + 3 + key.length + e.value.length, e.createdAt, true);
      return body + len;
    }
    case 'delete':
      out[o] = ET_DELETE;
      dv.setUint32(o + 1, DELETE_SIZE, true);
      out[body] = e.entryType;
      out[body + 1] = e.blobType;
      out.set(e.blob, body + 2);
      out.set(e.packfile, body + 34);
      return body + DELETE_SIZE;
  }
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Parses a decoded state stream written at `stateVersion` (the wrapper's version). Every
 * length is checked before it is used; truncation, a wrong fixed entry length, a malformed
 * configuration entry, a delete of an unknown kind, a missing terminator or bytes after it are
 * CORRUPT. Unknown entry types are skipped by their length (in v1.0 streams that includes
 * type 6, which did not exist yet). Byte fields of the result are views into `bytes`.
 */
export function parseState(bytes: Uint8Array, stateVersion: number): StateStream {
  const withParent = hasParentHeader(stateVersion, 'STATE');
  const dv = view(bytes);
  const end = bytes.length;
  let o = 0;
  let parent: Uint8Array | null = null;
  if (withParent) {
    if (end < MAC_SIZE) throw corrupt(`state stream of ${end} bytes has no room for its parent header`);
    const p = bytes.subarray(0, MAC_SIZE);
    parent = isZero(p) ? null : p;
    o = MAC_SIZE;
  }
  const entries: StateEntry[] = [];
  for (;;) {
    if (o >= end) throw corrupt(`state stream ends at byte ${o} without its metadata terminator`);
    const type = bytes[o]!;
    if (type === ET_METADATA) {
      const rest = end - o - 1;
      if (rest < METADATA_SIZE) throw corrupt(`state metadata truncated (${rest} of ${METADATA_SIZE} bytes)`);
      if (rest > METADATA_SIZE) throw corrupt(`${rest - METADATA_SIZE} unexpected bytes after the state metadata`);
      return {
        parent,
        entries,
        metadata: {
          version: dv.getUint32(o + 1, true),
          timestamp: dv.getBigInt64(o + 5, true),
          serial: bytes.subarray(o + 13, o + 13 + SERIAL_SIZE),
        },
      };
    }
    if (end - o < 5) throw corrupt(`state entry at byte ${o} truncated in its header`);
    const len = dv.getUint32(o + 1, true);
    const body = o + 5;
    if (len > end - body) throw corrupt(`state entry of type ${type} at byte ${o} claims ${len} bytes, ${end - body} remain`);
    const entry = parseEntry(type, bytes, dv, body, len, withParent);
    if (entry) entries.push(entry);
    o = body + len;
  }
}

function fixed(type: number, len: number, expected: number, at: number): void {
  if (len !== expected) throw corrupt(`state entry of type ${type} at byte ${at - 5} has length ${len}, expected ${expected}`);
}

function parseEntry(type: number, bytes: Uint8Array, dv: DataView, at: number, len: number, v11: boolean): StateEntry | null {
  switch (type) {
    case ET_LOCATIONS: {
      fixed(type, len, LOCATION_SIZE, at);
      const offset = dv.getBigUint64(at + 69, true);
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`location offset ${offset} is out of range`);
      return {
        kind: 'location',
        blobType: bytes[at]!,
        blobVersion: dv.getUint32(at + 1, true),
        blob: bytes.subarray(at + 5, at + 37),
        packfile: bytes.subarray(at + 37, at + 69),
        offset: Number(offset),
        length: dv.getUint32(at + 77, true),
        flags: dv.getUint32(at + 81, true),
      };
    }
    case ET_COLOURED:
      fixed(type, len, COLOURED_SIZE, at);
      return { kind: 'coloured', type: bytes[at]!, mac: bytes.subarray(at + 1, at + 33), when: dv.getBigInt64(at + 33, true) };
    case ET_PACKFILE:
      fixed(type, len, PACKFILE_SIZE, at);
      return {
        kind: 'packfile',
        packfile: bytes.subarray(at, at + 32),
        stateId: bytes.subarray(at + 32, at + 64),
        timestamp: dv.getBigInt64(at + 64, true),
      };
    case ET_CONFIGURATION: {
      if (len < CONFIGURATION_OVERHEAD) throw corrupt(`configuration entry of ${len} bytes is too short`);
      const keyLen = bytes[at]!;
      if (1 + keyLen + 2 > len - 8) throw corrupt(`configuration key of ${keyLen} bytes overruns its ${len}-byte entry`);
      const valueLen = dv.getUint16(at + 1 + keyLen, true);
      if (CONFIGURATION_OVERHEAD + keyLen + valueLen !== len) {
        throw corrupt(`configuration entry of ${len} bytes holds a ${keyLen}-byte key and a ${valueLen}-byte value`);
      }
      const v = at + 3 + keyLen;
      return {
        kind: 'configuration',
        key: utf8.decode(bytes.subarray(at + 1, at + 1 + keyLen)),
        value: bytes.subarray(v, v + valueLen),
        createdAt: dv.getBigInt64(v + valueLen, true),
      };
    }
    case ET_DELETE: {
      if (!v11) return null; // not defined before 1.1.0: an unknown type there
      fixed(type, len, DELETE_SIZE, at);
      const entryType = bytes[at]!;
      if (entryType !== ET_LOCATIONS && entryType !== ET_COLOURED && entryType !== ET_PACKFILE) {
        throw corrupt(`delete entry targets unknown entry type ${entryType}`);
      }
      return { kind: 'delete', entryType, blobType: bytes[at + 1]!, blob: bytes.subarray(at + 2, at + 34), packfile: bytes.subarray(at + 34, at + 66) };
    }
    default:
      return null; // unknown to this version: skipped, as kloset does
  }
}

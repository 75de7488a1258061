/**
 * Dirpacks (spec §9.5): per directory, one object holding all of its direct children's entries,
 * so a listing — or a re-backup comparing against the previous snapshot — reads one object
 * instead of one blob per child. Frames, one per child:
 *
 *   u8 type (1 directory, 2 anything else) | u32le length (= len(entry) + 32) | entry bytes | MAC(entry)
 */
import { corrupt } from '../base/errors.js';

export const DIRPACK_DIRECTORY = 1;
export const DIRPACK_FILE = 2;

export interface DirpackFrame {
  type: number;
  /** the RT_VFS_ENTRY bytes, exactly as stored */
  entry: Uint8Array;
  /** the entry's MAC (its RT_VFS_ENTRY address) */
  mac: Uint8Array;
}

export function encodeDirpack(frames: readonly DirpackFrame[]): Uint8Array {
  let size = 0;
  for (const f of frames) size += 5 + f.entry.length + 32;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const f of frames) {
    out[o] = f.type;
    dv.setUint32(o + 1, f.entry.length + 32, true);
    out.set(f.entry, o + 5);
    out.set(f.mac, o + 5 + f.entry.length);
    o += 5 + f.entry.length + 32;
  }
  return out;
}

/** Parses frames, checking every length against the bytes left (CORRUPT otherwise). */
export function decodeDirpack(bytes: Uint8Array): DirpackFrame[] {
  const { frames, used } = decodeDirpackPrefix(bytes);
  if (used !== bytes.length) throw corrupt('dirpack truncated in a frame');
  return frames;
}

/**
 * The complete frames at the start of `bytes` and how many bytes they use — for parsing a
 * dirpack chunk by chunk (a frame may straddle two chunks).
 */
export function decodeDirpackPrefix(bytes: Uint8Array): { frames: DirpackFrame[]; used: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: DirpackFrame[] = [];
  let o = 0;
  while (o + 5 <= bytes.length) {
    const type = bytes[o]!;
    const len = dv.getUint32(o + 1, true);
    if (type !== DIRPACK_DIRECTORY && type !== DIRPACK_FILE) throw corrupt(`dirpack frame of unknown type ${type}`);
    if (len < 32 || len > MAX_FRAME) throw corrupt('dirpack frame length out of bounds');
    if (o + 5 + len > bytes.length) break;
    frames.push({ type, entry: bytes.subarray(o + 5, o + 5 + len - 32), mac: bytes.subarray(o + 5 + len - 32, o + 5 + len) });
    o += 5 + len;
  }
  return { frames, used: o };
}

/** An entry is a few hundred bytes; anything near this is damage. */
const MAX_FRAME = 16 << 20;

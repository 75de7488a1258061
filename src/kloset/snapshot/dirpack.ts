/**
 * Dirpacks (spec §9.5): per directory, one object holding all of its direct children's entries,
 * so a listing — or a re-backup comparing against the previous snapshot — reads one object
 * instead of one blob per child. Frames, one per child:
 *
 *   u8 type (1 directory, 2 anything else) | u32le length (= len(entry) + 32) | entry bytes | MAC(entry)
 */
import { concatBytes } from '../base/bytes.js';
import { corrupt } from '../base/errors.js';

export const DIRPACK_DIRECTORY = 1;
export const DIRPACK_FILE = 2;
/** a frame's type byte and u32le length */
const FRAME_HEADER = 5;

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
  const cursor = new DirpackCursor(bytes);
  const frames: DirpackFrame[] = [];
  for (let f = cursor.next(); f; f = cursor.next()) frames.push(f);
  return { frames, used: cursor.used };
}

/**
 * The frames of `bytes` one at a time, each checked as it is reached: a listing decodes its
 * first entries while the rest of the chunk is still bytes (parsing a 2.7 MB chunk's 8,000
 * frames up front cost ~5 ms, and its 24,000 objects lived through every scavenge of the
 * listing).
 */
export class DirpackCursor {
  /** bytes taken by the frames given out so far */
  used = 0;
  private readonly dv: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The next complete frame, or null where the bytes end (or end inside a frame). */
  next(): DirpackFrame | null {
    const bytes = this.bytes, o = this.used;
    if (o + 5 > bytes.length) return null;
    const type = bytes[o]!;
    const len = this.dv.getUint32(o + 1, true);
    if (type !== DIRPACK_DIRECTORY && type !== DIRPACK_FILE) throw corrupt(`dirpack frame of unknown type ${type}`);
    if (len < 32 || len > MAX_FRAME) throw corrupt('dirpack frame length out of bounds');
    if (o + 5 + len > bytes.length) return null;
    this.used = o + 5 + len;
    return { type, entry: bytes.subarray(o + 5, o + 5 + len - 32), mac: bytes.subarray(o + 5 + len - 32, o + 5 + len) };
  }
}

/**
 * The frames of a dirpack that arrives in pieces (its chunks), where a frame may begin in one
 * piece and end in a later one. Only such a frame is joined across the boundary: joining each
 * piece to the tail of the one before copied the directory's whole dirpack once more (450 MB
 * for a million entries) into fresh memory.
 */
export class DirpackPieces {
  /** the start of a frame that the pieces so far ended inside */
  private rest: Uint8Array = new Uint8Array(0);
  /** the frame the current piece completed from `rest`, not given out yet */
  private joined: DirpackFrame | null = null;
  private cursor: DirpackCursor | null = null;
  private piece: Uint8Array = new Uint8Array(0);
  private start = 0;

  /** Whether the pieces so far ended on a frame boundary (once their frames are all taken). */
  get ended(): boolean {
    return this.rest.length === 0 && !this.cursor && !this.joined;
  }

  /** Takes the next piece: `next()` then gives the frames it completes. */
  push(piece: Uint8Array): void {
    if (this.cursor || this.joined) throw new Error('DirpackPieces: frames of the previous piece not all taken');
    let start = 0;
    const rest = this.rest;
    if (rest.length) {
      const head = rest.length >= FRAME_HEADER ? rest : concatBytes([rest, piece.subarray(0, FRAME_HEADER - rest.length)]);
      new DirpackCursor(head).next(); // the header's type and length checked (CORRUPT), before anything is gathered
      if (head.length < FRAME_HEADER) {
        this.rest = head; // a piece shorter than what was missing of the header
        return;
      }
      const frameSize = FRAME_HEADER + new DataView(head.buffer, head.byteOffset, FRAME_HEADER).getUint32(1, true);
      start = Math.min(piece.length, frameSize - rest.length);
      const joined = concatBytes([rest, piece.subarray(0, start)]);
      if (joined.length < frameSize) {
        this.rest = joined; // the frame goes on into the next piece
        return;
      }
      this.joined = new DirpackCursor(joined).next()!;
    }
    this.rest = new Uint8Array(0);
    this.piece = piece;
    this.start = start;
    this.cursor = new DirpackCursor(piece.subarray(start));
  }

  /** The next frame the pushed pieces complete, or null when they have given them all. */
  next(): DirpackFrame | null {
    const joined = this.joined;
    if (joined) {
      this.joined = null;
      return joined;
    }
    const cursor = this.cursor;
    if (!cursor) return null;
    const f = cursor.next();
    if (f) return f;
    this.rest = this.piece.subarray(this.start + cursor.used);
    this.cursor = null;
    return null;
  }
}

/** An entry is a few hundred bytes; anything near this is damage. */
const MAX_FRAME = 16 << 20;

/**
 * Aligned blocks of remote objects in a small LRU, for many small ranged reads of the same
 * objects (a restore reads blob after blob from a packfile, each a few KiB). A read is served
 * from the blocks that cover it; a missing block is fetched once even when several readers ask
 * for it at the same time. Memory is bounded by `maxBlocks × blockBytes`.
 */
import type { ByteRange } from '../../kloset/storage/storage.js';

/** Fetches up to `length` bytes from `offset` (fewer at the end of the object). */
export type FetchUpTo = (offset: number, length: number) => Promise<Uint8Array>;

export class BlockCache {
  /** insertion order = recency (a hit re-inserts) */
  private readonly blocks = new Map<string, Promise<Uint8Array>>();

  constructor(readonly blockBytes: number, private readonly maxBlocks: number) {}

  /** The bytes of `range` that exist (shorter than asked when the object ends first). */
  async read(key: string, range: ByteRange, fetch: FetchUpTo): Promise<Uint8Array> {
    const end = range.offset + range.length;
    const first = Math.floor(range.offset / this.blockBytes);
    const last = Math.floor((end - 1) / this.blockBytes);
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.block(key, first + i, fetch)));
    if (parts.length === 1) {
      const start = range.offset - first * this.blockBytes;
      return parts[0]!.slice(start, start + range.length);
    }
    const out = new Uint8Array(range.length);
    let n = 0;
    for (let i = 0; i < parts.length; i++) {
      const base = (first + i) * this.blockBytes;
      const from = Math.max(range.offset, base) - base;
      const to = Math.min(end, base + parts[i]!.length) - base;
      if (to <= from) break;
      out.set(parts[i]!.subarray(from, to), n);
      n += to - from;
      if (parts[i]!.length < this.blockBytes) break; // the object ends in this block
    }
    return n === out.length ? out : out.slice(0, n);
  }

  private block(key: string, index: number, fetch: FetchUpTo): Promise<Uint8Array> {
    const id = `${index}:${key}`;
    const hit = this.blocks.get(id);
    if (hit) {
      this.blocks.delete(id);
      this.blocks.set(id, hit);
      return hit;
    }
    const p = fetch(index * this.blockBytes, this.blockBytes);
    this.blocks.set(id, p);
    p.catch(() => this.blocks.delete(id)); // a failed fetch is not cached
    while (this.blocks.size > this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value!);
    return p;
  }

  forget(key: string): void {
    for (const id of [...this.blocks.keys()]) if (id.slice(id.indexOf(':') + 1) === key) this.blocks.delete(id);
  }

  clear(): void {
    this.blocks.clear();
  }
}

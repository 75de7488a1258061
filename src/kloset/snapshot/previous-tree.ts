/**
 * The previous snapshot of a source, as a re-backup consults it: the entry recorded at a path,
 * directory by directory, with the directories about to be walked fetched ahead.
 *
 * Items reach the builder in walk order (a directory, then its content, then its next sibling),
 * so when a directory is entered its listing is loaded and the listings of its next few sibling
 * directories start loading too: their reads overlap with the work on the current one instead
 * of stalling the pipeline once per directory. A bounded number of listings is kept.
 */
import { pathCompare } from './btree/compare.js';
import { isDir, type SnapshotReader, type VfsEntry } from './reader.js';
import { parentPath } from './vfs/paths.js';

interface Listing {
  entries: Map<string, VfsEntry>;
  /** child directories in walk (name) order, and each one's position */
  subdirs: string[];
  position: Map<string, number>;
}

/** Listings kept (most recently used); comfortably more than the look-ahead. */
const KEEP = 64;
/** Sibling directories whose listings are fetched ahead of the walk. */
const AHEAD = 4;

export class PreviousTree {
  private readonly listings = new Map<string, Promise<Listing>>();
  /** the listings above that have arrived, for lookups that must not wait */
  private readonly loaded = new Map<string, Listing>();

  constructor(private readonly reader: SnapshotReader) {}

  /** The previous snapshot's entry at `path`, or undefined. */
  async entry(path: string): Promise<VfsEntry | undefined> {
    if (path === '/') return this.reader.stat('/');
    return (await this.listing(parentPath(path))).entries.get(path);
  }

  /** The entry at `path` if its directory's listing has arrived (else undefined). */
  loadedEntry(path: string): VfsEntry | undefined {
    return path === '/' ? undefined : this.loaded.get(parentPath(path))?.entries.get(path);
  }

  /** The walk enters directory `path`: load it and start on the next siblings. */
  enter(path: string): void {
    void this.listing(path);
    if (path === '/') return;
    const parent = this.listings.get(parentPath(path));
    void parent?.then((p) => {
      const i = p.position.get(path);
      if (i === undefined) return;
      for (let k = i + 1; k <= i + AHEAD && k < p.subdirs.length; k++) void this.listing(p.subdirs[k]!);
    });
  }

  private listing(dir: string): Promise<Listing> {
    let l = this.listings.get(dir);
    if (l) {
      this.listings.delete(dir); // most recently used last
      this.listings.set(dir, l);
      return l;
    }
    // a directory the previous snapshot cannot list is treated as new (nothing reused)
    const p: Promise<Listing> = this.reader.directory(dir).then(toListing, () => toListing([])).then((listing) => {
      if (this.listings.get(dir) === p) this.loaded.set(dir, listing); // unless evicted meanwhile
      return listing;
    });
    this.listings.set(dir, p);
    if (this.listings.size > KEEP) {
      const oldest = this.listings.keys().next().value!;
      this.listings.delete(oldest);
      this.loaded.delete(oldest);
    }
    return p;
  }
}

function toListing(list: VfsEntry[]): Listing {
  const entries = new Map<string, VfsEntry>();
  const subdirs: string[] = [];
  for (const e of list) {
    entries.set(e.path, e);
    if (isDir(e)) subdirs.push(e.path);
  }
  subdirs.sort(pathCompare);
  return { entries, subdirs, position: new Map(subdirs.map((p, i) => [p, i])) };
}

/**
 * Where the first entries of `npm run bench:listing`'s huge directory wait, piece by piece, in
 * a fresh process: the dirpack index, its lookup, the dirpack object, its first chunk (read and
 * decoded), the chunk's frame boundaries, its first entries decoded, and a second chunk. Run after bench:listing made the
 * store:
 *
 *   N=1000000 npx tsx bench/listing-pieces.ts
 *
 * (how session 8 found the first chunk waiting ~450 ms for the decoding worker to start)
 */
import { resolve } from 'node:path';
import { FsStorage } from '../src/connectors/fs/storage.js';
import { CachingStorage } from '../src/kloset/storage/caching.js';
import { DiskCache, sha256Hex } from '../src/kloset/storage/node/disk-cache.js';
import { decodeStruct } from '../src/kloset/encoding/schema.js';
import { nodePrimitives } from '../src/kloset/node/primitives.js';
import { BlobType } from '../src/kloset/repository/blob-types.js';
import { Repository } from '../src/kloset/repository/repository.js';
import { decodeDirpackPrefix } from '../src/kloset/snapshot/dirpack.js';
import { objectSchema } from '../src/kloset/snapshot/object.js';
import { entrySchema } from '../src/kloset/snapshot/vfs/entry.js';
import { SnapshotReader } from '../src/kloset/snapshot/reader.js';

const N = Number(process.env.N ?? 1_000_000);
const dir = resolve(process.env.BENCH_DIR ?? '.bench-data', `listing-${N}`);
const repo = await Repository.open(new CachingStorage(new FsStorage(dir), new DiskCache(`${dir}-cache`), sha256Hex), nodePrimitives, new TextEncoder().encode('bench passphrase'));
const snap = await SnapshotReader.open(repo, repo.snapshotIds()[0]!);
let t = performance.now();
const step = (what: string) => { const now = performance.now(); console.log(`${what}: ${(now - t).toFixed(1)} ms`); t = now; };
// (the reader's index() is private: this measures the same calls it makes)
const index = await (snap as unknown as { index(name: string): Promise<{ find(k: string): Promise<Uint8Array | undefined> }> }).index('dirpack');
step('dirpack index open');
const objectMac = await index.find('/huge');
if (!objectMac) throw new Error('no dirpack for /huge: run bench:listing first');
step('dirpack lookup');
const obj = decodeStruct(objectSchema, await repo.getBlob(BlobType.OBJECT, objectMac));
step(`dirpack object (${obj.chunks.length} chunks)`);
const first = await repo.getBlob(BlobType.CHUNK, obj.chunks[0]!.contentMac);
step(`first chunk (${first.length} bytes)`);
const { frames } = decodeDirpackPrefix(first);
step(`its frame boundaries (${frames.length} frames)`);
for (let i = 0; i < 1000; i++) decodeStruct(entrySchema, frames[i]!.entry);
step('its first 1000 entries decoded');
for (let i = 1000; i < 2000; i++) decodeStruct(entrySchema, frames[i]!.entry);
step('the next 1000');
await repo.getBlob(BlobType.CHUNK, obj.chunks[1]!.contentMac);
step('second chunk');
await repo.close();

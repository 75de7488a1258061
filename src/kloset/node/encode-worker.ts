/**
 * Worker-thread half of the Node blob encoder: receives the store's Configuration, key and MAC
 * key once, then hashes, measures the entropy of and encodes (compress + encrypt) blobs sent as
 * transferred buffers, encodes metadata blobs hashed by the caller — and, for reads, decodes
 * and verifies stored chunks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ownsItsBuffer } from '../base/bytes.js';
import { entropy } from '../base/entropy.js';
import { parseHashingAlgorithm } from '../hashing/mac.js';
import { BlobCodec } from '../repository/blob-codec.js';
import { BufferPool } from './buffer-pool.js';
import { ArenaWriter, type ArenaShare, type ArenaSlot } from './output-arena.js';
import type { Configuration } from '../repository/config.js';
import { nodePrimitives } from './primitives.js';

const { config, key, macKey, arena } = workerData as { config: Configuration; key: Uint8Array | null; macKey: Uint8Array; arena?: ArenaShare };
const codec = new BlobCodec(nodePrimitives, config, key);
const mac = await nodePrimitives.macs(parseHashingAlgorithm(config.hashing.algorithm), macKey);

interface Job { id: number; data: Uint8Array; recycle?: boolean; decode?: { maxSize: number; address: Uint8Array }; encodeOnly?: boolean; spares?: ArrayBuffer[] }

/**
 * Memory for decoded chunks: the main thread sends back (a job's `spares`) the buffers of
 * chunks it is done with, and the next decodes write into them instead of fresh memory.
 * Bounded (with the main thread's own, worker-encoder.ts, what a restore keeps for reuse): at
 * 8 MiB a 1 GiB restore ran 14–23 full collections, at 32 MiB 24–37 (`node --trace-gc`,
 * session 12), and a store in a bucket peaked lower.
 */
const OUTPUT_SPARE_BYTES = 8 << 20;
const outputs = new BufferPool(OUTPUT_SPARE_BYTES);
const outputOf = (n: number) => outputs.take(n);

/** Memory shared with the main thread that chunks are sealed into (output-arena.ts). */
const ring = arena ? new ArenaWriter(arena) : null;

/**
 * Encodes a chunk into the shared ring when it has room (the answer then names the slot and
 * moves no buffer), else into fresh memory.
 */
function encodeChunk(m: Job): { data: Uint8Array; slot: ArenaSlot | null } {
  let slot: ArenaSlot | null = null;
  const alloc = (n: number): Uint8Array => {
    slot = ring!.take(n);
    return slot ? ring!.view(slot) : new Uint8Array(n);
  };
  try {
    return { data: codec.encode(m.data, ring ? alloc : undefined), slot };
  } catch (e) {
    if (slot) ring!.untake(slot);
    throw e;
  }
}

/**
 * Answers a job, moving the result's buffer (a copy first when it is a view) and, for a job
 * whose input is a pooled buffer (`recycle`), the input too, for the pool to give out again.
 */
function reply(m: Job, data: Uint8Array, extra: { mac?: Uint8Array; entropy?: number } = {}): void {
  // a decoded chunk in a pooled buffer moves as the view it is (the buffer may be larger)
  const owned = ownsItsBuffer(data) || outputs.owns(data) ? data : data.slice();
  const back = m.recycle && m.data.buffer !== owned.buffer ? m.data : undefined;
  const transfer = back ? [owned.buffer as ArrayBuffer, back.buffer as ArrayBuffer] : [owned.buffer as ArrayBuffer];
  parentPort!.postMessage({ id: m.id, data: owned, input: back, ...extra }, transfer);
}

/** Answers a job whose result is in the ring: only its place travels (and the input, as `reply`). */
function replyInRing(m: Job, slot: ArenaSlot, extra: { mac: Uint8Array; entropy: number }): void {
  const back = m.recycle ? m.data : undefined;
  parentPort!.postMessage({ id: m.id, slot, input: back, ...extra }, back ? [back.buffer as ArrayBuffer] : []);
}

parentPort!.on('message', (m: Job) => {
  for (const b of m.spares ?? []) outputs.give(b);
  try {
    if (m.encodeOnly) reply(m, codec.encode(m.data));
    else if (m.decode) reply(m, codec.decodeVerified(m.data, m.decode.maxSize, mac, m.decode.address, outputOf));
    else {
      const { data, slot } = encodeChunk(m);
      const extra = { mac: mac.sum(m.data), entropy: entropy(m.data, nodePrimitives.countBytes) };
      if (slot) replyInRing(m, slot, extra);
      else reply(m, data, extra);
    }
  } catch (e) {
    // the code crosses the thread boundary so INTEGRITY/CORRUPT/AUTH stay what they are
    const back = m.recycle ? m.data : undefined;
    parentPort!.postMessage({ id: m.id, input: back, error: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code }, back ? [back.buffer as ArrayBuffer] : []);
  }
});
parentPort!.postMessage({ ready: true });

/**
 * Where chunk blobs are hashed and encoded (MAC, compress, encrypt). The backup hands chunks to
 * an encoder and keeps several in flight; the Node engine plugs in a worker-thread encoder so
 * this CPU work runs on the second core while the main thread reads and chunks.
 */
import { entropy, type ByteCounter } from '../base/entropy.js';
import type { BlobCodec } from './blob-codec.js';
import type { Mac } from '../hashing/mac.js';
import type { Configuration } from './config.js';

export interface PreparedBlob {
  /** the blob's address: MAC of its bytes */
  mac: Uint8Array;
  /** compressed and encrypted bytes, ready for a packfile */
  encoded: Uint8Array;
  /** Shannon entropy of the plaintext, bits per byte (Chunk.entropy) */
  entropy: number;
  /**
   * When present, `encoded` lies in memory the encoder reuses: whoever holds the blob calls this
   * once nothing reads `encoded` any more (RepositoryWriter: once its packfile is stored). Until
   * then that memory is not written again.
   */
  release?: () => void;
}

export interface BlobEncoder {
  /**
   * Computes a blob's MAC and entropy and encodes it. With `handOver`, the caller gives up
   * `data` (it must not use it afterwards) and a worker may take its buffer without a copy.
   */
  prepare(data: Uint8Array, handOver?: boolean): Promise<PreparedBlob>;
  /**
   * A buffer of `n` bytes for a chunk about to be `prepare`d: an encoder that moves chunks to
   * another thread recycles these (they come back with the answer) instead of allocating one
   * per chunk. Optional: without it callers allocate their own.
   */
  buffer?(n: number): Uint8Array;
  /**
   * Decodes a stored blob and checks it against its address (BlobCodec.decodeVerified), off the
   * calling thread when the encoder has workers. Optional: without it blobs decode inline.
   * Fails with the codec's codes (CORRUPT, INTEGRITY, AUTH).
   */
  decode?(stored: Uint8Array, maxSize: number, address: Uint8Array): Promise<Uint8Array>;
  /**
   * The caller is done with a blob `decode` returned (it keeps no reference to it, nor to any
   * view of it): its memory may be written again by a later `decode`. Optional, and a no-op
   * for anything else. A restore decodes its whole size: without this, each chunk is fresh
   * memory that only the garbage collector gives back (51 full collections in a 1 GiB
   * restore, for a heap of 8 MB: V8 collects to bound the memory its ArrayBuffers hold).
   */
  recycle?(decoded: Uint8Array): void;
  /**
   * Encodes (compress + encrypt) a blob whose MAC the caller already has — metadata blobs:
   * entries, objects, tree nodes. Optional: without it they encode inline. The caller keeps
   * `data` (it is copied when it crosses a thread boundary).
   */
  encode?(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Gets ready for work about to come (a backup or restore starting): a worker encoder starts
   * its threads now, so their start-up (~0.2 s of module loading) overlaps the caller's first
   * steps instead of delaying its first blob. Optional.
   */
  warm?(): void;
  /**
   * How many of its threads are started (diagnostics, and tests of when they start). Threads
   * start on `warm`, or on a first blob worth posting; small decodes and metadata encodes do not
   * start one. Optional: an inline encoder has none.
   */
  threadsStarted?(): number;
  close(): Promise<void>;
}

/** Builds the encoder for a store; called once per opened repository. */
export type EncoderFactory = (config: Configuration, key: Uint8Array | null, macKey: Uint8Array, inline: BlobEncoder) => BlobEncoder;

/** Prepares blobs on the calling thread (`counter`: Primitives.countBytes). */
export function inlineEncoder(codec: BlobCodec, mac: Mac, counter?: ByteCounter): BlobEncoder {
  return {
    prepare: async (data) => ({ mac: mac.sum(data), encoded: codec.encode(data), entropy: entropy(data, counter) }),
    decode: async (stored, maxSize, address) => codec.decodeVerified(stored, maxSize, mac, address),
    encode: async (data) => codec.encode(data),
    close: async () => undefined,
  };
}

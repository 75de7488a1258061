/**
 * Worker-thread half of the Node blob encoder: receives the store's Configuration, key and MAC
 * key once, then hashes, measures the entropy of and encodes (compress + encrypt) blobs sent as
 * transferred buffers, encodes metadata blobs hashed by the caller — and, for reads, decodes
 * and verifies stored chunks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { entropy } from '../base/entropy.js';
import { parseHashingAlgorithm } from '../hashing/mac.js';
import { BlobCodec } from '../repository/blob-codec.js';
import type { Configuration } from '../repository/config.js';
import { nodePrimitives } from './primitives.js';

const { config, key, macKey } = workerData as { config: Configuration; key: Uint8Array | null; macKey: Uint8Array };
const codec = new BlobCodec(nodePrimitives, config, key);
const mac = await nodePrimitives.macs(parseHashingAlgorithm(config.hashing.algorithm), macKey);

parentPort!.on('message', (m: { id: number; data: Uint8Array; decode?: { maxSize: number; address: Uint8Array }; encodeOnly?: boolean }) => {
  try {
    if (m.encodeOnly) {
      const out = codec.encode(m.data);
      const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
      parentPort!.postMessage({ id: m.id, data: owned }, [owned.buffer as ArrayBuffer]);
      return;
    }
    if (m.decode) {
      const plain = codec.decodeVerified(m.data, m.decode.maxSize, mac, m.decode.address);
      const owned = plain.byteOffset === 0 && plain.byteLength === plain.buffer.byteLength ? plain : plain.slice();
      parentPort!.postMessage({ id: m.id, data: owned }, [owned.buffer as ArrayBuffer]);
      return;
    }
    const address = mac.sum(m.data);
    const e = entropy(m.data);
    const out = codec.encode(m.data);
    const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
    parentPort!.postMessage({ id: m.id, mac: address, data: owned, entropy: e }, [owned.buffer as ArrayBuffer]);
  } catch (e) {
    // the code crosses the thread boundary so INTEGRITY/CORRUPT/AUTH stay what they are
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code });
  }
});
parentPort!.postMessage({ ready: true });

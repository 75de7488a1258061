/**
 * MACs (spec §5): blob addresses, wrapper trailers and packfile index checks. CONFIG's
 * `Hashing.Algorithm` picks keyed BLAKE3-256 ("BLAKE3", the default) or HMAC-SHA256
 * ("SHA256"); CONFIG's own trailer is always BLAKE3, unkeyed for plaintext stores.
 *
 * A `MacFactory` is created once per key (hash-wasm's BLAKE3 needs an async set-up) and then
 * hashes synchronously. This file is portable (WASM); `node/hmac.ts` is the native HMAC.
 */
import type { IHasher } from 'hash-wasm';
import { unsupported } from '../base/errors.js';

export const MAC_SIZE = 32;

/** Incremental MAC over a stream of bytes. */
export interface MacStream {
  update(data: Uint8Array): MacStream;
  digest(): Uint8Array;
}

export interface Mac {
  readonly algorithm: HashingAlgorithm;
  /** One-shot MAC of `data`. */
  sum(data: Uint8Array): Uint8Array;
  /** A fresh incremental MAC (for whole-file content MACs); streams may interleave. */
  stream(): Promise<MacStream>;
}

export type HashingAlgorithm = 'BLAKE3' | 'SHA256';

export function parseHashingAlgorithm(name: string): HashingAlgorithm {
  const up = name.toUpperCase();
  if (up === 'BLAKE3' || up === 'SHA256') return up;
  throw unsupported(`unsupported hashing algorithm ${JSON.stringify(name)}`);
}

/** Builds MACs for an algorithm; `key === null` means the unkeyed hash. */
export type MacFactory = (algorithm: HashingAlgorithm, key: Uint8Array | null) => Promise<Mac>;

/** A MacStream over a hasher's update/digest that refuses any use after its digest. */
export function singleUseStream(update: (data: Uint8Array) => void, digest: () => Uint8Array): MacStream {
  let done = false;
  const s: MacStream = {
    update(data) {
      if (done) throw new Error('MAC stream already digested');
      update(data);
      return s;
    },
    digest() {
      if (done) throw new Error('MAC stream already digested');
      done = true;
      return digest();
    },
  };
  return s;
}

function fromHasher(algorithm: HashingAlgorithm, make: () => Promise<IHasher>, oneShot: IHasher): Mac {
  // Each hash-wasm hasher is a WebAssembly instance with its own memory: streams reuse
  // finished ones instead of instantiating one per file (which dominated small-file backups).
  const idle: IHasher[] = [];
  return {
    algorithm,
    sum(data) {
      oneShot.init();
      oneShot.update(data);
      return oneShot.digest('binary');
    },
    async stream(): Promise<MacStream> {
      const h = idle.pop() ?? (await make());
      h.init();
      return singleUseStream((data) => h.update(data), () => {
        const d = h.digest('binary');
        if (idle.length < 16) idle.push(h);
        return d;
      });
    },
  };
}

export const wasmMacFactory: MacFactory = async (algorithm, key) => {
  // loaded on first use: in Node the native MACs of node/mac.ts serve every store
  const { createBLAKE3, createHMAC, createSHA256 } = await import('hash-wasm');
  if (algorithm === 'BLAKE3') {
    if (key && key.length !== 32) throw unsupported('keyed BLAKE3 needs a 32-byte key');
    const make = () => createBLAKE3(256, key ?? undefined);
    return fromHasher(algorithm, make, await make());
  }
  const make = () => (key ? createHMAC(createSHA256(), key) : createSHA256());
  return fromHasher(algorithm, make, await make());
};

/**
 * Node MACs, native where it pays:
 * - BLAKE3 from @napi-rs/blake-hash (the Rust blake3 crate with its SIMD kernels, prebuilt N-API
 *   binaries on npm): ~5–6 GB/s on 1 MiB against ~800 MB/s for hash-wasm here. Each call
 *   crosses N-API, so inputs under NATIVE_MIN bytes stay on hash-wasm (faster below ~4 KiB).
 *   Without the native module (an unsupported platform) everything stays on hash-wasm.
 * - HMAC-SHA256 and SHA-256 from OpenSSL (SHA-NI, ~3x hash-wasm here).
 */
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { singleUseStream, wasmMacFactory, type Mac, type MacFactory, type MacStream } from '../mac.js';

type Blake3Hasher = import('@napi-rs/blake-hash').Blake3Hasher;
type Native = typeof import('@napi-rs/blake-hash');

/** Below this many bytes an N-API call costs more than hash-wasm's whole hash. */
const NATIVE_MIN = 4096;

let native: Native | null | undefined;
function loadNative(): Native | null {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('@napi-rs/blake-hash') as Native;
    } catch {
      native = null;
    }
  }
  return native;
}

/** Whether BLAKE3 runs natively here (false: hash-wasm throughout). */
export function nativeBlake3Available(): boolean {
  return loadNative() !== null;
}

export const nodeMacFactory: MacFactory = async (algorithm, key) => {
  if (algorithm === 'BLAKE3') {
    const wasm = await wasmMacFactory(algorithm, key);
    const n = loadNative();
    return n ? nativeBlake3(n, wasm, key) : wasm;
  }
  const make = () => (key ? createHmac('sha256', key) : createHash('sha256'));
  const mac: Mac = {
    algorithm,
    sum: (data) => make().update(data).digest(),
    async stream(): Promise<MacStream> {
      const h = make();
      const s: MacStream = {
        update(data) { h.update(data); return s; },
        digest: () => h.digest(),
      };
      return s;
    },
  };
  return mac;
};

function nativeBlake3(n: Native, wasm: Mac, key: Uint8Array | null): Mac {
  const make = (): Blake3Hasher => (key ? n.Blake3Hasher.newKeyed(Buffer.from(key)) : new n.Blake3Hasher());
  const oneShot = make(); // reset() keeps the key: no key schedule per call
  return {
    algorithm: 'BLAKE3',
    sum(data) {
      if (data.length < NATIVE_MIN) return wasm.sum(data);
      oneShot.reset();
      oneShot.update(data);
      return new Uint8Array(oneShot.digestBuffer());
    },
    async stream(): Promise<MacStream> {
      const h = make();
      return singleUseStream((data) => { h.update(data); }, () => new Uint8Array(h.digestBuffer()));
    },
  };
}

/**
 * Node MACs: HMAC-SHA256 and SHA-256 from OpenSSL (SHA-NI, ~3x hash-wasm here); BLAKE3 stays
 * on hash-wasm, the fastest BLAKE3 available to Node without a native build.
 */
import { createHash, createHmac } from 'node:crypto';
import { wasmMacFactory, type Mac, type MacFactory, type MacStream } from '../mac.js';

export const nodeMacFactory: MacFactory = async (algorithm, key) => {
  if (algorithm === 'BLAKE3') return wasmMacFactory(algorithm, key);
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

/**
 * Random source, injectable so tests can be deterministic. The default uses the Web Crypto
 * CSPRNG (`crypto.getRandomValues`, present in Node, Electron and browsers).
 */
export type RandomSource = (length: number) => Uint8Array;

// Encryption asks for a 32-byte subkey and a 12-byte nonce per 64 KiB record: serving small
// requests from a pooled 16 KiB draw avoids one getRandomValues call each.
const POOL_SIZE = 16384;
let pool = new Uint8Array(0);
let poolPos = 0;

export const secureRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  if (length <= 256) {
    if (poolPos + length > pool.length) {
      pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE));
      poolPos = 0;
    }
    out.set(pool.subarray(poolPos, poolPos + length));
    pool.fill(0, poolPos, poolPos + length); // served bytes are not kept around
    poolPos += length;
    return out;
  }
  // getRandomValues fills at most 65536 bytes per call
  for (let o = 0; o < length; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(length, o + 65536)));
  return out;
};

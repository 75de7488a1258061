/**
 * Random source, injectable so tests can be deterministic. The default uses the Web Crypto
 * CSPRNG (`crypto.getRandomValues`, present in Node, Electron and browsers).
 */
export type RandomSource = (length: number) => Uint8Array;

export const secureRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call
  for (let o = 0; o < length; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(length, o + 65536)));
  return out;
};

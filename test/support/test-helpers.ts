/** Small helpers several test files share. */
import { isKlosetError } from '../../src/kloset/base/errors.js';

/** Deterministic PRNG (mulberry32): seeded test inputs reproduce. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The KlosetError code `f` throws, 'no error', or a description of a foreign error. */
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isKlosetError(e) ? e.code : `not a KlosetError: ${String(e)}`;
  }
  return 'no error';
}

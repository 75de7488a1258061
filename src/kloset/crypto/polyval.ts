/**
 * POLYVAL (RFC 8452 §3), the universal hash of AES-GCM-SIV.
 *
 * Why tables: GCM-SIV derives a fresh authentication key H for every nonce, i.e. for every
 * 64 KiB record Kloset writes, and JavaScript has no carry-less multiply. Multiplying by a fixed
 * H is linear over GF(2), so `dot(X, H) = XOR_i T_i[byte_i(X)]` with 16 tables of 256 entries
 * (64 KiB) built once per key; each 16-byte block then costs 16 lookups of two 64-bit words.
 * That kernel is WebAssembly (`gcm-siv-kernel.ts`; i64 loads halve the work of
 * JS's 32-bit words). Building the tables costs about as much as hashing a few hundred
 * blocks, so short inputs use the bit-serial multiply below instead.
 *
 * Field elements are four little-endian 32-bit words (w0 holds the coefficients of x^0..x^31),
 * which is POLYVAL's own byte order, so input bytes map to words without swapping.
 */

import { GcmSivKernel, KERNEL_DATA_OFFSET } from './gcm-siv-kernel.js';

/** Inputs up to this size are hashed bit-serially (building tables would dominate). */
export const SERIAL_MAX_BYTES = 384;

/**
 * POLYVAL(H, X ‖ lengths) as GCM-SIV uses it. Stateless apart from the shared WASM kernel,
 * which is single-threaded like the JS that calls it.
 */
export class Polyval {
  private kernel: GcmSivKernel | undefined;
  private readonly scratch = new Int32Array(4);
  private readonly h = new Int32Array(4);

  /**
   * POLYVAL(H, X) over `data` zero-padded to 16 bytes, followed by the GCM-SIV length block
   * (aadBits = 0, dataBits = 8 * data.length). Writes the 16-byte result to `out`.
   */
  hashWithLengthBlock(hKey: Uint8Array, data: Uint8Array, out: Uint8Array): void {
    if (data.length <= SERIAL_MAX_BYTES) return polyvalSerial(hKey, data, out, this.h, this.scratch);
    const k = (this.kernel ??= new GcmSivKernel());
    const padded = (data.length + 15) & ~15;
    const mem = k.reserve(padded + 16);
    mem.set(data, KERNEL_DATA_OFFSET);
    mem.fill(0, KERNEL_DATA_OFFSET + data.length, KERNEL_DATA_OFFSET + padded);
    out.set(k.polyval(hKey, KERNEL_DATA_OFFSET, padded, data.length));
  }
}

/**
 * The bit-serial POLYVAL (constant work per block), used for short inputs and as the
 * reference the table kernel is tested against.
 */
export function polyvalSerial(
  hKey: Uint8Array, data: Uint8Array, out: Uint8Array,
  h: Int32Array = new Int32Array(4), s: Int32Array = new Int32Array(4),
): void {
  for (let i = 0; i < 4; i++) h[i] = readU32le(hKey, i * 4);
  divideByX128(h);
  s[0] = s[1] = s[2] = s[3] = 0;
  const fullBlocks = data.length >>> 4;
  for (let b = 0; b < fullBlocks; b++) {
    const o = b * 16;
    s[0]! ^= readU32le(data, o); s[1]! ^= readU32le(data, o + 4);
    s[2]! ^= readU32le(data, o + 8); s[3]! ^= readU32le(data, o + 12);
    dotSerial(s, h);
  }
  const rest = data.length & 15;
  if (rest) {
    const last = new Uint8Array(16);
    last.set(data.subarray(fullBlocks * 16));
    for (let i = 0; i < 4; i++) s[i]! ^= readU32le(last, i * 4);
    dotSerial(s, h);
  }
  const bits = data.length * 8;
  s[2]! ^= bits | 0;
  s[3]! ^= Math.floor(bits / 4294967296) | 0;
  dotSerial(s, h);
  for (let i = 0; i < 4; i++) writeU32le(out, i * 4, s[i]!);
}

/** h := h·x^-128 mod P (128 divisions by x), done once per key for `dotSerial`. */
function divideByX128(h: Int32Array): void {
  let v0 = h[0]!, v1 = h[1]!, v2 = h[2]!, v3 = h[3]!;
  for (let i = 0; i < 128; i++) {
    const lsb = -(v0 & 1);
    v0 = (v0 >>> 1) | (v1 << 31); v1 = (v1 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v3 << 31); v3 = (v3 >>> 1) ^ (lsb & 0xe1000000);
  }
  h[0] = v0; h[1] = v1; h[2] = v2; h[3] = v3;
}

/** s = s·hInv where hInv = h·x^-128 (see divideByX128): one bit of s at a time. */
function dotSerial(s: Int32Array, hInv: Int32Array): void {
  // Accumulate Σ s_k · (h·x^(k-128)), walking k upward from v = h·x^-128 and multiplying by x.
  let v0 = hInv[0]!, v1 = hInv[1]!, v2 = hInv[2]!, v3 = hInv[3]!;
  let r0 = 0, r1 = 0, r2 = 0, r3 = 0;
  for (let w = 0; w < 4; w++) {
    const word = s[w]!;
    for (let b = 0; b < 32; b++) {
      const m = -((word >>> b) & 1);
      r0 ^= v0 & m; r1 ^= v1 & m; r2 ^= v2 & m; r3 ^= v3 & m;
      const carry = -(v3 >>> 31);
      v3 = (v3 << 1) | (v2 >>> 31); v2 = (v2 << 1) | (v1 >>> 31);
      v1 = (v1 << 1) | (v0 >>> 31); v0 = (v0 << 1) ^ (carry & 1);
      v3 ^= carry & 0xc2000000;
    }
  }
  s[0] = r0; s[1] = r1; s[2] = r2; s[3] = r3;
}

function readU32le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

function writeU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v; b[o + 1] = v >>> 8; b[o + 2] = v >>> 16; b[o + 3] = v >>> 24;
}

/**
 * AES-256-GCM-SIV (RFC 8452) with the AES work done by OpenSSL through node:crypto (AES-NI):
 * per-nonce key derivation, the tag and the CTR keystream are AES-256-ECB calls over prepared
 * blocks (GCM-SIV's counter is a little-endian 32-bit word in the first four bytes, which
 * OpenSSL's big-endian CTR mode cannot express). POLYVAL, counter expansion and the keystream
 * XOR run in the WebAssembly kernel (`../gcm-siv-kernel.ts`); short records use the serial
 * POLYVAL of `../polyval.ts`, where building the kernel's tables would cost more than it saves.
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';
import { authError } from '../../base/errors.js';
import { GCM_SIV_NONCE_SIZE, GCM_SIV_TAG_SIZE, type Aead, type AeadFactory } from '../aead.js';
import { GcmSivKernel, KERNEL_DATA_OFFSET } from '../gcm-siv-kernel.js';
import { Polyval, SERIAL_MAX_BYTES } from '../polyval.js';

// One kernel per thread (module instance); every call below is synchronous.
let kernel: GcmSivKernel | undefined;
const serial = new Polyval();

function ecb(key: Uint8Array): Cipheriv {
  return createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
}

class NodeGcmSiv implements Aead {
  private readonly keyGen: Cipheriv;
  private readonly deriveIn = new Uint8Array(96);
  private readonly authKey = new Uint8Array(16);
  private readonly encKey = new Uint8Array(32);
  private readonly s = new Uint8Array(16);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('AES-256-GCM-SIV needs a 32-byte key');
    this.keyGen = ecb(key);
  }

  /** RFC 8452 §4: six AES blocks of (u32le(i) ‖ nonce); the first 8 bytes of each are kept. */
  private derive(nonce: Uint8Array): Cipheriv {
    if (nonce.length !== GCM_SIV_NONCE_SIZE) throw new RangeError('AES-GCM-SIV nonce must be 12 bytes');
    const d = this.deriveIn;
    for (let i = 0; i < 6; i++) {
      d[i * 16] = i;
      d.set(nonce, i * 16 + 4);
    }
    const b = this.keyGen.update(d);
    this.authKey.set(b.subarray(0, 8), 0);
    this.authKey.set(b.subarray(16, 24), 8);
    for (let i = 0; i < 4; i++) this.encKey.set(b.subarray(32 + i * 16, 40 + i * 16), i * 8);
    return ecb(this.encKey);
  }

  /** tag = AES(encKey, S ⊕ nonce with the top bit cleared), S = POLYVAL result. */
  private tag(enc: Cipheriv, nonce: Uint8Array, s: Uint8Array): Buffer {
    const t = this.s;
    for (let i = 0; i < 16; i++) t[i] = s[i]! ^ (i < 12 ? nonce[i]! : 0);
    t[15]! &= 0x7f;
    return enc.update(t);
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const enc = this.derive(nonce);
    const len = plaintext.length;
    const out = Buffer.allocUnsafe(len + GCM_SIV_TAG_SIZE);
    if (len <= SERIAL_MAX_BYTES) {
      serial.hashWithLengthBlock(this.authKey, plaintext, this.s);
      const tag = this.tag(enc, nonce, this.s);
      const ks = enc.update(smallCounters(tag, len));
      for (let i = 0; i < len; i++) out[i] = plaintext[i]! ^ ks[i]!;
      out.set(tag, len);
      return out;
    }
    const k = (kernel ??= new GcmSivKernel());
    const padded = (len + 15) & ~15;
    const ctrAt = KERNEL_DATA_OFFSET + padded + 16;
    const ksAt = ctrAt + padded;
    const mem = k.reserve(padded * 3 + 16);
    mem.set(plaintext, KERNEL_DATA_OFFSET);
    mem.fill(0, KERNEL_DATA_OFFSET + len, KERNEL_DATA_OFFSET + padded);
    const tag = this.tag(enc, nonce, k.polyval(this.authKey, KERNEL_DATA_OFFSET, padded, len));
    k.counters(tag, ctrAt, padded / 16);
    mem.set(enc.update(mem.subarray(ctrAt, ctrAt + padded)), ksAt);
    k.fn.xor(KERNEL_DATA_OFFSET, ksAt, padded / 16);
    out.set(mem.subarray(KERNEL_DATA_OFFSET, KERNEL_DATA_OFFSET + len));
    out.set(tag, len);
    return out;
  }

  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
    if (sealed.length < GCM_SIV_TAG_SIZE) throw authError('AES-GCM-SIV record shorter than its tag');
    const len = sealed.length - GCM_SIV_TAG_SIZE;
    const enc = this.derive(nonce);
    const tag = sealed.subarray(len);
    const out = Buffer.allocUnsafe(len);
    let expected: Buffer;
    if (len <= SERIAL_MAX_BYTES) {
      const ks = enc.update(smallCounters(tag, len));
      for (let i = 0; i < len; i++) out[i] = sealed[i]! ^ ks[i]!;
      serial.hashWithLengthBlock(this.authKey, out, this.s);
      expected = this.tag(enc, nonce, this.s);
    } else {
      const k = (kernel ??= new GcmSivKernel());
      const padded = (len + 15) & ~15;
      const ctrAt = KERNEL_DATA_OFFSET + padded + 16;
      const ksAt = ctrAt + padded;
      const mem = k.reserve(padded * 3 + 16);
      mem.set(sealed.subarray(0, len), KERNEL_DATA_OFFSET);
      k.counters(tag, ctrAt, padded / 16);
      mem.set(enc.update(mem.subarray(ctrAt, ctrAt + padded)), ksAt);
      k.fn.xor(KERNEL_DATA_OFFSET, ksAt, padded / 16);
      // the XOR ran over whole blocks: clear the tail before hashing the plaintext
      mem.fill(0, KERNEL_DATA_OFFSET + len, KERNEL_DATA_OFFSET + padded);
      expected = this.tag(enc, nonce, k.polyval(this.authKey, KERNEL_DATA_OFFSET, padded, len));
      out.set(mem.subarray(KERNEL_DATA_OFFSET, KERNEL_DATA_OFFSET + len));
    }
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= expected[i]! ^ tag[i]!;
    if (diff !== 0) {
      out.fill(0);
      throw authError('AES-GCM-SIV authentication failed');
    }
    return out;
  }
}

/** Counter blocks for a short record, built in JS. */
function smallCounters(tag: Uint8Array, len: number): Uint8Array {
  const blocks = (len + 15) >>> 4;
  const c = new Uint8Array(blocks * 16);
  const c0 = (tag[0]! | (tag[1]! << 8) | (tag[2]! << 16) | (tag[3]! << 24)) >>> 0;
  for (let j = 0; j < blocks; j++) {
    const o = j * 16;
    c.set(tag.subarray(0, 16), o);
    c[o + 15]! |= 0x80;
    const v = (c0 + j) >>> 0;
    c[o] = v; c[o + 1] = v >>> 8; c[o + 2] = v >>> 16; c[o + 3] = v >>> 24;
  }
  return c;
}

export const nodeGcmSiv: AeadFactory = (key) => new NodeGcmSiv(key);

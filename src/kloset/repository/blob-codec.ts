/**
 * The encode pipeline every stored blob, state, lock and packfile index goes through
 * (spec §3.3): encode(x) = encrypt(compress(x)), each step present only when CONFIG names it.
 * Decoding bounds the output (`maxSize`) so a hostile object cannot force a huge allocation.
 */
import { constantTimeEqual } from '../base/bytes.js';
import { corrupt, integrity } from '../base/errors.js';
import { codecFor, type Codec } from '../compression/codec.js';
import { decrypt, encrypt } from '../crypto/stream.js';
import type { Mac } from '../hashing/mac.js';
import type { Configuration } from './config.js';
import type { Primitives } from './primitives.js';

export class BlobCodec {
  private readonly codec: Codec | null;
  private readonly recordSize: number;

  constructor(private readonly prims: Primitives, config: Configuration, private readonly key: Uint8Array | null) {
    this.codec = config.compression ? codecFor(prims.codecs, config.compression.algorithm) : null;
    this.recordSize = config.encryption?.chunkSize ?? 65536;
    if (config.encryption && !key) throw new TypeError('encrypted store opened without its key');
  }

  /**
   * `alloc`, when given, provides the memory of the result (called once, with its exact size,
   * once compression has told it): see crypto/stream.ts `encrypt`.
   */
  encode(data: Uint8Array, alloc?: (n: number) => Uint8Array): Uint8Array {
    // encrypting reads the compressed frame once, into the blob: it can live in scratch memory
    const transient = (this.key || alloc) && this.codec?.compressTransient;
    const packed = !this.codec ? data : transient ? this.codec.compressTransient!(data) : this.codec.compress(data);
    if (this.key) return encrypt(this.prims.cipher, this.key, packed, this.recordSize, alloc);
    if (!alloc) return packed;
    const out = alloc(packed.length);
    out.set(packed);
    return out;
  }

  /**
   * Decodes a blob and checks it against its address (the MAC of its cleartext, spec §5). This
   * is the read path to use: the encryption format has no end marker, so only the MAC can tell
   * a blob cut at a 64 KiB record boundary from a shorter one.
   */
  decodeVerified(data: Uint8Array, maxSize: number, mac: Mac, address: Uint8Array, alloc?: (n: number) => Uint8Array): Uint8Array {
    const plain = this.unpack(data, maxSize, true, alloc);
    if (!constantTimeEqual(mac.sum(plain), address)) throw integrity('blob content does not match its MAC');
    return plain;
  }

  /** Inverse of `encode`; CORRUPT, INTEGRITY or AUTH on damaged input. Prefer `decodeVerified`. */
  decode(data: Uint8Array, maxSize: number): Uint8Array {
    return this.unpack(data, maxSize, false);
  }

  /**
   * `contentVerified`: the caller checks the MAC next (the frame's own checksum may be skipped).
   * `alloc`: memory for the decompressed output (Codec.decompress).
   */
  private unpack(data: Uint8Array, maxSize: number, contentVerified: boolean, alloc?: (n: number) => Uint8Array): Uint8Array {
    // with a codec, the decrypted frame is read once, by the decompressor: scratch memory will do
    const packed = this.key ? decrypt(this.prims.cipher, this.key, data, this.recordSize, this.codec !== null) : data;
    if (!this.codec) {
      if (packed.length > maxSize) throw corrupt(`blob of ${packed.length} bytes exceeds the ${maxSize}-byte limit`);
      return packed;
    }
    return this.codec.decompress(packed, maxSize, contentVerified, alloc);
  }
}

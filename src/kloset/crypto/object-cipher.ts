/**
 * Whole-object seam of Kloset's object encryption (`stream.ts`): a backend that wraps the
 * subkey and seals every record in one call, where crossing into native code once per object
 * instead of per record is what makes small objects cheap. `stream.ts` checks the layout and
 * draws the randomness; the backend only does the cryptography.
 */
export interface ObjectCipher {
  /**
   * Returns wrap(masterKey, random[0..32]) ‖ records, record i sealed under that subkey with
   * the nonce random[32 + 12i .. 44 + 12i]; `random` holds 32 + 12·records bytes. `out`, when
   * given, is where it goes (exactly encryptedSize bytes), and is what is returned.
   */
  seal(masterKey: Uint8Array, plaintext: Uint8Array, random: Uint8Array, chunkSize: number, out?: Uint8Array): Uint8Array;
  /**
   * Inverse of `seal` into `plainLength` bytes (the caller validated the layout); throws
   * KlosetError AUTH when the subkey does not unwrap or a record's tag does not verify.
   * `transient`: the result may be a per-thread scratch view, valid until the next transient
   * call (the caller decompresses it at once).
   */
  open(masterKey: Uint8Array, data: Uint8Array, chunkSize: number, plainLength: number, transient?: boolean): Uint8Array;
}

/** GZIP (older plakar stores may use it) through node:zlib, whose maxOutputLength bounds output. */
import { gunzipSync, gzipSync } from 'node:zlib';
import { corrupt } from '../../base/errors.js';
import type { Codec } from '../codec.js';

export const gzipCodec: Codec = {
  algorithm: 'GZIP',
  compress: (data) => gzipSync(data),
  decompress(data, maxSize) {
    try {
      return gunzipSync(data, { maxOutputLength: Math.max(1, maxSize) });
    } catch (e) {
      throw corrupt(`GZIP stream could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
};

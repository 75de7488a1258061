/** The codecs the Node engine can read and write, by CONFIG algorithm name. */
import type { CodecRegistry } from '../codec.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { zstdCodec } from './zstd.js';

export const nodeCodecs: CodecRegistry = new Map([
  ['LZ4', lz4Codec],
  ['ZSTD', zstdCodec],
  ['GZIP', gzipCodec],
]);

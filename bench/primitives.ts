/**
 * Throughput of each Kloset primitive beside the best alternative on npm, same data, same run.
 *
 *   npm run bench:primitives            (RUNS=5 SIZE_MB=64 by default)
 *
 * Prints one line per primitive: `name: <median> MB/s | <alternative>: <median> MB/s`, where
 * MB = 10^6 bytes of input (plaintext / uncompressed), median of RUNS timed runs after one
 * warm-up, single thread. Results go to docs/benchmarks.md.
 */
import { gcmsiv } from '@noble/ciphers/aes.js';
import { compute_chunks } from '@dstanesc/wasm-chunking-fastcdc-node';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { decompress as fzstdDecompress } from 'fzstd';
import { createHMAC, createSHA256 } from 'hash-wasm';
import { FastCdc, FASTCDC_V1_DEFAULTS } from '../src/kloset/chunking/fastcdc.js';
import { lz4Codec, wasmLz4Codec } from '../src/kloset/compression/node/lz4.js';
import { zstdCodec } from '../src/kloset/compression/node/zstd.js';
import { nodeGcmSiv } from '../src/kloset/crypto/node/aes-gcm-siv.js';
import { nodeCipherSuite } from '../src/kloset/crypto/node/suite.js';
import { decrypt, encrypt } from '../src/kloset/crypto/stream.js';
import { nativeCodecProblem } from '../src/kloset/base/node/native-codec.js';
import { nativeByteCounter } from '../src/kloset/base/node/native-byte-counter.js';
import { entropy } from '../src/kloset/base/entropy.js';
import { textBlock } from './dataset.js';
import { argon2id } from '../src/kloset/crypto/kdf.js';
import { DEFAULT_ARGON2ID, type KdfParams } from '../src/kloset/crypto/kdf-params.js';
import { deriveKeyWithBackend } from '../src/kloset/crypto/node/kdf-worker.js';
import { wasmMacFactory } from '../src/kloset/hashing/mac.js';
import { nodeMacFactory } from '../src/kloset/hashing/node/mac.js';

const require = createRequire(import.meta.url);
const lz4js = require('lz4js') as { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array };

const RUNS = Number(process.env.RUNS ?? 5);
const SIZE = Number(process.env.SIZE_MB ?? 64) * 1024 * 1024;
const RECORD = 64 * 1024;
const CHUNK = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median MB/s of `fn` over `bytes` bytes of input; `scale` shrinks slow alternatives' input. */
function measure(bytes: number, fn: () => void): number {
  fn(); // warm-up (JIT, WASM compile, allocations)
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    fn();
    rates.push(bytes / 1e6 / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

function line(name: string, ours: number, altName: string, alt: number | null): void {
  const a = alt === null ? `${altName}` : `${altName}: ${alt.toFixed(0)} MB/s`;
  console.log(`${name}: ${ours.toFixed(0)} MB/s | ${a}`);
}

const random = new Uint8Array(randomBytes(SIZE));
// "Mixed" data for compression: 1 MiB blocks cycling random / English-like text / JSON-like records.
const text = new TextEncoder().encode('Kloset stores deduplicated, encrypted snapshots; plakar reads them too. '.repeat(20_000));
const json = new TextEncoder().encode(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `file-${i}.txt`, size: i * 37, mode: 0o644 }))));
const mixed = new Uint8Array(SIZE);
for (let o = 0, k = 0; o < SIZE; o += CHUNK, k++) {
  const src = [random.subarray(o, o + CHUNK), text, json][k % 3]!;
  for (let p = 0; p < CHUNK; p += src.length) mixed.set(src.subarray(0, Math.min(src.length, CHUNK - p)), o + p);
}
const slice = (data: Uint8Array, size: number) => Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

console.log(`# ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, Node ${process.version}, ${SIZE / 2 ** 20} MiB per run, median of ${RUNS}`);

// AES-256-GCM-SIV on 64 KiB records (Kloset's record size)
{
  const key = randomBytes(32), nonce = randomBytes(12);
  const records = slice(random, RECORD);
  const aead = nodeGcmSiv(key);
  let sealed: Uint8Array[] = [];
  const enc = measure(SIZE, () => { sealed = records.map((r) => aead.seal(nonce, r)); });
  const dec = measure(SIZE, () => { for (const s of sealed) aead.open(nonce, s); });
  // the pure-JS reference is ~20x slower: time it on 1/16 of the data
  const small = records.slice(0, records.length >> 4);
  const nb = small.length * RECORD;
  let nobleSealed: Uint8Array[] = [];
  const nEnc = measure(nb, () => { nobleSealed = small.map((r) => gcmsiv(key, nonce).encrypt(r)); });
  const nDec = measure(nb, () => { for (const s of nobleSealed) gcmsiv(key, nonce).decrypt(s); });
  line('aes-gcm-siv-encrypt', enc, '@noble/ciphers gcmsiv', nEnc);
  line('aes-gcm-siv-decrypt', dec, '@noble/ciphers gcmsiv', nDec);
}

// Whole-object encryption (subkey wrap + every record), 1 MiB and 4 KB objects: the native
// codec (libgcrypt) against the per-record OpenSSL-ECB + WASM POLYVAL path it replaced.
{
  const problem = nativeCodecProblem();
  if (problem) console.log(`# native codec not loaded (${problem}): object lines skipped`);
  else {
    const key = randomBytes(32);
    const perRecord = { ...nodeCipherSuite, objects: undefined };
    for (const [name, size] of [['1MiB', CHUNK], ['4KB', 4000]] as const) {
      const objects = slice(random.subarray(0, size === CHUNK ? SIZE : 4000 * 4096), size);
      const bytes = objects.length * size;
      let sealed: Uint8Array[] = [];
      const nEnc = measure(bytes, () => { sealed = objects.map((o) => encrypt(nodeCipherSuite, key, o)); });
      const nDec = measure(bytes, () => { for (const s of sealed) decrypt(nodeCipherSuite, key, s); });
      const pEnc = measure(bytes, () => { sealed = objects.map((o) => encrypt(perRecord, key, o)); });
      const pDec = measure(bytes, () => { for (const s of sealed) decrypt(perRecord, key, s); });
      line(`object-encrypt-${name} (native libgcrypt)`, nEnc, 'per-record OpenSSL+WASM', pEnc);
      line(`object-decrypt-${name} (native libgcrypt)`, nDec, 'per-record OpenSSL+WASM', pDec);
    }
  }
}

// Chunk entropy: byte counting over whole small files (32 KiB) and sampled 1 MiB chunks
{
  const counter = nativeByteCounter();
  if (!counter) console.log('# native codec not loaded: entropy lines compare nothing');
  else {
    const small = slice(mixed, 32 << 10);
    const big = slice(mixed, CHUNK);
    const nSmall = measure(SIZE, () => { for (const p of small) entropy(p, counter); });
    const pSmall = measure(SIZE, () => { for (const p of small) entropy(p); });
    line('entropy-32KiB (native counts)', nSmall, 'portable JS counts', pSmall);
    // a 1 MiB chunk counts 4 KiB of every 64 KiB: rates are per chunk byte
    const nBig = measure(SIZE, () => { for (const p of big) entropy(p, counter); });
    const pBig = measure(SIZE, () => { for (const p of big) entropy(p); });
    line('entropy-1MiB-sampled (native counts)', nBig, 'portable JS counts', pBig);
  }
}

// MACs over 1 MiB pieces
{
  const pieces = slice(random, CHUNK);
  const key = randomBytes(32);
  const b3 = await wasmMacFactory('BLAKE3', key);
  const ours = measure(SIZE, () => { for (const p of pieces) b3.sum(p); });
  const few = pieces.slice(0, Math.max(1, pieces.length >> 4));
  const alt = measure(few.length * CHUNK, () => { for (const p of few) nobleBlake3(p, { key }); });
  line('blake3-keyed', ours, '@noble/hashes blake3', alt);

  const hmac = await nodeMacFactory('SHA256', key);
  const h1 = measure(SIZE, () => { for (const p of pieces) hmac.sum(p); });
  const hw = await createHMAC(createSHA256(), key);
  const h2 = measure(SIZE, () => { for (const p of pieces) { hw.init(); hw.update(p); hw.digest('binary'); } });
  line('hmac-sha256', h1, 'hash-wasm HMAC-SHA256', h2);
}

// Compression over 1 MiB pieces of mixed data
{
  const pieces = slice(mixed, CHUNK);
  let frames: Uint8Array[] = [];
  const c = measure(SIZE, () => { frames = pieces.map((p) => lz4Codec.compress(p)); });
  const d = measure(SIZE, () => { for (const f of frames) lz4Codec.decompress(f, CHUNK); });
  const few = pieces.slice(0, Math.max(3, pieces.length >> 3));
  let jsFrames: Uint8Array[] = [];
  const jc = measure(few.length * CHUNK, () => { jsFrames = few.map((p) => lz4js.compress(p)); });
  const jd = measure(few.length * CHUNK, () => { for (const f of jsFrames) lz4js.decompress(f); });
  const ratio = SIZE / frames.reduce((n, f) => n + f.length, 0);
  line('lz4-compress', c, 'lz4js', jc);
  line('lz4-decompress', d, 'lz4js', jd);
  if (lz4Codec !== wasmLz4Codec) {
    // the native codec against the WASM path it replaced, on the mixed data and on the local
    // benchmark's text (random words: less repetitive than the mixed data's sentences)
    const words = slice(textBlock(7919, SIZE), CHUNK);
    for (const [data, label] of [[pieces, 'mixed'], [words, 'dataset text']] as const) {
      let nf: Uint8Array[] = [], wf: Uint8Array[] = [];
      const nc = measure(SIZE, () => { nf = data.map((p) => lz4Codec.compress(p)); });
      const nd = measure(SIZE, () => { for (const f of nf) lz4Codec.decompress(f, CHUNK); });
      const wc = measure(SIZE, () => { wf = data.map((p) => wasmLz4Codec.compress(p)); });
      const wd = measure(SIZE, () => { for (const f of wf) wasmLz4Codec.decompress(f, CHUNK); });
      const r = (fs: Uint8Array[]) => (SIZE / fs.reduce((n, f) => n + f.length, 0)).toFixed(2);
      line(`lz4-compress ${label} (native liblz4, ratio ${r(nf)})`, nc, `lz4_flex WASM + our frame layer (ratio ${r(wf)})`, wc);
      line(`lz4-decompress ${label} (native liblz4)`, nd, 'lz4_flex WASM + our frame layer', wd);
    }
  }

  let zframes: Uint8Array[] = [];
  const zc = measure(SIZE, () => { zframes = pieces.map((p) => zstdCodec.compress(p)); });
  const zd = measure(SIZE, () => { for (const f of zframes) zstdCodec.decompress(f, CHUNK); });
  const fz = measure(SIZE, () => { for (const f of zframes) fzstdDecompress(f); });
  const zratio = SIZE / zframes.reduce((n, f) => n + f.length, 0);
  line('zstd-compress', zc, 'no other zstd compressor installs here without a GitHub download', null);
  line('zstd-decompress', zd, 'fzstd', fz);
  console.log(`# compression ratio on the mixed data: lz4 ${ratio.toFixed(2)}, zstd-3 ${zratio.toFixed(2)}`);
}

// FastCDC, Kloset default profile (512 KiB / 1 MiB / 8 MiB), random data
{
  const cdc = new FastCdc('fastcdc-v1.0.0', FASTCDC_V1_DEFAULTS);
  const ours = measure(SIZE, () => { cdc.lengths(random); });
  const { minSize, normalSize, maxSize } = FASTCDC_V1_DEFAULTS;
  const alt = measure(SIZE, () => { compute_chunks(random, minSize, normalSize, maxSize); });
  line('fastcdc', ours, '@dstanesc/wasm-chunking-fastcdc-node (Rust fastcdc 2016, not plakar-compatible)', alt);
  const small = new FastCdc('fastcdc-v1.0.0', { minSize: 2048, normalSize: 8192, maxSize: 65536 });
  const s = measure(SIZE, () => { small.lengths(random); });
  const salt = measure(SIZE, () => { compute_chunks(random, 2048, 8192, 65536); });
  line('fastcdc-2k-8k-64k', s, '@dstanesc/wasm-chunking-fastcdc-node', salt);
}

// KDF at plakar's defaults: milliseconds, not MB/s. The engine's path (a child process, as a
// store is unlocked) with its native backend, then the same path forced onto libsodium, then
// libsodium in this thread (no process start).
{
  const salt = randomBytes(16);
  const params: KdfParams = { kdf: 'ARGON2ID', salt, argon2id: { ...DEFAULT_ARGON2ID }, scrypt: null, pbkdf2: null };
  const pass = new TextEncoder().encode('passphrase');
  const timeIt = async (f: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let r = 0; r < Math.min(RUNS, 3); r++) {
      const t = performance.now();
      await f();
      times.push(performance.now() - t);
    }
    return median(times).toFixed(0);
  };
  const native = await timeIt(() => deriveKeyWithBackend(params, pass));
  process.env.KLOSET_KDF_BACKEND = 'libsodium';
  const sodiumChild = await timeIt(() => deriveKeyWithBackend(params, pass));
  delete process.env.KLOSET_KDF_BACKEND;
  const sodiumInThread = await timeIt(() => argon2id({ password: pass, salt, time: 4, memory: 256 * 1024, threads: 1, keyLen: 32 }));
  console.log(`argon2id-default: ${native} ms (t=4, m=256 MiB, p=1; child process, @node-rs/argon2) | libsodium child: ${sodiumChild} ms | libsodium in-thread: ${sodiumInThread} ms`);
}

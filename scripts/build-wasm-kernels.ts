/**
 * Generates the engine's two WebAssembly kernels, embedded as base64 in `*.generated.ts`:
 *
 * 1. FastCDC's gear-hash scan (`src/kloset/chunking/fastcdc-wasm.generated.ts`): JavaScript has
 *    no 64-bit integers outside BigInt, and the two-halves emulation runs at ~250 MB/s; with
 *    i64 the loop is a load, a shift, an add and a mask test per byte.
 *
 * 2. AES-GCM-SIV's (`src/kloset/crypto/gcm-siv-wasm.generated.ts`):
 * POLYVAL, plus the two byte-crunching loops around the AES calls (building the little-endian
 * counter blocks and XORing the keystream), with SIMD, so that only AES itself runs in OpenSSL.
 *
 * The POLYVAL part multiplies by a fixed H with sixteen 8-bit tables (T_t[v] = v·x^(8t)·H·x^-128 mod P,
 * see polyval.ts for the maths): per 16-byte block, 16 table lookups of two i64 words each. The
 * table offset of each byte position is an immediate in the load instruction, so a lookup is a
 * shift, a mask and two loads. The WAT text is generated here because the block loop is unrolled.
 *
 * Run: `npx tsx scripts/build-wasm-kernels.ts` (tests check the committed output is current).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const BITS = 8;
const TABLES = 128 / BITS;
const TABLE_BYTES = 16 << BITS;
// Memory map: [0, 64 KiB) tables; then 16 bytes of key H / digest, 16 bytes of counter
// template, and from DATA_OFFSET the caller's regions (data, counters, keystream).
const H_OFFSET = TABLES * TABLE_BYTES;
const TEMPLATE_OFFSET = H_OFFSET + 16;
export const DATA_OFFSET = H_OFFSET + 64;

export function gcmSivWat(): string {
  // One table per BITS-bit digit of the state: T_t[v] = v·x^(BITS·t)·H·x^-128.
  const lookups: string[] = [];
  const perWord = 32 / BITS;
  const mask = ((1 << BITS) - 1) << 4;
  for (let t = 0; t < TABLES; t++) {
    const word = Math.floor(t / perWord); // 32-bit word of the state holding digit t
    const k = t % perWord;
    const src = word < 2 ? '$s_lo' : '$s_hi';
    const wordExpr = word % 2 === 0 ? `(i32.wrap_i64 (local.get ${src}))` : `(i32.wrap_i64 (i64.shr_u (local.get ${src}) (i64.const 32)))`;
    const shift = BITS * k - 4;
    const idx = shift < 0 ? `(i32.and (i32.shl ${wordExpr} (i32.const ${-shift})) (i32.const ${mask}))` : `(i32.and (i32.shr_u ${wordExpr} (i32.const ${shift})) (i32.const ${mask}))`;
    // Four accumulators keep the XOR chains short so independent lookups overlap.
    const acc = t & 3;
    lookups.push(`(local.set $a ${idx})
        (local.set $l${acc} (i64.xor (local.get $l${acc}) (i64.load offset=${t * TABLE_BYTES} (local.get $a))))
        (local.set $h${acc} (i64.xor (local.get $h${acc}) (i64.load offset=${t * TABLE_BYTES + 8} (local.get $a))))`);
  }
  return `(module
  (memory (export "memory") ${Math.ceil((H_OFFSET + 64) / 65536)})
  (global $s_lo (mut i64) (i64.const 0))
  (global $s_hi (mut i64) (i64.const 0))
  ;; Builds the tables for the key at H_OFFSET and clears the state.
  (func (export "init")
    (local $lo i64) (local $hi i64) (local $i i32) (local $t i32) (local $j i32) (local $k i32)
    (local $bit i32) (local $src i32) (local $dst i32) (local $c i64)
    (local.set $lo (i64.load (i32.const ${H_OFFSET})))
    (local.set $hi (i64.load (i32.const ${H_OFFSET + 8})))
    ;; H·x^-128: 128 divisions by x modulo P = x^128 + x^127 + x^126 + x^121 + 1.
    (local.set $i (i32.const 0))
    (loop $inv
      (local.set $c (i64.sub (i64.const 0) (i64.and (local.get $lo) (i64.const 1))))
      (local.set $lo (i64.or (i64.shr_u (local.get $lo) (i64.const 1)) (i64.shl (local.get $hi) (i64.const 63))))
      (local.set $hi (i64.xor (i64.shr_u (local.get $hi) (i64.const 1)) (i64.and (local.get $c) (i64.const 0xe100000000000000))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $inv (i32.lt_u (local.get $i) (i32.const 128))))
    (local.set $t (i32.const 0))
    (loop $tables
      (i64.store (i32.shl (local.get $t) (i32.const ${BITS + 4})) (i64.const 0))
      (i64.store offset=8 (i32.shl (local.get $t) (i32.const ${BITS + 4})) (i64.const 0))
      (local.set $j (i32.const 0))
      (loop $bits
        (local.set $bit (i32.shl (i32.const 1) (local.get $j)))
        (local.set $k (i32.const 0))
        (loop $fill
          (local.set $src (i32.or (i32.shl (local.get $t) (i32.const ${BITS + 4})) (i32.shl (local.get $k) (i32.const 4))))
          (local.set $dst (i32.or (local.get $src) (i32.shl (local.get $bit) (i32.const 4))))
          (i64.store (local.get $dst) (i64.xor (i64.load (local.get $src)) (local.get $lo)))
          (i64.store offset=8 (local.get $dst) (i64.xor (i64.load offset=8 (local.get $src)) (local.get $hi)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $fill (i32.lt_u (local.get $k) (local.get $bit))))
        ;; next basis element: multiply by x modulo P
        (local.set $c (i64.sub (i64.const 0) (i64.shr_u (local.get $hi) (i64.const 63))))
        (local.set $hi (i64.xor (i64.or (i64.shl (local.get $hi) (i64.const 1)) (i64.shr_u (local.get $lo) (i64.const 63)))
                                (i64.and (local.get $c) (i64.const 0xc200000000000000))))
        (local.set $lo (i64.xor (i64.shl (local.get $lo) (i64.const 1)) (i64.and (local.get $c) (i64.const 1))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $bits (i32.lt_u (local.get $j) (i32.const ${BITS}))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $tables (i32.lt_u (local.get $t) (i32.const ${TABLES}))))
    (global.set $s_lo (i64.const 0))
    (global.set $s_hi (i64.const 0)))
  ;; Absorbs n 16-byte blocks starting at ptr.
  (func (export "update") (param $ptr i32) (param $n i32)
    (local $s_lo i64) (local $s_hi i64) (local $a i32) (local $end i32)
    (local $l0 i64) (local $l1 i64) (local $l2 i64) (local $l3 i64) (local $h0 i64) (local $h1 i64) (local $h2 i64) (local $h3 i64)
    (local.set $s_lo (global.get $s_lo))
    (local.set $s_hi (global.get $s_hi))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $block
        (local.set $s_lo (i64.xor (local.get $s_lo) (i64.load (local.get $ptr))))
        (local.set $s_hi (i64.xor (local.get $s_hi) (i64.load offset=8 (local.get $ptr))))
        (local.set $l0 (i64.const 0)) (local.set $l1 (i64.const 0)) (local.set $l2 (i64.const 0)) (local.set $l3 (i64.const 0))
        (local.set $h0 (i64.const 0)) (local.set $h1 (i64.const 0)) (local.set $h2 (i64.const 0)) (local.set $h3 (i64.const 0))
        ${lookups.join('\n        ')}
        (local.set $s_lo (i64.xor (i64.xor (local.get $l0) (local.get $l1)) (i64.xor (local.get $l2) (local.get $l3))))
        (local.set $s_hi (i64.xor (i64.xor (local.get $h0) (local.get $h1)) (i64.xor (local.get $h2) (local.get $h3))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br_if $block (i32.lt_u (local.get $ptr) (local.get $end)))))
    (global.set $s_lo (local.get $s_lo))
    (global.set $s_hi (local.get $s_hi)))
  ;; Writes the 16-byte state at ptr.
  (func (export "digest") (param $ptr i32)
    (i64.store (local.get $ptr) (global.get $s_lo))
    (i64.store offset=8 (local.get $ptr) (global.get $s_hi)))
  ;; Writes n counter blocks at dst: the block at tpl with its first little-endian u32 + j.
  (func (export "counters") (param $tpl i32) (param $dst i32) (param $n i32)
    (local $v v128) (local $c i32) (local $end i32)
    (local.set $v (v128.load (local.get $tpl)))
    (local.set $c (i32.load (local.get $tpl)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $next
        (v128.store (local.get $dst) (i32x4.replace_lane 0 (local.get $v) (local.get $c)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br_if $next (i32.lt_u (local.get $dst) (local.get $end))))))
  ;; dst ^= src over n 16-byte blocks.
  (func (export "xor") (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $next
        (v128.store (local.get $dst) (v128.xor (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br_if $next (i32.lt_u (local.get $dst) (local.get $end)))))))
`;
}

// FastCDC: gear table (256 × i64) at 0; the caller's window from CDC_DATA_OFFSET.
const CDC_DATA_OFFSET = 4096;

export function fastCdcWat(): string {
  return `(module
  (memory (export "memory") 1)
  (global $fp (mut i64) (i64.const 0))
  (func (export "reset") (global.set $fp (i64.const 0)))
  ;; Hashes bytes [p, end) into fp = (fp << 1) + G[byte]; returns the first p where
  ;; (fp & mask) == 0, or end.
  (func (export "scan") (param $p i32) (param $end i32) (param $mask i64) (result i32)
    (local $fp i64)
    (local.set $fp (global.get $fp))
    (block $done
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (loop $next
        (local.set $fp (i64.add (i64.shl (local.get $fp) (i64.const 1))
                                (i64.load (i32.shl (i32.load8_u (local.get $p)) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $fp) (local.get $mask)))
          (then (global.set $fp (local.get $fp)) (return (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $p) (local.get $end)))))
    (global.set $fp (local.get $fp))
    (local.get $end)))
`;
}

async function compile(name: string, wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(name, wat, { simd: true });
  try {
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

export const buildGcmSivWasm = () => compile('gcm-siv.wat', gcmSivWat());
export const buildFastCdcWasm = () => compile('fastcdc.wat', fastCdcWat());

export function gcmSivSource(bin: Uint8Array): string {
  const b64 = Buffer.from(bin).toString('base64');
  return `// Generated by scripts/build-wasm-kernels.ts — do not edit.\n` +
    `export const GCM_SIV_WASM_BASE64 =\n  '${b64}';\n` +
    `export const H_OFFSET = ${H_OFFSET};\nexport const TEMPLATE_OFFSET = ${TEMPLATE_OFFSET};\n` +
    `export const DATA_OFFSET = ${DATA_OFFSET};\n`;
}

export function fastCdcSource(bin: Uint8Array): string {
  const b64 = Buffer.from(bin).toString('base64');
  return `// Generated by scripts/build-wasm-kernels.ts — do not edit.\n` +
    `export const FASTCDC_WASM_BASE64 =\n  '${b64}';\n` +
    `export const CDC_DATA_OFFSET = ${CDC_DATA_OFFSET};\n`;
}

export const GENERATED = [
  { path: 'src/kloset/crypto/gcm-siv-wasm.generated.ts', build: async () => gcmSivSource(await buildGcmSivWasm()) },
  { path: 'src/kloset/chunking/fastcdc-wasm.generated.ts', build: async () => fastCdcSource(await buildFastCdcWasm()) },
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const g of GENERATED) {
    const out = new URL(`../${g.path}`, import.meta.url);
    writeFileSync(out, await g.build());
    console.log('wrote', g.path);
  }
}

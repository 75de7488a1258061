// The walk's per-item stat call, alone: lstatSync (BigInt) + @napi-rs/xattr's listing against
// the native module's itemStat (native/codec/item_stat.c), over every file of a tree (default
// the 100,000-file tree of `N=100000 npm run bench:rebackup`), twice each, alternating.
//
//   npm run build:native && node bench/stat-items.mjs [tree]
import { lstatSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr');
const addon = require('../native/codec/build/Release/kloset_codec.node');
const root = process.argv[2] ?? new URL('../.bench-data/rebackup-100000/tree', import.meta.url).pathname;
const paths = [];
const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : paths.push(join(d, e.name)); };
walk(root);
const nums = new Float64Array(6), big = new BigUint64Array(3);
for (const mode of ['node', 'native', 'node', 'native']) {
  const t = performance.now();
  if (mode === 'node') for (const p of paths) { lstatSync(p, { bigint: true }); xattr.listAttributesSync(p); }
  else for (const p of paths) addon.itemStat(p, nums, big);
  console.log(`${mode}: ${((performance.now() - t) * 1000 / paths.length).toFixed(2)} µs an item (${paths.length} items)`);
}

// Live objects of a V8 heap snapshot by constructor, largest first: count and self size.
// Take the snapshot with `node --heapsnapshot-signal=SIGUSR2 bin/kloset.js …` and
// `kill -USR2 <pid of the kloset process>` mid-run, then:
//
//   node --max-old-space-size=4000 bench/heap-summary.mjs Heap.*.heapsnapshot [rows]
//
// (how session 7 found 135,000 pending promises in a 20,000-file backup: docs/benchmarks.md)
import { readFileSync } from 'node:fs';

const snap = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { node_fields: fields, node_types: [types] } = snap.snapshot.meta;
const width = fields.length, iType = fields.indexOf('type'), iName = fields.indexOf('name'), iSize = fields.indexOf('self_size');
const byName = new Map();
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + iType]];
  const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + iName]] : `(${type})`;
  const a = byName.get(name) ?? { count: 0, bytes: 0 };
  a.count++;
  a.bytes += snap.nodes[i + iSize];
  byName.set(name, a);
}
for (const [name, { count, bytes }] of [...byName].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, Number(process.argv[3] ?? 25))) {
  console.log(`${(bytes / 2 ** 20).toFixed(1).padStart(8)} MiB ${String(count).padStart(9)}  ${name}`);
}

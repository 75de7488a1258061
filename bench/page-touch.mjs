// What a fresh buffer costs on this VM kind: touching 30 new 1 MiB buffers (each a fresh mmap
// under the backup's fixed 128 KiB mmap threshold) against copying the same bytes into one
// buffer touched before. Why the EntryLog keeps a re-backup's reused entries as views instead
// of copying them (docs/benchmarks.md, session 8):
//
//   MALLOC_MMAP_THRESHOLD_=131072 node bench/page-touch.mjs
const MiB = 1 << 20;
const warm = new Uint8Array(30 * MiB).fill(1);
const src = new Uint8Array(MiB).fill(2);
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  const keep = [];
  for (let i = 0; i < 30; i++) keep.push(new Uint8Array(MiB).fill(1));
  const fresh = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 30; i++) warm.set(src, i * MiB);
  const touched = performance.now() - t;
  console.log(`30 fresh 1 MiB buffers: ${fresh.toFixed(1)} ms; 30 MiB copied into touched memory: ${touched.toFixed(1)} ms (${keep.length})`);
}

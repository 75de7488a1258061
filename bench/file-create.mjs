/**
 * How fast this filesystem creates files: 4,000 empty files, then 4,000 written (32 KiB) and
 * renamed into place, in 40 folders below the given (new) folder; prints µs per file.
 * The restore benchmarks are sensitive to it: ext4 creates files slowly for a while after
 * thousands were deleted (`recently_deleted` in fs/ext4/ialloc.c). The sequence behind the
 * figures in docs/benchmarks.md (session 6):
 *
 *   node bench/file-create.mjs /tmp/ct/a; node bench/file-create.mjs /tmp/ct/b   (normal)
 *   rm -rf /tmp/ct; mkdir /tmp/ct; node bench/file-create.mjs /tmp/ct/c           (right after a deletion)
 *   rm -rf /tmp/ct; sleep 15; mkdir /tmp/ct; node bench/file-create.mjs /tmp/ct/d (15 s after)
 *   rm -rf /tmp/ct; sync; mkdir /tmp/ct; node bench/file-create.mjs /tmp/ct/e     (after a sync)
 */
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';

const base = process.argv[2];
if (!base) throw new Error('usage: node bench/file-create.mjs <new folder>');
const FILES = 4000;
const buf = Buffer.alloc(32768, 7);
for (let d = 0; d < 40; d++) mkdirSync(`${base}/d${d}`, { recursive: true });
let t = performance.now();
for (let i = 0; i < FILES; i++) closeSync(openSync(`${base}/d${i % 40}/f${i}.tmp`, 'wx', 0o644));
console.log('create', ((performance.now() - t) / FILES * 1000).toFixed(0), 'µs/file');
t = performance.now();
for (let i = 0; i < FILES; i++) {
  const p = `${base}/d${i % 40}/g${i}`;
  const fd = openSync(`${p}.tmp`, 'wx', 0o644);
  writeSync(fd, buf);
  closeSync(fd);
  renameSync(`${p}.tmp`, p);
}
console.log('create+write 32 KiB+rename', ((performance.now() - t) / FILES * 1000).toFixed(0), 'µs/file');

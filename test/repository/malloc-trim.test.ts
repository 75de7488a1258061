import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nativeCodec } from '../../src/kloset/base/node/native-codec.js';
import { trimFreeAbove } from '../../src/kloset/node/primitives.js';

const require = createRequire(import.meta.url);
const addon = nativeCodec();
const glibc = process.platform === 'linux' && !!(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;

describe('trimming the malloc heap between packfiles (relieveMemory)', () => {
  it('takes its threshold in whole MiB from KLOSET_MALLOC_TRIM_MIB, 8 MiB by default', () => {
    expect(trimFreeAbove({})).toBe(8 << 20);
    expect(trimFreeAbove({ KLOSET_MALLOC_TRIM_MIB: '0' })).toBe(0);
    expect(trimFreeAbove({ KLOSET_MALLOC_TRIM_MIB: '24' })).toBe(24 << 20);
    expect(trimFreeAbove({ KLOSET_MALLOC_TRIM_MIB: 'lots' })).toBe(8 << 20);
  });

  it.runIf(!!addon?.trimFreeMemory && glibc)('gives free heap pages back only when more than the threshold is free', () => {
    // In a fresh process: 4,000 buffers of 48 KiB (malloc'd in the main arena under a 1 MiB
    // mmap threshold), every other one freed with a pinned one between: ~94 MiB of holes that
    // free() alone keeps resident.
    const script = `
      const addon = require(${JSON.stringify(require.resolve('../../native/codec/build/Release/kloset_codec.node'))});
      addon.tuneMalloc(1 << 20, 2);
      const rss = () => Number(require('fs').readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
      let keep = [], drop = [];
      for (let i = 0; i < 4000; i++) { const b = new Uint8Array(48 << 10); b.fill(1); (i % 2 ? keep : drop).push(b); }
      drop = null; globalThis.gc(); globalThis.gc();
      const before = rss();
      const none = addon.trimFreeMemory(1e12); // far more than is free: nothing done
      const afterNone = rss();
      const freed = addon.trimFreeMemory(8 << 20);
      const after = rss();
      console.log(JSON.stringify({ none, freed, before, afterNone, after, kept: keep.length }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })) as { none: number; freed: number; before: number; afterNone: number; after: number };
    expect(out.none).toBe(0);
    expect(out.afterNone).toBeGreaterThan(out.before - (8 << 20));
    expect(out.freed).toBeGreaterThan(64 << 20);
    expect(out.before - out.after).toBeGreaterThan(48 << 20);
  });
});

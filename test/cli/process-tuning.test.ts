import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS beside the `kloset` entry point, without type declarations
import { mallocSettingsFor } from '../../bin/process-tuning.js';
import { START_FLAGS, shebangFlags, startFlagsOf, v8FlagsFor } from '../../bin/v8-tuning.js';

const tuning = fileURLToPath(new URL('../../bin/process-tuning.js', import.meta.url));

/** tuneProcess(args) in a fresh Node with `env`: what it reports it applied. */
function tuneIn(args: string[], env: Record<string, string | undefined> = {}) {
  const script = `import(${JSON.stringify(tuning)}).then((m) => console.log(JSON.stringify(m.tuneProcess(${JSON.stringify(args)}))))`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, KLOSET_MALLOC_TUNING: undefined, KLOSET_V8_TUNING: undefined, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { malloc: { arenaMax: number; mmapThreshold: number } | string; v8Flags: string[] };
}

describe('malloc settings per command', () => {
  it('fixes the mmap threshold only for the commands that encode data', () => {
    for (const args of [['at', '/s', 'backup', '/d'], ['at', '@store', 'sync', 'to', '/t']]) {
      expect(mallocSettingsFor(args)).toEqual({ arenaMax: 2, mmapThreshold: 1048576 });
    }
    for (const args of [['at', '/s', 'restore', '-to', '/o', 'abcd'], ['at', '/s', 'cat', 'x:/f'], ['store', 'ls'], []]) {
      expect(mallocSettingsFor(args)).toEqual({ arenaMax: 2, mmapThreshold: 0 });
    }
  });

  it.runIf(process.platform === 'linux')('applies them in-process through mallopt, leaving a value the user set alone', () => {
    // glibc's mallopt answers 1 only when it took the value: a refused one reports so
    expect(tuneIn(['at', '/s', 'backup', '/d']).malloc).toEqual({ arenaMax: 2, mmapThreshold: 1048576 });
    expect(tuneIn(['at', '/s', 'ls']).malloc).toEqual({ arenaMax: 2, mmapThreshold: 0 });
    expect(tuneIn(['at', '/s', 'backup', '/d'], { MALLOC_MMAP_THRESHOLD_: '131072' }).malloc).toEqual({ arenaMax: 2, mmapThreshold: 0 });
    expect(tuneIn(['at', '/s', 'backup', '/d'], { MALLOC_ARENA_MAX: '4' }).malloc).toEqual({ arenaMax: 0, mmapThreshold: 1048576 });
    expect(tuneIn(['at', '/s', 'backup', '/d'], { KLOSET_MALLOC_TUNING: '0' }).malloc).toBe('turned off by KLOSET_MALLOC_TUNING=0');
  });

  it('says why when the native codec cannot be loaded', () => {
    const r = tuneIn(['at', '/s', 'backup', '/d'], { KLOSET_NATIVE_CODEC: '/nonexistent/kloset_codec.node' });
    expect(r.malloc).toMatch(process.platform === 'linux' ? /^no native codec: / : /not Linux/);
  });
});

describe('V8 flags (bin/v8-tuning.js)', () => {
  const ALL = ['--interrupt-budget=1081344', '--max-semi-space-size=8'];
  it('adds the interrupt budget and young-generation size unless the command line sets them or KLOSET_V8_TUNING=0', () => {
    expect(v8FlagsFor([], {})).toEqual(ALL);
    expect(v8FlagsFor(['--interrupt-budget=67584'], {})).toEqual(['--max-semi-space-size=8']);
    expect(v8FlagsFor(['--max-semi-space-size=8'], {})).toEqual(['--interrupt-budget=1081344']);
    expect(v8FlagsFor(['--max-old-space-size=4096'], {})).toEqual(ALL);
    expect(v8FlagsFor([], { KLOSET_V8_TUNING: '0' })).toEqual([]);
  });

  it('bin/kloset.js carries START_FLAGS on its shebang, and runs through it', () => {
    const bin = fileURLToPath(new URL('../../bin/kloset.js', import.meta.url));
    expect(startFlagsOf(bin)).toEqual(START_FLAGS);
    expect(shebangFlags('#!/usr/bin/env node')).toEqual([]);
    expect(shebangFlags('#!/usr/bin/env -S node --a=1 --b')).toEqual(['--a=1', '--b']);
    // executed directly (env -S splits the line), as the installed `kloset` command is
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
  });

  it('the main thread of a process started with START_FLAGS has the smaller young generation', () => {
    const probe = "const v8=require('v8');let k=[];for(let i=0;i<2e6;i++){k.push({i,s:'x'+i});if(k.length>1e5)k=[];}" +
      "console.log(v8.getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size)";
    const size = (flags: string[]) => Number(spawnSync(process.execPath, [...flags, '-e', probe], { encoding: 'utf8' }).stdout.trim());
    expect(size(START_FLAGS)).toBeLessThanOrEqual(16 * 2 ** 20);
    expect(size([])).toBeGreaterThan(16 * 2 ** 20);
  });

  it('tuneProcess reports the flags it set, none with KLOSET_V8_TUNING=0', () => {
    // (V8 has no API to read a flag back; that the flag takes effect set this late was measured:
    // a backup's user CPU is the same as with the flag on the command line, docs/benchmarks.md)
    expect(tuneIn(['at', '/s', 'ls']).v8Flags).toEqual(ALL);
    expect(tuneIn(['at', '/s', 'ls'], { KLOSET_V8_TUNING: '0' }).v8Flags).toEqual([]);
  });
});

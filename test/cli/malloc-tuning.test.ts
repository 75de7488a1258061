import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS beside the `kloset` entry point, without type declarations
import { mallocSettingsFor } from '../../bin/malloc-tuning.js';
// @ts-expect-error plain JS beside the `kloset` entry point, without type declarations
import { v8FlagsFor } from '../../bin/v8-tuning.js';

describe('malloc settings per command', () => {
  it('fixes the mmap threshold only for the commands that encode data', () => {
    for (const args of [['at', '/s', 'backup', '/d'], ['at', '@store', 'sync', 'to', '/t']]) {
      expect(mallocSettingsFor(args)).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '1048576' });
    }
    for (const args of [['at', '/s', 'restore', '-to', '/o', 'abcd'], ['at', '/s', 'cat', 'x:/f'], ['store', 'ls'], []]) {
      expect(mallocSettingsFor(args)).toEqual({ MALLOC_ARENA_MAX: '2' });
    }
  });
});

describe('V8 flags of the tuned child (bin/v8-tuning.js)', () => {
  it('adds the interrupt budget unless the command line sets one or KLOSET_V8_TUNING=0', () => {
    expect(v8FlagsFor([], {})).toEqual(['--interrupt-budget=1081344']);
    expect(v8FlagsFor(['--interrupt-budget=67584'], {})).toEqual([]);
    expect(v8FlagsFor(['--max-old-space-size=4096'], {})).toEqual(['--interrupt-budget=1081344']);
    expect(v8FlagsFor([], { KLOSET_V8_TUNING: '0' })).toEqual([]);
  });
});

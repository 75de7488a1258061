import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS beside the `kloset` entry point, without type declarations
import { mallocSettingsFor } from '../../bin/malloc-tuning.js';

describe('malloc settings per command', () => {
  it('fixes the mmap threshold only for the commands that encode data', () => {
    for (const args of [['at', '/s', 'backup', '/d'], ['at', '@store', 'sync', 'to', '/t']]) {
      expect(mallocSettingsFor(args)).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
    }
    for (const args of [['at', '/s', 'restore', '-to', '/o', 'abcd'], ['at', '/s', 'cat', 'x:/f'], ['store', 'ls'], []]) {
      expect(mallocSettingsFor(args)).toEqual({ MALLOC_ARENA_MAX: '2' });
    }
  });
});

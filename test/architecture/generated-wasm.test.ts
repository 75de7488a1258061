/** The committed WebAssembly kernels are exactly what scripts/build-wasm-kernels.ts produces. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED } from '../../scripts/build-wasm-kernels.js';

describe('generated WebAssembly kernels are current', () => {
  it.each(GENERATED.map((g) => [g.path, g] as const))('%s', async (path, g) => {
    expect(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')).toBe(await g.build());
  });
});

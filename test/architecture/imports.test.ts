/**
 * Import rules of docs/architecture.md, checked over the source text:
 * - nothing in src/kloset imports from outside src/kloset (relative paths stay inside it);
 * - Node-only modules (node:*, native addons, worker_threads…) appear only under a `node/` folder;
 * - inside the engine, lower layers never import higher ones
 *   (base ← crypto, hashing, compression, chunking, encoding ← storage ← repository ← snapshot).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const engine = join(root, 'src/kloset');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|cjs|mjs|js)$/.test(name) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return out;
}

/** Packages that only run in Node (native addons or Node built-ins). */
const NODE_ONLY = [/^node:/, /^lz4-wasm-nodejs/, /^zstd-napi/, /^keytar/, /^electron/, /^(fs|path|os|crypto|worker_threads|child_process|zlib|stream)$/];
const FORBIDDEN = [/^react/, /^electron/, /^@tanstack/, /^zustand/];
const LAYER: Record<string, number> = {
  base: 0, crypto: 1, hashing: 1, compression: 1, chunking: 1, encoding: 1,
  storage: 2, repository: 3, snapshot: 4, backup: 5, restore: 5, check: 5, sync: 5, node: 9,
};

const engineFiles = files(engine);

describe('engine import rules', () => {
  it('finds the engine sources', () => {
    expect(engineFiles.length).toBeGreaterThan(20);
  });

  it.each(engineFiles.map((f) => [relative(root, f), f]))('%s', (_rel, file) => {
    const inNodeFolder = relative(engine, file).split(sep).includes('node');
    const layer = LAYER[relative(engine, file).split(sep)[0]!];
    for (const spec of imports(file)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        expect(target.startsWith(engine + sep), `${spec} leaves src/kloset`).toBe(true);
        const targetTop = relative(engine, target).split(sep)[0]!;
        const targetLayer = LAYER[targetTop];
        if (layer !== undefined && targetLayer !== undefined && targetTop !== relative(engine, file).split(sep)[0]) {
          expect(targetLayer, `${spec}: layer ${targetTop} is above this file's layer`).toBeLessThan(layer);
        }
        if (!inNodeFolder) {
          expect(relative(engine, target).split(sep).includes('node'), `${spec}: portable code imports a node/ module`).toBe(false);
        }
      } else {
        for (const f of FORBIDDEN) expect(f.test(spec), `${spec} is not allowed in the engine`).toBe(false);
        if (!inNodeFolder) for (const n of NODE_ONLY) expect(n.test(spec), `${spec} is Node-only: move it under a node/ folder`).toBe(false);
      }
    }
  });

  it('the checker itself catches a violation', () => {
    const fake = join(engine, 'crypto', 'x.ts');
    const spec = 'node:crypto';
    const inNodeFolder = relative(engine, fake).split(sep).includes('node');
    expect(inNodeFolder).toBe(false);
    expect(NODE_ONLY.some((r) => r.test(spec))).toBe(true);
    expect(imports(join(engine, 'crypto/node/aes-gcm-siv.ts'))).toContain('node:crypto');
  });
});

// Part of `npm run build`: copies the non-TypeScript files the engine loads at run time (the
// plain-JS KDF child, the worker bootstrap) next to the compiled modules in dist/.
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (/\.(cjs|mjs)$/.test(e.name)) yield p;
  }
}
for (const file of walk('src')) cpSync(file, join('dist', relative('src', file)));

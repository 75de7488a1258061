#!/usr/bin/env node
// Entry of the `kloset` command. The sources are TypeScript, loaded through tsx's loader until
// the CLI gets a build step of its own.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

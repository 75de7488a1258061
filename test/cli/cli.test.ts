import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/kloset.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('kloset command', () => {
  it('prints help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('kloset at <store> backup');
  });
  it('prints its version', () => {
    expect(run('--version').stdout).toMatch(/^kloset \d+\.\d+\.\d+\n$/);
  });
  it('says plainly that store commands are not implemented yet, with a non-zero exit', () => {
    const r = run('at', '/tmp/store', 'backup', '/etc');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("'backup' is not implemented yet");
  });
  it('rejects unknown commands', () => {
    const r = run('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command');
  });
});

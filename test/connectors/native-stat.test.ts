/**
 * The walk's native lstat + xattr listing (native-stat.ts) gives exactly what lstatSync and
 * @napi-rs/xattr give, for every kind of item, and fails the same way.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { itemStatOf, nativeStatItem } from '../../src/connectors/fs/native-stat.js';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
const dir = mkdtempSync(join(tmpdir(), 'kloset-native-stat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function userXattrs(path: string): string[] {
  try {
    return xattr.listAttributesSync(path).filter((n) => n.startsWith('user.')).sort();
  } catch {
    return [];
  }
}

describe('nativeStatItem', () => {
  const stat = nativeStatItem();

  it('is available where the native module is built (setup builds it)', () => {
    expect(stat).toBeTypeOf('function');
  });

  it('matches lstatSync and @napi-rs/xattr for files, folders, symlinks, FIFOs and xattrs', () => {
    const file = join(dir, 'a file é+%.txt');
    writeFileSync(file, 'x'.repeat(12345));
    execFileSync('touch', ['-m', '-d', '@-86400.5', file]); // a pre-1970 mtime with a fraction
    const tagged = join(dir, 'tagged');
    writeFileSync(tagged, '');
    xattr.setAttributeSync(tagged, 'user.b', Buffer.from('2'));
    xattr.setAttributeSync(tagged, 'user.a', Buffer.from('1'));
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const link = join(dir, 'link');
    symlinkSync('a file é+%.txt', link);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const p of [file, tagged, sub, link, fifo, dir]) {
      const expected = itemStatOf(lstatSync(p, { bigint: true }));
      const got = stat!(p);
      expect(got.st, p).toEqual(expected);
      expect(got.xattrNames, p).toEqual(lstatSync(p).isSymbolicLink() ? [] : userXattrs(p));
    }
    expect(stat!(tagged).xattrNames).toEqual(['user.a', 'user.b']);
    expect(stat!(file).st.mtimeSec).toBe(-86_401);
    expect(stat!(file).st.mtimeNsec).toBe(500_000_000);
  });

  it('a list of names longer than its first buffer is read whole', (ctx) => {
    // tmpfs keeps user xattrs in memory (ext4 holds about 4 KiB of them per file)
    const shm = '/dev/shm';
    let f: string;
    try {
      f = join(mkdtempSync(join(shm, 'kloset-')), 'many');
      writeFileSync(f, '');
      for (let i = 0; i < 60; i++) xattr.setAttributeSync(f, `user.${'n'.repeat(100)}${i}`, Buffer.from('v'));
    } catch {
      ctx.skip(); // no tmpfs with user xattrs here
      return;
    }
    try {
      const names = stat!(f).xattrNames;
      expect(names.length).toBe(60);
      expect(names).toEqual(userXattrs(f));
    } finally {
      rmSync(join(f, '..'), { recursive: true, force: true });
    }
  });

  it('fails like lstatSync: the same code, the path in the message', () => {
    const missing = join(dir, 'missing');
    expect(() => lstatSync(missing)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => stat!(missing)).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining(missing) }));
    expect(() => stat!(join(dir, 'a file é+%.txt', 'below'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => stat!(`/${'x'.repeat(5000)}`)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
  });
});

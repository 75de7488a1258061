/**
 * sameStruct: a re-backup reuses an entry's stored bytes and MAC when sameStruct says the new
 * entry equals the old one, so it must agree exactly with byte equality of the encodings.
 */
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, sameStruct } from '../../src/kloset/encoding/schema.js';
import { entrySchema, type Entry } from '../../src/kloset/snapshot/vfs/entry.js';
import { mulberry32 } from '../support/test-helpers.js';

function entry(): Entry {
  return {
    version: 0x00010000,
    parentPath: '/home/user/docs',
    fileInfo: {
      name: 'résumé.txt', size: 1234n, mode: 0o644, modTime: { sec: 1_700_000_000, nsec: 123 },
      dev: 2049n, ino: 131072n, uid: 1000n, gid: 1000n, nlink: 1, username: 'user', groupname: 'user', flags: 0,
    },
    summary: null,
    symlinkTarget: '',
    object: new Uint8Array(32).fill(7),
    contentType: 'text/plain; charset=utf-8',
    entropy: 4.5,
    chunks: 1n,
    alternateDataStreams: [],
    securityDescriptor: new Uint8Array(0),
    fileAttributes: 0,
    extendedAttributes: ['user.a'],
    classifications: [],
    customMetadata: [],
    tags: [],
  };
}

/** One small change to one field (or none), chosen by `k`. */
const mutations: ((e: Entry) => void)[] = [
  () => {},
  (e) => { e.parentPath += 'x'; },
  (e) => { e.fileInfo.name = 'resume.txt'; },
  (e) => { e.fileInfo.size += 1n; },
  (e) => { e.fileInfo.mode ^= 0o100; },
  (e) => { e.fileInfo.modTime = { ...e.fileInfo.modTime, nsec: e.fileInfo.modTime.nsec + 1 }; },
  (e) => { e.fileInfo.ino += 1n; },
  (e) => { e.fileInfo.uid = 0n; },
  (e) => { e.fileInfo.nlink = 2; },
  (e) => { e.fileInfo.username = 'root'; },
  (e) => { e.symlinkTarget = '/etc'; },
  (e) => { e.object = new Uint8Array(32).fill(8); },
  (e) => { e.contentType = ''; },
  (e) => { e.entropy = 4.5000001; },
  (e) => { e.chunks = 2n; },
  (e) => { e.extendedAttributes = []; },
  (e) => { e.extendedAttributes = ['user.a', 'user.b']; },
  (e) => { e.tags = ['t']; },
  (e) => { e.customMetadata = [{ key: 'k', value: new Uint8Array([1]) }]; },
];

describe('sameStruct', () => {
  it('is true exactly when the encodings are equal (every single-field change)', () => {
    for (const [i, m] of mutations.entries()) {
      const b = entry();
      m(b);
      const bytesEqual = Buffer.from(encodeStruct(entrySchema, entry())).equals(Buffer.from(encodeStruct(entrySchema, b)));
      expect({ i, same: sameStruct(entrySchema, entry(), b) }).toEqual({ i, same: bytesEqual });
      expect(bytesEqual).toBe(i === 0);
    }
  });

  it('a decoded entry is the same as the value it was encoded from, and random pairs agree with bytes', () => {
    const rand = mulberry32(7);
    for (let n = 0; n < 300; n++) {
      const a = entry(), b = entry();
      mutations[Math.floor(rand() * mutations.length)]!(a);
      mutations[Math.floor(rand() * mutations.length)]!(b);
      const decoded = decodeStruct(entrySchema, encodeStruct(entrySchema, a));
      expect(sameStruct(entrySchema, a, decoded)).toBe(true);
      const eq = Buffer.from(encodeStruct(entrySchema, a)).equals(Buffer.from(encodeStruct(entrySchema, b)));
      expect(sameStruct(entrySchema, a, b)).toBe(eq);
    }
  });
});

/** AES-256 key wrap (RFC 3394) through OpenSSL's id-aes256-wrap. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { authError } from '../../base/errors.js';
import type { KeyWrap } from '../aes-kw.js';

const IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

export const nodeKeyWrap: KeyWrap = {
  wrap(kek, key) {
    const c = createCipheriv('id-aes256-wrap', kek, IV);
    return Buffer.concat([c.update(key), c.final()]);
  },
  unwrap(kek, wrapped) {
    if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw authError('AES key unwrap: bad wrapped length');
    try {
      const d = createDecipheriv('id-aes256-wrap', kek, IV);
      return Buffer.concat([d.update(wrapped), d.final()]);
    } catch {
      throw authError('AES key unwrap failed: wrong key or damaged data');
    }
  },
};

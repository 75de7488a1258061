/**
 * The Node cipher suite: AES-NI backed GCM-SIV and key wrap, CSPRNG from Web Crypto, and whole
 * objects on libgcrypt when its addon is built (`gcrypt-object-cipher.ts`).
 */
import { secureRandom } from '../../base/random.js';
import type { CipherSuite } from '../suite.js';
import { nodeGcmSiv } from './aes-gcm-siv.js';
import { nodeKeyWrap } from './aes-kw.js';
import { gcryptObjectCipher } from './gcrypt-object-cipher.js';

export const nodeCipherSuite: CipherSuite = { aead: nodeGcmSiv, keyWrap: nodeKeyWrap, random: secureRandom, objects: gcryptObjectCipher() };

/**
 * The Node cipher suite: AES-NI backed GCM-SIV and key wrap, CSPRNG from Web Crypto, and whole
 * objects on libgcrypt when the native codec is built (`native-object-cipher.ts`).
 */
import { secureRandom } from '../../base/random.js';
import type { CipherSuite } from '../suite.js';
import { nodeGcmSiv } from './aes-gcm-siv.js';
import { nodeKeyWrap } from './aes-kw.js';
import { nativeObjectCipher } from './native-object-cipher.js';

export const nodeCipherSuite: CipherSuite = { aead: nodeGcmSiv, keyWrap: nodeKeyWrap, random: secureRandom, objects: nativeObjectCipher() };

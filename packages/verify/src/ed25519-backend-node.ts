import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { Ed25519Backend } from './ed25519-key';

// DER prefixes that wrap raw ed25519 keys as PKCS#8 and SPKI.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const privateKey = (seed: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
const publicKey = (raw: Uint8Array) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });

/** ed25519 with node:crypto (OpenSSL). */
export const nodeEd25519: Ed25519Backend = {
  publicFromSeed(seed) {
    const der = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(der.subarray(SPKI_PREFIX.length));
  },
  signer(seed) {
    const key = privateKey(seed);
    return (message) => new Uint8Array(sign(null, message, key));
  },
  verifier(raw) {
    const key = publicKey(raw);
    return (signature, message) => {
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    };
  },
};

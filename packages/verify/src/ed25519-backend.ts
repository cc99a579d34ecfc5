import { ed25519 } from '@noble/curves/ed25519';
import type { Ed25519Backend } from './ed25519-key';

/** ed25519 with @noble/curves (RFC 8032 strict verification, like OpenSSL). */
export const nobleEd25519: Ed25519Backend = {
  publicFromSeed: (seed) => ed25519.getPublicKey(seed),
  signer: (seed) => (message) => ed25519.sign(message, seed),
  verifier: (publicKey) => (signature, message) => {
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

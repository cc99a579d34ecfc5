import { generateSecret } from '@hookline/verify';
import { generateKeyPair } from '@hookline/verify/ed25519';

/** How an endpoint signs: HMAC-SHA256 (`v1`) or ed25519 (`v1a`). */
export type SigningAlgorithm = 'hmac' | 'ed25519';

/** A new endpoint secret; `publicKey` (whpk_) only for ed25519, for receivers to verify with. */
export interface GeneratedSecret {
  secret: string;
  publicKey?: string;
}

/** A fresh secret: `whsec_` of 32 random bytes, or a `whsk_`/`whpk_` ed25519 key pair. */
export function generateEndpointSecret(signing: SigningAlgorithm = 'hmac'): GeneratedSecret {
  if (signing === 'ed25519') {
    const { secretKey, publicKey } = generateKeyPair();
    return { secret: secretKey, publicKey };
  }
  return { secret: generateSecret(32) };
}

/** The first 10 characters of a secret (`whsec_abcd`), safe to show after creation. */
export function secretHint(secret: string): string {
  return secret.slice(0, 10);
}

/** The signing algorithm a stored secret belongs to, from its prefix. */
export function signingAlgorithmOf(secret: string): SigningAlgorithm {
  return secret.startsWith('whsk_') ? 'ed25519' : 'hmac';
}

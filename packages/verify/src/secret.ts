import { decodeKey, encodeBase64 } from './base64';
import type { WebhookOptions, WebhookSecret } from './core';
import { WebhookVerificationError } from './errors';

export const SECRET_PREFIX = 'whsec_';
export const PUBLIC_KEY_PREFIX = 'whpk_';
export const SECRET_KEY_PREFIX = 'whsk_';

/** The HMAC key bytes of a `whsec_…` secret (or of a raw secret with `format: "raw"`). */
export function hmacKeyBytes(secret: WebhookSecret, options: WebhookOptions): Uint8Array {
  if (secret instanceof Uint8Array) {
    if (secret.length === 0) {
      throw new WebhookVerificationError('invalid_secret', "Secret can't be empty.");
    }
    return secret;
  }
  if (typeof secret !== 'string') {
    throw new WebhookVerificationError(
      'invalid_secret',
      'The secret must be a "whsec_…" string or a Uint8Array.',
    );
  }
  if (options.format === 'raw') return Uint8Array.from(secret, (c) => c.charCodeAt(0) & 0xff);
  return decodeKey(secret, SECRET_PREFIX, 'webhook secret');
}

/** Refuses ed25519 keys where only HMAC is loaded, saying what to import instead. */
export function rejectAsymmetric(secret: WebhookSecret): void {
  if (
    typeof secret === 'string' &&
    (secret.startsWith(PUBLIC_KEY_PREFIX) || secret.startsWith(SECRET_KEY_PREFIX))
  ) {
    throw new WebhookVerificationError(
      'invalid_secret',
      'ed25519 keys need Webhook from "@hookline/verify/ed25519".',
    );
  }
}

/** A new random `whsec_` secret (default 32 bytes; Standard Webhooks allows 24–64). */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 24 || bytes > 64) {
    throw new RangeError('A webhook secret must be between 24 and 64 bytes long.');
  }
  return SECRET_PREFIX + encodeBase64(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

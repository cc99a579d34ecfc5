import { BaseWebhook, type WebhookKey, type WebhookOptions, type WebhookSecret } from './core';
import { nodeEd25519 } from './ed25519-backend-node';
import { createEd25519Key, generateKeyPairWith, isEd25519Key } from './ed25519-key';
import { createHmacKey } from './hmac-node';
import { hmacKeyBytes } from './secret';

export * from './exports';

/**
 * Like the main `Webhook`, and also accepts ed25519 keys: `whpk_` public keys
 * verify `v1a` signatures, `whsk_` secret keys sign and verify them.
 */
export class Webhook extends BaseWebhook {
  protected createKey(secret: WebhookSecret, options: WebhookOptions): WebhookKey {
    if (isEd25519Key(secret)) return createEd25519Key(secret, nodeEd25519);
    return createHmacKey(hmacKeyBytes(secret, options));
  }
}

/** A new ed25519 key pair: give `publicKey` (whpk_) to receivers, keep `secretKey` (whsk_). */
export function generateKeyPair(): { secretKey: string; publicKey: string } {
  return generateKeyPairWith(nodeEd25519);
}

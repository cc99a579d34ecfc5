import { BaseWebhook, type WebhookKey, type WebhookOptions, type WebhookSecret } from './core';
import { createHmacKey } from './hmac';
import { hmacKeyBytes, rejectAsymmetric } from './secret';

export * from './exports';

/**
 * Verifies and signs Standard Webhooks (`v1`, HMAC-SHA256). Pass several secrets
 * to accept any of them during a rotation. Drop-in for `standardwebhooks`' `Webhook`.
 */
export class Webhook extends BaseWebhook {
  protected createKey(secret: WebhookSecret, options: WebhookOptions): WebhookKey {
    rejectAsymmetric(secret);
    return createHmacKey(hmacKeyBytes(secret, options));
  }
}

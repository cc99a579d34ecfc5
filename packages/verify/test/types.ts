import type { BaseWebhook, WebhookOptions, WebhookSecret } from '../src/core';
import type { WebhookVerificationError } from '../src/errors';

/** The public surface of a `Webhook` instance, whichever build it comes from. */
export type WebhookInstance = Pick<BaseWebhook, 'verify' | 'sign' | 'signAll' | 'headers'>;

/** What every entry point (`.`, `./ed25519`; src or dist; ESM or CJS) exports. */
export interface VerifyModule {
  Webhook: new (
    secret: WebhookSecret | readonly WebhookSecret[],
    options?: WebhookOptions,
  ) => WebhookInstance;
  WebhookVerificationError: typeof WebhookVerificationError;
  generateSecret(bytes?: number): string;
}

/** The `./ed25519` entry point: the same `Webhook`, plus ed25519 key pairs. */
export interface Ed25519Module extends VerifyModule {
  generateKeyPair(): { secretKey: string; publicKey: string };
}

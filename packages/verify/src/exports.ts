// Names every entry point re-exports unchanged.
export type {
  SignedContent,
  VerifyOptions,
  WebhookHeaders,
  WebhookKey,
  WebhookOptions,
  WebhookPayload,
  WebhookSecret,
  WebhookUnbrandedRequiredHeaders,
} from './core';
export { WebhookVerificationError, type WebhookVerificationErrorCode } from './errors';
export { generateSecret } from './secret';

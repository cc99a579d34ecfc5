/** Why a webhook failed verification (or a key could not be used). */
export type WebhookVerificationErrorCode =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_signature_header'
  | 'invalid_secret'
  | 'invalid_payload';

/** Thrown for every verification failure; `code` says which check failed. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // Keeps `instanceof` working when compiled to ES5-style classes by consumers' bundlers.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Every failure the product itself decides on; HTTP status is chosen in `http/errors.ts`. */
export type GatewayErrorCode =
  | 'invalid_request'
  | 'url_not_allowed'
  | 'unauthorized'
  | 'not_found'
  | 'idempotency_conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'limit_exceeded'
  | 'endpoint_disabled'
  | 'conflict'
  | 'not_ready'
  | 'internal_error';

/** One invalid field, as listed in an error body's `details`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** A failure with a stable `code`, a human message and optional per-field details. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly details: ErrorDetail[] | undefined;
  /** Seconds, for `rate_limited`. */
  readonly retryAfter: number | undefined;

  constructor(
    code: GatewayErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }
}

/** `not_found` that names the kind of thing, never whether it exists elsewhere. */
export function notFound(what: string): GatewayError {
  return new GatewayError('not_found', `No ${what} with that id.`);
}

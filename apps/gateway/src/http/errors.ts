import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { GatewayError, type GatewayErrorCode } from '../domain/errors';

/** The one table from error code to HTTP status. */
export const STATUS_BY_CODE: Record<GatewayErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  url_not_allowed: 400,
  unauthorized: 401,
  not_found: 404,
  idempotency_conflict: 409,
  conflict: 409,
  endpoint_disabled: 409,
  payload_too_large: 413,
  rate_limited: 429,
  limit_exceeded: 400,
  not_ready: 503,
  internal_error: 500,
};

/** Seconds a client is told to wait (`Retry-After`) when the database is not answering. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * Renders any thrown value as the API's JSON error body. An error that `unavailable` recognises
 * (the database cannot answer now: a lost connection, a statement timeout) is a 503 `not_ready`
 * with `Retry-After`, so clients and load balancers retry; any other unknown error is a bare 500.
 */
export function errorResponse(
  c: Context,
  err: unknown,
  log?: Logger,
  unavailable?: (error: unknown) => boolean,
): Response {
  if (err instanceof GatewayError) {
    const status = STATUS_BY_CODE[err.code];
    if (err.retryAfter !== undefined) c.header('Retry-After', String(Math.ceil(err.retryAfter)));
    const body: { error: { code: string; message: string; details?: unknown } } = {
      error: { code: err.code, message: err.message },
    };
    if (err.details) body.error.details = err.details;
    return c.json(body, status);
  }
  if (unavailable?.(err)) {
    // The code only: the message of a database error may quote the statement's values.
    const code = (err as { code?: unknown })?.code;
    log?.warn({ err: { name: (err as Error)?.name, code } }, 'the database is not answering');
    c.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    return c.json(
      {
        error: {
          code: 'not_ready',
          message: 'The database is not answering; retry in a moment (see Retry-After).',
        },
      },
      STATUS_BY_CODE.not_ready,
    );
  }
  // Never echo an unexpected error's message: it may carry SQL, payloads or secrets.
  log?.error(
    { err: { name: (err as Error)?.name, stack: (err as Error)?.stack } },
    'unhandled error',
  );
  return c.json({ error: { code: 'internal_error', message: 'Internal server error.' } }, 500);
}

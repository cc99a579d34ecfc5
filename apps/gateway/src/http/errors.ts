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

/** Renders any thrown value as the API's JSON error body; unknown errors become a bare 500. */
export function errorResponse(c: Context, err: unknown, log?: Logger): Response {
  if (err instanceof GatewayError) {
    const status = STATUS_BY_CODE[err.code];
    if (err.retryAfter !== undefined) c.header('Retry-After', String(Math.ceil(err.retryAfter)));
    const body: { error: { code: string; message: string; details?: unknown } } = {
      error: { code: err.code, message: err.message },
    };
    if (err.details) body.error.details = err.details;
    return c.json(body, status);
  }
  // Never echo an unexpected error's message: it may carry SQL, payloads or secrets.
  log?.error(
    { err: { name: (err as Error)?.name, stack: (err as Error)?.stack } },
    'unhandled error',
  );
  return c.json({ error: { code: 'internal_error', message: 'Internal server error.' } }, 500);
}

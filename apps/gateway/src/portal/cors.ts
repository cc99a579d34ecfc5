import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** Who may call the API from a browser. */
export interface ApiCorsOptions {
  /** Allowed origins; default `*` (any: requests carry bearer tokens, never cookies). */
  origins?: '*' | string[];
}

/**
 * CORS for `/v1/*`, so the portal components can run inside an operator's own app on another
 * origin. Bearer tokens travel in `Authorization`, never in cookies, so allowing any origin
 * exposes nothing a caller without a token could read.
 */
export function apiCors(options: ApiCorsOptions = {}): MiddlewareHandler {
  return cors({
    origin: options.origins ?? '*',
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    exposeHeaders: ['x-request-id', 'Retry-After'],
    maxAge: 600,
  });
}

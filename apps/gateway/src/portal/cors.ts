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
  const origins = options.origins ?? '*';
  const preflight = cors({
    origin: origins,
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  const exposed = EXPOSED_HEADERS.join(',');
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = c.req.header('origin');
    const allowed = origins === '*' ? '*' : origin && origins.includes(origin) ? origin : null;
    // Set with c.header() before the handler runs, so they go into its answer as it is made.
    // (hono/cors sets them on `c.res`, which makes Hono copy every answer into a new Response
    // with a web-stream body: a large share of a small request's CPU.)
    if (allowed) c.header('Access-Control-Allow-Origin', allowed);
    c.header('Access-Control-Expose-Headers', exposed);
    if (origins !== '*') c.header('Vary', 'Origin', { append: true });
    await next();
  };
}

const EXPOSED_HEADERS = ['x-request-id', 'Retry-After'];

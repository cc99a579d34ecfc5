import { type ApiRoute, type ErrorBody, parseRequest, toColonPath } from '@hookline/api';
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { type AuthDeps, authenticate, type Principal } from '../domain/auth';
import type { DomainDeps } from '../domain/deps';
import { GatewayError } from '../domain/errors';
import {
  assertJsonContentType,
  DEFAULT_BODY_LIMIT_BYTES,
  parseJsonBody,
  readBodyText,
} from './body';
import type { RateLimiter } from './rate-limit';

/** What every router module gets. */
export interface RouteContext {
  domain: DomainDeps;
  auth: AuthDeps;
  /** Request rate per API key and per portal token (429 beyond); absent = unlimited. */
  rateLimiters?: { api_key?: RateLimiter; portal?: RateLimiter };
  /** Told of each new message accepted (metrics). */
  onMessageAccepted?: () => void;
}

type OutputOf<R, K extends 'params' | 'query' | 'headers'> = R extends {
  [key in K]: infer S extends z.ZodType;
}
  ? z.output<S>
  : Record<string, never>;

type BodyOf<R> = R extends { body: { schema: infer S extends z.ZodType } }
  ? z.output<S>
  : undefined;

/** A request after authentication and validation against its route's schemas. */
export interface ValidatedRequest<R extends ApiRoute> {
  /** The caller; an API key with no id for routes without auth (never read there). */
  principal: Principal;
  params: OutputOf<R, 'params'>;
  query: OutputOf<R, 'query'>;
  headers: OutputOf<R, 'headers'>;
  body: BodyOf<R>;
  /** The body's text as received ('' when there was none). */
  rawBody: string;
  /** The body as `JSON.parse` gave it, before the schema applied defaults ({} when absent). */
  json: unknown;
}

/** Per-route options. */
export interface RouteOptions {
  /** Largest body in bytes (413 beyond); default 1 MiB. */
  bodyLimit?: number;
}

// A path parameter that fails its schema names something that cannot exist: 404, not 400.
const NOT_FOUND_BY_PREFIX: [string, string][] = [
  ['/v1/endpoints/', 'No endpoint with that id.'],
  ['/v1/messages/', 'No message with that id.'],
  ['/v1/deliveries/', 'No delivery with that id.'],
  ['/v1/event-types/', 'No event type with that name.'],
  ['/v1/tenants/', 'No such tenant.'],
];

/** The bucket of a credential: each API key, the configured admin key, each portal token. */
function rateKey(principal: Principal): string {
  return principal.kind === 'portal'
    ? `portal:${principal.tokenId}`
    : `api_key:${principal.keyId ?? 'configured'}`;
}

function assertWithinRate(limiter: RateLimiter, principal: Principal): void {
  const decision = limiter.take(rateKey(principal));
  if (decision.allowed) return;
  throw new GatewayError(
    'rate_limited',
    `Too many requests with this ${principal.kind === 'portal' ? 'portal token' : 'API key'}: ` +
      `at most ${limiter.perSecond} per second ` +
      `(bursts of ${limiter.burst}). Retry after ${decision.retryAfterSeconds} s.`,
    { retryAfter: decision.retryAfterSeconds },
  );
}

function notFoundFor(route: ApiRoute): GatewayError {
  const message =
    NOT_FOUND_BY_PREFIX.find(([prefix]) => route.path.startsWith(prefix))?.[1] ?? 'Not found.';
  return new GatewayError('not_found', message);
}

function invalid(error: ErrorBody): GatewayError {
  return new GatewayError('invalid_request', error.error.message, {
    details: error.error.details ?? [],
  });
}

function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
  location: 'query' | 'header' | 'body',
): z.output<S> {
  const parsed = parseRequest(schema, input, location);
  if (parsed.success) return parsed.data;
  if (location !== 'header') throw invalid(parsed.error);
  // Header names are not identifiers, so the generic path is `["idempotency-key"]`; name them bare.
  const bare = (text: string) => text.replace(/\["([a-z0-9-]+)"\]/g, '$1');
  throw new GatewayError('invalid_request', bare(parsed.error.error.message), {
    details: (parsed.error.error.details ?? []).map((d) => ({ ...d, path: bare(d.path) })),
  });
}

/**
 * Registers one route of the `@hookline/api` route table on a router: authenticates as the
 * route's `auth` demands, validates path, query, headers and body with the route's schemas (in
 * that order), and hands the handler the parsed values. Every refusal is a thrown
 * `GatewayError`, rendered by the app's one `onError`.
 *
 * Auth decisions: a missing, malformed, unknown, revoked or expired token is 401. A portal token
 * on a route whose auth is `api_key` (creating messages, reading messages, minting portal links,
 * changing the event type catalog) is also 401: the credential is not one that route accepts at
 * all, which is what 401 means, and there is no 403 in API.md. Resources outside a portal
 * token's scope are 404 (decided in `domain/`). Every authenticated request takes a token from
 * its credential's rate limit bucket first (429 with `Retry-After` when empty).
 */
export function mountRoute<R extends ApiRoute>(
  router: Hono,
  ctx: RouteContext,
  route: R,
  handler: (c: Context, request: ValidatedRequest<R>) => Promise<Response> | Response,
  options: RouteOptions = {},
): void {
  router.on(route.method.toUpperCase(), toColonPath(route.path), async (c) => {
    let principal: Principal = { kind: 'api_key', keyId: null };
    if (route.auth !== 'none') {
      principal = await authenticate(ctx.auth, c.req.header('authorization'));
      const limiter = ctx.rateLimiters?.[principal.kind];
      if (limiter) assertWithinRate(limiter, principal);
      if (route.auth === 'api_key' && principal.kind !== 'api_key') {
        throw new GatewayError(
          'unauthorized',
          'This call needs an operator API key (hl_sk_…); portal tokens cannot make it.',
        );
      }
    }

    let params: unknown = {};
    if (route.params) {
      const parsed = parseRequest(route.params, c.req.param(), 'path');
      if (!parsed.success) throw notFoundFor(route);
      params = parsed.data;
    }

    let query: unknown = {};
    if (route.query) {
      const repeated = Object.entries(c.req.queries())
        .filter(([, values]) => values.length > 1)
        .map(([name]) => ({ path: name, message: 'must be given at most once' }));
      if (repeated.length > 0) {
        throw new GatewayError(
          'invalid_request',
          `Invalid query parameters: ${repeated.map((d) => `${d.path} ${d.message}`).join('; ')}.`,
          { details: repeated },
        );
      }
      query = check(route.query, c.req.query(), 'query');
    }

    let headers: unknown = {};
    if (route.headers) {
      const present: Record<string, string> = {};
      for (const name of Object.keys(route.headers.shape)) {
        const value = c.req.header(name);
        if (value !== undefined) present[name] = value;
      }
      headers = check(route.headers, present, 'header');
    }

    let body: unknown;
    let rawBody = '';
    let json: unknown = {};
    if (route.body) {
      rawBody = await readBodyText(c.req.raw, options.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES);
      if (rawBody === '') {
        // An absent body is `{}` where every field is optional; elsewhere "is required".
        json = route.body.required ? undefined : {};
      } else {
        assertJsonContentType(c.req.header('content-type'));
        json = parseJsonBody(rawBody);
      }
      body = check(route.body.schema, json, 'body');
    }

    return handler(c, {
      principal,
      params,
      query,
      headers,
      body,
      rawBody,
      json,
    } as ValidatedRequest<R>);
  });
}

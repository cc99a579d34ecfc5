import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { AuthDeps } from '../domain/auth';
import type { DomainDeps } from '../domain/deps';
import { accessLogger, type Logger } from '../logger';
import type { HttpClient } from '../net/http-client';
import type { AddressPolicy } from '../net/policy';
import type { Resolver } from '../net/resolve';
import { apiCors, hostedPortalRoutes } from '../portal';
import type { Database } from '../storage/database';
import type { Store } from '../storage/store';
import { errorResponse } from './errors';
import { createRateLimiter, type RateLimitOptions } from './rate-limit';
import type { RouteContext } from './route';
import { deliveryRoutes } from './routes/deliveries';
import { endpointRoutes } from './routes/endpoints';
import { eventTypeRoutes } from './routes/event-types';
import { messageRoutes } from './routes/messages';
import { type MetricsSource, minimalMetrics, operationRoutes } from './routes/operations';
import { portalRoutes } from './routes/portal';
import { tenantRoutes } from './routes/tenants';

export type { MetricsSource } from './routes/operations';

/** Everything the HTTP app needs; `main.ts` builds it from the config. */
export interface AppDeps {
  store: Store;
  database: Database;
  logger: Logger;
  /** From net/ — used by POST /v1/endpoints/{id}/test. */
  httpClient: HttpClient;
  /** SSRF policy + resolver for URL checks at registration. */
  policy: AddressPolicy;
  resolve: Resolver;
  allowHttp: boolean;
  publicUrl: string;
  version: string;
  /** Gateway default retry schedule (seconds); endpoints with `retry_schedule: null` use it. */
  retrySchedule: number[];
  /** sha256 hex of keys accepted from HOOKLINE_API_KEY (besides those in the api_keys table). */
  adminKeyHashes?: string[];
  now?: () => Date;
  /** `/metrics` source (a prom-client Registry fits); default: a minimal `hookline_up` text. */
  metrics?: MetricsSource;
  /** `HOOKLINE_MAX_ENDPOINTS_PER_TENANT`; default 1000. */
  maxEndpointsPerTenant?: number;
  /** Request rate per API key (`HOOKLINE_API_RATE_LIMIT_PER_SECOND`), in this process; default none. */
  apiRateLimit?: RateLimitOptions;
  /** Request rate per portal token (`HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND`), in this process; default none. */
  portalRateLimit?: RateLimitOptions;
  /** Told of every request and every new message (metrics). */
  observer?: HttpObserver;
  /** True while the process shuts down: `/readyz` answers 503 so load balancers drain it. */
  draining?: () => boolean;
}

/** Request-level metric hooks (`metrics.ts` implements them). */
export interface HttpObserver {
  /** `route` is the matched route template (`/v1/endpoints/:id`) or `unmatched`, never a raw path. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** A new message was accepted (not an idempotent replay). */
  messageAccepted(): void;
}

/** The route label of a request: its template; requests no route matched share one label. */
function routeLabel(route: string, status: number): string {
  return route === '/*' || route === '*' || (status === 404 && route.endsWith('*'))
    ? 'unmatched'
    : route;
}

/** Counts a finished request by its route template (see `routeLabel`). */
function observe(
  deps: Pick<AppDeps, 'observer'>,
  method: string,
  route: string,
  status: number,
  startedAt: number,
): void {
  deps.observer?.request(
    method,
    routeLabel(route, status),
    status,
    (performance.now() - startedAt) / 1000,
  );
}

/** The operations routes' dependencies, the same in both apps. */
function operationsDeps(deps: OperationsAppDeps) {
  return {
    database: deps.database,
    version: deps.version,
    publicUrl: deps.publicUrl,
    metrics: deps.metrics ?? minimalMetrics(deps.version),
    ...(deps.draining ? { draining: deps.draining } : {}),
  };
}

/** What the operations-only app (a worker process's listener) needs. */
export type OperationsAppDeps = Pick<
  AppDeps,
  'database' | 'logger' | 'version' | 'publicUrl' | 'metrics' | 'observer' | 'draining'
>;

/**
 * `/healthz`, `/readyz`, `/metrics` and `/openapi.json` only: what a worker process
 * (`HOOKLINE_ROLE=worker`) serves, for health checks and scrapes. Everything else is 404.
 */
export function createOperationsApp(deps: OperationsAppDeps): Hono {
  const ctx = { domain: {}, auth: {} } as RouteContext;
  const app = new Hono();
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    observe(deps, c.req.method, routePath(c, -1), c.res.status, started);
  });
  app.route('/', operationRoutes(ctx, operationsDeps(deps)));
  app.notFound((c) =>
    c.json(
      { error: { code: 'not_found', message: 'There is no such route on a worker process.' } },
      404,
    ),
  );
  app.onError((err, c) => errorResponse(c, err, deps.logger, deps.database.unavailable));
  return app;
}

/** The gateway's HTTP app: every route of API.md, one `onError`, JSON 404s, request ids. */
export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? (() => new Date());
  const domain: DomainDeps = {
    store: deps.store,
    policy: deps.policy,
    resolve: deps.resolve,
    allowHttp: deps.allowHttp,
    httpClient: deps.httpClient,
    version: deps.version,
    publicUrl: deps.publicUrl,
    now,
    ...(deps.maxEndpointsPerTenant === undefined
      ? {}
      : { maxEndpointsPerTenant: deps.maxEndpointsPerTenant }),
  };
  const auth: AuthDeps = {
    store: deps.store,
    adminKeyHashes: new Set((deps.adminKeyHashes ?? []).map((hash) => hash.toLowerCase())),
    now,
  };
  const ctx: RouteContext = {
    domain,
    auth,
    rateLimiters: {
      ...(deps.apiRateLimit && deps.apiRateLimit.perSecond > 0
        ? { api_key: createRateLimiter(deps.apiRateLimit) }
        : {}),
      ...(deps.portalRateLimit && deps.portalRateLimit.perSecond > 0
        ? { portal: createRateLimiter(deps.portalRateLimit) }
        : {}),
    },
    ...(deps.observer ? { onMessageAccepted: () => deps.observer?.messageAccepted() } : {}),
  };

  const app = new Hono();
  // Its lines hold only the five fields written below, none of them secret: no redaction pass.
  const accessLog = accessLogger(deps.logger);
  // Echoes a well-formed incoming x-request-id (word characters, "-" and "=", ≤ 255), else a UUID.
  app.use(requestId({ headerName: 'x-request-id' }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const route = routePath(c, -1);
    // One line per request. Never the URL (query values), headers (tokens) or bodies.
    accessLog.info(
      {
        req_id: c.get('requestId'),
        method: c.req.method,
        route: route === '/*' || route === '*' ? null : route,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
    observe(deps, c.req.method, route, c.res.status, started);
  });

  // Browsers on the operator's own origin may call the API (portal components embedded there).
  app.use('/v1/*', apiCors());
  app.route('/', endpointRoutes(ctx));
  app.route('/', messageRoutes(ctx));
  app.route('/', deliveryRoutes(ctx));
  app.route('/', eventTypeRoutes(ctx));
  app.route('/', tenantRoutes(ctx));
  app.route('/', portalRoutes(ctx));
  app.route('/', hostedPortalRoutes());
  app.route('/', operationRoutes(ctx, operationsDeps(deps)));

  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: 'There is no such route.' } }, 404),
  );
  app.onError((err, c) =>
    errorResponse(
      c,
      err,
      deps.logger.child({ req_id: c.get('requestId') }),
      deps.database.unavailable,
    ),
  );
  return app;
}

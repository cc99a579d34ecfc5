import { apiRoutes, buildOpenApiDocument } from '@hookline/api';
import { Hono } from 'hono';
import { GatewayError } from '../../domain/errors';
import type { Database } from '../../storage/database';
import { mountRoute, type RouteContext } from '../route';

/** Where `/metrics` text comes from: a prom-client `Registry` fits as is. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string> | string;
}

/**
 * `/metrics` of an app made without a registry (tests that build the app alone): `hookline_up`
 * and `hookline_build_info` only. The gateway passes its prom-client registry (`metrics.ts`).
 */
export function minimalMetrics(version: string): MetricsSource {
  const text = [
    '# HELP hookline_up 1 while the gateway process serves requests.',
    '# TYPE hookline_up gauge',
    'hookline_up 1',
    '# HELP hookline_build_info The gateway version.',
    '# TYPE hookline_build_info gauge',
    `hookline_build_info{version=${JSON.stringify(version)}} 1`,
    '',
  ].join('\n');
  return { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: () => text };
}

/** `/healthz`, `/readyz`, `/metrics`, `/openapi.json`: no auth. */
export function operationRoutes(
  ctx: RouteContext,
  options: {
    database: Database;
    version: string;
    publicUrl: string;
    metrics: MetricsSource;
    /** True while the process shuts down: `/readyz` answers 503 so load balancers drain it. */
    draining?: () => boolean;
  },
): Hono {
  const router = new Hono();
  const openApi = JSON.stringify(
    buildOpenApiDocument({ version: options.version, serverUrl: options.publicUrl }),
  );

  mountRoute(router, ctx, apiRoutes.getHealth, (c) => c.json({ status: 'ok' as const }, 200));

  mountRoute(router, ctx, apiRoutes.getReadiness, async (c) => {
    if (options.draining?.()) throw new GatewayError('not_ready', 'The gateway is shutting down.');
    const ready = await isReady(options.database);
    if (!ready.ok) throw new GatewayError('not_ready', ready.reason);
    return c.json({ status: 'ready' as const }, 200);
  });

  mountRoute(router, ctx, apiRoutes.getMetrics, async (c) => {
    const text = await options.metrics.metrics();
    return c.body(text, 200, { 'content-type': options.metrics.contentType });
  });

  mountRoute(router, ctx, apiRoutes.getOpenApiDocument, (c) =>
    c.body(openApi, 200, { 'content-type': 'application/json; charset=utf-8' }),
  );

  return router;
}

async function isReady(database: Database): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!(await database.ping())) return { ok: false, reason: 'The database is not reachable.' };
  try {
    const status = await database.migrationStatus();
    if (!status.ready) {
      return { ok: false, reason: `${status.pending.length} database migration(s) are pending.` };
    }
  } catch {
    return { ok: false, reason: 'The database migration status could not be read.' };
  }
  return { ok: true };
}

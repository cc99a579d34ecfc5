import { apiRoutes } from '@hookline/api';
import { Hono } from 'hono';
import * as endpoints from '../../domain/endpoints';
import { memberSourceText } from '../body';
import { mountRoute, type RouteContext } from '../route';
import * as wire from '../serialize';

/** `/v1/endpoints…`: endpoint CRUD, secret rotation, test sends, stats and recovery. */
export function endpointRoutes(ctx: RouteContext): Hono {
  const router = new Hono();
  const deps = ctx.domain;

  mountRoute(router, ctx, apiRoutes.createEndpoint, async (c, { principal, body }) => {
    const created = await endpoints.createEndpoint(deps, principal, {
      tenantId: body.tenant_id,
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      status: body.status,
      rateLimitPerMinute: body.rate_limit_per_minute,
      retrySchedule: body.retry_schedule,
      headers: body.headers,
      metadata: body.metadata,
      secret: body.secret,
      signing: body.signing,
    });
    return c.json(wire.endpointWithSecret(created.endpoint, created.secret), 201);
  });

  mountRoute(router, ctx, apiRoutes.listEndpoints, async (c, { principal, query }) => {
    const found = await endpoints.listEndpoints(deps, principal, {
      tenantId: query.tenant_id,
      status: query.status,
      limit: query.limit,
      cursor: query.cursor,
    });
    return c.json(wire.page(found, wire.endpoint), 200);
  });

  mountRoute(router, ctx, apiRoutes.getEndpoint, async (c, { principal, params }) => {
    return c.json(wire.endpoint(await endpoints.getEndpoint(deps, principal, params.id)), 200);
  });

  mountRoute(router, ctx, apiRoutes.updateEndpoint, async (c, { principal, params, body }) => {
    const updated = await endpoints.updateEndpoint(deps, principal, params.id, {
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      status: body.status,
      rateLimitPerMinute: body.rate_limit_per_minute,
      retrySchedule: body.retry_schedule,
      headers: body.headers,
      metadata: body.metadata,
    });
    return c.json(wire.endpoint(updated), 200);
  });

  mountRoute(router, ctx, apiRoutes.deleteEndpoint, async (c, { principal, params }) => {
    await endpoints.deleteEndpoint(deps, principal, params.id);
    return c.body(null, 204);
  });

  mountRoute(
    router,
    ctx,
    apiRoutes.rotateEndpointSecret,
    async (c, { principal, params, body }) => {
      const rotated = await endpoints.rotateEndpointSecret(deps, principal, params.id, {
        gracePeriodSeconds: body.grace_period_seconds,
        secret: body.secret,
      });
      return c.json(wire.rotatedSecret(rotated), 200);
    },
  );

  mountRoute(
    router,
    ctx,
    apiRoutes.testEndpoint,
    async (c, { principal, params, body, rawBody }) => {
      const attempt = await endpoints.sendTestEvent(deps, principal, params.id, {
        eventType: body.event_type,
        payloadJson: body.payload === undefined ? undefined : memberSourceText(rawBody, 'payload'),
      });
      return c.json(wire.attempt(attempt), 200);
    },
  );

  mountRoute(router, ctx, apiRoutes.getEndpointStats, async (c, { principal, params, query }) => {
    const stats = await endpoints.endpointStats(deps, principal, params.id, query.window);
    return c.json(wire.endpointStats(stats), 200);
  });

  mountRoute(router, ctx, apiRoutes.recoverEndpoint, async (c, { principal, params, body }) => {
    const count = await endpoints.recoverEndpoint(deps, principal, params.id, new Date(body.since));
    return c.json({ count }, 202);
  });

  return router;
}

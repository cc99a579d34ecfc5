import { apiRoutes } from '@hookline/api';
import { Hono } from 'hono';
import * as deliveries from '../../domain/deliveries';
import { mountRoute, type RouteContext } from '../route';
import * as wire from '../serialize';

/** `/v1/deliveries…`: the delivery log and replays. */
export function deliveryRoutes(ctx: RouteContext): Hono {
  const router = new Hono();
  const deps = ctx.domain;

  mountRoute(router, ctx, apiRoutes.listDeliveries, async (c, { principal, query }) => {
    const found = await deliveries.listDeliveries(deps, principal, {
      endpointId: query.endpoint_id,
      tenantId: query.tenant_id,
      messageId: query.message_id,
      status: query.status,
      eventType: query.event_type,
      limit: query.limit,
      cursor: query.cursor,
    });
    return c.json(wire.page(found, wire.delivery), 200);
  });

  mountRoute(router, ctx, apiRoutes.getDelivery, async (c, { principal, params }) => {
    const found = await deliveries.getDelivery(deps, principal, params.id);
    return c.json(wire.deliveryWithAttempts(found), 200);
  });

  mountRoute(router, ctx, apiRoutes.replayDelivery, async (c, { principal, params }) => {
    const replayed = await deliveries.replayDelivery(deps, principal, params.id);
    return c.json(wire.delivery(replayed), 202);
  });

  return router;
}

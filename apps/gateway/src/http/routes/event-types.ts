import { apiRoutes } from '@hookline/api';
import { Hono } from 'hono';
import * as eventTypes from '../../domain/event-types';
import { mountRoute, type RouteContext } from '../route';
import * as wire from '../serialize';

/** `/v1/event-types…`: the event type catalog. */
export function eventTypeRoutes(ctx: RouteContext): Hono {
  const router = new Hono();
  const deps = ctx.domain;

  mountRoute(router, ctx, apiRoutes.createEventType, async (c, { principal, body }) => {
    const created = await eventTypes.createEventType(deps, principal, body);
    return c.json(wire.eventType(created), 201);
  });

  mountRoute(router, ctx, apiRoutes.listEventTypes, async (c, { principal, query }) => {
    const found = await eventTypes.listEventTypes(deps, principal, {
      limit: query.limit,
      cursor: query.cursor,
    });
    return c.json(wire.page(found, wire.eventType), 200);
  });

  mountRoute(router, ctx, apiRoutes.getEventType, async (c, { principal, params }) => {
    return c.json(wire.eventType(await eventTypes.getEventType(deps, principal, params.name)), 200);
  });

  mountRoute(router, ctx, apiRoutes.updateEventType, async (c, { principal, params, body }) => {
    const updated = await eventTypes.updateEventType(deps, principal, params.name, body);
    return c.json(wire.eventType(updated), 200);
  });

  mountRoute(router, ctx, apiRoutes.deleteEventType, async (c, { principal, params }) => {
    await eventTypes.deleteEventType(deps, principal, params.name);
    return c.body(null, 204);
  });

  return router;
}

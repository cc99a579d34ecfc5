import { apiRoutes } from '@hookline/api';
import { Hono } from 'hono';
import * as portal from '../../domain/portal';
import { mountRoute, type RouteContext } from '../route';
import * as wire from '../serialize';

/** `POST /v1/portal/links`. */
export function portalRoutes(ctx: RouteContext): Hono {
  const router = new Hono();

  mountRoute(router, ctx, apiRoutes.createPortalLink, async (c, { principal, body }) => {
    const link = await portal.createPortalLink(ctx.domain, principal, {
      tenantId: body.tenant_id,
      endpointId: body.endpoint_id,
      expiresInSeconds: body.expires_in_seconds,
    });
    return c.json(wire.portalLink(link), 201);
  });

  return router;
}

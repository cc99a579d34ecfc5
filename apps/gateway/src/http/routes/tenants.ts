import { apiRoutes } from '@hookline/api';
import { Hono } from 'hono';
import * as tenants from '../../domain/tenants';
import { mountRoute, type RouteContext } from '../route';
import * as wire from '../serialize';

/** `/v1/tenants/{tenant_id}/alert-channels`. */
export function tenantRoutes(ctx: RouteContext): Hono {
  const router = new Hono();
  const deps = ctx.domain;

  mountRoute(router, ctx, apiRoutes.getAlertChannels, async (c, { principal, params }) => {
    const channels = await tenants.getAlertChannels(deps, principal, params.tenant_id);
    return c.json(wire.alertChannels(channels), 200);
  });

  mountRoute(router, ctx, apiRoutes.putAlertChannels, async (c, { principal, params, body }) => {
    const channels = await tenants.putAlertChannels(deps, principal, params.tenant_id, {
      emails: body.emails,
      slackWebhookUrl: body.slack_webhook_url,
    });
    return c.json(wire.alertChannels(channels), 200);
  });

  return router;
}

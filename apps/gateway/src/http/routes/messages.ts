import { apiRoutes } from '@hookline/api';
import { Hono } from 'hono';
import * as messages from '../../domain/messages';
import { memberSourceText } from '../body';
import { mountRoute, type RouteContext } from '../route';
import * as wire from '../serialize';

/** `/v1/messages…`: send (with idempotency), list and get messages. Operator API keys only. */
export function messageRoutes(ctx: RouteContext): Hono {
  const router = new Hono();
  const deps = ctx.domain;

  mountRoute(
    router,
    ctx,
    apiRoutes.createMessage,
    async (c, { principal, headers, body, rawBody, json }) => {
      const key = headers['idempotency-key'];
      const created = await messages.createMessage(deps, principal, {
        tenantId: body.tenant_id,
        eventType: body.event_type,
        // The schema accepted `payload` as an object, so its source text is a JSON object.
        payloadJson: memberSourceText(rawBody, 'payload') ?? JSON.stringify(body.payload),
        endpointId: body.endpoint_id,
        idempotencyKey: key,
        requestHash: key === undefined ? undefined : messages.requestHash(json),
      });
      // As Stripe does: tells the client that this answer is a stored one.
      if (created.replayed) c.header('Idempotent-Replayed', 'true');
      else ctx.onMessageAccepted?.();
      return c.json(wire.messageAccepted(created.message), 202);
    },
    { bodyLimit: messages.MESSAGE_BODY_LIMIT_BYTES },
  );

  mountRoute(router, ctx, apiRoutes.listMessages, async (c, { principal, query }) => {
    const found = await messages.listMessages(deps, principal, {
      tenantId: query.tenant_id,
      eventType: query.event_type,
      limit: query.limit,
      cursor: query.cursor,
    });
    return c.json(wire.page(found, wire.message), 200);
  });

  mountRoute(router, ctx, apiRoutes.getMessage, async (c, { principal, params }) => {
    return c.json(wire.message(await messages.getMessage(deps, principal, params.id)), 200);
  });

  return router;
}

// The wire format of every method: what goes out (method, path, query, headers, body — each
// checked against the @hookline/api schemas of its route) and what comes back (camelCase, with
// free-form maps untouched).
import { type ApiOperationId, type ApiRoute, apiRoutes } from '@hookline/api';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { Hookline } from '../src/index';
import { FREE_FORM, sdk, wire } from './fixtures';
import { API_KEY, client, json, mockGateway } from './mock-gateway';

interface WireCase {
  name: string;
  operation: ApiOperationId;
  call: (hookline: Hookline) => Promise<unknown>;
  path: string;
  query?: Record<string, string>;
  /** The JSON body expected on the wire; absent: no body at all. */
  body?: unknown;
  response: { status: number; json?: unknown; text?: string; contentType?: string };
  result: unknown;
}

const ENDPOINT_ID = 'ep_2f8a';

const cases: WireCase[] = [
  {
    name: 'endpoints.create: snake_case body; header names and metadata keys exactly as given',
    operation: 'createEndpoint',
    call: (h) =>
      h.endpoints.create({
        tenantId: 'acme',
        url: 'https://acme.example/hooks',
        description: 'Default',
        eventTypes: ['invoice.paid'] as const,
        rateLimitPerMinute: 60,
        retrySchedule: [30, 300],
        headers: FREE_FORM.headers,
        metadata: FREE_FORM.metadata,
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        signing: 'hmac',
      }),
    path: '/v1/endpoints',
    body: {
      tenant_id: 'acme',
      url: 'https://acme.example/hooks',
      description: 'Default',
      event_types: ['invoice.paid'],
      rate_limit_per_minute: 60,
      retry_schedule: [30, 300],
      headers: { 'X-Api_Key': 'k1', 'x-tenant-tag': 'blue', x_trace_id: 't1' },
      metadata: { customerId: 'c_1', plan_tier: 'pro', 'Mixed-Key': 'v' },
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      signing: 'hmac',
    },
    response: { status: 201, json: wire.endpointWithSecret },
    result: sdk.endpointWithSecret,
  },
  {
    name: 'endpoints.list(…).page(): snake_case filters as query parameters',
    operation: 'listEndpoints',
    call: (h) => h.endpoints.list({ tenantId: 'acme', status: 'active', limit: 10 }).page(),
    path: '/v1/endpoints',
    query: { tenant_id: 'acme', status: 'active', limit: '10' },
    response: { status: 200, json: { data: [wire.endpoint], next_cursor: 'cur_2' } },
    result: { data: [sdk.endpoint], nextCursor: 'cur_2' },
  },
  {
    name: 'endpoints.get',
    operation: 'getEndpoint',
    call: (h) => h.endpoints.get(ENDPOINT_ID),
    path: `/v1/endpoints/${ENDPOINT_ID}`,
    response: { status: 200, json: wire.endpoint },
    result: sdk.endpoint,
  },
  {
    name: 'endpoints.update: PATCH with only the given fields; null stays null',
    operation: 'updateEndpoint',
    call: (h) =>
      h.endpoints.update(ENDPOINT_ID, {
        status: 'paused',
        rateLimitPerMinute: null,
        retrySchedule: null,
        description: undefined,
        headers: FREE_FORM.headers,
      }),
    path: `/v1/endpoints/${ENDPOINT_ID}`,
    body: {
      status: 'paused',
      rate_limit_per_minute: null,
      retry_schedule: null,
      headers: { 'X-Api_Key': 'k1', 'x-tenant-tag': 'blue', x_trace_id: 't1' },
    },
    response: { status: 200, json: wire.endpoint },
    result: sdk.endpoint,
  },
  {
    name: 'endpoints.delete: DELETE, resolves with nothing on 204',
    operation: 'deleteEndpoint',
    call: (h) => h.endpoints.delete(ENDPOINT_ID),
    path: `/v1/endpoints/${ENDPOINT_ID}`,
    response: { status: 204 },
    result: undefined,
  },
  {
    name: 'endpoints.rotateSecret with a grace period',
    operation: 'rotateEndpointSecret',
    call: (h) => h.endpoints.rotateSecret(ENDPOINT_ID, { gracePeriodSeconds: 3600 }),
    path: `/v1/endpoints/${ENDPOINT_ID}/rotate-secret`,
    body: { grace_period_seconds: 3600 },
    response: { status: 200, json: wire.rotated },
    result: sdk.rotated,
  },
  {
    name: 'endpoints.rotateSecret without params sends {}',
    operation: 'rotateEndpointSecret',
    call: (h) => h.endpoints.rotateSecret(ENDPOINT_ID),
    path: `/v1/endpoints/${ENDPOINT_ID}/rotate-secret`,
    body: {},
    response: { status: 200, json: wire.rotated },
    result: sdk.rotated,
  },
  {
    name: 'endpoints.sendTest: the payload keys are the user’s',
    operation: 'testEndpoint',
    call: (h) =>
      h.endpoints.sendTest(ENDPOINT_ID, { eventType: 'invoice.paid', payload: FREE_FORM.payload }),
    path: `/v1/endpoints/${ENDPOINT_ID}/test`,
    body: { event_type: 'invoice.paid', payload: FREE_FORM.payload },
    response: { status: 200, json: wire.attempt },
    result: sdk.attempt,
  },
  {
    name: 'endpoints.stats with a window',
    operation: 'getEndpointStats',
    call: (h) => h.endpoints.stats(ENDPOINT_ID, { window: '7d' }),
    path: `/v1/endpoints/${ENDPOINT_ID}/stats`,
    query: { window: '7d' },
    response: { status: 200, json: wire.stats },
    result: sdk.stats,
  },
  {
    name: 'endpoints.recover: a Date is sent as an RFC 3339 timestamp',
    operation: 'recoverEndpoint',
    call: (h) => h.endpoints.recover(ENDPOINT_ID, { since: new Date('2025-01-30T00:00:00Z') }),
    path: `/v1/endpoints/${ENDPOINT_ID}/recover`,
    body: { since: '2025-01-30T00:00:00.000Z' },
    response: { status: 202, json: wire.recover },
    result: { count: 3 },
  },
  {
    name: 'messages.create: snake_case envelope, the payload byte-for-byte the user’s',
    operation: 'createMessage',
    call: (h) =>
      h.messages.create({
        tenantId: 'acme',
        eventType: 'invoice.paid',
        payload: FREE_FORM.payload,
        endpointId: ENDPOINT_ID,
      }),
    path: '/v1/messages',
    body: {
      tenant_id: 'acme',
      event_type: 'invoice.paid',
      payload: FREE_FORM.payload,
      endpoint_id: ENDPOINT_ID,
    },
    response: { status: 202, json: wire.messageAccepted },
    result: sdk.messageAccepted,
  },
  {
    name: 'messages.list(…).page() from a cursor',
    operation: 'listMessages',
    call: (h) =>
      h.messages.list({ tenantId: 'acme', eventType: 'invoice.paid', cursor: 'cur_1' }).page(),
    path: '/v1/messages',
    query: { tenant_id: 'acme', event_type: 'invoice.paid', cursor: 'cur_1' },
    response: { status: 200, json: { data: [wire.message], next_cursor: null } },
    result: { data: [sdk.message], nextCursor: null },
  },
  {
    name: 'messages.get: the payload comes back with its own keys',
    operation: 'getMessage',
    call: (h) => h.messages.get('msg_1'),
    path: '/v1/messages/msg_1',
    response: { status: 200, json: wire.message },
    result: sdk.message,
  },
  {
    name: 'deliveries.list(…).page() with every filter',
    operation: 'listDeliveries',
    call: (h) =>
      h.deliveries
        .list({
          endpointId: ENDPOINT_ID,
          tenantId: 'acme',
          messageId: 'msg_1',
          status: 'dead',
          eventType: 'invoice.paid',
          limit: 250,
        })
        .page(),
    path: '/v1/deliveries',
    query: {
      endpoint_id: ENDPOINT_ID,
      tenant_id: 'acme',
      message_id: 'msg_1',
      status: 'dead',
      event_type: 'invoice.paid',
      limit: '250',
    },
    response: { status: 200, json: { data: [wire.delivery], next_cursor: null } },
    result: { data: [sdk.delivery], nextCursor: null },
  },
  {
    name: 'deliveries.get: attempts with their recorded headers untouched',
    operation: 'getDelivery',
    call: (h) => h.deliveries.get('dlv_1'),
    path: '/v1/deliveries/dlv_1',
    response: { status: 200, json: wire.deliveryWithAttempts },
    result: sdk.deliveryWithAttempts,
  },
  {
    name: 'deliveries.replay: POST without a body',
    operation: 'replayDelivery',
    call: (h) => h.deliveries.replay('dlv_1'),
    path: '/v1/deliveries/dlv_1/replay',
    response: { status: 202, json: wire.delivery },
    result: sdk.delivery,
  },
  {
    name: 'eventTypes.create: the JSON Schema and example keep their keys',
    operation: 'createEventType',
    call: (h) =>
      h.eventTypes.create({
        name: 'invoice.paid',
        description: 'An invoice was paid.',
        schema: { type: 'object', properties: { invoice_id: { type: 'string' } } },
        example: { invoice_id: 'in_1' },
      }),
    path: '/v1/event-types',
    body: {
      name: 'invoice.paid',
      description: 'An invoice was paid.',
      schema: { type: 'object', properties: { invoice_id: { type: 'string' } } },
      example: { invoice_id: 'in_1' },
    },
    response: { status: 201, json: wire.eventType },
    result: sdk.eventType,
  },
  {
    name: 'eventTypes.list(…).page()',
    operation: 'listEventTypes',
    call: (h) => h.eventTypes.list({ limit: 5 }).page(),
    path: '/v1/event-types',
    query: { limit: '5' },
    response: { status: 200, json: { data: [wire.eventType], next_cursor: 'cur_9' } },
    result: { data: [sdk.eventType], nextCursor: 'cur_9' },
  },
  {
    name: 'eventTypes.get',
    operation: 'getEventType',
    call: (h) => h.eventTypes.get('invoice.paid'),
    path: '/v1/event-types/invoice.paid',
    response: { status: 200, json: wire.eventType },
    result: sdk.eventType,
  },
  {
    name: 'eventTypes.update: null clears the schema',
    operation: 'updateEventType',
    call: (h) => h.eventTypes.update('invoice.paid', { description: 'Paid.', schema: null }),
    path: '/v1/event-types/invoice.paid',
    body: { description: 'Paid.', schema: null },
    response: { status: 200, json: wire.eventType },
    result: sdk.eventType,
  },
  {
    name: 'eventTypes.delete',
    operation: 'deleteEventType',
    call: (h) => h.eventTypes.delete('invoice.paid'),
    path: '/v1/event-types/invoice.paid',
    response: { status: 204 },
    result: undefined,
  },
  {
    name: 'tenants.getAlertChannels: the tenant id is URL-encoded in the path',
    operation: 'getAlertChannels',
    call: (h) => h.tenants.getAlertChannels('org:acme.eu-1'),
    path: '/v1/tenants/org%3Aacme.eu-1/alert-channels',
    response: { status: 200, json: { ...wire.alertChannels, tenant_id: 'org:acme.eu-1' } },
    result: { ...sdk.alertChannels, tenantId: 'org:acme.eu-1' },
  },
  {
    name: 'tenants.setAlertChannels: PUT, null clears Slack',
    operation: 'putAlertChannels',
    call: (h) =>
      h.tenants.setAlertChannels('acme', { emails: ['ops@acme.example'], slackWebhookUrl: null }),
    path: '/v1/tenants/acme/alert-channels',
    body: { emails: ['ops@acme.example'], slack_webhook_url: null },
    response: { status: 200, json: { ...wire.alertChannels, slack_webhook_url: null } },
    result: { ...sdk.alertChannels, slackWebhookUrl: null },
  },
  {
    name: 'portal.createLink',
    operation: 'createPortalLink',
    call: (h) =>
      h.portal.createLink({ tenantId: 'acme', endpointId: ENDPOINT_ID, expiresInSeconds: 600 }),
    path: '/v1/portal/links',
    body: { tenant_id: 'acme', endpoint_id: ENDPOINT_ID, expires_in_seconds: 600 },
    response: { status: 201, json: wire.portalLink },
    result: sdk.portalLink,
  },
  {
    name: 'operations.health: no credentials sent',
    operation: 'getHealth',
    call: (h) => h.operations.health(),
    path: '/healthz',
    response: { status: 200, json: { status: 'ok' } },
    result: { status: 'ok' },
  },
  {
    name: 'operations.readiness',
    operation: 'getReadiness',
    call: (h) => h.operations.readiness(),
    path: '/readyz',
    response: { status: 200, json: { status: 'ready' } },
    result: { status: 'ready' },
  },
  {
    name: 'operations.metrics: the Prometheus text as is',
    operation: 'getMetrics',
    call: (h) => h.operations.metrics(),
    path: '/metrics',
    response: {
      status: 200,
      text: '# TYPE hookline_up gauge\nhookline_up 1\n',
      contentType: 'text/plain; version=0.0.4',
    },
    result: '# TYPE hookline_up gauge\nhookline_up 1\n',
  },
  {
    name: 'operations.openApi: the document as served, keys not case-converted',
    operation: 'getOpenApiDocument',
    call: (h) => h.operations.openApi(),
    path: '/openapi.json',
    response: {
      status: 200,
      json: { openapi: '3.1.0', components: { schemas: { x: { required: ['tenant_id'] } } } },
    },
    result: { openapi: '3.1.0', components: { schemas: { x: { required: ['tenant_id'] } } } },
  },
];

const gateway = mockGateway();
beforeAll(() => gateway.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => gateway.reset());
afterAll(() => gateway.server.close());

function checkSchema(schema: z.ZodType | undefined, value: unknown, what: string): void {
  if (!schema) return;
  const parsed = schema.safeParse(value);
  expect(parsed.success, `${what}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
}

describe('the wire format of every method', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const route: ApiRoute = apiRoutes[c.operation];
    const responseSchema = route.responses[c.response.status]?.schema;
    if (c.response.json !== undefined) checkSchema(responseSchema, c.response.json, 'fixture');
    gateway.on(c.operation, () =>
      c.response.text !== undefined
        ? new HttpResponse(c.response.text, {
            status: c.response.status,
            headers: { 'content-type': c.response.contentType ?? 'text/plain' },
          })
        : c.response.json === undefined
          ? new HttpResponse(null, { status: c.response.status })
          : json(c.response.json, c.response.status),
    );

    const result = await c.call(client());

    expect(result).toEqual(c.result);
    expect(gateway.recorded).toHaveLength(1);
    const sent = gateway.recorded[0]!;
    expect(sent.operation).toBe(c.operation);
    expect(sent.method).toBe(route.method.toUpperCase());
    expect(sent.url.pathname).toBe(c.path);
    expect(Object.fromEntries(sent.url.searchParams)).toEqual(c.query ?? {});
    checkSchema(route.query, Object.fromEntries(sent.url.searchParams), 'query');
    checkSchema(route.params, sent.params, 'path parameters');

    if (route.auth === 'none') expect(sent.headers.get('authorization')).toBeNull();
    else expect(sent.headers.get('authorization')).toBe(`Bearer ${API_KEY}`);
    expect(sent.headers.get('user-agent')).toMatch(/^hookline-sdk-js\//);

    if (c.body === undefined) {
      expect(sent.body).toBe('');
      expect(sent.headers.get('content-type')).toBeNull();
    } else {
      expect(sent.headers.get('content-type')).toBe('application/json');
      const body = JSON.parse(sent.body);
      expect(body).toEqual(c.body);
      checkSchema(route.body?.schema, body, 'body');
    }
    if (c.operation === 'createMessage') {
      expect(sent.headers.get('idempotency-key')).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    } else {
      expect(sent.headers.get('idempotency-key')).toBeNull();
    }
  });

  it('covers every route of the API', () => {
    const covered = new Set(cases.map((c) => c.operation));
    expect([...covered].sort()).toEqual(Object.keys(apiRoutes).sort());
  });

  it('keeps a `__proto__` key of a payload as a plain key, both ways', async () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object;
    gateway.on('createMessage', () => json(wire.messageAccepted, 202));
    gateway.on(
      'getMessage',
      () =>
        new HttpResponse(
          JSON.stringify({ ...wire.message, payload: undefined }).replace(
            '}',
            ',"payload":{"__proto__":{"polluted":true},"ok":1}}',
          ),
          { status: 200, headers: { 'content-type': 'application/json' } },
        ),
    );
    const h = client();
    await h.messages.create({ tenantId: 'acme', eventType: 'a.b', payload });
    expect(gateway.calls('createMessage')[0]!.body).toContain(
      '"payload":{"__proto__":{"polluted":true},"ok":1}',
    );
    const message = await h.messages.get('msg_1');
    expect(Object.keys(message.payload)).toEqual(['__proto__', 'ok']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

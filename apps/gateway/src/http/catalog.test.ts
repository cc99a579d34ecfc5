import { apiRoutes, type EndpointWithSecret, type EventType } from '@hookline/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../domain/auth';
import { sql } from '../storage/sql';
import {
  call,
  expectError,
  expectInvalid,
  expectResponse,
  openTestGateway,
  type TestGateway,
} from './test-helpers';

let gw: TestGateway;
let app: ReturnType<TestGateway['app']>;
let tokenA: string;

type Page<T> = { data: T[]; next_cursor: string | null };
type Link = { url: string; token: string; expires_at: string };

async function mint(body: Record<string, unknown>, on = app): Promise<Link> {
  const response = await call(on, 'POST', '/v1/portal/links', { token: gw.apiKey, body });
  return expectResponse<Link>(response, apiRoutes.createPortalLink, 201);
}

async function createEventType(body: Record<string, unknown>): Promise<EventType> {
  const response = await call(app, 'POST', '/v1/event-types', { token: gw.apiKey, body });
  return expectResponse<EventType>(response, apiRoutes.createEventType, 201);
}

beforeAll(async () => {
  gw = await openTestGateway();
  app = gw.app();
  tokenA = (await mint({ tenant_id: 'tenant-a' })).token;
});

afterAll(async () => {
  await gw?.close();
});

describe('event types', () => {
  it('creates an event type with 201 and reads it back', async () => {
    const created = await createEventType({
      name: 'invoice.paid',
      description: 'An invoice was paid.',
      schema: { type: 'object', properties: { amount: { type: 'integer' } } },
      example: { amount: 100 },
    });
    expect(created).toMatchObject({
      name: 'invoice.paid',
      description: 'An invoice was paid.',
      schema: { type: 'object', properties: { amount: { type: 'integer' } } },
      example: { amount: 100 },
    });
    const got = await expectResponse<EventType>(
      await call(app, 'GET', '/v1/event-types/invoice.paid', { token: gw.apiKey }),
      apiRoutes.getEventType,
      200,
    );
    expect(got).toEqual(created);
    const minimal = await createEventType({ name: 'invoice.minimal' });
    expect(minimal).toMatchObject({ description: '', schema: null, example: null });
  });

  it('answers 409 conflict for a name already in the catalog', async () => {
    await createEventType({ name: 'dup.name' });
    await expectError(
      await call(app, 'POST', '/v1/event-types', { token: gw.apiKey, body: { name: 'dup.name' } }),
      409,
      'conflict',
    );
  });

  it('names every bad field', async () => {
    await expectInvalid(
      await call(app, 'POST', '/v1/event-types', {
        token: gw.apiKey,
        body: {
          name: 'Invoice Paid',
          description: 'x'.repeat(1025),
          schema: 'object',
          example: [1],
          version: 2,
        },
      }),
      ['name', 'description', 'schema', 'example', 'version'],
    );
    await expectInvalid(
      await call(app, 'POST', '/v1/event-types', { token: gw.apiKey, body: {} }),
      ['name'],
    );
  });

  it('lists the catalog newest first with pagination, for API keys and portal tokens', async () => {
    await createEventType({ name: 'list.one' });
    await createEventType({ name: 'list.two' });
    const page1 = await expectResponse<Page<EventType>>(
      await call(app, 'GET', '/v1/event-types?limit=1', { token: tokenA }),
      apiRoutes.listEventTypes,
      200,
    );
    expect(page1.data.map((t) => t.name)).toEqual(['list.two']);
    const page2 = await expectResponse<Page<EventType>>(
      await call(
        app,
        'GET',
        `/v1/event-types?limit=1&cursor=${encodeURIComponent(page1.next_cursor!)}`,
        { token: gw.apiKey },
      ),
      apiRoutes.listEventTypes,
      200,
    );
    expect(page2.data.map((t) => t.name)).toEqual(['list.one']);
    await expectInvalid(
      await call(app, 'GET', '/v1/event-types?limit=300&archived=true', { token: gw.apiKey }),
      ['limit', 'archived'],
    );
  });

  it('lets a portal token read but never change the catalog (401)', async () => {
    await createEventType({ name: 'portal.read' });
    await expectResponse(
      await call(app, 'GET', '/v1/event-types/portal.read', { token: tokenA }),
      apiRoutes.getEventType,
      200,
    );
    await expectError(
      await call(app, 'POST', '/v1/event-types', { token: tokenA, body: { name: 'portal.new' } }),
      401,
      'unauthorized',
    );
    await expectError(
      await call(app, 'PATCH', '/v1/event-types/portal.read', {
        token: tokenA,
        body: { description: 'x' },
      }),
      401,
      'unauthorized',
    );
    await expectError(
      await call(app, 'DELETE', '/v1/event-types/portal.read', { token: tokenA }),
      401,
      'unauthorized',
    );
  });

  it('patches the given fields; null clears schema and example', async () => {
    await createEventType({ name: 'patch.me', description: 'old', schema: { a: 1 }, example: {} });
    const body = await expectResponse<EventType>(
      await call(app, 'PATCH', '/v1/event-types/patch.me', {
        token: gw.apiKey,
        body: { description: 'new', schema: null },
      }),
      apiRoutes.updateEventType,
      200,
    );
    expect(body).toMatchObject({ description: 'new', schema: null, example: {} });
    await expectInvalid(
      await call(app, 'PATCH', '/v1/event-types/patch.me', {
        token: gw.apiKey,
        body: { name: 'renamed', example: 'x' },
      }),
      ['name', 'example'],
    );
  });

  it('answers 404 for an unknown or malformed name', async () => {
    for (const name of ['no.such.type', 'Bad%20Name', 'a..b']) {
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { description: 'x' }],
        ['DELETE', undefined],
      ] as const) {
        await expectError(
          await call(app, method, `/v1/event-types/${name}`, { token: gw.apiKey, body }),
          404,
          'not_found',
        );
      }
    }
  });

  it('deletes with 204 (archived: gone from the API) and lets the name be created again', async () => {
    await createEventType({ name: 'delete.me', description: 'first' });
    const response = await call(app, 'DELETE', '/v1/event-types/delete.me', { token: gw.apiKey });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    await expectError(
      await call(app, 'GET', '/v1/event-types/delete.me', { token: gw.apiKey }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'DELETE', '/v1/event-types/delete.me', { token: gw.apiKey }),
      404,
      'not_found',
    );
    const list = await expectResponse<Page<EventType>>(
      await call(app, 'GET', '/v1/event-types?limit=250', { token: gw.apiKey }),
      apiRoutes.listEventTypes,
      200,
    );
    expect(list.data.map((t) => t.name)).not.toContain('delete.me');
    expect((await gw.store.eventTypes.get('delete.me'))?.archivedAt).toBeInstanceOf(Date);
    const again = await createEventType({ name: 'delete.me', description: 'second' });
    expect(again).toMatchObject({ name: 'delete.me', description: 'second', schema: null });
  });
});

describe('tenant alert channels', () => {
  it('answers empty channels for a tenant that never set any', async () => {
    const body = await expectResponse(
      await call(app, 'GET', '/v1/tenants/fresh-tenant/alert-channels', { token: gw.apiKey }),
      apiRoutes.getAlertChannels,
      200,
    );
    expect(body).toEqual({ tenant_id: 'fresh-tenant', emails: [], slack_webhook_url: null });
  });

  it('replaces the channels with PUT: absent channels are cleared', async () => {
    const set = await expectResponse(
      await call(app, 'PUT', '/v1/tenants/tenant-x/alert-channels', {
        token: gw.apiKey,
        body: { emails: ['ops@example.com'], slack_webhook_url: 'https://hooks.slack.com/T/B/x' },
      }),
      apiRoutes.putAlertChannels,
      200,
    );
    expect(set).toEqual({
      tenant_id: 'tenant-x',
      emails: ['ops@example.com'],
      slack_webhook_url: 'https://hooks.slack.com/T/B/x',
    });
    const got = await expectResponse(
      await call(app, 'GET', '/v1/tenants/tenant-x/alert-channels', { token: gw.apiKey }),
      apiRoutes.getAlertChannels,
      200,
    );
    expect(got).toEqual(set);
    const cleared = await expectResponse(
      await call(app, 'PUT', '/v1/tenants/tenant-x/alert-channels', {
        token: gw.apiKey,
        body: { emails: ['ops@example.com'] },
      }),
      apiRoutes.putAlertChannels,
      200,
    );
    expect(cleared).toEqual({
      tenant_id: 'tenant-x',
      emails: ['ops@example.com'],
      slack_webhook_url: null,
    });
  });

  it('names every bad field', async () => {
    await expectInvalid(
      await call(app, 'PUT', '/v1/tenants/tenant-x/alert-channels', {
        token: gw.apiKey,
        body: { emails: ['not-an-email'], slack_webhook_url: 'slack', sms: '123' },
      }),
      ['emails[0]', 'slack_webhook_url', 'sms'],
    );
    await expectInvalid(
      await call(app, 'PUT', '/v1/tenants/tenant-x/alert-channels', {
        token: gw.apiKey,
        body: { emails: Array.from({ length: 21 }, (_, i) => `a${i}@example.com`) },
      }),
      ['emails'],
    );
  });

  it('holds the Slack URL to the endpoint URL policy', async () => {
    for (const url of ['http://hooks.slack.com/x', 'https://private.example.test/x']) {
      const body = await expectInvalid(
        await call(app, 'PUT', '/v1/tenants/tenant-x/alert-channels', {
          token: gw.apiKey,
          body: { slack_webhook_url: url },
        }),
        ['slack_webhook_url'],
        'url_not_allowed',
      );
      expect(JSON.stringify(body)).not.toContain('10.0.0.1');
    }
  });

  it("lets a portal token manage its own tenant's channels and 404s any other tenant", async () => {
    await expectResponse(
      await call(app, 'PUT', '/v1/tenants/tenant-a/alert-channels', {
        token: tokenA,
        body: { emails: ['a@example.com'] },
      }),
      apiRoutes.putAlertChannels,
      200,
    );
    await expectResponse(
      await call(app, 'GET', '/v1/tenants/tenant-a/alert-channels', { token: tokenA }),
      apiRoutes.getAlertChannels,
      200,
    );
    await call(app, 'PUT', '/v1/tenants/tenant-b/alert-channels', {
      token: gw.apiKey,
      body: { emails: ['b@example.com'] },
    });
    await expectError(
      await call(app, 'GET', '/v1/tenants/tenant-b/alert-channels', { token: tokenA }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'PUT', '/v1/tenants/tenant-b/alert-channels', {
        token: tokenA,
        body: { emails: ['evil@example.com'] },
      }),
      404,
      'not_found',
    );
    expect((await gw.store.alertChannels.get('tenant-b')).emails).toEqual(['b@example.com']);
  });

  it('answers 404 for a malformed tenant id in the path', async () => {
    await expectError(
      await call(app, 'GET', '/v1/tenants/bad%20tenant/alert-channels', { token: gw.apiKey }),
      404,
      'not_found',
    );
  });
});

describe('POST /v1/portal/links', () => {
  it('mints a token stored only as its hash and a portal URL carrying it in the fragment', async () => {
    const before = Date.now();
    const link = await mint({ tenant_id: 'tenant-p' });
    expect(link.token).toMatch(/^hl_pt_[A-Za-z0-9_-]{43}$/);
    expect(link.url).toBe(
      `https://hooks.example.com/portal#token=${link.token}&tenant_id=tenant-p`,
    );
    const expires = Date.parse(link.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1000);
    const rows = await gw.database.sql.query<{ token_hash: string }>(
      sql`select token_hash from portal_tokens where tenant_id = ${'tenant-p'}`,
    );
    expect(rows.map((r) => r.token_hash)).toEqual([hashToken(link.token)]);
    await expectResponse(
      await call(app, 'GET', '/v1/endpoints', { token: link.token }),
      apiRoutes.listEndpoints,
      200,
    );
  });

  it('honours expires_in_seconds, and the token stops working when it expires', async () => {
    const link = await mint({ tenant_id: 'tenant-p', expires_in_seconds: 60 });
    expect(Date.parse(link.expires_at) - Date.now()).toBeLessThanOrEqual(61_000);
    const twoHoursAgo = gw.app({ now: () => new Date(Date.now() - 7_200_000) });
    const stale = await mint({ tenant_id: 'tenant-p', expires_in_seconds: 3600 }, twoHoursAgo);
    await expectError(
      await call(app, 'GET', '/v1/endpoints', { token: stale.token }),
      401,
      'unauthorized',
    );
  });

  it('binds a token to one endpoint of the tenant, and 404s an endpoint of another tenant', async () => {
    const created = await call(app, 'POST', '/v1/endpoints', {
      token: gw.apiKey,
      body: { tenant_id: 'tenant-p', url: 'https://hooks.example.com/p' },
    });
    const endpoint = await expectResponse<EndpointWithSecret>(
      created,
      apiRoutes.createEndpoint,
      201,
    );
    const link = await mint({ tenant_id: 'tenant-p', endpoint_id: endpoint.id });
    const list = await expectResponse<Page<{ id: string }>>(
      await call(app, 'GET', '/v1/endpoints', { token: link.token }),
      apiRoutes.listEndpoints,
      200,
    );
    expect(list.data.map((e) => e.id)).toEqual([endpoint.id]);
    for (const endpointId of [endpoint.id, 'ep_00000000000000000000000000']) {
      await expectError(
        await call(app, 'POST', '/v1/portal/links', {
          token: gw.apiKey,
          body: { tenant_id: 'tenant-q', endpoint_id: endpointId },
        }),
        404,
        'not_found',
      );
    }
  });

  it('names every bad field', async () => {
    await expectInvalid(
      await call(app, 'POST', '/v1/portal/links', { token: gw.apiKey, body: {} }),
      ['tenant_id'],
    );
    for (const seconds of [59, 604_801, 1.5]) {
      await expectInvalid(
        await call(app, 'POST', '/v1/portal/links', {
          token: gw.apiKey,
          body: { tenant_id: 't', expires_in_seconds: seconds },
        }),
        ['expires_in_seconds'],
      );
    }
    await expectInvalid(
      await call(app, 'POST', '/v1/portal/links', {
        token: gw.apiKey,
        body: { tenant_id: 't t', endpoint_id: 'ep', scope: 'all' },
      }),
      ['tenant_id', 'endpoint_id', 'scope'],
    );
  });

  it('refuses portal tokens with 401: they cannot mint links', async () => {
    await expectError(
      await call(app, 'POST', '/v1/portal/links', {
        token: tokenA,
        body: { tenant_id: 'tenant-a' },
      }),
      401,
      'unauthorized',
    );
  });

  it('never writes a portal token to the log', () => {
    const log = gw.logLines.join('\n');
    expect(log).not.toContain('hl_pt_');
    expect(log).not.toContain(gw.apiKey);
  });
});

/**
 * Tenant isolation, route by route: a portal token of tenant A that names anything of tenant B
 * (ids in the path, list filters, body fields) gets exactly the answer it would get for an id
 * that does not exist, so it learns nothing; routes a portal token may not use refuse it; and
 * expired or revoked tokens get 401 everywhere. Every route of `@hookline/api` must have a probe
 * here, so a new route cannot be forgotten. Runs on PGlite and (with HOOKLINE_TEST_DATABASE_URL)
 * PostgreSQL.
 */
import { type ApiOperationId, apiRouteList } from '@hookline/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePortalToken, hashToken } from '../../src/domain/auth';
import { newId } from '../../src/domain/ids';
import { revokePortalToken } from '../../src/domain/portal';
import { createApp } from '../../src/http/app';
import { type CallOptions, call } from '../../src/http/test-helpers';
import { createLogger } from '../../src/logger';
import { createHttpClient, type HttpClient } from '../../src/net/http-client';
import { createAddressPolicy } from '../../src/net/policy';
import { attemptInput, testDrivers, useTestDatabase } from '../databases';
import { dialRecorder, PUBLIC_V4, scriptedResolver } from './support';

/** The things of one tenant a probe may name. */
interface Ids {
  tenant: string;
  endpoint: string;
  message: string;
  delivery: string;
}

interface Req {
  method: string;
  path: string;
  options?: Omit<CallOptions, 'token'>;
}

/**
 * How a route treats a portal token of another tenant:
 * - `scoped`: tenant data; each request naming B's things must answer exactly as the same
 *   request naming things that do not exist (and, to prove the probe is real, an API key gets a
 *   2xx for B's and a 404 for the ghost's);
 * - `operator`: portal tokens are refused with 401 whatever they name;
 * - `catalog`: operator-wide data with no tenant (the event type catalog), readable by any token;
 * - `public`: no auth at all.
 */
type Probe =
  | { kind: 'scoped'; requests: (ids: Ids) => Req[] }
  | { kind: 'operator'; request: (ids: Ids) => Req }
  | { kind: 'catalog'; request: Req }
  | { kind: 'public' };

const SINCE = '2000-01-01T00:00:00.000Z';

const PROBES: Record<ApiOperationId, Probe> = {
  createEndpoint: {
    kind: 'scoped',
    requests: (b) => [
      {
        method: 'POST',
        path: '/v1/endpoints',
        options: { body: { tenant_id: b.tenant, url: 'https://public.test/new' } },
      },
    ],
  },
  listEndpoints: {
    kind: 'scoped',
    requests: (b) => [{ method: 'GET', path: `/v1/endpoints?tenant_id=${b.tenant}` }],
  },
  getEndpoint: {
    kind: 'scoped',
    requests: (b) => [{ method: 'GET', path: `/v1/endpoints/${b.endpoint}` }],
  },
  updateEndpoint: {
    kind: 'scoped',
    requests: (b) => [
      {
        method: 'PATCH',
        path: `/v1/endpoints/${b.endpoint}`,
        options: { body: { description: 'taken over' } },
      },
      // A URL the policy refuses must not reveal that the endpoint exists either.
      {
        method: 'PATCH',
        path: `/v1/endpoints/${b.endpoint}`,
        options: { body: { url: 'https://10.0.0.1/' } },
      },
    ],
  },
  deleteEndpoint: {
    kind: 'scoped',
    requests: (b) => [{ method: 'DELETE', path: `/v1/endpoints/${b.endpoint}` }],
  },
  rotateEndpointSecret: {
    kind: 'scoped',
    requests: (b) => [
      {
        method: 'POST',
        path: `/v1/endpoints/${b.endpoint}/rotate-secret`,
        options: { body: { grace_period_seconds: 0 } },
      },
    ],
  },
  testEndpoint: {
    kind: 'scoped',
    requests: (b) => [{ method: 'POST', path: `/v1/endpoints/${b.endpoint}/test` }],
  },
  getEndpointStats: {
    kind: 'scoped',
    requests: (b) => [{ method: 'GET', path: `/v1/endpoints/${b.endpoint}/stats?window=24h` }],
  },
  recoverEndpoint: {
    kind: 'scoped',
    requests: (b) => [
      {
        method: 'POST',
        path: `/v1/endpoints/${b.endpoint}/recover`,
        options: { body: { since: SINCE } },
      },
    ],
  },
  createMessage: {
    kind: 'operator',
    request: (b) => ({
      method: 'POST',
      path: '/v1/messages',
      options: {
        body: { tenant_id: b.tenant, event_type: 'a.b', payload: {}, endpoint_id: b.endpoint },
      },
    }),
  },
  listMessages: {
    kind: 'operator',
    request: (b) => ({ method: 'GET', path: `/v1/messages?tenant_id=${b.tenant}` }),
  },
  getMessage: {
    kind: 'operator',
    request: (b) => ({ method: 'GET', path: `/v1/messages/${b.message}` }),
  },
  listDeliveries: {
    kind: 'scoped',
    requests: (b) => [
      { method: 'GET', path: `/v1/deliveries?tenant_id=${b.tenant}` },
      { method: 'GET', path: `/v1/deliveries?endpoint_id=${b.endpoint}` },
      { method: 'GET', path: `/v1/deliveries?message_id=${b.message}` },
    ],
  },
  getDelivery: {
    kind: 'scoped',
    requests: (b) => [{ method: 'GET', path: `/v1/deliveries/${b.delivery}` }],
  },
  replayDelivery: {
    kind: 'scoped',
    requests: (b) => [{ method: 'POST', path: `/v1/deliveries/${b.delivery}/replay` }],
  },
  createEventType: {
    kind: 'operator',
    request: () => ({
      method: 'POST',
      path: '/v1/event-types',
      options: { body: { name: 'x.y' } },
    }),
  },
  listEventTypes: { kind: 'catalog', request: { method: 'GET', path: '/v1/event-types' } },
  getEventType: {
    kind: 'catalog',
    request: { method: 'GET', path: '/v1/event-types/shared.event' },
  },
  updateEventType: {
    kind: 'operator',
    request: () => ({
      method: 'PATCH',
      path: '/v1/event-types/shared.event',
      options: { body: { description: 'taken over' } },
    }),
  },
  deleteEventType: {
    kind: 'operator',
    request: () => ({ method: 'DELETE', path: '/v1/event-types/shared.event' }),
  },
  getAlertChannels: {
    kind: 'scoped',
    requests: (b) => [{ method: 'GET', path: `/v1/tenants/${b.tenant}/alert-channels` }],
  },
  putAlertChannels: {
    kind: 'scoped',
    requests: (b) => [
      {
        method: 'PUT',
        path: `/v1/tenants/${b.tenant}/alert-channels`,
        options: { body: { emails: ['attacker@example.com'] } },
      },
    ],
  },
  createPortalLink: {
    kind: 'operator',
    request: (b) => ({
      method: 'POST',
      path: '/v1/portal/links',
      options: { body: { tenant_id: b.tenant, endpoint_id: b.endpoint } },
    }),
  },
  getHealth: { kind: 'public' },
  getReadiness: { kind: 'public' },
  getMetrics: { kind: 'public' },
  getOpenApiDocument: { kind: 'public' },
};

const authedRoutes = apiRouteList.filter((route) => route.auth !== 'none');

/** A request for `route` with its path parameters filled from `ids` (for the 401 sweeps). */
function anyRequest(operationId: ApiOperationId, ids: Ids): Req {
  const probe = PROBES[operationId];
  switch (probe.kind) {
    case 'scoped':
      return probe.requests(ids)[0]!;
    case 'operator':
      return probe.request(ids);
    case 'catalog':
      return probe.request;
    case 'public':
      throw new Error(`${operationId} needs no token.`);
  }
}

describe('every route has an isolation probe', () => {
  it('covers each route of @hookline/api, and its auth kind matches the route table', () => {
    for (const route of apiRouteList) {
      const probe = PROBES[route.operationId as ApiOperationId];
      expect(probe, `no isolation probe for ${route.operationId}`).toBeDefined();
      const expected =
        route.auth === 'none'
          ? ['public']
          : route.auth === 'api_key'
            ? ['operator']
            : ['scoped', 'catalog'];
      expect(expected, route.operationId).toContain(probe.kind);
    }
    expect(Object.keys(PROBES).sort()).toEqual(apiRouteList.map((r) => r.operationId).sort());
  });
});

describe.each(testDrivers)('tenant isolation (%s)', (driver) => {
  const t = useTestDatabase(driver, { reset: false });
  const dials = dialRecorder();
  let app: ReturnType<typeof createApp>;
  let client: HttpClient;
  const apiKey = `hl_sk_${'i'.repeat(43)}`;
  let tokenA: string;
  let now = new Date();

  /** A fresh endpoint, message, delivery and attempt of `tenant`, straight into the store. */
  async function tenantData(tenant: string): Promise<Ids> {
    const endpoint = await t.store.endpoints.create({
      tenantId: tenant,
      url: 'https://public.test/hook',
      secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
    });
    const sent = await t.store.messages.create({
      tenantId: tenant,
      eventType: 'shared.event',
      payloadJson: `{"secret":"of-${tenant}"}`,
    });
    if (sent.kind !== 'created') throw new Error(sent.kind);
    const claimed = await t.store.queue.createTestDelivery({
      tenantId: tenant,
      endpointId: endpoint.id,
      eventType: 'shared.event',
      payloadJson: '{}',
      workerId: 'isolation-test',
      leaseMs: 60_000,
    });
    if (!claimed) throw new Error('no test delivery');
    const recorded = await t.store.queue.recordOutcome({
      deliveryId: claimed.id,
      leaseToken: claimed.leaseToken,
      status: 'failed',
      nextAttemptAt: null,
      attempt: attemptInput({ outcome: 'http_5xx', httpStatus: 500 }),
    });
    expect(recorded.attemptId).toMatch(/^att_/);
    const [delivery] = (await t.store.deliveries.list({ messageId: sent.message.id })).data;
    return { tenant, endpoint: endpoint.id, message: sent.message.id, delivery: delivery!.id };
  }

  const ghost = (): Ids => ({
    tenant: `tenant-ghost-${Math.random().toString(36).slice(2, 8)}`,
    endpoint: newId('ep'),
    message: newId('msg'),
    delivery: newId('dlv'),
  });

  async function send(token: string, req: Req): Promise<{ status: number; text: string }> {
    const response = await call(app, req.method, req.path, { token, ...req.options });
    return { status: response.status, text: await response.text() };
  }

  async function mint(body: Record<string, unknown>): Promise<string> {
    const response = await call(app, 'POST', '/v1/portal/links', { token: apiKey, body });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  beforeAll(async () => {
    const policy = createAddressPolicy({ allowHttp: false, allowNetworks: [] });
    const resolve = scriptedResolver({ 'public.test': [PUBLIC_V4] });
    client = createHttpClient({ policy, resolve, beforeConnect: dials.hook, timeoutMs: 2_000 });
    app = createApp({
      store: t.store,
      database: t.database,
      logger: createLogger({ level: 'silent' }),
      httpClient: client,
      policy,
      resolve,
      allowHttp: false,
      publicUrl: 'https://hooks.example.com',
      version: '0.0.0-test',
      retrySchedule: [30],
      adminKeyHashes: [hashToken(apiKey)],
      now: () => now,
    });
    await t.store.eventTypes.create({ name: 'shared.event' });
    await tenantData('tenant-a');
    tokenA = await mint({ tenant_id: 'tenant-a' });
  });

  afterAll(async () => {
    await client?.close();
    // Deliveries the API key's probes sent went to public.test, which the dial hook refused.
    expect(dials.dialled.every((d) => d.address === PUBLIC_V4)).toBe(true);
  });

  const scoped = authedRoutes.filter(
    (route) => PROBES[route.operationId as ApiOperationId].kind === 'scoped',
  );

  it.each(scoped.map((r) => [r.operationId, r] as const))(
    "%s: tenant A's portal token learns nothing about tenant B",
    async (operationId) => {
      const probe = PROBES[operationId as ApiOperationId];
      if (probe.kind !== 'scoped') throw new Error('not scoped');
      const b = await tenantData(`tenant-b-${operationId.toLowerCase()}`);
      const nobody = ghost();
      const bRequests = probe.requests(b);
      const ghostRequests = probe.requests(nobody);
      for (const [i, req] of bRequests.entries()) {
        const theirs = await send(tokenA, req);
        const none = await send(tokenA, ghostRequests[i]!);
        expect(theirs, `${req.method} ${req.path}`).toEqual(none);
        expect([200, 400, 404]).toContain(theirs.status);
        if (theirs.status === 200) {
          // Only list filters answer 200: an empty page.
          expect(JSON.parse(theirs.text)).toEqual({ data: [], next_cursor: null });
        }
        for (const id of [b.endpoint, b.message, b.delivery, 'of-tenant-b']) {
          expect(theirs.text).not.toContain(id);
        }
      }
      // Nothing of B's changed.
      expect(await t.store.endpoints.get(b.endpoint)).toMatchObject({
        description: '',
        url: 'https://public.test/hook',
      });
      expect(await t.store.alertChannels.get(b.tenant)).toMatchObject({ emails: [] });
      expect((await t.store.endpoints.list({ tenantId: b.tenant })).data).toHaveLength(1);
      // The same requests are real: an API key reaches B's things, and not the ghost's.
      for (const [i, req] of bRequests.entries()) {
        const admin = await send(apiKey, req);
        if (req.options?.body && JSON.stringify(req.options.body).includes('10.0.0.1')) {
          expect(admin.status, admin.text).toBe(400);
          continue;
        }
        expect(admin.status, `${req.method} ${req.path}: ${admin.text}`).toBeGreaterThanOrEqual(
          200,
        );
        expect(admin.status).toBeLessThan(300);
        const adminNone = await send(apiKey, ghostRequests[i]!);
        if (
          req.path.includes('?') ||
          req.path.includes('/tenants/') ||
          req.path === '/v1/endpoints'
        ) {
          continue; // lists, tenant channels and creation take any tenant for an API key
        }
        expect(adminNone.status, `${req.method} ${ghostRequests[i]!.path}`).toBe(404);
      }
    },
  );

  it.each(
    authedRoutes
      .filter((r) => PROBES[r.operationId as ApiOperationId].kind === 'operator')
      .map((r) => [r.operationId] as const),
  )('%s refuses a portal token with 401, even for its own tenant', async (operationId) => {
    const own: Ids = { ...ghost(), tenant: 'tenant-a' };
    const answer = await send(tokenA, anyRequest(operationId as ApiOperationId, own));
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text).error.code).toBe('unauthorized');
  });

  it('lets a portal token read the operator-wide event type catalog, which holds no tenant data', async () => {
    for (const [operationId, probe] of Object.entries(PROBES)) {
      if (probe.kind !== 'catalog') continue;
      const answer = await send(tokenA, probe.request);
      expect(answer.status, operationId).toBe(200);
      expect(answer.text).not.toMatch(/tenant-b|of-tenant/);
    }
  });

  it('refuses to move an own endpoint to another tenant through PATCH', async () => {
    const own = await tenantData('tenant-a');
    const answer = await send(tokenA, {
      method: 'PATCH',
      path: `/v1/endpoints/${own.endpoint}`,
      options: { body: { tenant_id: 'tenant-b' } },
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text).error.details).toEqual([
      { path: 'tenant_id', message: 'is not a known field' },
    ]);
    expect((await t.store.endpoints.get(own.endpoint))?.tenantId).toBe('tenant-a');
  });

  it("hides even its own tenant's other endpoints from a token bound to one endpoint", async () => {
    const mine = await tenantData('tenant-a');
    const sibling = await tenantData('tenant-a');
    const bound = await mint({ tenant_id: 'tenant-a', endpoint_id: mine.endpoint });
    const nobody = ghost();
    for (const operationId of Object.keys(PROBES) as ApiOperationId[]) {
      const probe = PROBES[operationId];
      if (probe.kind !== 'scoped' || operationId === 'createEndpoint') continue;
      if (operationId === 'getAlertChannels' || operationId === 'putAlertChannels') continue;
      const requests = probe.requests({ ...sibling, tenant: 'tenant-b' });
      const ghosts = probe.requests({ ...nobody, tenant: 'tenant-b' });
      for (const [i, req] of requests.entries()) {
        if (req.path.includes('tenant_id=')) continue;
        if (req.path.includes('message_id=')) {
          // A message of the tenant fans out to the bound endpoint too: that delivery is its own.
          const page = JSON.parse((await send(bound, req)).text) as {
            data: { endpoint_id: string }[];
          };
          expect(page.data.map((d) => d.endpoint_id)).toEqual([mine.endpoint]);
          continue;
        }
        expect(await send(bound, req), `${req.method} ${req.path}`).toEqual(
          await send(bound, ghosts[i]!),
        );
      }
    }
    const list = await send(bound, { method: 'GET', path: '/v1/endpoints' });
    expect(JSON.parse(list.text).data.map((e: { id: string }) => e.id)).toEqual([mine.endpoint]);
    const created = await send(bound, {
      method: 'POST',
      path: '/v1/endpoints',
      options: { body: { tenant_id: 'tenant-a', url: 'https://public.test/x' } },
    });
    expect(created.status).toBe(404);
  });

  it('answers 401 on every authenticated route to an expired token, exactly as to an unknown one', async () => {
    const expired = generatePortalToken();
    await t.store.portalTokens.create({
      tokenHash: hashToken(expired),
      tenantId: 'tenant-a',
      endpointId: null,
      expiresAt: new Date(now.getTime() - 1000),
    });
    const unknown = generatePortalToken();
    const own: Ids = { ...(await tenantData('tenant-a')) };
    for (const route of authedRoutes) {
      const req = anyRequest(route.operationId as ApiOperationId, own);
      const answer = await send(expired, req);
      expect(answer.status, route.operationId).toBe(401);
      expect(answer).toEqual(await send(unknown, req));
    }
  });

  it('stops a token the moment its link expires', async () => {
    const token = await mint({ tenant_id: 'tenant-a', expires_in_seconds: 60 });
    expect((await send(token, { method: 'GET', path: '/v1/endpoints' })).status).toBe(200);
    const before = now;
    now = new Date(before.getTime() + 60_000);
    try {
      expect((await send(token, { method: 'GET', path: '/v1/endpoints' })).status).toBe(401);
    } finally {
      now = before;
    }
  });

  it('answers 401 on every authenticated route to a revoked token', async () => {
    const token = await mint({ tenant_id: 'tenant-a' });
    const own = await tenantData('tenant-a');
    expect(
      (await send(token, { method: 'GET', path: `/v1/endpoints/${own.endpoint}` })).status,
    ).toBe(200);
    const deps = { store: t.store, now: () => now };
    await expect(
      revokePortalToken(
        deps,
        { kind: 'portal', tokenId: 'x', scope: { tenantId: 'tenant-a' } },
        token,
      ),
    ).rejects.toMatchObject({ code: 'unauthorized' });
    expect(await revokePortalToken(deps, { kind: 'api_key', keyId: null }, token)).toBe(true);
    expect(await revokePortalToken(deps, { kind: 'api_key', keyId: null }, token)).toBe(false);
    const unknown = generatePortalToken();
    for (const route of authedRoutes) {
      const req = anyRequest(route.operationId as ApiOperationId, own);
      const answer = await send(token, req);
      expect(answer.status, route.operationId).toBe(401);
      expect(answer).toEqual(await send(unknown, req));
    }
  });
});

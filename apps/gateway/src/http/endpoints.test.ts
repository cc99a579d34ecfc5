import { type Attempt, apiRoutes, type Endpoint, type EndpointWithSecret } from '@hookline/api';
import { Webhook } from '@hookline/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../test/receivers';
import { generateEndpointSecret } from '../signing/secrets';
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
/** Allows http:// and loopback receivers (127.0.0.0/8). */
let loopbackApp: ReturnType<TestGateway['app']>;
let receiver: Receiver;
let receiverStatus = 500;
let tokenA: string;
let tokenB: string;
/** Every secret shown by the API in this file, to look for in bodies and logs. */
const secretsSeen: string[] = [];

async function mint(tenantId: string, endpointId?: string): Promise<string> {
  const response = await call(app, 'POST', '/v1/portal/links', {
    token: gw.apiKey,
    body: { tenant_id: tenantId, ...(endpointId ? { endpoint_id: endpointId } : {}) },
  });
  const body = await expectResponse<{ token: string }>(response, apiRoutes.createPortalLink, 201);
  return body.token;
}

async function createEndpoint(
  overrides: Record<string, unknown> = {},
  options: { token?: string; on?: ReturnType<TestGateway['app']> } = {},
): Promise<EndpointWithSecret> {
  const response = await call(options.on ?? app, 'POST', '/v1/endpoints', {
    token: options.token ?? gw.apiKey,
    body: { tenant_id: 'tenant-a', url: 'https://hooks.example.com/in', ...overrides },
  });
  const body = await expectResponse<EndpointWithSecret>(response, apiRoutes.createEndpoint, 201);
  secretsSeen.push(body.secret);
  return body;
}

function expectNoSecret(text: string): void {
  expect(text).not.toMatch(/"secret"\s*:/);
  for (const secret of secretsSeen) expect(text).not.toContain(secret);
}

beforeAll(async () => {
  gw = await openTestGateway();
  app = gw.app();
  loopbackApp = gw.app({ policy: { allowHttp: true, allowNetworks: ['127.0.0.0/8'] } });
  receiver = await startReceiver((_req, res) => {
    res.writeHead(receiverStatus, { 'content-type': 'text/plain', 'x-receiver': 'yes' });
    res.end(receiverStatus >= 400 ? 'receiver says no' : 'ok');
  });
  tokenA = await mint('tenant-a');
  tokenB = await mint('tenant-b');
});

afterAll(async () => {
  await receiver?.close();
  await gw?.close();
});

describe('POST /v1/endpoints', () => {
  it('creates an endpoint with defaults and shows its generated secret once', async () => {
    const body = await createEndpoint();
    expect(body.id).toMatch(/^ep_/);
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret_hint).toBe(body.secret.slice(0, 10));
    expect(body).toMatchObject({
      tenant_id: 'tenant-a',
      url: 'https://hooks.example.com/in',
      description: '',
      event_types: [],
      status: 'active',
      disabled_reason: null,
      rate_limit_per_minute: null,
      retry_schedule: null,
      headers: {},
      metadata: {},
      signing: 'hmac',
      public_key: null,
      rotation: null,
    });
  });

  it('stores every optional field as given', async () => {
    const body = await createEndpoint({
      description: 'Orders',
      event_types: ['invoice.paid', 'invoice.failed'],
      status: 'paused',
      rate_limit_per_minute: 60,
      retry_schedule: [5, 10],
      headers: { 'X-Api-Token': 'static-credential', 'X-Team': 'billing' },
      metadata: { plan: 'pro' },
    });
    expect(body).toMatchObject({
      description: 'Orders',
      event_types: ['invoice.paid', 'invoice.failed'],
      status: 'paused',
      rate_limit_per_minute: 60,
      retry_schedule: [5, 10],
      headers: { 'X-Api-Token': 'static-credential', 'X-Team': 'billing' },
      metadata: { plan: 'pro' },
    });
  });

  it('imports a whsec_ secret instead of generating one', async () => {
    const { secret } = generateEndpointSecret('hmac');
    const body = await createEndpoint({ secret });
    expect(body.secret).toBe(secret);
    expect(body.secret_hint).toBe(secret.slice(0, 10));
  });

  it('generates an ed25519 key pair and shows the public key', async () => {
    const body = await createEndpoint({ signing: 'ed25519' });
    expect(body.secret).toMatch(/^whsk_/);
    expect(body.public_key).toMatch(/^whpk_/);
  });

  it('derives the public key of an imported ed25519 secret key', async () => {
    const pair = generateEndpointSecret('ed25519');
    const body = await createEndpoint({ signing: 'ed25519', secret: pair.secret });
    expect(body.secret).toBe(pair.secret);
    expect(body.public_key).toBe(pair.publicKey);
  });

  it('names every bad field in details', async () => {
    const response = await call(app, 'POST', '/v1/endpoints', {
      token: gw.apiKey,
      body: {
        tenant_id: 'bad tenant!',
        url: 'not a url',
        description: 'x'.repeat(1025),
        event_types: ['Invoice Paid'],
        status: 'sleeping',
        rate_limit_per_minute: 0,
        retry_schedule: [-1],
        headers: { Host: 'evil.example' },
        metadata: { plan: 'x'.repeat(501) },
        secret: 'plaintext',
        signing: 'rsa',
        colour: 'red',
      },
    });
    await expectInvalid(response, [
      'tenant_id',
      'url',
      'description',
      'event_types[0]',
      'status',
      'rate_limit_per_minute',
      'retry_schedule[0]',
      'headers.Host',
      'metadata.plan',
      'secret',
      'signing',
      'colour',
    ]);
  });

  it('says which required fields are missing', async () => {
    const body = await expectInvalid(
      await call(app, 'POST', '/v1/endpoints', { token: gw.apiKey, body: {} }),
      ['tenant_id', 'url'],
    );
    expect(body.error.details?.[0]?.message).toBe('is required');
  });

  it('refuses duplicate event types and webhook-* headers', async () => {
    const response = await call(app, 'POST', '/v1/endpoints', {
      token: gw.apiKey,
      body: {
        tenant_id: 'tenant-a',
        url: 'https://hooks.example.com/in',
        event_types: ['a.b', 'a.b'],
        headers: { 'webhook-id': 'x' },
      },
    });
    await expectInvalid(response, ['event_types[1]', 'headers["webhook-id"]']);
  });

  it('refuses a secret that does not fit the signing scheme', async () => {
    for (const [signing, other] of [
      ['hmac', 'ed25519'],
      ['ed25519', 'hmac'],
    ] as const) {
      const response = await call(app, 'POST', '/v1/endpoints', {
        token: gw.apiKey,
        body: {
          tenant_id: 'tenant-a',
          url: 'https://hooks.example.com/in',
          signing,
          secret: generateEndpointSecret(other).secret,
        },
      });
      await expectInvalid(response, ['secret']);
    }
  });

  it('refuses a header the delivery path reserves, naming it', async () => {
    const response = await call(app, 'POST', '/v1/endpoints', {
      token: gw.apiKey,
      body: {
        tenant_id: 'tenant-a',
        url: 'https://hooks.example.com/in',
        headers: { 'HTTP2-Settings': 'x' },
      },
    });
    const body = await expectInvalid(response, ['headers["HTTP2-Settings"]']);
    expect(body.error.message).toContain('HTTP2-Settings');
  });

  it('refuses http:// with url_not_allowed unless http is allowed', async () => {
    const response = await call(app, 'POST', '/v1/endpoints', {
      token: gw.apiKey,
      body: { tenant_id: 'tenant-a', url: 'http://hooks.example.com/in' },
    });
    const body = await expectInvalid(response, ['url'], 'url_not_allowed');
    expect(body.error.message).toContain('https://');
    const allowed = await createEndpoint(
      { url: 'http://hooks.example.com/in' },
      { on: loopbackApp },
    );
    expect(allowed.url).toBe('http://hooks.example.com/in');
  });

  it.each([
    ['a host resolving to 10.0.0.1', 'https://private.example.test/hook', '10.0.0.1'],
    ['a host resolving to 127.0.0.1', 'https://loopback.example.test/hook', '127.0.0.1'],
    [
      'a host resolving to a public and a private address',
      'https://mixed.example.test/',
      '10.0.0.1',
    ],
    ['a host that does not resolve', 'https://nxdomain.example.test/', 'ENOTFOUND'],
  ])('refuses %s with url_not_allowed without naming the address', async (_what, url, hidden) => {
    const response = await call(app, 'POST', '/v1/endpoints', {
      token: gw.apiKey,
      body: { tenant_id: 'tenant-a', url },
    });
    const body = await expectInvalid(response, ['url'], 'url_not_allowed');
    expect(JSON.stringify(body)).not.toContain(hidden);
    expect(body.error.message).toContain('does not resolve to an allowed address');
  });

  it('refuses a literal private address and credentials in the URL', async () => {
    await expectInvalid(
      await call(app, 'POST', '/v1/endpoints', {
        token: gw.apiKey,
        body: { tenant_id: 'tenant-a', url: 'https://10.0.0.1/hook' },
      }),
      ['url'],
      'url_not_allowed',
    );
    await expectInvalid(
      await call(app, 'POST', '/v1/endpoints', {
        token: gw.apiKey,
        body: { tenant_id: 'tenant-a', url: 'https://user:pw@hooks.example.com/' },
      }),
      ['url'],
    );
  });

  it('lets a portal token create endpoints for its own tenant only', async () => {
    const own = await createEndpoint({}, { token: tokenA });
    expect(own.tenant_id).toBe('tenant-a');
    await expectError(
      await call(app, 'POST', '/v1/endpoints', {
        token: tokenA,
        body: { tenant_id: 'tenant-b', url: 'https://hooks.example.com/in' },
      }),
      404,
      'not_found',
    );
  });

  it('refuses endpoint creation to a portal token bound to one endpoint', async () => {
    const bound = await mint('tenant-a', (await createEndpoint()).id);
    await expectError(
      await call(app, 'POST', '/v1/endpoints', {
        token: bound,
        body: { tenant_id: 'tenant-a', url: 'https://hooks.example.com/in' },
      }),
      404,
      'not_found',
    );
  });
});

describe('GET /v1/endpoints and /v1/endpoints/{id}', () => {
  it('gets an endpoint without its secret, with its hint', async () => {
    const created = await createEndpoint();
    const response = await call(app, 'GET', `/v1/endpoints/${created.id}`, { token: gw.apiKey });
    const text = await response.clone().text();
    const body = await expectResponse<Endpoint>(response, apiRoutes.getEndpoint, 200);
    expectNoSecret(text);
    expect(body.secret_hint).toBe(created.secret.slice(0, 10));
    const { secret: _secret, ...withoutSecret } = created;
    expect(body).toEqual(withoutSecret);
  });

  it('answers 404 for an unknown id and for a malformed one', async () => {
    for (const id of ['ep_00000000000000000000000000', 'nope', 'msg_abc', 'ep_%20']) {
      await expectError(
        await call(app, 'GET', `/v1/endpoints/${id}`, { token: gw.apiKey }),
        404,
        'not_found',
      );
    }
  });

  it('lists newest first without secrets, paginated with next_cursor', async () => {
    const tenant = `list-${Date.now()}`;
    const first = await createEndpoint({ tenant_id: tenant });
    const second = await createEndpoint({ tenant_id: tenant, status: 'paused' });
    const page1 = await call(app, 'GET', `/v1/endpoints?tenant_id=${tenant}&limit=1`, {
      token: gw.apiKey,
    });
    const text = await page1.clone().text();
    const body1 = await expectResponse<{ data: Endpoint[]; next_cursor: string | null }>(
      page1,
      apiRoutes.listEndpoints,
      200,
    );
    expectNoSecret(text);
    expect(body1.data.map((e) => e.id)).toEqual([second.id]);
    expect(body1.next_cursor).toEqual(expect.any(String));
    const page2 = await call(
      app,
      'GET',
      `/v1/endpoints?tenant_id=${tenant}&limit=1&cursor=${encodeURIComponent(body1.next_cursor!)}`,
      { token: gw.apiKey },
    );
    const body2 = await expectResponse<{ data: Endpoint[]; next_cursor: string | null }>(
      page2,
      apiRoutes.listEndpoints,
      200,
    );
    expect(body2.data.map((e) => e.id)).toEqual([first.id]);
    expect(body2.next_cursor).toBeNull();
    const paused = await call(app, 'GET', `/v1/endpoints?tenant_id=${tenant}&status=paused`, {
      token: gw.apiKey,
    });
    const pausedBody = await expectResponse<{ data: Endpoint[] }>(
      paused,
      apiRoutes.listEndpoints,
      200,
    );
    expect(pausedBody.data.map((e) => e.id)).toEqual([second.id]);
  });

  it('names every bad query parameter', async () => {
    const response = await call(
      app,
      'GET',
      '/v1/endpoints?limit=251&status=asleep&tenant_id=a%20b&cursor=',
      { token: gw.apiKey },
    );
    await expectInvalid(response, ['limit', 'status', 'tenant_id', 'cursor']);
    await expectInvalid(await call(app, 'GET', '/v1/endpoints?limit=abc', { token: gw.apiKey }), [
      'limit',
    ]);
  });

  it("shows a portal token only its own tenant's endpoints and 404s the others", async () => {
    const mine = await createEndpoint({ tenant_id: 'tenant-a' });
    const theirs = await createEndpoint({ tenant_id: 'tenant-b' });
    const list = await expectResponse<{ data: Endpoint[] }>(
      await call(app, 'GET', '/v1/endpoints?limit=250', { token: tokenA }),
      apiRoutes.listEndpoints,
      200,
    );
    expect(list.data.every((e) => e.tenant_id === 'tenant-a')).toBe(true);
    expect(list.data.map((e) => e.id)).toContain(mine.id);
    await expectError(
      await call(app, 'GET', `/v1/endpoints/${theirs.id}`, { token: tokenA }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'GET', '/v1/endpoints?tenant_id=tenant-b', { token: tokenA }),
      404,
      'not_found',
    );
    await expectResponse(
      await call(app, 'GET', `/v1/endpoints/${theirs.id}`, { token: tokenB }),
      apiRoutes.getEndpoint,
      200,
    );
  });

  it('shows a token bound to one endpoint only that endpoint', async () => {
    const bound = await createEndpoint();
    const other = await createEndpoint();
    const token = await mint('tenant-a', bound.id);
    const list = await expectResponse<{ data: Endpoint[] }>(
      await call(app, 'GET', '/v1/endpoints', { token }),
      apiRoutes.listEndpoints,
      200,
    );
    expect(list.data.map((e) => e.id)).toEqual([bound.id]);
    await expectError(
      await call(app, 'GET', `/v1/endpoints/${other.id}`, { token }),
      404,
      'not_found',
    );
  });
});

describe('PATCH /v1/endpoints/{id}', () => {
  it('changes the given fields and keeps the others', async () => {
    const created = await createEndpoint({ description: 'before', metadata: { a: '1' } });
    const response = await call(app, 'PATCH', `/v1/endpoints/${created.id}`, {
      token: gw.apiKey,
      body: {
        url: 'https://other.example.com/in',
        event_types: ['order.created'],
        rate_limit_per_minute: null,
        retry_schedule: [1, 2, 3],
        headers: { 'X-Key': 'v' },
      },
    });
    const body = await expectResponse<Endpoint>(response, apiRoutes.updateEndpoint, 200);
    expect(body).toMatchObject({
      url: 'https://other.example.com/in',
      description: 'before',
      metadata: { a: '1' },
      event_types: ['order.created'],
      retry_schedule: [1, 2, 3],
      headers: { 'X-Key': 'v' },
    });
    expectNoSecret(JSON.stringify(body));
  });

  it('disables with reason manual and re-enables', async () => {
    const created = await createEndpoint();
    const disabled = await expectResponse<Endpoint>(
      await call(app, 'PATCH', `/v1/endpoints/${created.id}`, {
        token: gw.apiKey,
        body: { status: 'disabled' },
      }),
      apiRoutes.updateEndpoint,
      200,
    );
    expect(disabled).toMatchObject({ status: 'disabled', disabled_reason: 'manual' });
    const enabled = await expectResponse<Endpoint>(
      await call(app, 'PATCH', `/v1/endpoints/${created.id}`, {
        token: gw.apiKey,
        body: { status: 'active' },
      }),
      apiRoutes.updateEndpoint,
      200,
    );
    expect(enabled).toMatchObject({ status: 'active', disabled_reason: null });
  });

  it('holds deliveries while paused and releases them on resume', async () => {
    const tenant = `pause-${Date.now()}`;
    const created = await createEndpoint({ tenant_id: tenant, status: 'paused' });
    const sent = await call(app, 'POST', '/v1/messages', {
      token: gw.apiKey,
      body: { tenant_id: tenant, event_type: 'order.created', payload: { n: 1 } },
    });
    expect(sent.status).toBe(202);
    const statusOf = async () => {
      const list = await call(app, 'GET', `/v1/deliveries?endpoint_id=${created.id}`, {
        token: gw.apiKey,
      });
      return ((await list.json()) as { data: { status: string }[] }).data.map((d) => d.status);
    };
    expect(await statusOf()).toEqual(['held']);
    await call(app, 'PATCH', `/v1/endpoints/${created.id}`, {
      token: gw.apiKey,
      body: { status: 'active' },
    });
    expect(await statusOf()).toEqual(['pending']);
  });

  it('names every bad field, unknown ones included', async () => {
    const created = await createEndpoint();
    const response = await call(app, 'PATCH', `/v1/endpoints/${created.id}`, {
      token: gw.apiKey,
      body: {
        url: 'ftp://x',
        description: 5,
        event_types: 'a.b',
        status: 'on',
        rate_limit_per_minute: 1.5,
        retry_schedule: [86401],
        headers: { 'Content-Type': 'text/plain' },
        metadata: { '': 'x' },
        tenant_id: 'tenant-b',
        secret: 'whsec_x',
      },
    });
    await expectInvalid(response, [
      'url',
      'description',
      'event_types',
      'status',
      'rate_limit_per_minute',
      'retry_schedule[0]',
      'headers["Content-Type"]',
      'metadata[""]',
      'tenant_id',
      'secret',
    ]);
  });

  it('checks a new URL like at creation', async () => {
    const created = await createEndpoint();
    await expectInvalid(
      await call(app, 'PATCH', `/v1/endpoints/${created.id}`, {
        token: gw.apiKey,
        body: { url: 'https://private.example.test/' },
      }),
      ['url'],
      'url_not_allowed',
    );
  });

  it("answers 404 for an unknown id and for another tenant's endpoint, changing nothing", async () => {
    await expectError(
      await call(app, 'PATCH', '/v1/endpoints/ep_00000000000000000000000000', {
        token: gw.apiKey,
        body: { description: 'x' },
      }),
      404,
      'not_found',
    );
    const theirs = await createEndpoint({ tenant_id: 'tenant-b', description: 'theirs' });
    await expectError(
      await call(app, 'PATCH', `/v1/endpoints/${theirs.id}`, {
        token: tokenA,
        body: { description: 'mine now' },
      }),
      404,
      'not_found',
    );
    expect((await gw.store.endpoints.get(theirs.id))?.description).toBe('theirs');
  });
});

describe('DELETE /v1/endpoints/{id}', () => {
  it('deletes with 204 and an empty body, after which it is gone', async () => {
    const created = await createEndpoint();
    const response = await call(app, 'DELETE', `/v1/endpoints/${created.id}`, {
      token: gw.apiKey,
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    await expectError(
      await call(app, 'GET', `/v1/endpoints/${created.id}`, { token: gw.apiKey }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'DELETE', `/v1/endpoints/${created.id}`, { token: gw.apiKey }),
      404,
      'not_found',
    );
  });

  it("answers 404 to a portal token deleting another tenant's endpoint", async () => {
    const theirs = await createEndpoint({ tenant_id: 'tenant-b' });
    await expectError(
      await call(app, 'DELETE', `/v1/endpoints/${theirs.id}`, { token: tokenA }),
      404,
      'not_found',
    );
    expect(await gw.store.endpoints.get(theirs.id)).not.toBeNull();
    const own = await createEndpoint({ tenant_id: 'tenant-a' });
    expect((await call(app, 'DELETE', `/v1/endpoints/${own.id}`, { token: tokenA })).status).toBe(
      204,
    );
  });
});

describe('POST /v1/endpoints/{id}/rotate-secret', () => {
  it('rotates with the default grace period of 24 hours and shows the rotation', async () => {
    const created = await createEndpoint();
    const before = Date.now();
    const response = await call(app, 'POST', `/v1/endpoints/${created.id}/rotate-secret`, {
      token: gw.apiKey,
    });
    const body = await expectResponse<{
      secret: string;
      previous_secret_expires_at: string;
      public_key: string | null;
    }>(response, apiRoutes.rotateEndpointSecret, 200);
    secretsSeen.push(body.secret);
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(created.secret);
    expect(body.public_key).toBeNull();
    const expires = Date.parse(body.previous_secret_expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 86_400_000 - 5_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 86_400_000 + 5_000);
    const got = await expectResponse<Endpoint>(
      await call(app, 'GET', `/v1/endpoints/${created.id}`, { token: gw.apiKey }),
      apiRoutes.getEndpoint,
      200,
    );
    expect(got.secret_hint).toBe(body.secret.slice(0, 10));
    expect(got.rotation).toEqual({ previous_secret_expires_at: body.previous_secret_expires_at });
    const keys = await gw.store.endpoints.getSigningKeys(created.id);
    expect(keys).toMatchObject({ current: body.secret, previous: created.secret });
  });

  it('imports the new secret and honours a grace period of 0', async () => {
    const created = await createEndpoint();
    const { secret } = generateEndpointSecret('hmac');
    const body = await expectResponse<{ secret: string }>(
      await call(app, 'POST', `/v1/endpoints/${created.id}/rotate-secret`, {
        token: gw.apiKey,
        body: { secret, grace_period_seconds: 0 },
      }),
      apiRoutes.rotateEndpointSecret,
      200,
    );
    expect(body.secret).toBe(secret);
    const keys = await gw.store.endpoints.getSigningKeys(created.id);
    expect(keys).toMatchObject({ current: secret, previous: null });
  });

  it('rotates an ed25519 endpoint to a new key pair', async () => {
    const created = await createEndpoint({ signing: 'ed25519' });
    const body = await expectResponse<{ secret: string; public_key: string }>(
      await call(app, 'POST', `/v1/endpoints/${created.id}/rotate-secret`, {
        token: gw.apiKey,
        body: {},
      }),
      apiRoutes.rotateEndpointSecret,
      200,
    );
    secretsSeen.push(body.secret);
    expect(body.secret).toMatch(/^whsk_/);
    expect(body.public_key).toMatch(/^whpk_/);
    expect(body.public_key).not.toBe(created.public_key);
  });

  it('names bad fields: grace period out of range, a secret of the other scheme, unknown fields', async () => {
    const created = await createEndpoint();
    await expectInvalid(
      await call(app, 'POST', `/v1/endpoints/${created.id}/rotate-secret`, {
        token: gw.apiKey,
        body: { grace_period_seconds: 172_801, secret: 'nope', extra: 1 },
      }),
      ['grace_period_seconds', 'secret', 'extra'],
    );
    await expectInvalid(
      await call(app, 'POST', `/v1/endpoints/${created.id}/rotate-secret`, {
        token: gw.apiKey,
        body: { grace_period_seconds: -1 },
      }),
      ['grace_period_seconds'],
    );
    await expectInvalid(
      await call(app, 'POST', `/v1/endpoints/${created.id}/rotate-secret`, {
        token: gw.apiKey,
        body: { secret: generateEndpointSecret('ed25519').secret },
      }),
      ['secret'],
    );
  });

  it("answers 404 for an unknown id and for another tenant's endpoint", async () => {
    await expectError(
      await call(app, 'POST', '/v1/endpoints/ep_00000000000000000000000000/rotate-secret', {
        token: gw.apiKey,
      }),
      404,
      'not_found',
    );
    const theirs = await createEndpoint({ tenant_id: 'tenant-b' });
    await expectError(
      await call(app, 'POST', `/v1/endpoints/${theirs.id}/rotate-secret`, { token: tokenA }),
      404,
      'not_found',
    );
    expect((await gw.store.endpoints.getSigningKeys(theirs.id))?.current).toBe(theirs.secret);
  });
});

describe('POST /v1/endpoints/{id}/test', () => {
  async function loopbackEndpoint(overrides: Record<string, unknown> = {}) {
    return createEndpoint({ url: `${receiver.url}/hook?x=1`, ...overrides }, { on: loopbackApp });
  }

  it('answers 200 with the attempt when the endpoint answers 500, and logs the delivery as a test', async () => {
    receiverStatus = 500;
    const endpoint = await loopbackEndpoint({ headers: { 'X-Api-Token': 'static-credential' } });
    const seen = receiver.requests.length;
    const response = await call(loopbackApp, 'POST', `/v1/endpoints/${endpoint.id}/test`, {
      token: gw.apiKey,
    });
    const attempt = await expectResponse<Attempt>(response, apiRoutes.testEndpoint, 200);
    expect(attempt).toMatchObject({
      attempt_number: 1,
      trigger: 'test',
      outcome: 'http_5xx',
      http_status: 500,
      response_body: 'receiver says no',
      response_body_truncated: false,
    });
    expect(attempt.response_headers?.['x-receiver']).toBe('yes');
    expect(attempt.request_headers['x-api-token']).toBe('[redacted]');
    expect(attempt.request_headers['user-agent']).toBe('Hookline/0.0.0-test');
    expectNoSecret(JSON.stringify(attempt));

    expect(receiver.requests.length).toBe(seen + 1);
    const request = receiver.requests[seen]!;
    expect(request.url).toBe('/hook?x=1');
    const body = request.body.toString('utf8');
    expect(JSON.parse(body)).toMatchObject({ type: 'hookline.test' });
    expect(attempt.request_body).toBe(body);
    expect(() =>
      new Webhook(endpoint.secret).verify(body, request.headers as Record<string, string>),
    ).not.toThrow();

    const log = await expectResponse<{ data: { id: string; test: boolean; status: string }[] }>(
      await call(app, 'GET', `/v1/deliveries?endpoint_id=${endpoint.id}`, { token: gw.apiKey }),
      apiRoutes.listDeliveries,
      200,
    );
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ id: attempt.delivery_id, test: true, status: 'failed' });
    const delivery = await expectResponse<{
      next_attempt_at: string | null;
      attempts: Attempt[];
      test: boolean;
    }>(
      await call(app, 'GET', `/v1/deliveries/${attempt.delivery_id}`, { token: gw.apiKey }),
      apiRoutes.getDelivery,
      200,
    );
    expect(delivery.test).toBe(true);
    expect(delivery.next_attempt_at).toBeNull();
    expect(delivery.attempts).toEqual([attempt]);
    const stats = await expectResponse<{ failed: number; succeeded: number; health: string }>(
      await call(app, 'GET', `/v1/endpoints/${endpoint.id}/stats`, { token: gw.apiKey }),
      apiRoutes.getEndpointStats,
      200,
    );
    expect(stats).toMatchObject({ failed: 0, succeeded: 0, health: 'green' });
  });

  it('sends the given event type and payload byte for byte and reports success', async () => {
    receiverStatus = 200;
    const endpoint = await loopbackEndpoint();
    const payload = '{ "b": 1, "2": [true, null], "big": 12345678901234567890, "s": "\\u00e9" }';
    const seen = receiver.requests.length;
    const response = await call(loopbackApp, 'POST', `/v1/endpoints/${endpoint.id}/test`, {
      token: tokenA,
      rawBody: `{"event_type":"order.created","payload":${payload}}`,
      headers: { 'content-type': 'application/json' },
    });
    const attempt = await expectResponse<Attempt>(response, apiRoutes.testEndpoint, 200);
    expect(attempt).toMatchObject({ outcome: 'success', http_status: 200 });
    const body = receiver.requests[seen]!.body.toString('utf8');
    expect(body).toContain(`"type":"order.created"`);
    expect(body).toContain(`"data":${payload}}`);
  });

  it('records a blocked attempt when the policy refuses the address at send time', async () => {
    const endpoint = await loopbackEndpoint();
    const seen = receiver.requests.length;
    const attempt = await expectResponse<Attempt>(
      await call(app, 'POST', `/v1/endpoints/${endpoint.id}/test`, { token: gw.apiKey }),
      apiRoutes.testEndpoint,
      200,
    );
    expect(attempt.outcome).toBe('blocked');
    expect(attempt.http_status).toBeNull();
    expect(attempt.response_body).toBeNull();
    expect(receiver.requests.length).toBe(seen);
  });

  it('names bad fields of the test body', async () => {
    const endpoint = await loopbackEndpoint();
    await expectInvalid(
      await call(loopbackApp, 'POST', `/v1/endpoints/${endpoint.id}/test`, {
        token: gw.apiKey,
        body: { event_type: 'Not Valid', payload: [1, 2], extra: true },
      }),
      ['event_type', 'payload', 'extra'],
    );
  });

  it("answers 404 for an unknown id and for another tenant's endpoint, sending nothing", async () => {
    const theirs = await loopbackEndpoint({ tenant_id: 'tenant-b' });
    const seen = receiver.requests.length;
    await expectError(
      await call(loopbackApp, 'POST', `/v1/endpoints/${theirs.id}/test`, { token: tokenA }),
      404,
      'not_found',
    );
    await expectError(
      await call(loopbackApp, 'POST', '/v1/endpoints/ep_00000000000000000000000000/test', {
        token: gw.apiKey,
      }),
      404,
      'not_found',
    );
    expect(receiver.requests.length).toBe(seen);
  });
});

describe('GET /v1/endpoints/{id}/stats', () => {
  it('answers zero counts and green health for a new endpoint over the default window', async () => {
    const created = await createEndpoint();
    const body = await expectResponse(
      await call(app, 'GET', `/v1/endpoints/${created.id}/stats`, { token: gw.apiKey }),
      apiRoutes.getEndpointStats,
      200,
    );
    expect(body).toEqual({
      window: '24h',
      succeeded: 0,
      failed: 0,
      pending: 0,
      dead: 0,
      success_rate: null,
      latency_ms_p50: null,
      latency_ms_p95: null,
      health: 'green',
    });
  });

  it('takes another window and refuses unknown ones', async () => {
    const created = await createEndpoint();
    const body = await expectResponse<{ window: string }>(
      await call(app, 'GET', `/v1/endpoints/${created.id}/stats?window=7d`, { token: tokenA }),
      apiRoutes.getEndpointStats,
      200,
    );
    expect(body.window).toBe('7d');
    await expectInvalid(
      await call(app, 'GET', `/v1/endpoints/${created.id}/stats?window=2d&x=1`, {
        token: gw.apiKey,
      }),
      ['window', 'x'],
    );
  });

  it("answers 404 for an unknown id and for another tenant's endpoint", async () => {
    const theirs = await createEndpoint({ tenant_id: 'tenant-b' });
    await expectError(
      await call(app, 'GET', `/v1/endpoints/${theirs.id}/stats`, { token: tokenA }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'GET', '/v1/endpoints/ep_00000000000000000000000000/stats', {
        token: gw.apiKey,
      }),
      404,
      'not_found',
    );
  });
});

describe('POST /v1/endpoints/{id}/recover', () => {
  it('re-queues the failed and dead deliveries since the given time and answers 202 with the count', async () => {
    const tenant = `recover-${Date.now()}`;
    const endpoint = await createEndpoint({ tenant_id: tenant });
    await call(app, 'POST', '/v1/messages', {
      token: gw.apiKey,
      body: { tenant_id: tenant, event_type: 'order.created', payload: {} },
    });
    const claimed = await gw.store.queue.claim({ workerId: 'test', limit: 250, leaseMs: 1 });
    const mine = claimed.find((d) => d.endpoint.id === endpoint.id)!;
    await gw.store.queue.recordOutcome({
      deliveryId: mine.id,
      leaseToken: mine.leaseToken,
      status: 'dead',
      attempt: {
        outcome: 'http_5xx',
        httpStatus: 503,
        latencyMs: 3,
        requestHeaders: {},
        requestBody: '{}',
        requestBodyTruncated: false,
        responseHeaders: {},
        responseBody: '',
        responseBodyTruncated: false,
        error: null,
        attemptedAt: new Date(),
      },
    });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const body = await expectResponse(
      await call(app, 'POST', `/v1/endpoints/${endpoint.id}/recover`, {
        token: gw.apiKey,
        body: { since },
      }),
      apiRoutes.recoverEndpoint,
      202,
    );
    expect(body).toEqual({ count: 1 });
    expect((await gw.store.deliveries.get(mine.id))?.status).toBe('pending');
    const again = await expectResponse(
      await call(app, 'POST', `/v1/endpoints/${endpoint.id}/recover`, {
        token: gw.apiKey,
        body: { since },
      }),
      apiRoutes.recoverEndpoint,
      202,
    );
    expect(again).toEqual({ count: 0 });
  });

  it('requires since as an RFC 3339 timestamp and refuses unknown fields', async () => {
    const created = await createEndpoint();
    await expectInvalid(
      await call(app, 'POST', `/v1/endpoints/${created.id}/recover`, {
        token: gw.apiKey,
        body: {},
      }),
      ['since'],
    );
    await expectInvalid(
      await call(app, 'POST', `/v1/endpoints/${created.id}/recover`, {
        token: gw.apiKey,
        body: { since: 'yesterday', all: true },
      }),
      ['since', 'all'],
    );
  });

  it("answers 404 for an unknown id and for another tenant's endpoint", async () => {
    const theirs = await createEndpoint({ tenant_id: 'tenant-b' });
    const since = new Date().toISOString();
    await expectError(
      await call(app, 'POST', `/v1/endpoints/${theirs.id}/recover`, {
        token: tokenA,
        body: { since },
      }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'POST', '/v1/endpoints/ep_00000000000000000000000000/recover', {
        token: gw.apiKey,
        body: { since },
      }),
      404,
      'not_found',
    );
  });
});

describe('secrets', () => {
  it('never writes a secret, API key or portal token to the log', () => {
    expect(secretsSeen.length).toBeGreaterThan(5);
    const log = gw.logLines.join('\n');
    expect(gw.logLines.length).toBeGreaterThan(50);
    for (const secret of [...secretsSeen, gw.apiKey, tokenA, tokenB]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toContain('static-credential');
  });
});

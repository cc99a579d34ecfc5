import {
  apiRoutes,
  type Delivery,
  type EndpointWithSecret,
  type Message,
  type MessageAccepted,
} from '@hookline/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
let tokenB: string;
let epA: EndpointWithSecret;
let epB: EndpointWithSecret;

type Page<T> = { data: T[]; next_cursor: string | null };

async function createEndpoint(body: Record<string, unknown>): Promise<EndpointWithSecret> {
  const response = await call(app, 'POST', '/v1/endpoints', {
    token: gw.apiKey,
    body: { url: 'https://hooks.example.com/in', ...body },
  });
  return expectResponse<EndpointWithSecret>(response, apiRoutes.createEndpoint, 201);
}

async function send(
  body: Record<string, unknown>,
  options: { key?: string; token?: string } = {},
): Promise<Response> {
  return call(app, 'POST', '/v1/messages', {
    token: options.token ?? gw.apiKey,
    body,
    headers: options.key ? { 'idempotency-key': options.key } : {},
  });
}

async function accepted(response: Response): Promise<MessageAccepted> {
  return expectResponse<MessageAccepted>(response, apiRoutes.createMessage, 202);
}

async function mint(tenantId: string): Promise<string> {
  const response = await call(app, 'POST', '/v1/portal/links', {
    token: gw.apiKey,
    body: { tenant_id: tenantId },
  });
  return (await expectResponse<{ token: string }>(response, apiRoutes.createPortalLink, 201)).token;
}

let tenantCounter = 0;
function freshTenant(): string {
  tenantCounter += 1;
  return `msg-tenant-${tenantCounter}`;
}

beforeAll(async () => {
  gw = await openTestGateway();
  app = gw.app();
  tokenA = await mint('tenant-a');
  tokenB = await mint('tenant-b');
  epA = await createEndpoint({ tenant_id: 'tenant-a' });
  epB = await createEndpoint({ tenant_id: 'tenant-b' });
});

afterAll(async () => {
  await gw?.close();
});

describe('POST /v1/messages', () => {
  it('accepts a message with 202 and fans it out to every matching active or paused endpoint', async () => {
    const tenant = freshTenant();
    const all = await createEndpoint({ tenant_id: tenant });
    const filtered = await createEndpoint({ tenant_id: tenant, event_types: ['order.created'] });
    const paused = await createEndpoint({ tenant_id: tenant, status: 'paused' });
    await createEndpoint({ tenant_id: tenant, event_types: ['order.deleted'] });
    await createEndpoint({ tenant_id: tenant, status: 'disabled' });
    const before = Date.now();
    const body = await accepted(
      await send({ tenant_id: tenant, event_type: 'order.created', payload: { id: 1 } }),
    );
    expect(body).toMatchObject({
      tenant_id: tenant,
      event_type: 'order.created',
      delivery_count: 3,
    });
    expect(body.id).toMatch(/^msg_/);
    expect(Date.parse(body.created_at)).toBeGreaterThanOrEqual(before - 1000);
    const log = await expectResponse<Page<Delivery>>(
      await call(app, 'GET', `/v1/deliveries?message_id=${body.id}`, { token: gw.apiKey }),
      apiRoutes.listDeliveries,
      200,
    );
    const byEndpoint = Object.fromEntries(log.data.map((d) => [d.endpoint_id, d.status]));
    expect(byEndpoint).toEqual({
      [all.id]: 'pending',
      [filtered.id]: 'pending',
      [paused.id]: 'held',
    });
  });

  it('answers 202 with delivery_count 0 when no endpoint matches', async () => {
    const body = await accepted(
      await send({ tenant_id: freshTenant(), event_type: 'nobody.listens', payload: {} }),
    );
    expect(body.delivery_count).toBe(0);
  });

  it('delivers to the one endpoint named by endpoint_id', async () => {
    const tenant = freshTenant();
    const target = await createEndpoint({ tenant_id: tenant });
    await createEndpoint({ tenant_id: tenant });
    const body = await accepted(
      await send({ tenant_id: tenant, event_type: 'a.b', payload: {}, endpoint_id: target.id }),
    );
    expect(body.delivery_count).toBe(1);
  });

  it("answers 404 for an endpoint_id that is unknown or another tenant's, storing nothing", async () => {
    const tenant = freshTenant();
    for (const endpointId of ['ep_00000000000000000000000000', epB.id]) {
      await expectError(
        await send({ tenant_id: tenant, event_type: 'a.b', payload: {}, endpoint_id: endpointId }),
        404,
        'not_found',
      );
    }
    const list = await expectResponse<Page<Message>>(
      await call(app, 'GET', `/v1/messages?tenant_id=${tenant}`, { token: gw.apiKey }),
      apiRoutes.listMessages,
      200,
    );
    expect(list.data).toEqual([]);
  });

  it('stores the payload byte for byte as it arrived', async () => {
    const tenant = freshTenant();
    const payload = '{"z":1,  "10":"ten", "big":12345678901234567890,"nested":{"b":[1.50, 2]}}';
    const response = await call(app, 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: `{"tenant_id":"${tenant}","payload":${payload},"event_type":"raw.bytes"}`,
      headers: { 'content-type': 'application/json' },
    });
    const body = await accepted(response);
    expect((await gw.store.messages.get(body.id))?.payloadJson).toBe(payload);
    const got = await expectResponse<Message>(
      await call(app, 'GET', `/v1/messages/${body.id}`, { token: gw.apiKey }),
      apiRoutes.getMessage,
      200,
    );
    expect(got).toEqual({
      id: body.id,
      tenant_id: tenant,
      event_type: 'raw.bytes',
      payload: JSON.parse(payload),
      endpoint_id: null,
      created_at: body.created_at,
    });
  });

  it('names every bad field and every unknown one', async () => {
    await expectInvalid(await send({}), ['tenant_id', 'event_type', 'payload']);
    await expectInvalid(
      await send({
        tenant_id: '',
        event_type: 'Order Created',
        payload: [1],
        endpoint_id: 'dlv_1',
        priority: 'high',
      }),
      ['tenant_id', 'event_type', 'payload', 'endpoint_id', 'priority'],
    );
    await expectInvalid(await send({ tenant_id: 't', event_type: 'a.b', payload: 'text' }), [
      'payload',
    ]);
  });

  it('refuses a malformed Idempotency-Key header, naming it', async () => {
    for (const key of ['has space', 'x'.repeat(256)]) {
      await expectInvalid(await send({ tenant_id: 't', event_type: 'a.b', payload: {} }, { key }), [
        'idempotency-key',
      ]);
    }
  });

  it('answers 413 to a body of 256 KiB + 1 byte and accepts exactly 256 KiB', async () => {
    const limit = 256 * 1024;
    const tenant = freshTenant();
    const bodyOf = (size: number) => {
      const head = `{"tenant_id":"${tenant}","event_type":"big.one","payload":{"pad":"`;
      const tail = '"}}';
      return head + 'x'.repeat(size - head.length - tail.length) + tail;
    };
    expect(Buffer.byteLength(bodyOf(limit))).toBe(limit);
    const tooBig = await call(app, 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: bodyOf(limit + 1),
      headers: { 'content-type': 'application/json' },
    });
    const error = await expectError(tooBig, 413, 'payload_too_large');
    expect(error.error.message).toContain('256 KiB');
    const declared = await call(app, 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: bodyOf(limit + 1),
      headers: { 'content-type': 'application/json', 'content-length': String(limit + 1) },
    });
    await expectError(declared, 413, 'payload_too_large');
    await accepted(
      await call(app, 'POST', '/v1/messages', {
        token: gw.apiKey,
        rawBody: bodyOf(limit),
        headers: { 'content-type': 'application/json' },
      }),
    );
    const list = await expectResponse<Page<Message>>(
      await call(app, 'GET', `/v1/messages?tenant_id=${tenant}`, { token: gw.apiKey }),
      apiRoutes.listMessages,
      200,
    );
    expect(list.data).toHaveLength(1);
  });

  it('refuses portal tokens with 401: they cannot create messages', async () => {
    await expectError(
      await send({ tenant_id: 'tenant-a', event_type: 'a.b', payload: {} }, { token: tokenA }),
      401,
      'unauthorized',
    );
  });
});

describe('Idempotency-Key', () => {
  it('answers a repeat with the first response, sending nothing new', async () => {
    const tenant = freshTenant();
    await createEndpoint({ tenant_id: tenant });
    await createEndpoint({ tenant_id: tenant });
    const request = { tenant_id: tenant, event_type: 'order.created', payload: { id: 7 } };
    const first = await accepted(await send(request, { key: 'order-7' }));
    expect(first.delivery_count).toBe(2);
    // A third endpoint now would get a delivery from a new message, but not from a repeat.
    await createEndpoint({ tenant_id: tenant });
    const repeat = await send(request, { key: 'order-7' });
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await accepted(repeat)).toEqual(first);
    // Same request with other formatting and key order: still the same request.
    const reordered = await call(app, 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: `{ "payload": { "id": 7 }, "event_type": "order.created", "tenant_id": "${tenant}" }`,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'order-7' },
    });
    expect(await accepted(reordered)).toEqual(first);
    const messages = await expectResponse<Page<Message>>(
      await call(app, 'GET', `/v1/messages?tenant_id=${tenant}`, { token: gw.apiKey }),
      apiRoutes.listMessages,
      200,
    );
    expect(messages.data.map((m) => m.id)).toEqual([first.id]);
    const deliveries = await expectResponse<Page<Delivery>>(
      await call(app, 'GET', `/v1/deliveries?tenant_id=${tenant}`, { token: gw.apiKey }),
      apiRoutes.listDeliveries,
      200,
    );
    expect(deliveries.data).toHaveLength(2);
  });

  it('answers 409 idempotency_conflict when the key comes back with another body', async () => {
    const tenant = freshTenant();
    await accepted(
      await send({ tenant_id: tenant, event_type: 'a.b', payload: { n: 1 } }, { key: 'k1' }),
    );
    await expectError(
      await send({ tenant_id: tenant, event_type: 'a.b', payload: { n: 2 } }, { key: 'k1' }),
      409,
      'idempotency_conflict',
    );
  });

  it('keeps keys per tenant', async () => {
    const one = await accepted(
      await send({ tenant_id: freshTenant(), event_type: 'a.b', payload: {} }, { key: 'shared' }),
    );
    const two = await accepted(
      await send({ tenant_id: freshTenant(), event_type: 'a.b', payload: {} }, { key: 'shared' }),
    );
    expect(two.id).not.toBe(one.id);
  });

  it('stores exactly one message for concurrent duplicates', async () => {
    const tenant = freshTenant();
    await createEndpoint({ tenant_id: tenant });
    const request = { tenant_id: tenant, event_type: 'race.on', payload: { n: 1 } };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => send(request, { key: 'race' }).then(accepted)),
    );
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(answers.every((a) => a.delivery_count === 1)).toBe(true);
    const messages = await expectResponse<Page<Message>>(
      await call(app, 'GET', `/v1/messages?tenant_id=${tenant}`, { token: gw.apiKey }),
      apiRoutes.listMessages,
      200,
    );
    expect(messages.data).toHaveLength(1);
  });
});

describe('GET /v1/messages', () => {
  it('lists newest first, filtered by tenant and event type, paginated', async () => {
    const tenant = freshTenant();
    const a = await accepted(await send({ tenant_id: tenant, event_type: 'x.one', payload: {} }));
    const b = await accepted(await send({ tenant_id: tenant, event_type: 'x.two', payload: {} }));
    const c = await accepted(await send({ tenant_id: tenant, event_type: 'x.one', payload: {} }));
    const page1 = await expectResponse<Page<Message>>(
      await call(app, 'GET', `/v1/messages?tenant_id=${tenant}&limit=2`, { token: gw.apiKey }),
      apiRoutes.listMessages,
      200,
    );
    expect(page1.data.map((m) => m.id)).toEqual([c.id, b.id]);
    const page2 = await expectResponse<Page<Message>>(
      await call(
        app,
        'GET',
        `/v1/messages?tenant_id=${tenant}&limit=2&cursor=${page1.next_cursor}`,
        {
          token: gw.apiKey,
        },
      ),
      apiRoutes.listMessages,
      200,
    );
    expect(page2).toEqual({ data: [expect.objectContaining({ id: a.id })], next_cursor: null });
    const ones = await expectResponse<Page<Message>>(
      await call(app, 'GET', `/v1/messages?tenant_id=${tenant}&event_type=x.one`, {
        token: gw.apiKey,
      }),
      apiRoutes.listMessages,
      200,
    );
    expect(ones.data.map((m) => m.id)).toEqual([c.id, a.id]);
  });

  it('names every bad query parameter', async () => {
    await expectInvalid(
      await call(app, 'GET', '/v1/messages?limit=0&tenant_id=%20&event_type=A&cursor=&q=1', {
        token: gw.apiKey,
      }),
      ['limit', 'tenant_id', 'event_type', 'cursor', 'q'],
    );
  });

  it('answers 404 for an unknown or malformed message id', async () => {
    for (const id of ['msg_00000000000000000000000000', 'ep_abc', 'msg_!']) {
      await expectError(
        await call(app, 'GET', `/v1/messages/${id}`, { token: gw.apiKey }),
        404,
        'not_found',
      );
    }
  });

  it('refuses portal tokens with 401', async () => {
    const sent = await accepted(
      await send({ tenant_id: 'tenant-a', event_type: 'a.b', payload: {} }),
    );
    await expectError(
      await call(app, 'GET', '/v1/messages', { token: tokenA }),
      401,
      'unauthorized',
    );
    await expectError(
      await call(app, 'GET', `/v1/messages/${sent.id}`, { token: tokenA }),
      401,
      'unauthorized',
    );
  });
});

describe('deliveries', () => {
  it('lists deliveries newest first with every filter', async () => {
    const tenant = freshTenant();
    const one = await createEndpoint({ tenant_id: tenant });
    const two = await createEndpoint({ tenant_id: tenant, status: 'paused' });
    const m1 = await accepted(await send({ tenant_id: tenant, event_type: 'f.one', payload: {} }));
    const m2 = await accepted(await send({ tenant_id: tenant, event_type: 'f.two', payload: {} }));
    const list = async (query: string) =>
      (
        await expectResponse<Page<Delivery>>(
          await call(app, 'GET', `/v1/deliveries?tenant_id=${tenant}&${query}`, {
            token: gw.apiKey,
          }),
          apiRoutes.listDeliveries,
          200,
        )
      ).data;
    const all = await list('limit=250');
    expect(all).toHaveLength(4);
    expect(all.map((d) => d.id)).toEqual([...all.map((d) => d.id)].sort().reverse());
    expect((await list(`endpoint_id=${one.id}`)).map((d) => d.message_id)).toEqual([m2.id, m1.id]);
    expect((await list(`message_id=${m1.id}`)).map((d) => d.endpoint_id).sort()).toEqual(
      [one.id, two.id].sort(),
    );
    expect((await list('status=held')).every((d) => d.endpoint_id === two.id)).toBe(true);
    expect((await list('event_type=f.two')).every((d) => d.message_id === m2.id)).toBe(true);
    const page = await list('limit=1');
    expect(page).toHaveLength(1);
    expect(all[0]).toMatchObject({
      tenant_id: tenant,
      attempt_count: 0,
      last_attempt: null,
      test: false,
    });
  });

  it('names every bad query parameter', async () => {
    await expectInvalid(
      await call(
        app,
        'GET',
        '/v1/deliveries?endpoint_id=x&tenant_id=%2F&message_id=y&status=lost&event_type=A&limit=-1&z=1',
        { token: gw.apiKey },
      ),
      ['endpoint_id', 'tenant_id', 'message_id', 'status', 'event_type', 'limit', 'z'],
    );
  });

  it("shows a portal token only its tenant's deliveries and 404s everything else", async () => {
    const mine = await accepted(
      await send({ tenant_id: 'tenant-a', event_type: 'p.s', payload: {} }),
    );
    const theirs = await accepted(
      await send({ tenant_id: 'tenant-b', event_type: 'p.s', payload: {} }),
    );
    const ownList = await expectResponse<Page<Delivery>>(
      await call(app, 'GET', '/v1/deliveries?limit=250', { token: tokenA }),
      apiRoutes.listDeliveries,
      200,
    );
    expect(ownList.data.length).toBeGreaterThan(0);
    expect(ownList.data.every((d) => d.tenant_id === 'tenant-a')).toBe(true);
    expect(ownList.data.map((d) => d.message_id)).toContain(mine.id);
    await expectError(
      await call(app, 'GET', '/v1/deliveries?tenant_id=tenant-b', { token: tokenA }),
      404,
      'not_found',
    );
    const otherEndpoint = await expectResponse<Page<Delivery>>(
      await call(app, 'GET', `/v1/deliveries?endpoint_id=${epB.id}`, { token: tokenA }),
      apiRoutes.listDeliveries,
      200,
    );
    expect(otherEndpoint.data).toEqual([]);
    const theirDelivery = (await gw.store.deliveries.list({ messageId: theirs.id })).data[0]!;
    await expectError(
      await call(app, 'GET', `/v1/deliveries/${theirDelivery.id}`, { token: tokenA }),
      404,
      'not_found',
    );
    await expectError(
      await call(app, 'POST', `/v1/deliveries/${theirDelivery.id}/replay`, { token: tokenA }),
      404,
      'not_found',
    );
    await expectResponse(
      await call(app, 'GET', `/v1/deliveries/${theirDelivery.id}`, { token: tokenB }),
      apiRoutes.getDelivery,
      200,
    );
  });

  it('gets a delivery with its attempts', async () => {
    const tenant = freshTenant();
    await createEndpoint({ tenant_id: tenant });
    const sent = await accepted(
      await send({ tenant_id: tenant, event_type: 'g.one', payload: {} }),
    );
    const [listed] = (await gw.store.deliveries.list({ messageId: sent.id })).data;
    const body = await expectResponse<Delivery & { attempts: unknown[] }>(
      await call(app, 'GET', `/v1/deliveries/${listed!.id}`, { token: gw.apiKey }),
      apiRoutes.getDelivery,
      200,
    );
    expect(body).toMatchObject({
      id: listed!.id,
      message_id: sent.id,
      status: 'pending',
      attempts: [],
      test: false,
    });
  });

  it('answers 404 for an unknown or malformed delivery id', async () => {
    for (const id of ['dlv_00000000000000000000000000', 'dlv_', 'msg_abc']) {
      await expectError(
        await call(app, 'GET', `/v1/deliveries/${id}`, { token: gw.apiKey }),
        404,
        'not_found',
      );
      await expectError(
        await call(app, 'POST', `/v1/deliveries/${id}/replay`, { token: gw.apiKey }),
        404,
        'not_found',
      );
    }
  });

  it("replays a delivery with 202, due now, for an API key and for its tenant's portal token", async () => {
    const sent = await accepted(
      await send({ tenant_id: 'tenant-a', event_type: 'r.one', payload: {}, endpoint_id: epA.id }),
    );
    const [listed] = (await gw.store.deliveries.list({ messageId: sent.id })).data;
    const body = await expectResponse<Delivery>(
      await call(app, 'POST', `/v1/deliveries/${listed!.id}/replay`, { token: tokenA }),
      apiRoutes.replayDelivery,
      202,
    );
    expect(body).toMatchObject({ id: listed!.id, endpoint_id: epA.id, status: 'pending' });
    expect(body.next_attempt_at).not.toBeNull();
    await expectResponse(
      await call(app, 'POST', `/v1/deliveries/${listed!.id}/replay`, {
        token: gw.apiKey,
        body: {},
      }),
      apiRoutes.replayDelivery,
      202,
    );
  });

  it('refuses unknown fields in the replay body', async () => {
    const [any] = (await gw.store.deliveries.list({ limit: 1 })).data;
    await expectInvalid(
      await call(app, 'POST', `/v1/deliveries/${any!.id}/replay`, {
        token: gw.apiKey,
        body: { now: true },
      }),
      ['now'],
    );
  });

  // Leases every due delivery of this file's database: keep it last.
  it('answers 409 conflict to a replay while a worker holds the delivery', async () => {
    const tenant = freshTenant();
    await createEndpoint({ tenant_id: tenant });
    const sent = await accepted(
      await send({ tenant_id: tenant, event_type: 'busy.one', payload: {} }),
    );
    const claimed = await gw.store.queue.claim({ workerId: 'test', limit: 250, leaseMs: 60_000 });
    const mine = claimed.find((d) => d.message.id === sent.id)!;
    expect(mine).toBeDefined();
    await expectError(
      await call(app, 'POST', `/v1/deliveries/${mine.id}/replay`, { token: gw.apiKey }),
      409,
      'conflict',
    );
  });
});

/**
 * The real gateway in-process (`startGateway`), driven through its REST API with plain `fetch`,
 * delivering to real HTTP and HTTPS receivers on loopback.
 */
import { Webhook as HooklineWebhook } from '@hookline/verify';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { type RunningGateway, startGateway } from '../../src/main';
import {
  type ReceivedRequest,
  type Receiver,
  type ReceiverHandler,
  startReceiver,
} from '../receivers';
import { createTestCertificates, type TestCertificates } from '../tls';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  sleep,
  testDrivers,
  waitFor,
} from './harness';

/** Both verifiers must accept a delivery as signed by `secret`; returns the parsed body. */
function verifyBoth(secret: string, request: ReceivedRequest): unknown {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  const ours = new HooklineWebhook(secret).verify(request.body.toString('utf8'), headers);
  const standard = new StandardWebhook(secret).verify(request.body.toString('utf8'), headers);
  expect(standard).toEqual(ours);
  return ours;
}

describe.each(testDrivers)('gateway end to end, in process (%s)', (driver) => {
  let storage: GatewayStorage;
  let gateway: RunningGateway;
  let certs: TestCertificates;
  let api: ReturnType<typeof apiClient>;
  const receivers: Receiver[] = [];
  let tenantCounter = 0;
  const tenant = () => `${driver}-t${++tenantCounter}`;

  beforeAll(async () => {
    certs = await createTestCertificates();
    storage = await gatewayStorage(driver);
    gateway = await startGateway({
      env: { ...LOCAL_ENV, ...storage.env, HOOKLINE_LOG_LEVEL: 'silent' },
      ca: certs.ca,
      logger: createLogger({ level: 'silent' }),
      printBanner: false,
    });
    const key = gateway.apiKey ?? storage.env.HOOKLINE_API_KEY;
    expect(key).toMatch(/^hl_sk_/);
    api = apiClient(gateway.url!, key!);
  });

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  afterAll(async () => {
    await gateway?.stop({ graceMs: 1_000 });
    await storage?.dispose();
  });

  async function receiver(handler?: ReceiverHandler, tls = false): Promise<Receiver> {
    const r = await startReceiver(handler, tls ? { tls: certs } : {});
    receivers.push(r);
    return r;
  }

  async function createEndpoint(body: Record<string, unknown>) {
    const created = await api('POST', '/v1/endpoints', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; secret: string; status: string };
  }

  async function sendMessage(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const sent = await api('POST', '/v1/messages', body, headers);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    return sent.body as { id: string; delivery_count: number; created_at: string };
  }

  async function deliveryOf(messageId: string, endpointId: string) {
    const list = await api(
      'GET',
      `/v1/deliveries?message_id=${messageId}&endpoint_id=${endpointId}`,
    );
    expect(list.status).toBe(200);
    return list.body.data[0] as { id: string; status: string; attempt_count: number } | undefined;
  }

  it('the first embedded start generates an admin API key', () => {
    if (driver === 'pglite') expect(gateway.apiKey).toMatch(/^hl_sk_[A-Za-z0-9_-]{40,}$/);
    else expect(gateway.apiKey).toBeUndefined();
  });

  it('delivers a message to every subscribed endpoint and no other, signed for both verifiers', async () => {
    const a = tenant();
    const b = tenant();
    const https = await receiver(undefined, true);
    const invoices = await receiver();
    const customers = await receiver();
    const paused = await receiver();
    const otherTenant = await receiver();
    const epAll = await createEndpoint({ tenant_id: a, url: `${https.url}/all` });
    const epInvoices = await createEndpoint({
      tenant_id: a,
      url: `${invoices.url}/invoices`,
      event_types: ['invoice.paid'],
      headers: { 'x-tenant-tag': 'blue' },
    });
    await createEndpoint({ tenant_id: a, url: customers.url, event_types: ['customer.created'] });
    const epPaused = await createEndpoint({ tenant_id: a, url: paused.url, status: 'paused' });
    await createEndpoint({ tenant_id: b, url: otherTenant.url });

    const payload = {
      invoice: 'in_1',
      amount: 4200,
      note: 'é ✓ "quoted"',
      nested: { z: 1, a: [1, 2] },
    };
    const message = await sendMessage({ tenant_id: a, event_type: 'invoice.paid', payload });
    // epAll, epInvoices, and the paused one (held).
    expect(message.delivery_count).toBe(3);

    await waitFor(() => https.requests.length === 1 && invoices.requests.length === 1, {
      what: 'both subscribed endpoints',
    });
    for (const [request, secret] of [
      [https.requests[0]!, epAll.secret],
      [invoices.requests[0]!, epInvoices.secret],
    ] as const) {
      expect(request.headers['webhook-id']).toBe(message.id);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/^Hookline\//);
      expect(verifyBoth(secret, request)).toEqual({
        type: 'invoice.paid',
        timestamp: message.created_at,
        data: payload,
      });
    }
    expect(invoices.requests[0]!.url).toBe('/invoices');
    expect(invoices.requests[0]!.headers['x-tenant-tag']).toBe('blue');
    // Signed with its own endpoint's secret only.
    expect(() => verifyBoth(epAll.secret, invoices.requests[0]!)).toThrow();

    await sleep(300);
    expect(customers.requests).toHaveLength(0);
    expect(otherTenant.requests).toHaveLength(0);
    expect(paused.requests).toHaveLength(0);
    expect((await deliveryOf(message.id, epPaused.id))?.status).toBe('held');

    // Resuming delivers what was held: the same message, the same webhook-id.
    const resumed = await api('PATCH', `/v1/endpoints/${epPaused.id}`, { status: 'active' });
    expect(resumed.status).toBe(200);
    await waitFor(() => paused.requests.length === 1, { what: 'the held delivery' });
    expect(paused.requests[0]!.headers['webhook-id']).toBe(message.id);
    verifyBoth(epPaused.secret, paused.requests[0]!);
  });

  it("retries on the endpoint's schedule, keeping the webhook-id", async () => {
    const t = tenant();
    let calls = 0;
    const arrivals: number[] = [];
    const r = await receiver((_req, res) => {
      arrivals.push(Date.now());
      calls++;
      res.writeHead(calls <= 2 ? 503 : 200).end('ok');
    });
    const ep = await createEndpoint({ tenant_id: t, url: r.url, retry_schedule: [1, 1] });
    const message = await sendMessage({ tenant_id: t, event_type: 'order.created', payload: {} });
    await waitFor(() => r.requests.length === 3, { what: 'three attempts' });
    const gaps = [arrivals[1]! - arrivals[0]!, arrivals[2]! - arrivals[1]!];
    for (const gap of gaps) {
      // 1 s ± 10 % jitter, never sooner; the upper slack is for a loaded machine.
      expect(gap).toBeGreaterThanOrEqual(880);
      expect(gap).toBeLessThan(2_500);
    }
    expect(new Set(r.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set([message.id]));
    for (const request of r.requests) verifyBoth(ep.secret, request);
    const delivery = await waitFor(async () => {
      const found = await deliveryOf(message.id, ep.id);
      return found?.status === 'succeeded' ? found : null;
    });
    const detail = await api('GET', `/v1/deliveries/${delivery.id}`);
    expect(detail.body.attempt_count).toBe(3);
    expect(detail.body.attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
      'http_5xx',
      'http_5xx',
      'success',
    ]);
  });

  it('marks a delivery dead after the last scheduled attempt', async () => {
    const t = tenant();
    const r = await receiver((_req, res) => res.writeHead(500).end());
    const ep = await createEndpoint({ tenant_id: t, url: r.url, retry_schedule: [1] });
    const message = await sendMessage({ tenant_id: t, event_type: 'order.created', payload: {} });
    const dead = await waitFor(async () => {
      const found = await deliveryOf(message.id, ep.id);
      return found?.status === 'dead' ? found : null;
    });
    expect(dead.attempt_count).toBe(2);
    expect(r.requests).toHaveLength(2);
  });

  it('disables an endpoint that answers 410 Gone', async () => {
    const t = tenant();
    const r = await receiver((_req, res) => res.writeHead(410).end());
    const ep = await createEndpoint({ tenant_id: t, url: r.url });
    await sendMessage({ tenant_id: t, event_type: 'order.created', payload: {} });
    const disabled = await waitFor(async () => {
      const found = await api('GET', `/v1/endpoints/${ep.id}`);
      return found.body.status === 'disabled' ? found.body : null;
    });
    expect(disabled.disabled_reason).toBe('gone');
    // A disabled endpoint is not fanned out to any more.
    const next = await sendMessage({ tenant_id: t, event_type: 'order.created', payload: {} });
    expect(next.delivery_count).toBe(0);
    await sleep(200);
    expect(r.requests).toHaveLength(1);
  });

  it('signs with both secrets during a rotation, then with the new one only', async () => {
    const t = tenant();
    const r = await receiver(undefined, true);
    const ep = await createEndpoint({ tenant_id: t, url: r.url });
    const rotated = await api('POST', `/v1/endpoints/${ep.id}/rotate-secret`, {
      grace_period_seconds: 2,
    });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    const expiresAt = Date.parse(rotated.body.previous_secret_expires_at);

    await sendMessage({ tenant_id: t, event_type: 'a.b', payload: { n: 1 } });
    await waitFor(() => r.requests.length === 1);
    const during = r.requests[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    verifyBoth(newSecret, during);
    verifyBoth(ep.secret, during);

    await sleep(Math.max(0, expiresAt - Date.now()) + 100);
    await sendMessage({ tenant_id: t, event_type: 'a.b', payload: { n: 2 } });
    await waitFor(() => r.requests.length === 2);
    const after = r.requests[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    verifyBoth(newSecret, after);
    expect(() => verifyBoth(ep.secret, after)).toThrow();
  });

  it('replays a delivery with the same bytes and the same webhook-id', async () => {
    const t = tenant();
    const r = await receiver();
    const ep = await createEndpoint({ tenant_id: t, url: r.url });
    const message = await sendMessage({
      tenant_id: t,
      event_type: 'order.created',
      payload: { b: 2, a: 1, text: 'ünïcödé' },
    });
    const delivery = await waitFor(async () => {
      const found = await deliveryOf(message.id, ep.id);
      return found?.status === 'succeeded' ? found : null;
    });
    const replay = await api('POST', `/v1/deliveries/${delivery.id}/replay`);
    expect(replay.status).toBe(202);
    await waitFor(() => r.requests.length === 2, { what: 'the replay' });
    const [original, replayed] = r.requests;
    expect(replayed!.body.equals(original!.body)).toBe(true);
    expect(replayed!.headers['webhook-id']).toBe(original!.headers['webhook-id']);
    verifyBoth(ep.secret, replayed!);
    const detail = await waitFor(async () => {
      const found = await api('GET', `/v1/deliveries/${delivery.id}`);
      return found.body.attempts.length === 2 ? found.body : null;
    });
    expect(detail.attempts.map((a: { trigger: string }) => a.trigger)).toEqual([
      'scheduled',
      'manual',
    ]);
  });

  it('accepts concurrent duplicate requests once under one Idempotency-Key', async () => {
    const t = tenant();
    const r = await receiver();
    await createEndpoint({ tenant_id: t, url: r.url });
    const body = { tenant_id: t, event_type: 'order.created', payload: { order: 7 } };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        api('POST', '/v1/messages', body, { 'idempotency-key': `key-${t}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const conflict = await api(
      'POST',
      '/v1/messages',
      { ...body, payload: { order: 8 } },
      { 'idempotency-key': `key-${t}` },
    );
    expect(conflict.status).toBe(409);
    await waitFor(() => r.requests.length === 1);
    await sleep(300);
    expect(r.requests).toHaveLength(1);
    const list = await api('GET', `/v1/messages?tenant_id=${t}`);
    expect(list.body.data).toHaveLength(1);
  });
});

// The SDK against the real gateway (embedded PGlite, in process) and real receivers on loopback:
// every call goes over HTTP through the gateway's own validation, storage and delivery worker.
import { Webhook } from '@hookline/verify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Hookline, HooklineApiError } from '../src/index';
import { type EmbeddedGateway, startEmbeddedGateway } from './embedded-gateway';
import { type LocalReceiver, startLocalReceiver, waitFor, webhookHeaders } from './local-receiver';

let gateway: EmbeddedGateway;
let hookline: Hookline;
const receivers: LocalReceiver[] = [];

beforeAll(async () => {
  gateway = await startEmbeddedGateway();
  hookline = new Hookline(gateway.apiKey, { baseUrl: gateway.url, timeoutMs: 15_000 });
}, 60_000);

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await gateway?.stop();
});

async function receiver(): Promise<LocalReceiver> {
  const r = await startLocalReceiver();
  receivers.push(r);
  return r;
}

async function deliveredOnce(messageId: string) {
  return waitFor(async () => {
    const { data } = await hookline.deliveries.list({ messageId }).page();
    return data.length === 1 && data[0]!.status === 'succeeded' ? data[0] : undefined;
  }, `the delivery of ${messageId} to succeed`);
}

describe('the SDK against the real gateway', () => {
  it('create endpoint → send → verified delivery → delivery log → replay → rotate → portal link', async () => {
    const hooks = await receiver();
    const endpoint = await hookline.endpoints.create({
      tenantId: 'acme',
      url: `${hooks.url}/webhooks`,
      eventTypes: ['invoice.paid'],
      headers: { 'X-Tenant_Tag': 'blue' },
      metadata: { customerId: 'c_1', plan_tier: 'pro' },
    });
    expect(endpoint).toMatchObject({
      tenantId: 'acme',
      status: 'active',
      eventTypes: ['invoice.paid'],
      headers: { 'X-Tenant_Tag': 'blue' },
      metadata: { customerId: 'c_1', plan_tier: 'pro' },
      signing: 'hmac',
      rotation: null,
    });
    expect(endpoint.id).toMatch(/^ep_/);
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect(endpoint.secretHint).toBe(endpoint.secret.slice(0, 10));

    // Send: the payload's own keys (snake_case, camelCase) arrive exactly as given.
    const payload = { invoice_id: 'in_1', amountDue: 4200, lines: [{ unit_price: 1 }] };
    const message = await hookline.messages.create({
      tenantId: 'acme',
      eventType: 'invoice.paid',
      payload,
    });
    expect(message).toMatchObject({
      tenantId: 'acme',
      eventType: 'invoice.paid',
      deliveryCount: 1,
    });

    await waitFor(() => hooks.requests.length === 1, 'the delivery');
    const first = hooks.requests[0]!;
    expect(first.url).toBe('/webhooks');
    expect(first.headers['webhook-id']).toBe(message.id);
    expect(first.headers['x-tenant_tag']).toBe('blue');
    expect(new Webhook(endpoint.secret).verify(first.body, webhookHeaders(first))).toEqual({
      type: 'invoice.paid',
      timestamp: message.createdAt,
      data: payload,
    });

    // The delivery log.
    const delivery = await deliveredOnce(message.id);
    expect(delivery).toMatchObject({
      messageId: message.id,
      endpointId: endpoint.id,
      tenantId: 'acme',
      eventType: 'invoice.paid',
      attemptCount: 1,
      test: false,
      lastAttempt: { outcome: 'success', httpStatus: 204, attemptNumber: 1 },
    });
    const detail = await hookline.deliveries.get(delivery.id);
    expect(detail.attempts).toHaveLength(1);
    expect(detail.attempts[0]).toMatchObject({ trigger: 'scheduled', outcome: 'success' });
    expect(detail.attempts[0]!.requestHeaders['webhook-id']).toBe(message.id);
    expect(JSON.parse(detail.attempts[0]!.requestBody).data).toEqual(payload);

    // Replay: the same webhook-id and the same bytes.
    const replayed = await hookline.deliveries.replay(delivery.id);
    expect(replayed.id).toBe(delivery.id);
    await waitFor(() => hooks.requests.length === 2, 'the replay');
    const second = hooks.requests[1]!;
    expect(second.headers['webhook-id']).toBe(message.id);
    expect(second.body).toBe(first.body);
    const afterReplay = await waitFor(async () => {
      const d = await hookline.deliveries.get(delivery.id);
      return d.attempts.length === 2 ? d : undefined;
    }, 'the replay attempt in the log');
    expect(afterReplay.attempts[1]).toMatchObject({ trigger: 'manual', attemptNumber: 2 });

    // Rotate: both secrets sign until the grace period ends.
    const before = Date.now();
    const rotated = await hookline.endpoints.rotateSecret(endpoint.id, {
      gracePeriodSeconds: 3600,
    });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const expires = Date.parse(rotated.previousSecretExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_601_000);
    expect((await hookline.endpoints.get(endpoint.id)).rotation).toEqual({
      previousSecretExpiresAt: rotated.previousSecretExpiresAt,
    });
    const afterRotation = await hookline.messages.create({
      tenantId: 'acme',
      eventType: 'invoice.paid',
      payload: { invoice_id: 'in_2' },
    });
    await waitFor(() => hooks.requests.length === 3, 'the delivery after the rotation');
    const third = hooks.requests[2]!;
    expect(third.headers['webhook-id']).toBe(afterRotation.id);
    expect(String(third.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [rotated.secret, endpoint.secret]) {
      expect(new Webhook(secret).verify(third.body, webhookHeaders(third))).toMatchObject({
        data: { invoice_id: 'in_2' },
      });
    }

    // Portal link: a token scoped to the tenant, usable with the SDK itself.
    await hookline.endpoints.create({ tenantId: 'globex', url: `${hooks.url}/other` });
    const link = await hookline.portal.createLink({ tenantId: 'acme', expiresInSeconds: 600 });
    expect(link.token).toMatch(/^hl_pt_/);
    expect(link.url).toBe(`${gateway.url}/portal#token=${link.token}&tenant_id=acme`);
    expect(Date.parse(link.expiresAt)).toBeGreaterThan(Date.now() + 590_000);
    const portal = new Hookline(link.token, { baseUrl: gateway.url });
    const seen = [];
    for await (const ep of portal.endpoints.list()) seen.push(ep.tenantId);
    expect(seen).toEqual(['acme']);
    await expect(
      portal.messages.create({ tenantId: 'acme', eventType: 'invoice.paid', payload: {} }),
    ).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(portal.endpoints.list({ tenantId: 'globex' }).page()).rejects.toMatchObject({
      status: 404,
    });
  });

  it('sends once per idempotency key, and refuses the key with another body', async () => {
    const hooks = await receiver();
    await hookline.endpoints.create({ tenantId: 'idem', url: hooks.url });
    const params = { tenantId: 'idem', eventType: 'order.created', payload: { order: 1 } };
    const first = await hookline.messages.create(params, { idempotencyKey: 'order-1-created' });
    const again = await hookline.messages.create(params, { idempotencyKey: 'order-1-created' });
    expect(again).toEqual(first);
    const conflict = await hookline.messages
      .create({ ...params, payload: { order: 2 } }, { idempotencyKey: 'order-1-created' })
      .catch((e) => e);
    expect(conflict).toBeInstanceOf(HooklineApiError);
    expect(conflict).toMatchObject({ status: 409, code: 'idempotency_conflict' });
    await deliveredOnce(first.id);
    const messages = [];
    for await (const m of hookline.messages.list({ tenantId: 'idem' })) messages.push(m.id);
    expect(messages).toEqual([first.id]);
    expect(hooks.requests).toHaveLength(1);
  });

  it('imports one Default endpoint per tenant, idempotently, then broadcasts to them', async () => {
    const hooks = await receiver();
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const entries = [
      { tenantId: 'legacy-1', url: `${hooks.url}/legacy-1`, secret },
      { tenantId: 'legacy-2', url: `${hooks.url}/legacy-2` },
      { tenantId: 'legacy-3', url: `${hooks.url}/legacy-3` },
    ];
    const first = await hookline.importEndpoints(entries);
    expect(first.map((r) => r.status)).toEqual(['created', 'created', 'created']);
    const imported = first[0]!;
    expect(imported.status === 'created' && imported.endpoint).toMatchObject({
      description: 'Default',
      eventTypes: [],
      metadata: { hookline_import: 'default' },
      secret,
    });

    const second = await hookline.importEndpoints(entries);
    expect(second.map((r) => r.status)).toEqual(['existing', 'existing', 'existing']);
    for (const entry of entries) {
      const page = await hookline.endpoints.list({ tenantId: entry.tenantId }).page();
      expect(page.data).toHaveLength(1);
    }

    const results = await hookline.messages.broadcast(
      {
        tenantIds: ['legacy-1', 'legacy-2', 'legacy-3', 'no-endpoints'],
        eventType: 'maintenance.scheduled',
        payload: { starts_at: '2025-02-01T00:00:00Z' },
      },
      { concurrency: 2 },
    );
    expect(results.map((r) => (r.ok ? r.message.deliveryCount : r.error))).toEqual([1, 1, 1, 0]);
    await waitFor(() => hooks.requests.length === 3, 'three broadcast deliveries');
    expect(hooks.requests.map((r) => r.url).sort()).toEqual([
      '/legacy-1',
      '/legacy-2',
      '/legacy-3',
    ]);
    // The imported secret is the one that signs, so the customer's receiver keeps working.
    const legacy1 = hooks.requests.find((r) => r.url === '/legacy-1')!;
    expect(new Webhook(secret).verify(legacy1.body, webhookHeaders(legacy1))).toMatchObject({
      type: 'maintenance.scheduled',
    });
  });

  it('walks every page of a list', async () => {
    const hooks = await receiver();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push(
        (await hookline.endpoints.create({ tenantId: 'pager', url: `${hooks.url}/${i}` })).id,
      );
    }
    const walked: string[] = [];
    for await (const ep of hookline.endpoints.list({ tenantId: 'pager', limit: 2 }))
      walked.push(ep.id);
    expect(walked).toEqual([...created].reverse());
    const pages = [];
    for await (const page of hookline.endpoints.list({ tenantId: 'pager', limit: 2 }).pages()) {
      pages.push(page.data.length);
    }
    expect(pages).toEqual([2, 2, 1]);
  });

  it('maps the gateway’s refusals to HooklineApiError', async () => {
    const invalid = await hookline.messages
      .create({ tenantId: 'acme', eventType: 'Not An Event', payload: {} })
      .catch((e) => e);
    expect(invalid).toBeInstanceOf(HooklineApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(invalid.details.map((d: { path: string }) => d.path)).toEqual(['event_type']);
    expect(invalid.requestId).toEqual(expect.any(String));

    await expect(
      hookline.messages.create({
        tenantId: 'acme',
        eventType: 'invoice.paid',
        payload: { blob: 'x'.repeat(300 * 1024) },
      }),
    ).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });

    await expect(hookline.endpoints.get('ep_doesnotexist')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    await expect(
      hookline.endpoints.create({ tenantId: 'acme', url: 'http://10.0.0.1/hooks' }),
    ).rejects.toMatchObject({ status: 400, code: 'url_not_allowed' });
    const stranger = new Hookline('hl_sk_not_a_key_the_gateway_knows', { baseUrl: gateway.url });
    await expect(stranger.endpoints.list().page()).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });

  it('covers the rest of the API: update, test, stats, recover, delete, catalog, alerts, operations', async () => {
    const hooks = await receiver();
    const started = new Date(Date.now() - 1_000);
    const endpoint = await hookline.endpoints.create({
      tenantId: 'rest',
      url: hooks.url,
      retrySchedule: [],
    });

    const updated = await hookline.endpoints.update(endpoint.id, {
      description: 'Billing',
      rateLimitPerMinute: 120,
      metadata: { Team_Name: 'billing' },
    });
    expect(updated).toMatchObject({
      description: 'Billing',
      rateLimitPerMinute: 120,
      metadata: { Team_Name: 'billing' },
      retrySchedule: [],
    });

    const attempt = await hookline.endpoints.sendTest(endpoint.id, {
      eventType: 'hookline.test',
      payload: { hello_world: true },
    });
    expect(attempt).toMatchObject({ trigger: 'test', outcome: 'success', httpStatus: 204 });
    expect(JSON.parse(hooks.requests[0]!.body).data).toEqual({ hello_world: true });

    // A failure with no retries left is dead; recover replays it.
    hooks.status = 500;
    const failing = await hookline.messages.create({
      tenantId: 'rest',
      eventType: 'invoice.paid',
      payload: { n: 1 },
    });
    await waitFor(async () => {
      const { data } = await hookline.deliveries
        .list({ messageId: failing.id, status: 'dead' })
        .page();
      return data.length === 1;
    }, 'the delivery to be dead');
    hooks.status = 204;
    const recovered = await hookline.endpoints.recover(endpoint.id, { since: started });
    expect(recovered).toEqual({ count: 1 });
    await deliveredOnce(failing.id);

    const stats = await hookline.endpoints.stats(endpoint.id, { window: '1h' });
    expect(stats).toMatchObject({ window: '1h', health: expect.any(String) });
    expect(stats.succeeded + stats.failed + stats.dead).toBeGreaterThanOrEqual(1);

    await hookline.endpoints.delete(endpoint.id);
    await expect(hookline.endpoints.get(endpoint.id)).rejects.toMatchObject({ status: 404 });

    const eventType = await hookline.eventTypes.create({
      name: 'invoice.paid',
      description: 'An invoice was paid.',
      schema: { type: 'object', required: ['invoice_id'] },
      example: { invoice_id: 'in_1' },
    });
    expect(eventType).toMatchObject({ name: 'invoice.paid', example: { invoice_id: 'in_1' } });
    expect(await hookline.eventTypes.get('invoice.paid')).toEqual(eventType);
    const names = [];
    for await (const t of hookline.eventTypes.list()) names.push(t.name);
    expect(names).toContain('invoice.paid');
    expect(await hookline.eventTypes.update('invoice.paid', { schema: null })).toMatchObject({
      schema: null,
      example: { invoice_id: 'in_1' },
    });
    await hookline.eventTypes.delete('invoice.paid');
    await expect(hookline.eventTypes.get('invoice.paid')).rejects.toMatchObject({ status: 404 });

    const channels = await hookline.tenants.setAlertChannels('rest', {
      emails: ['ops@rest.example'],
      slackWebhookUrl: `${hooks.url}/slack`,
    });
    expect(channels).toEqual({
      tenantId: 'rest',
      emails: ['ops@rest.example'],
      slackWebhookUrl: `${hooks.url}/slack`,
    });
    expect(await hookline.tenants.getAlertChannels('rest')).toEqual(channels);

    expect(await hookline.operations.health()).toEqual({ status: 'ok' });
    expect(await hookline.operations.readiness()).toEqual({ status: 'ready' });
    expect(await hookline.operations.metrics()).toMatch(/^hookline_build_info\{.*\} 1$/m);
    const openApi = await hookline.operations.openApi();
    expect(openApi.openapi).toMatch(/^3\.1/);
    expect(Object.keys(openApi.paths as object)).toContain('/v1/endpoints/{id}/rotate-secret');
  });
});

import { delay } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HooklineApiError } from '../src/index';
import { wire } from './fixtures';
import { apiError, client, json, mockGateway } from './mock-gateway';

const gateway = mockGateway();
beforeAll(() => gateway.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => gateway.reset());
afterAll(() => gateway.server.close());

const tenants = Array.from({ length: 12 }, (_, i) => `t${i + 1}`);

function acceptEach(options: { delayMs?: number; failFor?: string } = {}) {
  let inFlight = 0;
  let maxInFlight = 0;
  gateway.on('createMessage', async ({ body }) => {
    const { tenant_id: tenantId } = JSON.parse(body) as { tenant_id: string };
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await delay(options.delayMs ?? 5);
      if (tenantId === options.failFor) {
        return apiError(400, 'invalid_request', 'Invalid request body: tenant_id is bad.');
      }
      return json({ ...wire.messageAccepted, id: `msg_${tenantId}`, tenant_id: tenantId }, 202);
    } finally {
      inFlight--;
    }
  });
  return { maxInFlight: () => maxInFlight };
}

describe('messages.broadcast', () => {
  it('sends one message per tenant, at most `concurrency` at once, results in input order', async () => {
    const seen = acceptEach({ delayMs: 20 });
    const results = await client().messages.broadcast(
      { tenantIds: tenants, eventType: 'plan.changed', payload: { plan_id: 'pro' } },
      { concurrency: 3 },
    );
    expect(results.map((r) => r.tenantId)).toEqual(tenants);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => (r.ok ? r.message.id : null))).toEqual(
      tenants.map((t) => `msg_${t}`),
    );
    expect(seen.maxInFlight()).toBe(3);
    const bodies = gateway.calls('createMessage').map((c) => JSON.parse(c.body));
    expect(bodies).toHaveLength(12);
    for (const body of bodies) {
      expect(body).toEqual({
        tenant_id: expect.any(String),
        event_type: 'plan.changed',
        payload: { plan_id: 'pro' },
      });
    }
  });

  it('keeps going when one tenant fails, and reports that tenant’s error', async () => {
    acceptEach({ failFor: 't4' });
    const results = await client().messages.broadcast({
      tenantIds: tenants,
      eventType: 'plan.changed',
      payload: {},
    });
    const failed = results.filter((r) => !r.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.tenantId).toBe('t4');
    expect(failed[0]!.ok === false && failed[0]!.error).toBeInstanceOf(HooklineApiError);
    expect(results.filter((r) => r.ok)).toHaveLength(11);
    expect(gateway.calls('createMessage')).toHaveLength(12);
  });

  it('gives each tenant its own idempotency key, derived from the broadcast key when given', async () => {
    acceptEach();
    const h = client();
    await h.messages.broadcast({ tenantIds: ['a', 'b'], eventType: 'x.y', payload: {} });
    const random = gateway.calls('createMessage').map((c) => c.headers.get('idempotency-key'));
    expect(new Set(random).size).toBe(2);

    gateway.reset();
    acceptEach();
    await h.messages.broadcast(
      { tenantIds: ['a', 'b'], eventType: 'x.y', payload: {} },
      { idempotencyKey: 'launch-2025' },
    );
    const derived = gateway
      .calls('createMessage')
      .map((c) => [JSON.parse(c.body).tenant_id, c.headers.get('idempotency-key')]);
    expect(derived.sort()).toEqual([
      ['a', 'launch-2025:a'],
      ['b', 'launch-2025:b'],
    ]);
  });

  it('answers an empty list with an empty result, sending nothing', async () => {
    await expect(
      client().messages.broadcast({ tenantIds: [], eventType: 'x.y', payload: {} }),
    ).resolves.toEqual([]);
    expect(gateway.recorded).toHaveLength(0);
  });

  it.each([
    [
      { tenantIds: 'acme', eventType: 'x.y', payload: {} },
      {},
      'needs tenantIds: an array of tenant ids',
    ],
    [{ tenantIds: ['a', 'a'], eventType: 'x.y', payload: {} }, {}, 'lists the tenant a twice'],
    [
      { tenantIds: ['a', ''], eventType: 'x.y', payload: {} },
      {},
      'needs every tenant id to be a non-empty string, got an empty string',
    ],
    [
      { tenantIds: ['a'], eventType: 'x.y', payload: 'hi' },
      {},
      'needs payload to be a JSON object, got a string',
    ],
    [
      { tenantIds: ['a'], eventType: 'x.y', payload: {} },
      { concurrency: 0 },
      'concurrency must be a whole number ≥ 1, got a number',
    ],
    [
      { tenantIds: ['a', 'b'.repeat(128)], eventType: 'x.y', payload: {} },
      { idempotencyKey: 'k'.repeat(200) },
      'idempotencyKey:tenantId must be 1–255 visible ASCII characters without spaces, got 329 characters',
    ],
  ])('refuses bad input before sending: %j', async (params, options, message) => {
    await expect(client().messages.broadcast(params as never, options)).rejects.toThrow(message);
    expect(gateway.recorded).toHaveLength(0);
  });

  it('stops starting messages and rejects when aborted', async () => {
    acceptEach({ delayMs: 30 });
    const controller = new AbortController();
    const pending = client().messages.broadcast(
      { tenantIds: tenants, eventType: 'x.y', payload: {} },
      { concurrency: 2, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('stop')), 45);
    await expect(pending).rejects.toThrow('stop');
    await delay(100);
    expect(gateway.calls('createMessage').length).toBeLessThanOrEqual(4);
  });
});

import { delay, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HooklineApiError, HooklineConnectionError, HooklineTimeoutError } from '../src/index';
import { parseRetryAfter } from '../src/transport';
import { wire } from './fixtures';
import { apiError, client, json, mockGateway } from './mock-gateway';

const gateway = mockGateway();
beforeAll(() => gateway.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => gateway.reset());
afterAll(() => gateway.server.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const message = { tenantId: 'acme', eventType: 'invoice.paid', payload: { n: 1 } };
const unavailable = () => apiError(503, 'not_ready', 'The gateway is starting.');
const createParams = { tenantId: 'acme', url: 'https://acme.example/hooks' };

/** Answers with each of `answers` in turn, the last one from then on. */
const sequence =
  (...answers: (() => Response)[]) =>
  (_: unknown, index: number) =>
    answers[Math.min(index, answers.length - 1)]!();

describe('retries', () => {
  it('retries a 5xx with backoff and returns the answer that succeeds', async () => {
    gateway.on(
      'getEndpoint',
      sequence(unavailable, unavailable, () => json(wire.endpoint)),
    );
    const endpoint = await client().endpoints.get('ep_2f8a');
    expect(endpoint.id).toBe('ep_2f8a');
    expect(gateway.calls('getEndpoint')).toHaveLength(3);
  });

  it('gives up after `retries` retries and throws the last error', async () => {
    gateway.on('getEndpoint', unavailable);
    const error = await client({ retries: 3 })
      .endpoints.get('ep_2f8a')
      .catch((e) => e);
    expect(error).toBeInstanceOf(HooklineApiError);
    expect(error).toMatchObject({ status: 503, code: 'not_ready' });
    expect(gateway.calls('getEndpoint')).toHaveLength(4);
  });

  it('does not retry at all with retries: 0, per client or per call', async () => {
    gateway.on('getEndpoint', unavailable);
    await expect(client({ retries: 0 }).endpoints.get('ep_2f8a')).rejects.toThrow(HooklineApiError);
    expect(gateway.calls('getEndpoint')).toHaveLength(1);
    await expect(client().endpoints.get('ep_2f8a', { retries: 0 })).rejects.toThrow();
    expect(gateway.calls('getEndpoint')).toHaveLength(2);
  });

  it('retries network errors and throws HooklineConnectionError once they persist', async () => {
    gateway.on('listEndpoints', () => HttpResponse.error());
    const error = await client()
      .endpoints.list()
      .page()
      .catch((e) => e);
    expect(error).toBeInstanceOf(HooklineConnectionError);
    expect(error.code).toBe('connection_error');
    expect(error.message).toMatch(
      /^Could not reach the Hookline gateway at https:\/\/gateway\.test \(GET \/v1\/endpoints\)/,
    );
    expect(error.cause).toBeInstanceOf(Error);
    expect(gateway.calls('listEndpoints')).toHaveLength(3);

    gateway.reset();
    gateway.on(
      'listEndpoints',
      sequence(
        () => HttpResponse.error(),
        () => json({ data: [], next_cursor: null }),
      ),
    );
    await expect(client().endpoints.list().page()).resolves.toEqual({ data: [], nextCursor: null });
  });

  it.each([400, 401, 404, 409, 413, 422])('never retries a %i', async (status) => {
    gateway.on('getEndpoint', () => apiError(status, 'some_code', 'Nope.'));
    await expect(client({ retries: 5 }).endpoints.get('ep_2f8a')).rejects.toMatchObject({ status });
    expect(gateway.calls('getEndpoint')).toHaveLength(1);
  });

  it('honours Retry-After on a 429 (seconds)', async () => {
    gateway.on(
      'getEndpoint',
      sequence(
        () => apiError(429, 'rate_limited', 'Slow down.', { headers: { 'Retry-After': '1' } }),
        () => json(wire.endpoint),
      ),
    );
    const started = performance.now();
    await client({ retryDelay: { initialMs: 1, maxMs: 1 } }).endpoints.get('ep_2f8a');
    // The backoff alone would wait ≤ 1 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(gateway.calls('getEndpoint')).toHaveLength(2);
  });

  it('reads Retry-After as delta-seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-31T12:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Fri, 31 Jan 2025 12:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter('Fri, 31 Jan 2025 11:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('throws a 429 at once when Retry-After asks for longer than a minute', async () => {
    gateway.on('getEndpoint', () =>
      apiError(429, 'rate_limited', 'Slow down.', { headers: { 'Retry-After': '120' } }),
    );
    const error = await client()
      .endpoints.get('ep_2f8a')
      .catch((e) => e);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 120 });
    expect(gateway.calls('getEndpoint')).toHaveLength(1);
  });

  it('retries a 429 even for a call that could act twice (a 429 means nothing was done)', async () => {
    gateway.on(
      'createEndpoint',
      sequence(
        () => apiError(429, 'rate_limited', 'Slow down.', { headers: { 'Retry-After': '0' } }),
        () => json(wire.endpointWithSecret, 201),
      ),
    );
    await expect(client().endpoints.create(createParams)).resolves.toMatchObject({ id: 'ep_2f8a' });
    expect(gateway.calls('createEndpoint')).toHaveLength(2);
  });

  it('does not repeat a call that could act twice after a 5xx or a lost answer', async () => {
    gateway.on('createEndpoint', unavailable);
    await expect(client().endpoints.create(createParams)).rejects.toMatchObject({ status: 503 });
    expect(gateway.calls('createEndpoint')).toHaveLength(1);

    gateway.on('rotateEndpointSecret', () => HttpResponse.error());
    await expect(client().endpoints.rotateSecret('ep_2f8a')).rejects.toThrow(
      HooklineConnectionError,
    );
    expect(gateway.calls('rotateEndpointSecret')).toHaveLength(1);
  });

  it('treats a 404 on a retried DELETE as done: the lost first answer had deleted it', async () => {
    gateway.on(
      'deleteEndpoint',
      sequence(unavailable, () => apiError(404, 'not_found', 'No endpoint with that id.')),
    );
    await expect(client().endpoints.delete('ep_2f8a')).resolves.toBeUndefined();
    expect(gateway.calls('deleteEndpoint')).toHaveLength(2);

    gateway.reset();
    gateway.on('deleteEndpoint', () => apiError(404, 'not_found', 'No endpoint with that id.'));
    await expect(client().endpoints.delete('ep_2f8a')).rejects.toMatchObject({ status: 404 });
  });
});

describe('idempotency keys', () => {
  it('sends one key on every retry of a message and a new key for the next message', async () => {
    gateway.on(
      'createMessage',
      sequence(
        unavailable,
        () => HttpResponse.error(),
        () => json(wire.messageAccepted, 202),
      ),
    );
    const h = client();
    await h.messages.create(message);
    const keys = gateway.calls('createMessage').map((c) => c.headers.get('idempotency-key'));
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(UUID);
    expect(new Set(keys).size).toBe(1);

    await h.messages.create(message);
    const next = gateway.calls('createMessage')[3]!.headers.get('idempotency-key');
    expect(next).toMatch(UUID);
    expect(next).not.toBe(keys[0]);
  });

  it('uses the caller’s key when given, on every retry', async () => {
    gateway.on(
      'createMessage',
      sequence(unavailable, () => json(wire.messageAccepted, 202)),
    );
    await client().messages.create(message, { idempotencyKey: 'order-42:paid' });
    expect(gateway.calls('createMessage').map((c) => c.headers.get('idempotency-key'))).toEqual([
      'order-42:paid',
      'order-42:paid',
    ]);
  });

  it.each([
    ['an empty key', ''],
    ['a key with a space', 'order 42'],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['a non-ASCII key', 'commande-é'],
  ])('refuses %s before sending anything', async (_, key) => {
    await expect(client().messages.create(message, { idempotencyKey: key })).rejects.toThrow(
      /idempotencyKey must be 1–255 visible ASCII characters/,
    );
    expect(gateway.recorded).toHaveLength(0);
  });

  it('surfaces a reused key with a different body as a 409 idempotency_conflict', async () => {
    gateway.on('createMessage', () =>
      apiError(409, 'idempotency_conflict', 'This Idempotency-Key was already used.'),
    );
    await expect(client().messages.create(message, { idempotencyKey: 'k1' })).rejects.toMatchObject(
      { status: 409, code: 'idempotency_conflict' },
    );
    expect(gateway.calls('createMessage')).toHaveLength(1);
  });
});

describe('timeouts and cancellation', () => {
  it('abandons an attempt after timeoutMs with HooklineTimeoutError, retrying it first', async () => {
    gateway.on('getEndpoint', async () => {
      await delay(2_000);
      return json(wire.endpoint);
    });
    const started = performance.now();
    const error = await client({ timeoutMs: 50, retries: 1 })
      .endpoints.get('ep_2f8a')
      .catch((e) => e);
    expect(error).toBeInstanceOf(HooklineTimeoutError);
    expect(error).toBeInstanceOf(HooklineConnectionError);
    expect(error).toMatchObject({ code: 'timeout', timeoutMs: 50 });
    expect(error.message).toBe(
      'No answer from the Hookline gateway within 50 ms (GET /v1/endpoints/ep_2f8a).',
    );
    expect(gateway.calls('getEndpoint')).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('lets a per-call timeout override the client’s', async () => {
    gateway.on('getEndpoint', async () => {
      await delay(300);
      return json(wire.endpoint);
    });
    await expect(
      client({ timeoutMs: 10_000 }).endpoints.get('ep_2f8a', { timeoutMs: 20, retries: 0 }),
    ).rejects.toThrow(HooklineTimeoutError);
  });

  it('times out even when a custom fetch ignores the abort signal', async () => {
    const stuck = () => new Promise<Response>(() => {});
    const error = await client({ fetch: stuck, timeoutMs: 30, retries: 0 })
      .endpoints.get('ep_2f8a')
      .catch((e) => e);
    expect(error).toBeInstanceOf(HooklineTimeoutError);
  });

  it('rejects with the signal’s reason when aborted in flight, without retrying', async () => {
    gateway.on('getEndpoint', async () => {
      await delay(2_000);
      return json(wire.endpoint);
    });
    const controller = new AbortController();
    const pending = client().endpoints.get('ep_2f8a', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 30);
    await expect(pending).rejects.toThrow('user gave up');
    expect(gateway.calls('getEndpoint')).toHaveLength(1);
  });

  it('stops waiting to retry when aborted during the backoff', async () => {
    gateway.on('getEndpoint', unavailable);
    const controller = new AbortController();
    const started = performance.now();
    const pending = client({ retryDelay: { initialMs: 5_000, maxMs: 5_000 } }).endpoints.get(
      'ep_2f8a',
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(gateway.calls('getEndpoint')).toHaveLength(1);
  });

  it('sends nothing with a signal that is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      client().endpoints.get('ep_2f8a', { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(gateway.recorded).toHaveLength(0);
  });
});

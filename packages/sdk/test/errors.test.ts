import { type AddressInfo, createServer } from 'node:net';
import { inspect } from 'node:util';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Hookline,
  HooklineApiError,
  HooklineConnectionError,
  HooklineError,
  HooklineTimeoutError,
} from '../src/index';
import { API_KEY, apiError, BASE_URL, client, json, mockGateway } from './mock-gateway';

const gateway = mockGateway();
beforeAll(() => gateway.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => gateway.reset());
afterAll(() => gateway.server.close());

/** Everything an error exposes, as a log line or an error tracker would see it. */
function everything(error: unknown): string {
  const e = error as Error;
  return [inspect(error, { depth: 10 }), e.message, e.stack, JSON.stringify(error)].join('\n');
}

describe('error mapping', () => {
  it('maps a 400 to HooklineApiError with status, code, message, details and request id', async () => {
    gateway.on('createEndpoint', () =>
      apiError(
        400,
        'invalid_request',
        'Invalid request body: retry_schedule[2] must be at least 0 seconds.',
        {
          details: [{ path: 'retry_schedule[2]', message: 'must be at least 0 seconds' }],
          headers: { 'x-request-id': 'req_123' },
        },
      ),
    );
    const error = await client()
      .endpoints.create({ tenantId: 'acme', url: 'https://a.example', retrySchedule: [1, 2, -1] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(HooklineApiError);
    expect(error).toBeInstanceOf(HooklineError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'HooklineApiError',
      status: 400,
      code: 'invalid_request',
      message: 'Invalid request body: retry_schedule[2] must be at least 0 seconds.',
      details: [{ path: 'retry_schedule[2]', message: 'must be at least 0 seconds' }],
      requestId: 'req_123',
      retryAfter: null,
    });
  });

  it('gives details: [] and requestId: null when the answer has neither', async () => {
    gateway.on('getEndpoint', () => apiError(404, 'not_found', 'No endpoint with that id.'));
    const error = await client()
      .endpoints.get('ep_missing')
      .catch((e) => e);
    expect(error).toMatchObject({ status: 404, code: 'not_found', details: [], requestId: null });
  });

  it('maps an error answer that is not a Hookline body (a proxy page) to unexpected_response', async () => {
    gateway.on(
      'getEndpoint',
      () =>
        new HttpResponse('<html>Bad gateway</html>', {
          status: 502,
          statusText: 'Bad Gateway',
          headers: { 'content-type': 'text/html' },
        }),
    );
    const error = await client({ retries: 0 })
      .endpoints.get('ep_1')
      .catch((e) => e);
    expect(error).toBeInstanceOf(HooklineApiError);
    expect(error).toMatchObject({
      status: 502,
      code: 'unexpected_response',
      message: 'The gateway answered 502 Bad Gateway without a Hookline error body.',
    });
  });

  it('maps a 2xx whose body is not JSON to unexpected_response', async () => {
    gateway.on('getEndpoint', () => new HttpResponse('ok', { status: 200 }));
    await expect(client().endpoints.get('ep_1')).rejects.toMatchObject({
      status: 200,
      code: 'unexpected_response',
      message: 'The gateway answered 200 with a body that is not JSON.',
    });
  });

  it('keeps the class chain: timeout ⊂ connection ⊂ HooklineError ⊂ Error', () => {
    const timeout = new HooklineTimeoutError('late', 10);
    expect(timeout).toBeInstanceOf(HooklineConnectionError);
    expect(timeout).toBeInstanceOf(HooklineError);
    expect(timeout).toMatchObject({ name: 'HooklineTimeoutError', code: 'timeout' });
    const connection = new HooklineConnectionError('down', { cause: new Error('ECONNREFUSED') });
    expect(connection).toMatchObject({ name: 'HooklineConnectionError', code: 'connection_error' });
    expect(connection).not.toBeInstanceOf(HooklineTimeoutError);
  });

  it('names the system error of a refused connection (real fetch, closed loopback port)', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    gateway.server.close();
    try {
      const h = new Hookline(API_KEY, {
        baseUrl: `http://127.0.0.1:${port}`,
        retries: 0,
        timeoutMs: 5_000,
      });
      const error = await h.endpoints.get('ep_1').catch((e) => e);
      expect(error).toBeInstanceOf(HooklineConnectionError);
      expect(error.message).toBe(
        `Could not reach the Hookline gateway at http://127.0.0.1:${port} (GET /v1/endpoints/ep_1): fetch failed (ECONNREFUSED).`,
      );
      expect(everything(error)).not.toContain(API_KEY);
    } finally {
      gateway.server.listen({ onUnhandledRequest: 'error' });
    }
  });
});

describe('the API key stays secret', () => {
  it('appears in no error of any kind', async () => {
    gateway.on('getEndpoint', () => apiError(401, 'unauthorized', 'The API key is not valid.'));
    gateway.on('listEndpoints', () => HttpResponse.error());
    gateway.on('getMessage', () => new HttpResponse('nope', { status: 200 }));
    const h = client({ retries: 0, timeoutMs: 20 });
    const errors = await Promise.all([
      h.endpoints.get('ep_1').catch((e) => e),
      h.endpoints
        .list()
        .page()
        .catch((e) => e),
      h.messages.get('msg_1').catch((e) => e),
      new Hookline(API_KEY, {
        baseUrl: BASE_URL,
        fetch: () => new Promise(() => {}),
        timeoutMs: 10,
      }).endpoints
        .get('ep_1', { retries: 0 })
        .catch((e) => e),
      h.endpoints.get('msg_1').catch((e) => e),
    ]);
    expect(errors.map((e) => e.name)).toEqual([
      'HooklineApiError',
      'HooklineConnectionError',
      'HooklineApiError',
      'HooklineTimeoutError',
      'TypeError',
    ]);
    for (const error of errors) expect(everything(error)).not.toContain(API_KEY);
    // The test would notice a leak: the key is in the request that was sent.
    expect(gateway.calls('getEndpoint')[0]!.headers.get('authorization')).toContain(API_KEY);
  });

  it('is not shown by console.log, util.inspect or JSON.stringify of the client', () => {
    const h = client();
    for (const shown of [inspect(h, { depth: 10, showHidden: true }), JSON.stringify(h)]) {
      expect(shown).not.toContain(API_KEY);
    }
    expect(inspect(h.endpoints, { depth: 10 })).not.toContain(API_KEY);
  });

  it('is not echoed when it is refused', () => {
    const notAKey = 'whsec_ThisIsSomeOtherSecretPassedByMistake';
    let thrown: unknown;
    try {
      new Hookline(notAKey, { baseUrl: BASE_URL });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toBe(
      'Hookline: the API key must be an operator API key (hl_sk_…) or a portal token (hl_pt_…).',
    );
    expect(everything(thrown)).not.toContain(notAKey);
  });

  it('is not echoed when passed by mistake as an id', async () => {
    const error = await client()
      .endpoints.get(API_KEY)
      .catch((e) => e);
    expect(error.message).toBe(
      'Hookline: endpoints.get(id) needs an endpoint id (ep_…), got a string without ep_.',
    );
  });
});

describe('bad input fails before anything is sent, with a clear message', () => {
  it.each([
    [
      'no API key',
      () => new Hookline(undefined as unknown as string, { baseUrl: BASE_URL }),
      /an API key \(hl_sk_…\) is required as the first argument, got undefined/,
    ],
    [
      'an empty API key',
      () => new Hookline('  ', { baseUrl: BASE_URL }),
      /an API key \(hl_sk_…\) is required/,
    ],
    [
      'a key with a line break',
      () => new Hookline('hl_sk_a\nx', { baseUrl: BASE_URL }),
      /must be an operator API key/,
    ],
    [
      'no options',
      () => new Hookline(API_KEY, undefined as never),
      /options with a baseUrl are required/,
    ],
    [
      'no baseUrl',
      () => new Hookline(API_KEY, {} as never),
      /baseUrl must be the gateway's absolute http\(s\) URL.*got undefined/,
    ],
    [
      'a relative baseUrl',
      () => new Hookline(API_KEY, { baseUrl: '/api' }),
      /got a string that is not one/,
    ],
    [
      'an ftp baseUrl',
      () => new Hookline(API_KEY, { baseUrl: 'ftp://x.example' }),
      /baseUrl must use https:\/\/ or http:\/\//,
    ],
    [
      'credentials in baseUrl',
      () => new Hookline(API_KEY, { baseUrl: 'https://u:p@x.example' }),
      /must not contain a username or password/,
    ],
    [
      'a query in baseUrl',
      () => new Hookline(API_KEY, { baseUrl: 'https://x.example/?a=1' }),
      /must not have a query string/,
    ],
    [
      'a zero timeout',
      () => new Hookline(API_KEY, { baseUrl: BASE_URL, timeoutMs: 0 }),
      /timeoutMs must be a positive number of milliseconds, got a number/,
    ],
    [
      'fractional retries',
      () => new Hookline(API_KEY, { baseUrl: BASE_URL, retries: 1.5 }),
      /retries must be a whole number from 0 to 10/,
    ],
    [
      'a fetch that is not a function',
      () => new Hookline(API_KEY, { baseUrl: BASE_URL, fetch: 'x' as never }),
      /fetch must be a function, got a string/,
    ],
    [
      'a negative backoff',
      () => new Hookline(API_KEY, { baseUrl: BASE_URL, retryDelay: { initialMs: -1 } }),
      /retryDelay.initialMs must be a number of milliseconds ≥ 0/,
    ],
  ])('the constructor refuses %s', (_, make, message) => {
    expect(make).toThrow(message);
  });

  it('keeps a path prefix of baseUrl and drops its trailing slash', async () => {
    const seen: string[] = [];
    const h = new Hookline(API_KEY, {
      baseUrl: 'https://x.example/hookline/',
      fetch: async (url) => {
        seen.push(url);
        return json({ status: 'ok' });
      },
    });
    await h.operations.health();
    expect(seen).toEqual(['https://x.example/hookline/healthz']);
  });

  it.each([
    [
      'endpoints.get with an empty id',
      (h: Hookline) => h.endpoints.get(''),
      'Hookline: endpoints.get(id) needs an endpoint id (ep_…), got an empty string.',
    ],
    [
      'endpoints.update with a message id',
      (h: Hookline) => h.endpoints.update('msg_1', {}),
      'Hookline: endpoints.update(id) needs an endpoint id (ep_…), got a string without ep_.',
    ],
    [
      'endpoints.delete with undefined',
      (h: Hookline) => h.endpoints.delete(undefined as never),
      'Hookline: endpoints.delete(id) needs an endpoint id (ep_…), got undefined.',
    ],
    [
      'deliveries.replay with a number',
      (h: Hookline) => h.deliveries.replay(42 as never),
      'Hookline: deliveries.replay(id) needs a delivery id (dlv_…), got a number.',
    ],
    [
      'messages.get with a bare prefix',
      (h: Hookline) => h.messages.get('msg_'),
      'Hookline: messages.get(id) needs a message id (msg_…), got only msg_.',
    ],
    [
      'messages.create without params',
      (h: Hookline) => h.messages.create(undefined as never),
      'Hookline: messages.create(params) needs a params object, got undefined.',
    ],
    [
      'messages.create with an array payload',
      (h: Hookline) => h.messages.create({ tenantId: 'a', eventType: 'a.b', payload: [1] }),
      'Hookline: messages.create(params) needs payload to be a JSON object, got an array.',
    ],
    [
      'messages.create with a Date payload',
      (h: Hookline) => h.messages.create({ tenantId: 'a', eventType: 'a.b', payload: new Date() }),
      'Hookline: messages.create(params) needs payload to be a JSON object, got a Date.',
    ],
    [
      'endpoints.recover with an invalid Date',
      (h: Hookline) => h.endpoints.recover('ep_1', { since: new Date('nope') }),
      'Hookline: endpoints.recover(id, params) needs since: a valid Date or an RFC 3339 string.',
    ],
    [
      'eventTypes.get with an empty name',
      (h: Hookline) => h.eventTypes.get(''),
      'Hookline: eventTypes.get(name) needs an event type name, got an empty string.',
    ],
    [
      'tenants.getAlertChannels without a tenant',
      (h: Hookline) => h.tenants.getAlertChannels(undefined as never),
      'Hookline: tenants.getAlertChannels(tenantId) needs a tenant id, got undefined.',
    ],
    [
      'a filter that is an object',
      (h: Hookline) => h.endpoints.list({ tenantId: { a: 1 } as never }).page(),
      'Hookline: the filter tenant_id must be a string or a number, got an object.',
    ],
  ])('%s rejects with a TypeError', async (_, call, message) => {
    const error = await call(client()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(message);
    expect(gateway.recorded).toHaveLength(0);
  });

  it('passes what the gateway refuses on to the caller as its 400', async () => {
    gateway.on('createMessage', () =>
      apiError(
        400,
        'invalid_request',
        'Invalid request body: event_type must be dot-separated lowercase words.',
        {
          details: [{ path: 'event_type', message: 'must be dot-separated lowercase words' }],
        },
      ),
    );
    await expect(
      client().messages.create({ tenantId: 'acme', eventType: 'Invoice Paid', payload: {} }),
    ).rejects.toMatchObject({ status: 400, details: [{ path: 'event_type' }] });
  });
});

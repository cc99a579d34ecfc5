import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { GATEWAY, makeEndpoint, makeEventType, TOKEN } from '../test/fake-gateway';
import { gateway, server } from '../test/setup';
import { createHooklineClient, HooklineApiError } from './client';

const client = () => createHooklineClient({ gatewayUrl: `${GATEWAY}/`, token: TOKEN });

async function failure(promise: Promise<unknown>): Promise<HooklineApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HooklineApiError);
    return error as HooklineApiError;
  }
  throw new Error('expected the call to fail');
}

describe('createHooklineClient', () => {
  it('sends the bearer token, JSON bodies, and no trailing slash twice', async () => {
    await client().createEndpoint({ tenant_id: 'acme', url: 'https://a.example.com/h' });
    const [request] = gateway.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/endpoints',
      authorization: `Bearer ${TOKEN}`,
      body: { tenant_id: 'acme', url: 'https://a.example.com/h' },
    });
  });

  it('leaves absent and empty query parameters out', async () => {
    await client().listDeliveries({ endpoint_id: 'ep_1', status: undefined, event_type: '' });
    expect(gateway.requests[0]?.query).toEqual({ endpoint_id: 'ep_1' });
  });

  it('turns an error body into a HooklineApiError with code, status, details and request id', async () => {
    const error = await failure(
      client().createEndpoint({ tenant_id: 'acme', url: 'http://a.example.com' }),
    );
    expect(error.name).toBe('HooklineApiError');
    expect(error.code).toBe('url_not_allowed');
    expect(error.status).toBe(400);
    expect(error.details).toEqual([{ path: 'url', message: 'must use https://' }]);
    expect(error.requestId).toBe('req_test');
    expect(error.message).toBe('The url must use https://.');
  });

  it('names the status when an error answer has no error body', async () => {
    server.use(http.get(`${GATEWAY}/v1/endpoints`, () => HttpResponse.json({}, { status: 503 })));
    const error = await failure(client().listEndpoints());
    expect(error.code).toBe('http_503');
    expect(error.status).toBe(503);
    expect(error.message).toBe('The gateway answered 503.');
  });

  it('refuses an answer that is not JSON', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/endpoints`, () =>
        HttpResponse.text('<html>proxy</html>', { status: 502 }),
      ),
    );
    const error = await failure(client().listEndpoints());
    expect(error.code).toBe('invalid_response');
    expect(error.status).toBe(502);
  });

  it('reports a network failure as network_error with status 0', async () => {
    server.use(http.get(`${GATEWAY}/v1/endpoints`, () => HttpResponse.error()));
    const error = await failure(client().listEndpoints());
    expect(error.code).toBe('network_error');
    expect(error.status).toBe(0);
    expect(error.message).toBe('Could not reach the webhook gateway.');
  });

  it('gives up after its time limit with a timeout error', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/endpoints`, async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return HttpResponse.json({ data: [], next_cursor: null });
      }),
    );
    const slow = createHooklineClient({ gatewayUrl: GATEWAY, token: TOKEN, timeoutMs: 50 });
    const error = await failure(slow.listEndpoints());
    expect(error.code).toBe('timeout');
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const injected: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(JSON.stringify(makeEndpoint({ id: 'ep_injected' })), {
        headers: { 'content-type': 'application/json' },
      });
    };
    const custom = createHooklineClient({
      gatewayUrl: 'https://other.test',
      token: TOKEN,
      fetch: injected,
    });
    expect((await custom.getEndpoint('ep_injected')).id).toBe('ep_injected');
    expect(calls).toEqual(['https://other.test/v1/endpoints/ep_injected']);
  });

  it('escapes path segments', async () => {
    await failure(client().getEndpoint('ep_../../x'));
    expect(gateway.requests[0]?.path).toBe('/v1/endpoints/ep_..%2F..%2Fx');
  });

  it('reads every page of the event type catalog and sorts it by name', async () => {
    for (let i = 0; i < 260; i++)
      gateway.eventTypes.push(makeEventType(`type.n${String(259 - i).padStart(3, '0')}`));
    const all = await client().listAllEventTypes();
    expect(all).toHaveLength(260);
    expect(all[0]?.name).toBe('type.n000');
    expect(gateway.requests.map((r) => r.query)).toEqual([
      { limit: '250' },
      { limit: '250', cursor: '250' },
    ]);
  });

  it('resolves delete with nothing on 204', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    await expect(client().deleteEndpoint(endpoint.id)).resolves.toBeUndefined();
    expect(gateway.endpoints).toHaveLength(0);
  });
});

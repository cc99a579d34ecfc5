import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestGateway, type TestGateway } from '../http/test-helpers';

let gw: TestGateway;

beforeAll(async () => {
  gw = await openTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

describe('CORS on /v1', () => {
  it('answers a preflight from any origin with the headers the portal sends', async () => {
    const response = await gw.app().request('/v1/endpoints', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.operator.example',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toBe(
      'authorization,content-type,idempotency-key',
    );
    expect(response.headers.get('access-control-max-age')).toBe('600');
  });

  it('lets a cross-origin caller read answers, errors included, and the request id', async () => {
    const ok = await gw.app().request('/v1/endpoints', {
      headers: { origin: 'https://app.operator.example', authorization: `Bearer ${gw.apiKey}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    expect(ok.headers.get('access-control-expose-headers')?.toLowerCase()).toContain(
      'x-request-id',
    );

    const refused = await gw.app().request('/v1/endpoints', {
      headers: { origin: 'https://app.operator.example' },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('leaves routes outside /v1 alone', async () => {
    const response = await gw.app().request('/healthz', {
      headers: { origin: 'https://app.operator.example' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the hosted portal page through the app', async () => {
    const response = await gw.app().request('/portal');
    // Built (dist/portal) or not, the route is mounted and answers one of its two ways.
    expect([200, 503]).toContain(response.status);
    if (response.status === 200) {
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    } else {
      expect(await response.text()).toMatch(/portal was not built/);
    }
  });
});

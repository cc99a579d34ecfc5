/**
 * Abuse limits: request body size (413), JSON nesting depth (400), header size (431 from the
 * real server), endpoints per tenant (400 `limit_exceeded`) and the per-credential API request
 * rate (429 with Retry-After). Every refusal is a JSON error of API.md's shape, except the 431,
 * which Node's HTTP parser sends before any application code runs.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiRoutes } from '@hookline/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashToken } from '../../src/domain/auth';
import { MESSAGE_BODY_LIMIT_BYTES } from '../../src/domain/messages';
import { DEFAULT_BODY_LIMIT_BYTES, MAX_JSON_DEPTH } from '../../src/http/body';
import {
  call,
  expectError,
  expectInvalid,
  expectResponse,
  openTestGateway,
  type TestGateway,
} from '../../src/http/test-helpers';
import { createLogger } from '../../src/logger';
import { type RunningGateway, startGateway } from '../../src/main';

let gw: TestGateway;

beforeAll(async () => {
  gw = await openTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function streamOf(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunk, total - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
}

describe('request body size', () => {
  it('refuses a message over 256 KiB with 413 and a JSON error, by its content-length', async () => {
    const payload = 'x'.repeat(MESSAGE_BODY_LIMIT_BYTES);
    const response = await call(gw.app(), 'POST', '/v1/messages', {
      token: gw.apiKey,
      body: { tenant_id: 't', event_type: 'a.b', payload: { payload } },
    });
    const body = await expectError(response, 413, 'payload_too_large');
    expect(body.error.message).toBe('The request body is larger than 262144 bytes (256 KiB).');
  });

  it('refuses a streamed body without content-length as soon as it passes 1 MiB', async () => {
    const app = gw.app();
    const response = await app.request('/v1/event-types', {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
      body: streamOf(64 * 1024 * 1024),
      duplex: 'half',
    } as RequestInit);
    const body = await expectError(response, 413, 'payload_too_large');
    expect(body.error.message).toContain(`${DEFAULT_BODY_LIMIT_BYTES} bytes`);
  });

  it('accepts a message body right at the limit', async () => {
    const wrapper = '{"tenant_id":"t","event_type":"a.b","payload":{"p":""}}';
    const fill = 'x'.repeat(MESSAGE_BODY_LIMIT_BYTES - wrapper.length);
    const raw = `{"tenant_id":"t","event_type":"a.b","payload":{"p":"${fill}"}}`;
    expect(Buffer.byteLength(raw)).toBe(MESSAGE_BODY_LIMIT_BYTES);
    const response = await call(gw.app(), 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: raw,
      headers: { 'content-type': 'application/json' },
    });
    await expectResponse(response, apiRoutes.createMessage, 202);
  });
});

describe('JSON nesting depth', () => {
  it(`refuses a body nested deeper than ${MAX_JSON_DEPTH} levels with a 400 that says so`, async () => {
    const response = await call(gw.app(), 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: `{"tenant_id":"t","event_type":"a.b","payload":{"deep":${deep(MAX_JSON_DEPTH)}}}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-1' },
    });
    const body = await expectInvalid(response, ['']);
    expect(body.error.message).toBe(
      `Invalid request body: the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  });

  it('accepts a payload that stays within the depth limit', async () => {
    const response = await call(gw.app(), 'POST', '/v1/messages', {
      token: gw.apiKey,
      rawBody: `{"tenant_id":"t","event_type":"a.b","payload":{"deep":${deep(MAX_JSON_DEPTH - 2)}}}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-2' },
    });
    await expectResponse(response, apiRoutes.createMessage, 202);
  });

  // Each body is valid but for its depth, so that it would reach everything after parsing.
  const d = deep(100_000);
  it.each([
    ['POST', '/v1/messages', `{"tenant_id":"t","event_type":"a.b","payload":{"d":${d}}}`],
    ['POST', '/v1/event-types', `{"name":"deep.schema","schema":{"d":${d}}}`],
    ['POST', '/v1/event-types', `{"name":"deep.example","example":{"d":${d}}}`],
    ['PUT', '/v1/tenants/t/alert-channels', `{"emails":${d}}`],
    ['POST', '/v1/endpoints/ep_00000000000000000000000000/test', `{"payload":{"d":${d}}}`],
  ])('answers 400, never 5xx, to 100 000 levels in %s %s', async (method, path, raw) => {
    const response = await call(gw.app(), method, path, {
      token: gw.apiKey,
      rawBody: raw,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-key' },
    });
    const body = await expectInvalid(response, ['']);
    expect(body.error.message).toContain('deeper than');
  });
});

describe('endpoints per tenant', () => {
  it('refuses the endpoint past HOOKLINE_MAX_ENDPOINTS_PER_TENANT with 400 limit_exceeded naming tenant_id', async () => {
    const app = gw.app({ maxEndpointsPerTenant: 3 });
    const create = (tenant: string) =>
      call(app, 'POST', '/v1/endpoints', {
        token: gw.apiKey,
        body: { tenant_id: tenant, url: 'https://hooks.example.com/in' },
      });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await expectResponse<{ id: string }>(
        await create('capped'),
        apiRoutes.createEndpoint,
        201,
      );
      ids.push(created.id);
    }
    const refused = await expectInvalid(await create('capped'), ['tenant_id'], 'limit_exceeded');
    expect(refused.error.message).toBe(
      'Invalid request body: tenant_id already has 3 endpoints, the most one tenant may have; delete one first.',
    );
    await expectResponse(await create('other-tenant'), apiRoutes.createEndpoint, 201);
    expect(
      (await call(app, 'DELETE', `/v1/endpoints/${ids[0]}`, { token: gw.apiKey })).status,
    ).toBe(204);
    await expectResponse(await create('capped'), apiRoutes.createEndpoint, 201);
    expect(await gw.store.endpoints.countForTenant('capped')).toBe(3);
  });

  it('holds a portal token to the same limit', async () => {
    const app = gw.app({ maxEndpointsPerTenant: 1 });
    const link = await call(app, 'POST', '/v1/portal/links', {
      token: gw.apiKey,
      body: { tenant_id: 'portal-capped' },
    });
    const { token } = (await link.json()) as { token: string };
    const create = () =>
      call(app, 'POST', '/v1/endpoints', {
        token,
        body: { tenant_id: 'portal-capped', url: 'https://hooks.example.com/in' },
      });
    await expectResponse(await create(), apiRoutes.createEndpoint, 201);
    await expectInvalid(await create(), ['tenant_id'], 'limit_exceeded');
  });
});

describe('API request rate per credential', () => {
  function rateApp() {
    let at = 0;
    const app = gw.app({
      apiRateLimit: { perSecond: 2, burst: 3, now: () => at },
      portalRateLimit: { perSecond: 1, burst: 2, now: () => at },
    });
    return { app, advance: (ms: number) => (at += ms) };
  }

  async function mint(app: ReturnType<TestGateway['app']>, key = gw.apiKey): Promise<string> {
    const link = await call(app, 'POST', '/v1/portal/links', {
      token: key,
      body: { tenant_id: 'rated' },
    });
    expect(link.status).toBe(201);
    return ((await link.json()) as { token: string }).token;
  }

  it('answers 429 with Retry-After and a JSON error once an API key has spent its burst', async () => {
    const { app, advance } = rateApp();
    for (let i = 0; i < 3; i++) {
      expect((await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey })).status).toBe(200);
    }
    const limited = await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey });
    expect(limited.headers.get('retry-after')).toBe('1');
    const body = await expectError(limited, 429, 'rate_limited');
    expect(body.error.message).toBe(
      'Too many requests with this API key: at most 2 per second (bursts of 3). Retry after 1 s.',
    );
    advance(500);
    expect((await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey })).status).toBe(200);
    expect((await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey })).status).toBe(429);
  });

  it('limits portal tokens at their own rate, one bucket per token', async () => {
    const { app, advance } = rateApp();
    const first = await mint(app);
    const second = await mint(app);
    for (let i = 0; i < 2; i++) {
      expect((await call(app, 'GET', '/v1/endpoints', { token: first })).status).toBe(200);
    }
    const limited = await call(app, 'GET', '/v1/endpoints', { token: first });
    expect(limited.headers.get('retry-after')).toBe('1');
    const body = await expectError(limited, 429, 'rate_limited');
    expect(body.error.message).toBe(
      'Too many requests with this portal token: at most 1 per second (bursts of 2). Retry after 1 s.',
    );
    expect((await call(app, 'GET', '/v1/endpoints', { token: second })).status).toBe(200);
    advance(1000);
    expect((await call(app, 'GET', '/v1/endpoints', { token: first })).status).toBe(200);
  });

  it('keeps one bucket per API key', async () => {
    const { app } = rateApp();
    const other = generateApiKey();
    await gw.store.apiKeys.create({ keyHash: hashToken(other), name: 'second', keyHint: 'hl_sk_' });
    for (let i = 0; i < 3; i++) await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey });
    expect((await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey })).status).toBe(429);
    expect((await call(app, 'GET', '/v1/endpoints', { token: other })).status).toBe(200);
  });

  it('counts refused calls of a valid credential but not unauthenticated ones', async () => {
    const { app } = rateApp();
    for (let i = 0; i < 10; i++) {
      const bad = await call(app, 'GET', '/v1/endpoints', { token: 'hl_sk_not-a-real-key-at-all' });
      expect(bad.status).toBe(401);
      expect((await call(app, 'GET', '/healthz')).status).toBe(200);
    }
    for (let i = 0; i < 3; i++) {
      const invalid = await call(app, 'GET', '/v1/endpoints?limit=0', { token: gw.apiKey });
      expect(invalid.status).toBe(400);
    }
    expect((await call(app, 'GET', '/v1/endpoints', { token: gw.apiKey })).status).toBe(429);
  });

  it('does not limit at all when no rate is configured', async () => {
    const app = gw.app();
    const token = await mint(app);
    for (let i = 0; i < 50; i++) {
      expect((await call(app, 'GET', '/v1/event-types', { token: gw.apiKey })).status).toBe(200);
      expect((await call(app, 'GET', '/v1/event-types', { token })).status).toBe(200);
    }
  });
});

describe('header size (the real server)', () => {
  let dataDir: string;
  let gateway: RunningGateway | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hookline-limits-'));
    gateway = await startGateway({
      env: { HOOKLINE_DATA_DIR: dataDir, HOOKLINE_PORT: '0', HOOKLINE_HOST: '127.0.0.1' },
      logger: createLogger({ level: 'silent' }),
      printBanner: false,
    });
  });

  afterAll(async () => {
    await gateway?.stop({ graceMs: 500 });
    await rm(dataDir, { recursive: true, force: true });
  });

  function get(headers: Record<string, string>): Promise<number> {
    const url = new URL('/healthz', gateway!.url!);
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'GET', headers, timeout: 5_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 431 to more than 16 KiB of headers, before the app sees them', async () => {
    expect(await get({ 'x-small': 'ok' })).toBe(200);
    expect(await get({ 'x-big': 'x'.repeat(20 * 1024) })).toBe(431);
    expect(await get({ authorization: `Bearer hl_sk_${'a'.repeat(17 * 1024)}` })).toBe(431);
  });
});

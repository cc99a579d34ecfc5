import { apiRouteList, apiRoutes, toColonPath } from '@hookline/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../domain/auth';
import { StorageError } from '../storage/errors';
import { memberSourceText } from './body';
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

beforeAll(async () => {
  gw = await openTestGateway();
  app = gw.app();
});

afterAll(async () => {
  await gw.close();
});

describe('operations', () => {
  it('answers /healthz with status ok without credentials', async () => {
    const body = await expectResponse(await call(app, 'GET', '/healthz'), apiRoutes.getHealth, 200);
    expect(body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with status ready when the database is reachable and migrated', async () => {
    const body = await expectResponse(
      await call(app, 'GET', '/readyz'),
      apiRoutes.getReadiness,
      200,
    );
    expect(body).toEqual({ status: 'ready' });
  });

  it('answers /readyz with 503 not_ready when the database does not answer', async () => {
    const app503 = gw.app({ database: { ...gw.database, ping: async () => false } });
    const response = await call(app503, 'GET', '/readyz');
    await expectError(response, 503, 'not_ready');
  });

  it('answers /readyz with 503 not_ready while migrations are pending', async () => {
    const pending = gw.app({
      database: {
        ...gw.database,
        migrationStatus: async () => ({ applied: [], pending: [1], ready: false }),
      },
    });
    const body = await expectError(await call(pending, 'GET', '/readyz'), 503, 'not_ready');
    expect(body.error.message).toContain('pending');
  });

  it('serves Prometheus text at /metrics', async () => {
    const response = await call(app, 'GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^hookline_up 1$/m);
    expect(text).toContain('hookline_build_info{version="0.0.0-test"} 1');
  });

  it('serves an OpenAPI 3.1 document that lists every path the app serves, and only those', async () => {
    const response = await call(app, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      info: { version: string };
      servers: { url: string }[];
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('0.0.0-test');
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${toColonPath(path)}`),
      )
      .sort();
    const served = app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    expect([...new Set(served)]).toEqual(documented);
    expect(documented).toHaveLength(apiRouteList.length);
  });
});

describe('routing and errors', () => {
  it('answers an unknown route with a JSON 404 error body', async () => {
    const body = await expectError(await call(app, 'GET', '/v1/nothing-here'), 404, 'not_found');
    expect(body.error.message).toBe('There is no such route.');
  });

  it('echoes a well-formed x-request-id, on errors too, and generates one when absent or malformed', async () => {
    const echoed = await call(app, 'GET', '/healthz', { headers: { 'x-request-id': 'req-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-123');
    const generated = await call(app, 'GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const replaced = await call(app, 'GET', '/healthz', {
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const failed = await call(app, 'GET', '/v1/endpoints', { headers: { 'x-request-id': 'e-1' } });
    expect(failed.status).toBe(401);
    expect(failed.headers.get('x-request-id')).toBe('e-1');
    const unknown = await call(app, 'GET', '/nowhere', { headers: { 'x-request-id': 'e-2' } });
    expect(unknown.headers.get('x-request-id')).toBe('e-2');
  });

  it('logs one line per request with method, route pattern, status, duration and request id', async () => {
    const before = gw.logLines.length;
    await call(app, 'GET', '/v1/endpoints/ep_unknown00000000000000000000?tenant_id=secret-tenant', {
      token: gw.apiKey,
      headers: { 'x-request-id': 'log-check-1' },
    });
    const lines = gw.logLines.slice(before).map((line) => JSON.parse(line));
    const line = lines.find((l) => l.req_id === 'log-check-1');
    expect(line).toMatchObject({
      level: 30,
      msg: 'request',
      method: 'GET',
      route: '/v1/endpoints/:id',
      status: 404,
    });
    expect(typeof line.duration_ms).toBe('number');
    const raw = gw.logLines.slice(before).join('\n');
    expect(raw).not.toContain('secret-tenant');
    expect(raw).not.toContain(gw.apiKey);
  });

  it('answers an unexpected failure with a bare 500 that does not echo its message', async () => {
    const failing = gw.app({
      store: {
        ...gw.store,
        endpoints: {
          ...gw.store.endpoints,
          list: async () => {
            throw new Error('relation "endpoints" exploded near tenant secret-thing');
          },
        },
      },
    });
    const response = await call(failing, 'GET', '/v1/endpoints', { token: gw.apiKey });
    const body = await expectError(response, 500, 'internal_error');
    expect(body.error.message).toBe('Internal server error.');
    expect(JSON.stringify(body)).not.toContain('secret-thing');
  });

  it('answers 503 not_ready with Retry-After when the database is not answering, and logs only its code', async () => {
    const failWith = (error: Error) =>
      gw.app({
        store: {
          ...gw.store,
          endpoints: {
            ...gw.store.endpoints,
            list: async () => {
              throw error;
            },
          },
        },
      });
    const before = gw.logLines.length;
    for (const error of [
      new StorageError(
        'write CONNECTION_CLOSED 127.0.0.1:5432 tenant secret-thing',
        'CONNECTION_CLOSED',
      ),
      new StorageError('canceling statement due to statement timeout', '57014'),
      new StorageError('terminating connection due to administrator command', '57P01'),
      new Error('claim failed', { cause: new StorageError('sorry, too many clients', '53300') }),
    ]) {
      const response = await call(failWith(error), 'GET', '/v1/endpoints', { token: gw.apiKey });
      expect(response.headers.get('retry-after')).toBe('1');
      const body = await expectError(response, 503, 'not_ready');
      expect(body.error.message).toContain('database');
      expect(JSON.stringify(body)).not.toContain('secret-thing');
    }
    const lines = gw.logLines.slice(before).filter((line) => line.includes('not answering'));
    expect(lines).toHaveLength(4);
    expect(lines.join('\n')).not.toContain('secret-thing');
    expect(JSON.parse(lines[0]!).err).toEqual({ name: 'StorageError', code: 'CONNECTION_CLOSED' });
    // Not every database error is an outage: a constraint violation stays a 500.
    const violated = failWith(new StorageError('duplicate key value', '23505'));
    await expectError(
      await call(violated, 'GET', '/v1/endpoints', { token: gw.apiKey }),
      500,
      'internal_error',
    );
  });

  it('answers malformed JSON with 400 invalid_request', async () => {
    const response = await call(app, 'POST', '/v1/event-types', {
      token: gw.apiKey,
      rawBody: '{"name": "a.b",',
      headers: { 'content-type': 'application/json' },
    });
    const body = await expectInvalid(response, ['']);
    expect(body.error.message).toContain('not valid JSON');
  });

  it('answers a body that is not declared as JSON with 400 naming content-type', async () => {
    const response = await call(app, 'POST', '/v1/event-types', {
      token: gw.apiKey,
      rawBody: '{"name":"a.b"}',
      headers: { 'content-type': 'text/plain' },
    });
    await expectInvalid(response, ['content-type']);
    const missing = await call(app, 'POST', '/v1/event-types', {
      token: gw.apiKey,
      rawBody: '{"name":"a.b"}',
    });
    await expectInvalid(missing, ['content-type']);
  });

  it('accepts application/json with a charset parameter', async () => {
    const response = await call(app, 'POST', '/v1/event-types', {
      token: gw.apiKey,
      rawBody: '{"name":"charset.ok"}',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(response.status).toBe(201);
  });

  it('answers a required body that is absent with 400', async () => {
    const response = await call(app, 'POST', '/v1/event-types', { token: gw.apiKey });
    const body = await expectInvalid(response, ['']);
    expect(body.error.message).toContain('required');
  });

  it('answers a body over 1 MiB on ordinary routes with 413', async () => {
    const response = await call(app, 'POST', '/v1/event-types', {
      token: gw.apiKey,
      body: { name: 'big.one', description: 'x'.repeat(1024 * 1024) },
    });
    await expectError(response, 413, 'payload_too_large');
  });

  it('refuses a query parameter given twice', async () => {
    const response = await call(app, 'GET', '/v1/endpoints?status=active&status=paused', {
      token: gw.apiKey,
    });
    await expectInvalid(response, ['status']);
  });

  it('refuses unknown query parameters by name', async () => {
    const response = await call(app, 'GET', '/v1/endpoints?colour=red&limit=0', {
      token: gw.apiKey,
    });
    await expectInvalid(response, ['colour', 'limit']);
  });
});

describe('authentication', () => {
  const protectedRoutes = apiRouteList.filter((route) => route.auth !== 'none');

  it.each(protectedRoutes.map((route) => [route.operationId, route] as const))(
    '%s answers 401 without credentials and with a bad token',
    async (_name, route) => {
      const path = toColonPath(route.path)
        .replace(':id', 'ep_x')
        .replace(':name', 'a.b')
        .replace(':tenant_id', 't1');
      const method = route.method.toUpperCase();
      await expectError(await call(app, method, path), 401, 'unauthorized');
      await expectError(
        await call(app, method, path, { token: 'hl_sk_not-a-real-key' }),
        401,
        'unauthorized',
      );
      await expectError(
        await call(app, method, path, { token: 'hl_pt_not-a-real-token' }),
        401,
        'unauthorized',
      );
      await expectError(
        await call(app, method, path, { headers: { authorization: `Basic ${gw.apiKey}` } }),
        401,
        'unauthorized',
      );
    },
  );

  it('refuses a token that is neither an API key nor a portal token', async () => {
    await expectError(
      await call(app, 'GET', '/v1/endpoints', { token: 'sk_live_abc' }),
      401,
      'unauthorized',
    );
  });

  it('accepts a key from the api_keys table and refuses it once revoked', async () => {
    const key = 'hl_sk_table-key-for-tests';
    const stored = await gw.store.apiKeys.create({ keyHash: hashToken(key), name: 'test' });
    await expectResponse(
      await call(app, 'GET', '/v1/endpoints', { token: key }),
      apiRoutes.listEndpoints,
      200,
    );
    expect((await gw.store.apiKeys.list()).find((k) => k.id === stored.id)?.lastUsedAt).not.toBe(
      null,
    );
    await gw.store.apiKeys.revoke(stored.id);
    await expectError(await call(app, 'GET', '/v1/endpoints', { token: key }), 401, 'unauthorized');
  });

  it('refuses an expired portal token', async () => {
    const token = 'hl_pt_expired-token-for-tests';
    await gw.store.portalTokens.create({
      tokenHash: hashToken(token),
      tenantId: 't1',
      expiresAt: new Date(Date.now() - 1000),
    });
    await expectError(await call(app, 'GET', '/v1/endpoints', { token }), 401, 'unauthorized');
  });

  it('refuses a revoked portal token', async () => {
    const token = 'hl_pt_revoked-token-for-tests';
    const stored = await gw.store.portalTokens.create({
      tokenHash: hashToken(token),
      tenantId: 't1',
      expiresAt: new Date(Date.now() + 60_000),
    });
    await expectResponse(
      await call(app, 'GET', '/v1/endpoints', { token }),
      apiRoutes.listEndpoints,
      200,
    );
    await gw.store.portalTokens.revoke(stored.id);
    await expectError(await call(app, 'GET', '/v1/endpoints', { token }), 401, 'unauthorized');
  });

  it('authenticates before validating: a bad body without credentials is 401, not 400', async () => {
    const response = await call(app, 'POST', '/v1/endpoints', { body: { nonsense: true } });
    await expectError(response, 401, 'unauthorized');
  });
});

describe('memberSourceText', () => {
  it.each([
    ['{"payload":{"a":1}}', '{"a":1}'],
    ['{ "x" : "p\\"ay}" , "payload" :  [1, {"b": "]"}] }', '[1, {"b": "]"}]'],
    ['{"payload":1,"payload":{"last":true}}', '{"last":true}'],
    ['{"payload":"\\u007d\\\\","y":null}', '"\\u007d\\\\"'],
    ['{"payload":12345678901234567890}', '12345678901234567890'],
  ])('finds the exact source text of a member in %s', (json, expected) => {
    JSON.parse(json);
    expect(memberSourceText(json, 'payload')).toBe(expected);
  });

  it('answers undefined when the member is absent or the text is not an object', () => {
    expect(memberSourceText('{}', 'payload')).toBeUndefined();
    expect(memberSourceText('{"payloads":{}}', 'payload')).toBeUndefined();
    expect(memberSourceText('[1]', 'payload')).toBeUndefined();
  });
});

/**
 * The API while its PostgreSQL is unreachable or silent (a loopback TCP proxy between them): it
 * answers 503 `not_ready` with `Retry-After`, which clients and load balancers retry, instead of
 * a 500, and it answers normally again once the database does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase, testDrivers } from '../../test/databases';
import { startTcpProxy, type TcpProxy } from '../../test/tcp-proxy';
import { insecureDevelopmentCipher } from '../storage/cipher';
import { type Database, openDatabase } from '../storage/database';
import { createStore } from '../storage/store';
import { call, expectError, openTestGateway, type TestGateway } from './test-helpers';

describe.runIf(testDrivers.includes('postgres'))('the API during a database outage', () => {
  let scratch: ScratchDatabase | undefined;
  let proxy: TcpProxy | undefined;
  let database: Database | undefined;
  let gw: TestGateway | undefined;
  let app: ReturnType<TestGateway['app']>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    // Migrated directly; the gateway's own pool goes through the proxy.
    await (await openDatabase({ kind: 'postgres', url: scratch.url })).close();
    proxy = await startTcpProxy(new URL(scratch.url));
    // A 1 s statement timeout: a silent connection is given up after 1 + 5 s.
    database = await openDatabase(
      { kind: 'postgres', url: proxy.url(), poolSize: 2, timeoutSeconds: 1 },
      { migrate: false },
    );
    gw = await openTestGateway();
    app = gw.app({
      database,
      store: createStore(database.sql, { cipher: insecureDevelopmentCipher }),
    });
  });

  afterAll(async () => {
    await database?.close();
    await proxy?.close();
    await gw?.close();
    await scratch?.drop();
  });

  const listEndpoints = () => call(app, 'GET', '/v1/endpoints', { token: gw!.apiKey });

  it('answers 503 with Retry-After while the database refuses connections, and 200 once it is back', {
    timeout: 30_000,
  }, async () => {
    const created = await call(app, 'POST', '/v1/endpoints', {
      token: gw!.apiKey,
      body: { tenant_id: 'acme', url: 'https://hooks.example.com/acme' },
    });
    expect(created.status).toBe(201);
    const before = gw!.logLines.length;

    await proxy!.cut();
    const started = performance.now();
    const during = await listEndpoints();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(during.headers.get('retry-after')).toBe('1');
    const body = await expectError(during, 503, 'not_ready');
    expect(body.error.message).toContain('database');
    const logged = gw!.logLines.slice(before).join('\n');
    expect(logged).toContain('the database is not answering');
    expect(logged).not.toContain('unhandled error');

    await proxy!.restore();
    // As a client honouring Retry-After does: the pool reconnects within about a second.
    let after = await listEndpoints();
    for (let i = 0; i < 5 && after.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      after = await listEndpoints();
    }
    expect(after.status).toBe(200);
    expect(((await after.json()) as { data: unknown[] }).data).toHaveLength(1);
  });

  it('answers 503 when the database goes silent, after the statement timeout and its grace, not never', {
    timeout: 30_000,
  }, async () => {
    expect((await listEndpoints()).status).toBe(200);
    expect(proxy!.silence()).toBeGreaterThan(0);
    const started = performance.now();
    const during = await listEndpoints();
    const answeredAfter = performance.now() - started;
    await expectError(during, 503, 'not_ready');
    expect(during.headers.get('retry-after')).toBe('1');
    // timeout 1 s + grace 5 s, measured from the statement's start.
    expect(answeredAfter).toBeGreaterThan(5_500);
    expect(answeredAfter).toBeLessThan(9_000);
    // New connections pass (the proxy silences only those open): answered at once.
    const after = await listEndpoints();
    expect(after.status).toBe(200);
  });
});

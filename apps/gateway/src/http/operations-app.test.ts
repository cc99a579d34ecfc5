import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../../test/prometheus';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { type Database, openDatabase } from '../storage/database';
import { createOperationsApp } from './app';

describe('the operations routes of a worker process, and draining', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'memory' });
  });
  afterAll(async () => {
    await database.close();
  });

  it('answers /readyz 503 while the process shuts down, /healthz 200 throughout', async () => {
    let draining = false;
    const app = createOperationsApp({
      database,
      logger: createLogger({ level: 'silent' }),
      version: '0.0.0-test',
      publicUrl: 'http://127.0.0.1:8787',
      draining: () => draining,
    });
    expect((await app.request('/readyz')).status).toBe(200);
    draining = true;
    const refused = await app.request('/readyz');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: { code: 'not_ready', message: 'The gateway is shutting down.' },
    });
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('serves /metrics with route templates and nothing of the API', async () => {
    const metrics = createMetrics({ version: '0.0.0-test', role: 'worker', processMetrics: false });
    const app = createOperationsApp({
      database,
      logger: createLogger({ level: 'silent' }),
      version: '0.0.0-test',
      publicUrl: 'http://127.0.0.1:8787',
      metrics: metrics.registry,
      observer: {
        request: (method, route, status, seconds) =>
          metrics.httpRequest(method, route, status, seconds),
        messageAccepted: () => metrics.messageAccepted(),
      },
    });
    expect((await app.request('/v1/endpoints/ep_0123456789abcdefghjkmnpqrs')).status).toBe(404);
    expect((await app.request('/healthz')).status).toBe(200);
    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(sample(text, 'hookline_build_info{version="0.0.0-test",role="worker"}')).toBe(1);
    expect(
      sample(text, 'hookline_http_requests_total{method="GET",route="/healthz",status="200"}'),
    ).toBe(1);
    expect(
      sample(text, 'hookline_http_requests_total{method="GET",route="unmatched",status="404"}'),
    ).toBe(1);
    expect(text).not.toContain('ep_0123456789abcdefghjkmnpqrs');
  });
});

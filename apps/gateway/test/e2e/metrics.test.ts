/**
 * `/metrics` of a real gateway (in-process `startGateway`, real database, loopback receivers):
 * traffic from two tenants moves the counters and gauges, and no tenant id, endpoint id, message
 * id or URL ever appears in the text.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../src/main';
import { sample } from '../prometheus';
import { type Receiver, startReceiver } from '../receivers';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  testDrivers,
  waitFor,
} from './harness';

describe.each(testDrivers)('/metrics of a running gateway (%s)', (driver) => {
  let storage: GatewayStorage | undefined;
  let gateway: RunningGateway | undefined;
  const receivers: Receiver[] = [];

  afterAll(async () => {
    await gateway?.stop({ graceMs: 1_000 });
    await Promise.all(receivers.map((r) => r.close()));
    await storage?.dispose();
  });

  it('moves with real traffic from two tenants and never names a tenant, endpoint, message or URL', async () => {
    storage = await gatewayStorage(driver);
    // Tenant A's receiver holds its answers until released; tenant B's always fails.
    const held: ServerResponse[] = [];
    let holding = true;
    const slow = await startReceiver((_req, res) => {
      if (holding) held.push(res);
      else res.writeHead(204).end();
    });
    const failing = await startReceiver((_req, res) => res.writeHead(500).end('down'));
    receivers.push(slow, failing);

    gateway = await startGateway({
      env: {
        ...LOCAL_ENV,
        ...storage.env,
        HOOKLINE_LOG_LEVEL: 'silent',
        // One attempt at a time per endpoint: tenant A's other messages wait in the queue.
        HOOKLINE_ENDPOINT_CONCURRENCY: '1',
      },
      printBanner: false,
    });
    const apiKey = gateway.apiKey ?? storage.env.HOOKLINE_API_KEY!;
    const api = apiClient(gateway.url!, apiKey);
    const scrape = async () => {
      const response = await fetch(`${gateway!.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const before = await scrape();
    const delta = (after: string, series: string) =>
      (sample(after, series) ?? 0) - (sample(before, series) ?? 0);

    const a = await api('POST', '/v1/endpoints', {
      tenant_id: 'metrics-tenant-a',
      url: `${slow.url}/hooks/a`,
    });
    expect(a.status).toBe(201);
    const b = await api('POST', '/v1/endpoints', {
      tenant_id: 'metrics-tenant-b',
      url: `${failing.url}/hooks/b`,
      retry_schedule: [3600],
    });
    expect(b.status).toBe(201);
    const refused = await api('POST', '/v1/endpoints', {
      tenant_id: 'metrics-tenant-b',
      url: 'http://169.254.169.254/latest/meta-data',
    });
    expect(refused.status).toBe(400);
    expect((await api('GET', `/v1/endpoints/${a.body.id}`)).status).toBe(200);

    const messageIds: string[] = [];
    for (const [tenant, count] of [
      ['metrics-tenant-a', 3],
      ['metrics-tenant-b', 2],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const sent = await api(
          'POST',
          '/v1/messages',
          { tenant_id: tenant, event_type: 'order.created', payload: { i } },
          { 'idempotency-key': `${tenant}-${i}` },
        );
        expect(sent.status).toBe(202);
        messageIds.push(sent.body.id);
      }
    }
    // A repeat of an accepted request is not a new message.
    const replay = await api(
      'POST',
      '/v1/messages',
      { tenant_id: 'metrics-tenant-a', event_type: 'order.created', payload: { i: 0 } },
      { 'idempotency-key': 'metrics-tenant-a-0' },
    );
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    // Tenant B's two attempts fail and are recorded; tenant A's first is held at the receiver.
    await waitFor(() => held.length === 1 && failing.requests.length === 2, {
      what: 'one held attempt and two failed ones',
    });
    const during = await waitFor(
      async () => {
        const text = await scrape();
        return delta(text, 'hookline_delivery_results_total{status="failed"}') === 2 &&
          sample(text, 'hookline_queue_depth') === 3
          ? text
          : null;
      },
      { what: 'the failures recorded and the queue read afresh' },
    );
    expect(sample(during, 'hookline_inflight_attempts')).toBe(1);
    // Three of tenant A's are due (one in flight), waiting since they were accepted.
    expect(sample(during, 'hookline_queue_oldest_due_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(during, 'hookline_queue_oldest_due_age_seconds')).toBeLessThan(60);

    holding = false;
    for (const res of held.splice(0)) res.writeHead(204).end();
    await waitFor(() => slow.requests.length === 3, { what: "tenant A's deliveries" });
    const after = await waitFor(
      async () => {
        const text = await scrape();
        return delta(text, 'hookline_delivery_results_total{status="succeeded"}') === 3 &&
          sample(text, 'hookline_queue_depth') === 0
          ? text
          : null;
      },
      { what: 'every outcome recorded and the queue empty' },
    );

    expect(delta(after, 'hookline_messages_accepted_total')).toBe(5);
    expect(delta(after, 'hookline_deliveries_total{outcome="success"}')).toBe(3);
    expect(delta(after, 'hookline_deliveries_total{outcome="http_5xx"}')).toBe(2);
    expect(delta(after, 'hookline_delivery_results_total{status="failed"}')).toBe(2);
    expect(delta(after, 'hookline_delivery_results_total{status="dead"}')).toBe(0);
    expect(delta(after, 'hookline_attempt_duration_seconds_count{outcome="success"}')).toBe(3);
    expect(sample(after, 'hookline_inflight_attempts')).toBe(0);
    expect(sample(after, 'hookline_queue_oldest_due_age_seconds')).toBe(0);
    expect(delta(after, 'hookline_ssrf_blocks_total{stage="registration"}')).toBe(1);
    expect(
      delta(after, 'hookline_http_requests_total{method="POST",route="/v1/messages",status="202"}'),
    ).toBe(6);
    expect(
      delta(
        after,
        'hookline_http_requests_total{method="POST",route="/v1/endpoints",status="400"}',
      ),
    ).toBe(1);
    expect(
      delta(
        after,
        'hookline_http_requests_total{method="GET",route="/v1/endpoints/:id",status="200"}',
      ),
    ).toBe(1);
    const pool = driver === 'postgres' ? 'api' : 'shared';
    expect(sample(after, `hookline_db_pool_size{pool="${pool}"}`)).toBeGreaterThanOrEqual(1);
    if (driver === 'postgres') {
      expect(sample(after, 'hookline_db_pool_size{pool="worker"}')).toBeGreaterThanOrEqual(1);
    }

    // Nothing that identifies a tenant, an endpoint, a message or a URL, in any label.
    const forbidden = [
      'metrics-tenant-a',
      'metrics-tenant-b',
      a.body.id,
      b.body.id,
      ...messageIds,
      '/hooks/',
      '127.0.0.1',
      '169.254.169.254',
      slow.url,
      failing.url,
      apiKey,
    ];
    for (const text of [during, after]) {
      for (const needle of forbidden) expect(text).not.toContain(needle);
    }
    expect(after).not.toMatch(/(ep|msg|dlv|att)_[0-9a-z]{26}/);
  }, 60_000);
});

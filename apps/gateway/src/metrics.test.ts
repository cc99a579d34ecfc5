import { describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../test/databases';
import { sample } from '../test/prometheus';
import { createMetrics, QUEUE_STATS_CACHE_MS } from './metrics';
import { createAddressPolicy, createHttpClient, observeRefusals } from './net';

describe('gateway metrics', () => {
  it('starts every attempt outcome and SSRF stage at zero, then counts attempts with their durations', async () => {
    const m = createMetrics({ version: '1.2.3', role: 'all', processMetrics: false });
    let text = await m.metrics();
    for (const outcome of ['success', 'timeout', 'http_4xx', 'http_5xx', 'redirect']) {
      expect(sample(text, `hookline_deliveries_total{outcome="${outcome}"}`)).toBe(0);
    }
    expect(sample(text, 'hookline_ssrf_blocks_total{stage="registration"}')).toBe(0);
    expect(sample(text, 'hookline_build_info{version="1.2.3",role="all"}')).toBe(1);

    m.worker.attemptStarted();
    m.worker.attemptStarted();
    m.worker.attemptFinished('success', 0.02);
    m.worker.attemptFinished('http_5xx', 3);
    m.worker.recorded('succeeded');
    m.worker.recorded('failed');
    m.worker.recorded(null);
    m.worker.settled(1);
    m.worker.claimed({ leaseExpired: 2, rateLimited: 3, readyLeft: 0 });
    text = await m.metrics();
    expect(sample(text, 'hookline_deliveries_total{outcome="success"}')).toBe(1);
    expect(sample(text, 'hookline_deliveries_total{outcome="http_5xx"}')).toBe(1);
    expect(
      sample(text, 'hookline_attempt_duration_seconds_bucket{le="0.025",outcome="success"}'),
    ).toBe(1);
    expect(
      sample(text, 'hookline_attempt_duration_seconds_bucket{le="2.5",outcome="http_5xx"}'),
    ).toBe(0);
    expect(sample(text, 'hookline_attempt_duration_seconds_count{outcome="http_5xx"}')).toBe(1);
    expect(sample(text, 'hookline_delivery_results_total{status="succeeded"}')).toBe(1);
    expect(sample(text, 'hookline_delivery_results_total{status="failed"}')).toBe(1);
    expect(sample(text, 'hookline_delivery_results_total{status="dead"}')).toBe(0);
    expect(sample(text, 'hookline_attempts_unrecorded_total')).toBe(1);
    expect(sample(text, 'hookline_inflight_attempts')).toBe(1);
    expect(sample(text, 'hookline_lease_expiries_total')).toBe(2);
    expect(sample(text, 'hookline_rate_limit_deferrals_total')).toBe(3);
  });

  it('keeps the numbers of two gateways in one process apart', async () => {
    const a = createMetrics({ version: '1', role: 'api', processMetrics: false });
    const b = createMetrics({ version: '1', role: 'worker', processMetrics: false });
    a.messageAccepted();
    a.messageAccepted();
    b.messageAccepted();
    expect(sample(await a.metrics(), 'hookline_messages_accepted_total')).toBe(2);
    expect(sample(await b.metrics(), 'hookline_messages_accepted_total')).toBe(1);
  });

  it('includes the process metrics under the hookline_ prefix', async () => {
    const m = createMetrics({ version: '1', role: 'all' });
    const text = await m.metrics();
    expect(text).toMatch(/^hookline_process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^hookline_nodejs_eventloop_lag_seconds /m);
  });

  it('labels HTTP requests by route template and folds unknown methods into OTHER', async () => {
    const m = createMetrics({ version: '1', role: 'api', processMetrics: false });
    m.httpRequest('GET', '/v1/endpoints/:id', 200, 0.004);
    m.httpRequest('GET', '/v1/endpoints/:id', 404, 0.002);
    m.httpRequest('PROPFIND', 'unmatched', 404, 0.001);
    const text = await m.metrics();
    expect(
      sample(
        text,
        'hookline_http_requests_total{method="GET",route="/v1/endpoints/:id",status="200"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'hookline_http_requests_total{method="GET",route="/v1/endpoints/:id",status="404"}',
      ),
    ).toBe(1);
    expect(
      sample(text, 'hookline_http_requests_total{method="OTHER",route="unmatched",status="404"}'),
    ).toBe(1);
    expect(
      sample(
        text,
        'hookline_http_request_duration_seconds_count{method="GET",route="/v1/endpoints/:id"}',
      ),
    ).toBe(2);
  });

  it('counts SSRF refusals at registration (policy) and at delivery (outbound client), without dialling', async () => {
    const m = createMetrics({ version: '1', role: 'all', processMetrics: false });
    const policy = createAddressPolicy({ allowHttp: false, allowNetworks: [] });
    const registration = observeRefusals(policy, () => m.ssrfBlocked('registration'));
    expect(registration.checkUrl(new URL('https://169.254.169.254/latest')).allowed).toBe(false);
    expect(registration.checkUrl(new URL('https://93.184.216.34/')).allowed).toBe(true);
    expect(registration.checkAddress('10.0.0.1').allowed).toBe(false);

    const client = createHttpClient({
      policy,
      resolve: async () => [{ address: '192.168.1.10', family: 4 }],
      onBlocked: () => m.ssrfBlocked('delivery'),
      beforeConnect: () => {
        throw new Error('nothing may be dialled');
      },
    });
    try {
      const sent = await client.send({
        url: 'https://internal.example/hook',
        headers: {},
        body: '{}',
      });
      expect(sent.outcome).toBe('blocked');
    } finally {
      await client.close();
    }
    const text = await m.metrics();
    expect(sample(text, 'hookline_ssrf_blocks_total{stage="registration"}')).toBe(2);
    expect(sample(text, 'hookline_ssrf_blocks_total{stage="delivery"}')).toBe(1);
  });
});

describe.each(testDrivers)('gateway metrics read from the database (%s)', (driver) => {
  const t = useTestDatabase(driver);

  it('reads queue depth and lag at scrape time, once per cache window', async () => {
    let clock = 1_000_000;
    const m = createMetrics({ version: '1', role: 'all', processMetrics: false, now: () => clock });
    let reads = 0;
    m.watchQueue(() => {
      reads++;
      return t.store.queue.stats();
    });
    let text = await m.metrics();
    expect(sample(text, 'hookline_queue_depth')).toBe(0);
    expect(sample(text, 'hookline_queue_oldest_due_age_seconds')).toBe(0);
    expect(reads).toBe(1);

    const endpoint = await t.store.endpoints.create(endpointInput());
    for (let i = 0; i < 3; i++) {
      await t.store.messages.create({
        tenantId: endpoint.tenantId,
        eventType: 'e',
        payloadJson: '{}',
        endpointId: endpoint.id,
      });
    }
    await t.database.sql.exec(
      "update deliveries set next_attempt_at = now() - interval '42 seconds' where status = 'pending'",
    );
    // Within the cache window: the same reading, no query.
    clock += QUEUE_STATS_CACHE_MS - 1;
    text = await m.metrics();
    expect(sample(text, 'hookline_queue_depth')).toBe(0);
    expect(reads).toBe(1);

    clock += 2;
    text = await m.metrics();
    expect(reads).toBe(2);
    expect(sample(text, 'hookline_queue_depth')).toBe(3);
    const age = sample(text, 'hookline_queue_oldest_due_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(42);
    expect(age).toBeLessThan(60);
  });

  it('shows the connection pool in use while statements run, by pool name', async () => {
    const m = createMetrics({ version: '1', role: 'all', processMetrics: false });
    m.watchPool('api', () => t.database.poolStats());
    // The previous test's wake-up NOTIFY may still be on its way: poll briefly for an idle pool.
    const idleInUse = async () => {
      let inUse: number | undefined;
      for (let i = 0; i < 50; i++) {
        inUse = sample(await m.metrics(), 'hookline_db_pool_in_use{pool="api"}');
        if (inUse === 0) break;
        await new Promise((done) => setTimeout(done, 20));
      }
      return inUse;
    };
    const idle = await m.metrics();
    expect(sample(idle, 'hookline_db_pool_size{pool="api"}')).toBe(driver === 'pglite' ? 1 : 8);
    expect(await idleInUse()).toBe(0);

    // More open transactions than connections: the pool is full and the rest wait.
    const size = t.database.poolStats().size;
    const sleeping = Array.from({ length: size + 2 }, () =>
      t.database.sql.transaction(async (tx) => {
        await tx.exec('select 1');
        await new Promise((done) => setTimeout(done, 300));
      }),
    );
    await new Promise((done) => setTimeout(done, 50));
    const busy = await m.metrics();
    expect(sample(busy, 'hookline_db_pool_in_use{pool="api"}')).toBe(size);
    expect(sample(busy, 'hookline_db_pool_waiting{pool="api"}')).toBeGreaterThanOrEqual(2);
    await Promise.all(sleeping);
    // (A wake-up NOTIFY queued behind the transactions may still be running.)
    expect(await idleInUse()).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { testDrivers, useTestDatabase } from '../../test/databases';
import { useWorkerHarness, waitFor } from '../../test/workers';
import { sql } from '../storage';
import type { WorkerEvent } from './worker';

const DAY_MS = 24 * 60 * 60 * 1000;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe.each(testDrivers)('delivery worker and endpoint health (%s)', (driver) => {
  const t = useTestDatabase(driver);
  const { receiver, worker, endpoint } = useWorkerHarness(t, { retrySchedule: [0.5] });

  async function send(tenantId = 't1', endpointId?: string) {
    const result = await t.store.messages.create({
      tenantId,
      eventType: 'order.created',
      payloadJson: '{"n":1}',
      ...(endpointId ? { endpointId } : {}),
    });
    if (result.kind !== 'created') throw new Error(result.kind);
    return result.message;
  }

  async function deliveryOf(messageId: string) {
    return (await t.store.deliveries.list({ messageId })).data[0];
  }

  async function eventsOf(endpointId: string) {
    return t.database.sql.query<{
      type: string;
      delivery_id: string | null;
      data: Record<string, unknown>;
    }>(
      sql`select type, delivery_id, data from operational_events
        where endpoint_id = ${endpointId} order by id`,
    );
  }

  async function breakerOpen(endpointId: string): Promise<boolean> {
    const [row] = await t.database.sql.query<{ open: boolean }>(
      sql`select breaker_opened_at is not null as open from endpoints where id = ${endpointId}`,
    );
    return row!.open;
  }

  describe.each([
    ['6 days ahead', 6 * DAY_MS],
    ['an hour ahead', 3_600_000],
    ['an hour behind', -3_600_000],
  ])('with the gateway host’s clock %s', (_label, offsetMs) => {
    it('stores the retry at the database clock plus the delay, sends once per due attempt, and disables nothing', async () => {
      const arrivals: number[] = [];
      const r = await receiver((_req, res) => {
        arrivals.push(Date.now());
        res.writeHead(arrivals.length === 1 ? 500 : 204).end();
      });
      const ep = await endpoint(r.url);
      const events: WorkerEvent[] = [];
      // A 2 s retry: the failed state must be seen before the retry replaces it, also when CI
      // slows the polls below (0.5 s was once too short).
      await worker({
        now: () => new Date(Date.now() + offsetMs),
        onEvent: (e) => events.push(e),
        retrySchedule: [2],
      });
      const message = await send();

      const failed = await waitFor(
        async () => {
          const d = await deliveryOf(message.id);
          return d?.status === 'failed' || d?.status === 'succeeded' ? d : null;
        },
        { what: 'the first attempt to be recorded' },
      );
      // Recorded failed with a retry due 2 s (jitter pinned) after the record, by the
      // database clock (this host's real clock here), not the jumped one.
      expect(failed.status).toBe('failed');
      const next = failed.nextAttemptAt!.getTime();
      expect(next).toBeGreaterThanOrEqual(arrivals[0]! + 2_000);
      expect(next).toBeLessThan(arrivals[0]! + 2_000 + 1_000);
      const failing = (await t.store.endpoints.get(ep.id))!;
      expect(failing.status).toBe('active');
      expect(Math.abs(failing.failingSince!.getTime() - arrivals[0]!)).toBeLessThan(1_000);
      // The worker's clock still stamps what it sends and the attempt it records.
      const stamp = Number(r.requests[0]!.headers['webhook-timestamp']) * 1000;
      expect(Math.abs(stamp - (arrivals[0]! + offsetMs))).toBeLessThan(2_000);

      const done = await waitFor(
        async () => {
          const d = await deliveryOf(message.id);
          return d?.status === 'succeeded' ? d : null;
        },
        { what: 'the retry' },
      );
      expect(done.attemptCount).toBe(2);
      expect(arrivals).toHaveLength(2);
      expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(1_990);
      expect(arrivals[1]! - arrivals[0]!).toBeLessThan(4_000);
      await sleep(700);
      expect(arrivals).toHaveLength(2);
      expect(await t.store.endpoints.get(ep.id)).toMatchObject({
        status: 'active',
        failingSince: null,
      });
      expect(events.map((e) => e.type)).toEqual(['endpoint.recovered']);
      expect((await eventsOf(ep.id)).map((e) => e.type)).toEqual(['endpoint.recovered']);
    });
  });

  it('disables an endpoint that has failed for the period, by the database clock, with one event', async () => {
    const r = await receiver((_req, res) => res.writeHead(503).end());
    const ep = await endpoint(r.url);
    await t.database.sql.query(sql`
      update endpoints set failing_since = now() - interval '5 days 1 second' where id = ${ep.id}`);
    const events: WorkerEvent[] = [];
    // The worker's clock is a day behind: the database's decides.
    await worker({
      now: () => new Date(Date.now() - DAY_MS),
      onEvent: (e) => events.push(e),
    });
    const message = await send();
    const disabled = await waitFor(async () => {
      const found = await t.store.endpoints.get(ep.id);
      return found?.status === 'disabled' ? found : null;
    });
    expect(disabled.disabledReason).toBe('failing');
    await waitFor(() => events.length > 0);
    expect(events).toEqual([
      { type: 'endpoint.disabled', endpointId: ep.id, tenantId: 't1', reason: 'failing' },
    ]);
    const rows = await eventsOf(ep.id);
    expect(rows).toEqual([
      {
        type: 'endpoint.disabled',
        delivery_id: (await deliveryOf(message.id))!.id,
        data: expect.objectContaining({ reason: 'failing', http_status: 503, outcome: 'http_5xx' }),
      },
    ]);
    await sleep(800);
    expect(r.requests).toHaveLength(1);
  });

  it('writes the delivery.dead and 410 endpoint.disabled events it reports', async () => {
    const dead = await receiver((_req, res) => res.writeHead(500).end());
    const gone = await receiver((_req, res) => res.writeHead(410).end());
    const deadEp = await endpoint(dead.url, { tenantId: 'dead', retrySchedule: [] });
    const goneEp = await endpoint(gone.url, { tenantId: 'gone' });
    const events: WorkerEvent[] = [];
    await worker({ onEvent: (e) => events.push(e) });
    const deadMessage = await send('dead');
    await send('gone');
    await waitFor(() => events.length >= 2, { what: 'two events' });
    const deadDelivery = (await deliveryOf(deadMessage.id))!;
    expect(deadDelivery.status).toBe('dead');
    expect(events).toEqual(
      expect.arrayContaining([
        {
          type: 'delivery.dead',
          deliveryId: deadDelivery.id,
          endpointId: deadEp.id,
          tenantId: 'dead',
          messageId: deadMessage.id,
        },
        { type: 'endpoint.disabled', endpointId: goneEp.id, tenantId: 'gone', reason: 'gone' },
      ]),
    );
    expect(await eventsOf(deadEp.id)).toEqual([
      {
        type: 'delivery.dead',
        delivery_id: deadDelivery.id,
        data: expect.objectContaining({ attempt_count: 1, http_status: 500 }),
      },
    ]);
    expect((await eventsOf(goneEp.id)).map((e) => [e.type, e.data.reason])).toEqual([
      ['endpoint.disabled', 'gone'],
    ]);
  });

  /** 200 due deliveries for a receiver failing everything, 200 for a healthy one. */
  async function failingAndHealthy() {
    const bad = await receiver((_req, res) => res.writeHead(500).end());
    const good = await receiver();
    const badEp = await endpoint(bad.url, { tenantId: 'bad' });
    const goodEp = await endpoint(good.url, { tenantId: 'good' });
    await t.database.sql.query(sql`
      insert into messages (id, tenant_id, event_type, endpoint_id, payload, delivery_count,
        created_at)
      select 'msg_health' || e.tag || lpad(i::text, 16, '0'), e.tenant, 'order.created', e.id,
        '{}', 1, date_trunc('milliseconds', now())
      from generate_series(1, 200) i,
        (values (${badEp.id}, 'bad', 'b'), (${goodEp.id}, 'good', 'g')) e(id, tenant, tag)`);
    await t.database.sql.query(sql`
      insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
        next_attempt_at)
      select 'dlv' || substr(m.id, 4), m.id, m.endpoint_id, m.tenant_id, m.event_type, 'pending',
        now()
      from messages m where m.id like 'msg_health%'`);
    return { bad, good, badEp, goodEp };
  }

  it('holds a failing endpoint to a few attempts with the breaker while a healthy one gets everything', async () => {
    const { bad, good, badEp, goodEp } = await failingAndHealthy();
    // Retries an hour out: every attempt the failing receiver sees is a first attempt.
    await worker({ concurrency: 32, maxPerEndpoint: 10, retrySchedule: [3600] });
    await waitFor(() => good.requests.length >= 200, {
      timeoutMs: 20_000,
      what: 'the healthy endpoint',
    });
    await sleep(1_000);
    console.info(
      `[worker-health ${driver}] breaker on: the failing endpoint saw ${bad.requests.length} of 200 due deliveries`,
    );
    // Default breaker: 20 attempts in a minute, 90 % failed, opens it; a few more were in flight.
    expect(await breakerOpen(badEp.id)).toBe(true);
    expect(bad.requests.length).toBeGreaterThanOrEqual(20);
    expect(bad.requests.length).toBeLessThanOrEqual(40);
    expect(good.requests).toHaveLength(200);
    // The rest just wait, their attempts untouched.
    const [counts] = await t.database.sql.query<{ untouched: number; attempted: number }>(sql`
      select count(*) filter (where attempt_count = 0 and status = 'pending')::int as untouched,
        count(*) filter (where attempt_count > 0)::int as attempted
      from deliveries where endpoint_id = ${badEp.id}`);
    expect(counts!.attempted).toBe(bad.requests.length);
    expect(counts!.untouched).toBe(200 - bad.requests.length);
    const [goodDone] = await t.database.sql.query<{ n: number }>(sql`
      select count(*)::int as n from deliveries
      where endpoint_id = ${goodEp.id} and status = 'succeeded'`);
    expect(goodDone!.n).toBe(200);
    expect((await t.store.endpoints.stats(badEp.id, '1h'))?.health).toBe('red');
  });

  it('without the breaker, the failing endpoint sees every delivery', async () => {
    const { bad, good, badEp } = await failingAndHealthy();
    await worker({
      concurrency: 32,
      maxPerEndpoint: 10,
      retrySchedule: [3600],
      circuitBreaker: false,
    });
    await waitFor(() => bad.requests.length >= 200 && good.requests.length >= 200, {
      timeoutMs: 20_000,
      what: 'both endpoints',
    });
    expect(await breakerOpen(badEp.id)).toBe(false);
  });

  it('probes an open endpoint one delivery at a time and closes the breaker on a success', async () => {
    let healthy = false;
    let concurrent = 0;
    let maxConcurrentWhileOpen = 0;
    let open = false;
    const answered = new Map<string, number>();
    const r = await receiver((req, res) => {
      concurrent++;
      if (open) maxConcurrentWhileOpen = Math.max(maxConcurrentWhileOpen, concurrent);
      setTimeout(() => {
        concurrent--;
        const status = healthy ? 204 : 500;
        if (status === 204) {
          const id = String(req.headers['webhook-id']);
          answered.set(id, (answered.get(id) ?? 0) + 1);
        }
        res.writeHead(status).end();
      }, 20);
    });
    const ep = await endpoint(r.url);
    for (let i = 0; i < 30; i++) await send();
    const events: WorkerEvent[] = [];
    await worker({
      concurrency: 16,
      maxPerEndpoint: 5,
      retrySchedule: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
      circuitBreaker: { minAttempts: 5, probeDelayMs: 300, maxProbeDelayMs: 600 },
      onEvent: (e) => events.push(e),
    });
    await waitFor(() => breakerOpen(ep.id), { what: 'the breaker to open' });
    await sleep(100); // attempts leased before it opened come back
    open = true;
    const atOpen = r.requests.length;
    await sleep(1_500);
    // Probes at +300 ms, then every 600 ms: a few, one at a time.
    const probes = r.requests.length - atOpen;
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(4);
    expect(maxConcurrentWhileOpen).toBeLessThanOrEqual(1);
    healthy = true;
    await waitFor(() => answered.size === 30, { timeoutMs: 10_000, what: 'every message' });
    expect(await breakerOpen(ep.id)).toBe(false);
    // Each message answered 2xx exactly once.
    expect([...answered.values()].every((n) => n === 1)).toBe(true);
    await waitFor(() => events.some((e) => e.type === 'endpoint.recovered'));
    expect(events.filter((e) => e.type === 'endpoint.recovered')).toHaveLength(1);
    expect(events.filter((e) => e.type !== 'endpoint.recovered')).toEqual([]);
    const rows = await eventsOf(ep.id);
    expect(rows.map((e) => e.type)).toEqual(['endpoint.recovered']);
    expect(rows[0]!.data).toMatchObject({ breaker_opened_at: expect.any(String) });
  });
});

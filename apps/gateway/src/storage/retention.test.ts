import { beforeEach, describe, expect, it } from 'vitest';
import { countStatements, endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import { newId } from '../domain/ids';
import {
  dailyStatsBatch,
  dayStart,
  deliveriesBatch,
  histogramPercentile,
  idempotencyKeysBatch,
  LATENCY_BUCKET_BOUNDS,
  LATENCY_BUCKETS,
  latencyBucket,
  messagesBatch,
  operationalEventsBatch,
  portalTokensBatch,
  rawHorizon,
  rollUpDay,
  runRetention,
  utcDay,
} from './retention';
import { type Row, type Sql, type SqlFragment, sql } from './sql';
import type { AttemptOutcome, DeliveryStatus, Endpoint, EndpointStats, StatsWindow } from './types';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A delivery to write directly (backdated), with its message and attempts. */
interface SeedDelivery {
  endpoint: Endpoint;
  createdAt: Date;
  status: DeliveryStatus;
  test?: boolean;
  lockedUntil?: Date;
  attempts?: { outcome: AttemptOutcome; latencyMs: number; at: Date }[];
}

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

/** Writes messages, deliveries and attempts in three statements (bulk, any dates). */
async function seed(
  db: Sql,
  rows: SeedDelivery[],
): Promise<{ deliveryIds: string[]; messageIds: string[] }> {
  const messageIds = rows.map(() => newId('msg'));
  const deliveryIds = rows.map(() => newId('dlv'));
  for (let i = 0; i < rows.length; i += 2000) {
    const part = rows.slice(i, i + 2000);
    const mids = messageIds.slice(i, i + 2000);
    const dids = deliveryIds.slice(i, i + 2000);
    await db.query(sql`
      insert into messages (id, tenant_id, event_type, payload, delivery_count, created_at)
      select m.id, m.tenant_id, 'order.created', '{"secret":"payload"}', 1, m.created_at::timestamptz
      from unnest(${mids}::text[], ${part.map((r) => r.endpoint.tenantId)}::text[],
        ${iso(part.map((r) => r.createdAt))}::text[]) as m(id, tenant_id, created_at)`);
    await db.query(sql`
      insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
        attempt_count, next_attempt_at, locked_until, lease_token, test, created_at, updated_at)
      select d.id, d.message_id, d.endpoint_id, d.tenant_id, 'order.created', d.status,
        d.attempt_count, case when d.status in ('pending', 'failed') then d.created_at::timestamptz end,
        nullif(d.locked_until, '')::timestamptz,
        case when d.locked_until <> '' then gen_random_uuid() end,
        d.test = 'true', d.created_at::timestamptz, d.created_at::timestamptz
      from unnest(${dids}::text[], ${mids}::text[], ${part.map((r) => r.endpoint.id)}::text[],
        ${part.map((r) => r.endpoint.tenantId)}::text[], ${part.map((r) => r.status)}::text[],
        ${part.map((r) => r.attempts?.length ?? 0)}::int[],
        ${part.map((r) => r.lockedUntil?.toISOString() ?? '')}::text[],
        ${part.map((r) => String(r.test === true))}::text[],
        ${iso(part.map((r) => r.createdAt))}::text[])
        as d(id, message_id, endpoint_id, tenant_id, status, attempt_count, locked_until, test,
          created_at)`);
    const attempts = part.flatMap((r, j) =>
      (r.attempts ?? []).map((a, n) => ({ ...a, deliveryId: dids[j]!, number: n + 1, r })),
    );
    if (attempts.length === 0) continue;
    await db.query(sql`
      insert into attempts (id, delivery_id, endpoint_id, attempt_number, trigger, outcome,
        http_status, latency_ms, request_body, attempted_at)
      select newid, a.delivery_id, a.endpoint_id, a.n, a.trigger, a.outcome, 200, a.latency_ms,
        repeat('x', 2000), a.at::timestamptz
      from unnest(${attempts.map(() => newId('att'))}::text[], ${attempts.map((a) => a.deliveryId)}::text[],
        ${attempts.map((a) => a.r.endpoint.id)}::text[], ${attempts.map((a) => a.number)}::int[],
        ${attempts.map((a) => (a.r.test ? 'test' : 'scheduled'))}::text[],
        ${attempts.map((a) => a.outcome)}::text[], ${attempts.map((a) => a.latencyMs)}::int[],
        ${iso(attempts.map((a) => a.at))}::text[])
        as a(newid, delivery_id, endpoint_id, n, trigger, outcome, latency_ms, at)`);
  }
  return { deliveryIds, messageIds };
}

async function count(db: Sql, statement: ReturnType<typeof sql>): Promise<number> {
  const [row] = await db.query<{ n: number }>(statement);
  return Number(row?.n ?? 0);
}

/** "Now" for the tests: 01:00 UTC today (the window starts at 01:00 too, data sits at noon). */
function testNow(): Date {
  return new Date(dayStart(utcDay(new Date())).getTime() + HOUR);
}

const STATUSES: DeliveryStatus[] = ['succeeded', 'succeeded', 'succeeded', 'failed', 'dead'];
const OUTCOME_OF: Record<string, AttemptOutcome> = {
  succeeded: 'success',
  failed: 'http_5xx',
  dead: 'timeout',
  pending: 'network_error',
  held: 'http_4xx',
};

/**
 * 40 days of traffic at noon UTC: day d has 3 + (d % 4) deliveries in mixed statuses, each with
 * one or two attempts of spread latencies, plus a test delivery (never counted) and, every fifth
 * day, a held one (a paused endpoint).
 */
function fortyDays(endpoint: Endpoint, now: Date): SeedDelivery[] {
  const rows: SeedDelivery[] = [];
  for (let d = 0; d < 40; d++) {
    const noon = new Date(
      dayStart(utcDay(new Date(now.getTime() - d * DAY))).getTime() + 12 * HOUR,
    );
    const at = d === 0 ? new Date(now.getTime() - 30 * 60_000) : noon;
    for (let i = 0; i < 3 + (d % 4); i++) {
      const status = STATUSES[(d + i) % STATUSES.length]!;
      const latency = 5 + ((d * 37 + i * 101) % 900);
      rows.push({
        endpoint,
        createdAt: at,
        status,
        attempts: [
          ...(status === 'succeeded' && i % 2 === 0
            ? [
                {
                  outcome: 'http_5xx' as const,
                  latencyMs: latency * 3,
                  at: new Date(at.getTime() + 1000),
                },
              ]
            : []),
          { outcome: OUTCOME_OF[status]!, latencyMs: latency, at: new Date(at.getTime() + 60_000) },
        ],
      });
    }
    rows.push({
      endpoint,
      createdAt: at,
      status: 'failed',
      test: true,
      attempts: [{ outcome: 'timeout', latencyMs: 15_000, at }],
    });
    if (d % 5 === 0) rows.push({ endpoint, createdAt: at, status: 'held' });
  }
  return rows;
}

describe('latency histogram', () => {
  it('puts a latency in the same bucket as width_bucket does, and merges into percentiles within one bucket', async () => {
    expect(LATENCY_BUCKETS).toBe(LATENCY_BUCKET_BOUNDS.length + 1);
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1)).toBe(1);
    expect(latencyBucket(9)).toBe(8);
    expect(latencyBucket(10)).toBe(9);
    expect(latencyBucket(10_000_000)).toBe(LATENCY_BUCKETS - 1);
    // Exact percentiles of a skewed sample versus the histogram's estimate.
    const sample = Array.from({ length: 997 }, (_, i) => Math.round(3 + (i * i) / 97));
    const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
    for (const ms of sample) histogram[latencyBucket(ms)]!++;
    const sorted = [...sample].sort((a, b) => a - b);
    for (const p of [0.5, 0.95]) {
      const rank = p * (sorted.length - 1);
      const exact =
        sorted[Math.floor(rank)]! +
        (sorted[Math.ceil(rank)]! - sorted[Math.floor(rank)]!) * (rank - Math.floor(rank));
      const estimate = histogramPercentile(histogram, p, Math.max(...sample))!;
      expect(Math.abs(latencyBucket(estimate) - latencyBucket(exact))).toBeLessThanOrEqual(1);
    }
    expect(histogramPercentile(new Array(LATENCY_BUCKETS).fill(0), 0.5)).toBeNull();
  });
});

describe.each(testDrivers)('retention on %s', (driver) => {
  const t = useTestDatabase(driver);
  const db = () => t.database.sql;

  beforeEach(async () => {
    // Not in the shared reset list: rows of these outlive the endpoints' deletion.
    await db().exec('delete from stats_rollup_days; delete from operational_events;');
  });

  async function allStats(endpoint: Endpoint, now: Date) {
    const out: Partial<Record<StatsWindow, EndpointStats | null>> = {};
    for (const window of ['1h', '24h', '7d', '30d'] as const) {
      out[window] = await t.store.endpoints.stats(endpoint.id, window, { now });
    }
    return out as Record<StatsWindow, EndpointStats>;
  }

  function expectSameStats(after: EndpointStats, before: EndpointStats) {
    expect({ ...after, latencyMsP50: 0, latencyMsP95: 0 }).toEqual({
      ...before,
      latencyMsP50: 0,
      latencyMsP95: 0,
    });
    for (const key of ['latencyMsP50', 'latencyMsP95'] as const) {
      const a = after[key];
      const b = before[key];
      expect(a === null).toBe(b === null);
      if (a !== null && b !== null) {
        expect(Math.abs(latencyBucket(a) - latencyBucket(b))).toBeLessThanOrEqual(1);
      }
    }
  }

  it('keeps 30-day stats the same after deleting everything older than 7 days, and keeps recent rows intact', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    const other = await t.store.endpoints.create(endpointInput({ tenantId: 't2' }));
    await seed(db(), [...fortyDays(endpoint, now), ...fortyDays(other, now).slice(0, 50)]);
    // An old delivery a worker is sending right now: left for the next run, with its message.
    const inFlight = await seed(db(), [
      {
        endpoint,
        createdAt: new Date(now.getTime() - 20 * DAY),
        status: 'pending',
        lockedUntil: new Date(Date.now() + 10 * 60_000),
      },
    ]);
    // A message that never had a delivery (no endpoint matched), old and recent.
    const lonely = [newId('msg'), newId('msg')];
    await db().query(sql`
      insert into messages (id, tenant_id, event_type, payload, created_at) values
        (${lonely[0]}, 't1', 'x', '{}', ${new Date(now.getTime() - 12 * DAY)}),
        (${lonely[1]}, 't1', 'x', '{}', ${new Date(now.getTime() - 2 * DAY)})`);

    const before = await allStats(endpoint, now);
    const otherBefore = await allStats(other, now);
    expect(before['30d'].succeeded + before['30d'].failed + before['30d'].dead).toBeGreaterThan(90);
    expect(before['30d'].pending).toBeGreaterThan(0);
    const horizon = dayStart(utcDay(new Date(now.getTime() - 7 * DAY)));
    const recentBefore = await count(
      db(),
      sql`select count(*)::int as n from deliveries where created_at >= ${horizon}`,
    );
    const recentAttemptsBefore = await count(
      db(),
      sql`select count(*)::int as n from attempts a join deliveries d on d.id = a.delivery_id
        where d.created_at >= ${horizon}`,
    );

    const result = await runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      batchSize: 40,
      pauseMs: 0,
      now: () => now,
    });
    expect(result).toMatchObject({ ran: true, complete: true, horizon });
    // 39 complete days before today; the 32 before the horizon are finalized.
    expect(result.rolledUpDays).toHaveLength(39);
    expect(result.finalizedDays).toHaveLength(32);
    expect(result.deleted.deliveries).toBeGreaterThan(150);
    expect(result.deleted.unfinishedDeliveries).toBeGreaterThan(0);
    expect(result.deleted.attempts).toBeGreaterThan(result.deleted.deliveries);
    expect(await rawHorizon(db())).toEqual(horizon);

    // Raw rows older than the horizon are gone (but the one in flight); recent ones intact.
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from deliveries where created_at < ${horizon}`,
      ),
    ).toBe(1);
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from deliveries where created_at >= ${horizon}`,
      ),
    ).toBe(recentBefore);
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from attempts a join deliveries d
        on d.id = a.delivery_id where d.created_at >= ${horizon}`,
      ),
    ).toBe(recentAttemptsBefore);
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from attempts where attempted_at < ${horizon}`,
      ),
    ).toBe(0);
    expect(
      await count(db(), sql`select count(*)::int as n from messages where created_at < ${horizon}`),
    ).toBe(1);
    expect(await t.store.messages.get(inFlight.messageIds[0]!)).not.toBeNull();
    expect(await t.store.messages.get(lonely[0]!)).toBeNull();
    expect(await t.store.messages.get(lonely[1]!)).not.toBeNull();
    expect(await t.store.deliveries.get(inFlight.deliveryIds[0]!)).not.toBeNull();

    // The stats API answers the same: rollups stand in for the deleted days.
    const after = await allStats(endpoint, now);
    for (const window of ['1h', '24h', '7d'] as const)
      expect(after[window]).toEqual(before[window]);
    expectSameStats(after['30d'], before['30d']);
    const otherAfter = await allStats(other, now);
    expectSameStats(otherAfter['30d'], otherBefore['30d']);
    expect(otherAfter['7d']).toEqual(otherBefore['7d']);

    // Again: nothing more to do, and the figures do not move.
    const again = await runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      pauseMs: 0,
      now: () => now,
    });
    expect(again.rolledUpDays).toEqual([]);
    expect(again.finalizedDays).toEqual([]);
    expect(again.deleted).toMatchObject({ deliveries: 0, attempts: 0, messages: 0 });
    expect(await allStats(endpoint, now)).toEqual(after);
  });

  it('retakes the delivery counts of a day right before deleting it: later outcomes count', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    const day = new Date(
      dayStart(utcDay(new Date(now.getTime() - 20 * DAY))).getTime() + 12 * HOUR,
    );
    const late = await seed(db(), [
      { endpoint, createdAt: day, status: 'failed' },
      { endpoint, createdAt: day, status: 'succeeded' },
    ]);
    const options = { statsRetentionDays: 400, pauseMs: 0, now: () => now };
    // Rolled up while the first delivery was still being retried.
    const first = await runRetention(db(), { ...options, retentionDays: 30 });
    expect(first.rolledUpDays).toContain(utcDay(day));
    expect(first.finalizedDays).toEqual([]);
    await db().query(sql`
      update deliveries set status = 'dead' where id = ${late.deliveryIds[0]!}`);
    const second = await runRetention(db(), { ...options, retentionDays: 7 });
    expect(second.rolledUpDays).toEqual([]);
    expect(second.finalizedDays).toContain(utcDay(day));
    expect(second.deleted.deliveries).toBe(2);
    expect(await t.store.endpoints.stats(endpoint.id, '30d', { now })).toMatchObject({
      succeeded: 1,
      failed: 0,
      dead: 1,
    });
  });

  it('rolls up a day idempotently: running it again writes the same rows', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    await seed(db(), fortyDays(endpoint, now).slice(0, 30));
    const day = utcDay(new Date(now.getTime() - 3 * DAY));
    const read = () =>
      db().query(sql`
        select endpoint_id, day::text, tenant_id, succeeded, failed, pending, dead, cancelled,
          attempts_success, attempts_timeout, attempts_http_4xx, attempts_http_5xx,
          attempts_redirect, attempts_network_error, attempts_blocked, latency_count,
          latency_sum_ms::text, latency_max_ms, latency_histogram
        from endpoint_daily_stats where day = ${day}::text::date order by endpoint_id`);
    await rollUpDay(db(), day);
    const first = await read();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ tenant_id: 't1' });
    const histogram = (first[0]!.latency_histogram as number[]).map(Number);
    expect(histogram).toHaveLength(LATENCY_BUCKETS);
    // Test attempts are left out.
    expect(histogram.reduce((a, b) => a + b, 0)).toBe(Number(first[0]!.latency_count));
    expect(first[0]!.attempts_timeout).toBe(
      await count(
        db(),
        sql`select count(*)::int as n from attempts where outcome = 'timeout' and trigger <> 'test'
          and attempted_at >= ${dayStart(day)} and attempted_at < ${new Date(dayStart(day).getTime() + DAY)}`,
      ),
    );
    await rollUpDay(db(), day);
    expect(await read()).toEqual(first);
  });

  it('deletes in bounded batches of one short statement each, and a claim meanwhile is served', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    const old = new Date(now.getTime() - 20 * DAY);
    await seed(
      db(),
      Array.from({ length: 530 }, (_, i) => ({
        endpoint,
        createdAt: new Date(old.getTime() + i * 1000),
        status: 'succeeded' as const,
        attempts: [
          { outcome: 'http_5xx' as const, latencyMs: 40, at: old },
          { outcome: 'success' as const, latencyMs: 20, at: new Date(old.getTime() + 1000) },
        ],
      })),
    );
    const counted = countStatements(db());
    const results: Record<string, unknown>[] = [];
    const watched: Sql = {
      ...counted.sql,
      driver: counted.sql.driver,
      query: async <T extends Row = Row>(statement: SqlFragment): Promise<T[]> => {
        const rows = await counted.sql.query<T>(statement);
        if (rows.length === 1 && 'deliveries' in rows[0]!) results.push(rows[0]!);
        return rows;
      },
    };
    const result = await runRetention(watched, {
      retentionDays: 7,
      statsRetentionDays: 400,
      batchSize: 100,
      pauseMs: 1,
      now: () => now,
    });
    expect(result.deleted).toMatchObject({ deliveries: 530, attempts: 1060, messages: 530 });
    expect(result.maxBatchRows).toBeLessThanOrEqual(100);
    // 6 delivery batches (100 … 30), each one statement of ≤ 100 deliveries (≤ 200 attempts).
    expect(results).toHaveLength(6);
    for (const row of results) {
      expect(Number(row.deliveries)).toBeLessThanOrEqual(100);
      expect(Number(row.attempts)).toBeLessThanOrEqual(200);
    }
    // Rollups (24 hourly reads + one per endpoint batch, per day) and deletes: bounded.
    expect(counted.count()).toBeLessThan(20 * 30 + 40);
  });

  it('is resumable: stopped mid-way, the next run deletes the rest and the stats stay right', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    await seed(db(), fortyDays(endpoint, now));
    const before = await allStats(endpoint, now);
    const stop = new AbortController();
    let deletes = 0;
    const stopping: Sql = {
      driver: db().driver,
      exec: (script) => db().exec(script),
      transaction: (fn) => db().transaction(fn),
      listen: (channel, onNotify) => db().listen(channel, onNotify),
      query: async <T extends Row = Row>(statement: SqlFragment): Promise<T[]> => {
        const rows = await db().query<T>(statement);
        if (rows.length === 1 && 'deliveries' in rows[0]! && ++deletes === 2) stop.abort();
        return rows;
      },
    };
    const first = await runRetention(stopping, {
      retentionDays: 7,
      statsRetentionDays: 400,
      batchSize: 20,
      pauseMs: 0,
      now: () => now,
      signal: stop.signal,
    });
    expect(first).toMatchObject({ ran: true, complete: false });
    expect(first.deleted.deliveries).toBe(40);
    const horizon = dayStart(utcDay(new Date(now.getTime() - 7 * DAY)));
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from deliveries where created_at < ${horizon}`,
      ),
    ).toBeGreaterThan(0);
    // Mid-way, the stats already read the finalized days from rollups only.
    expectSameStats((await allStats(endpoint, now))['30d'], before['30d']);

    const second = await runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      batchSize: 20,
      pauseMs: 0,
      now: () => now,
    });
    expect(second.complete).toBe(true);
    expect(second.finalizedDays).toEqual([]);
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from deliveries where created_at < ${horizon}`,
      ),
    ).toBe(0);
    expectSameStats((await allStats(endpoint, now))['30d'], before['30d']);
  });

  it('never touches a row inside the retention period, to the millisecond', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    const cutoff = dayStart(utcDay(new Date(now.getTime() - 7 * DAY)));
    const edge = await seed(db(), [
      { endpoint, createdAt: new Date(cutoff.getTime() - 1), status: 'succeeded' },
      {
        endpoint,
        createdAt: cutoff,
        status: 'succeeded',
        attempts: [{ outcome: 'success', latencyMs: 3, at: cutoff }],
      },
      { endpoint, createdAt: new Date(cutoff.getTime() + DAY), status: 'held' },
    ]);
    const result = await runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      pauseMs: 0,
      now: () => now,
    });
    expect(result.deleted).toMatchObject({ deliveries: 1, messages: 1, attempts: 0 });
    expect(await t.store.deliveries.get(edge.deliveryIds[0]!)).toBeNull();
    expect(await t.store.deliveries.get(edge.deliveryIds[1]!)).not.toBeNull();
    expect(await t.store.deliveries.get(edge.deliveryIds[2]!)).not.toBeNull();
    expect(await count(db(), sql`select count(*)::int as n from attempts`)).toBe(1);
    expect(await t.store.messages.get(edge.messageIds[1]!)).not.toBeNull();
  });

  it('deletes expired idempotency keys, spent portal tokens, dispatched old events and old rollups', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    for (const key of ['live', 'old']) {
      const created = await t.store.messages.create({
        tenantId: 't1',
        eventType: 'x',
        payloadJson: '{}',
        idempotencyKey: key,
        requestHash: 'h',
      });
      expect(created.kind).toBe('created');
    }
    await db().query(sql`
      update idempotency_keys set expires_at = ${new Date(now.getTime() - 1000)} where key = 'old'`);
    const keysBefore = await count(db(), sql`select count(*)::int as n from idempotency_keys`);

    const token = (id: string, expiresAt: Date, revokedAt: Date | null) => sql`
      (${id}, ${`hash-${id}`}, 't1', ${endpoint.id}, ${expiresAt}, ${revokedAt})`;
    await db().query(sql`
      insert into portal_tokens (id, token_hash, tenant_id, endpoint_id, expires_at, revoked_at)
      values ${token('pt_live', new Date(now.getTime() + HOUR), null)},
        ${token('pt_just_expired', new Date(now.getTime() - HOUR), null)},
        ${token('pt_expired', new Date(now.getTime() - 2 * DAY), null)},
        ${token('pt_revoked', new Date(now.getTime() + DAY), new Date(now.getTime() - 2 * DAY))},
        ${token('pt_just_revoked', new Date(now.getTime() + DAY), new Date(now.getTime() - HOUR))}`);

    const event = (id: string, createdAt: Date, dispatched: boolean) => sql`
      (${id}, 'endpoint.disabled', 't1', ${endpoint.id}, ${createdAt},
        ${dispatched ? createdAt : null}::timestamptz)`;
    await db().query(sql`
      insert into operational_events (id, type, tenant_id, endpoint_id, created_at, dispatched_at)
      values ${event('evt_old_done', new Date(now.getTime() - 10 * DAY), true)},
        ${event('evt_old_waiting', new Date(now.getTime() - 10 * DAY), false)},
        ${event('evt_new_done', new Date(now.getTime() - DAY), true)}`);

    await db().query(sql`
      insert into endpoint_daily_stats (endpoint_id, day, tenant_id, latency_histogram) values
        (${endpoint.id}, ${utcDay(new Date(now.getTime() - 401 * DAY))}::text::date, 't1', '{}'),
        (${endpoint.id}, ${utcDay(new Date(now.getTime() - 399 * DAY))}::text::date, 't1', '{}')`);

    const result = await runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      pauseMs: 0,
      now: () => now,
    });
    expect(result.deleted).toMatchObject({
      idempotencyKeys: 1,
      portalTokens: 2,
      operationalEvents: 1,
      dailyStats: 1,
    });
    expect(await count(db(), sql`select count(*)::int as n from idempotency_keys`)).toBe(
      keysBefore - 1,
    );
    const tokens = await db().query<{ id: string }>(sql`select id from portal_tokens order by id`);
    expect(tokens.map((r) => r.id)).toEqual(['pt_just_expired', 'pt_just_revoked', 'pt_live']);
    const events = await db().query<{ id: string }>(
      sql`select id from operational_events order by id`,
    );
    expect(events.map((r) => r.id)).toEqual(['evt_new_done', 'evt_old_waiting']);
    expect(await count(db(), sql`select count(*)::int as n from endpoint_daily_stats`)).toBe(1);
  });

  it('deletes an endpoint with its rollups', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    await seed(db(), fortyDays(endpoint, now).slice(0, 20));
    await runRetention(db(), {
      retentionDays: 1,
      statsRetentionDays: 400,
      pauseMs: 0,
      now: () => now,
    });
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from endpoint_daily_stats where endpoint_id = ${endpoint.id}`,
      ),
    ).toBeGreaterThan(0);
    expect(await t.store.endpoints.delete(endpoint.id)).toBe(true);
    expect(await count(db(), sql`select count(*)::int as n from endpoint_daily_stats`)).toBe(0);
  });

  it('counts the whole UTC day holding the start of a window that reaches past the horizon', async () => {
    const now = testNow(); // 01:00: the 30d window starts at 01:00, 30 days ago
    const endpoint = await t.store.endpoints.create(endpointInput());
    const startDay = dayStart(utcDay(new Date(now.getTime() - 30 * DAY)));
    await seed(db(), [
      // 00:30 that day: before the window, but in the day that holds its start.
      { endpoint, createdAt: new Date(startDay.getTime() + 30 * 60_000), status: 'succeeded' },
      { endpoint, createdAt: new Date(startDay.getTime() + 2 * HOUR), status: 'succeeded' },
    ]);
    expect((await t.store.endpoints.stats(endpoint.id, '30d', { now }))?.succeeded).toBe(1);
    await runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      pauseMs: 0,
      now: () => now,
    });
    expect((await t.store.endpoints.stats(endpoint.id, '30d', { now }))?.succeeded).toBe(2);
  });

  it('lets one run at a time: a second concurrent run does nothing', async () => {
    const now = testNow();
    const endpoint = await t.store.endpoints.create(endpointInput());
    await seed(db(), fortyDays(endpoint, now));
    const options = {
      retentionDays: 7,
      statsRetentionDays: 400,
      pauseMs: 5,
      batchSize: 10,
      now: () => now,
    };
    const [a, b] = await Promise.all([runRetention(db(), options), runRetention(db(), options)]);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    expect((a.ran ? a : b).complete).toBe(true);
  });
});

describe.runIf(testDrivers.includes('postgres'))('retention at scale on PostgreSQL', () => {
  const t = useTestDatabase('postgres', { reset: false });
  const db = () => t.database.sql;
  const now = testNow();
  let endpoint: Endpoint;

  it('walks indexes, never a sequential scan of deliveries, attempts or messages', async () => {
    await db().exec('delete from stats_rollup_days;');
    endpoint = await t.store.endpoints.create(endpointInput());
    const old = new Date(now.getTime() - 20 * DAY);
    await seed(
      db(),
      Array.from({ length: 20_000 }, (_, i) => ({
        endpoint,
        createdAt: new Date(old.getTime() + i * 200),
        status: 'succeeded' as const,
        attempts: [{ outcome: 'success' as const, latencyMs: 10 + (i % 500), at: old }],
      })),
    );
    await db().exec(
      'analyze deliveries; analyze attempts; analyze messages; analyze operational_events;',
    );
    const horizon = dayStart(utcDay(new Date(now.getTime() - 7 * DAY)));
    const plans: string[] = [];
    for (const statement of [
      deliveriesBatch(horizon, 500),
      messagesBatch(horizon, { afterAt: '-infinity', afterId: '' }, 500),
      operationalEventsBatch(horizon, 500),
      idempotencyKeysBatch(now, 500),
      portalTokensBatch(now, 500),
      dailyStatsBatch(utcDay(now), 500),
    ]) {
      // EXPLAIN without ANALYZE: plans the deletes without running them.
      const rows = await db().query<{ 'QUERY PLAN': string }>(sql`explain ${statement}`);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    expect(plans[0]).toContain('deliveries_created_idx');
    expect(plans[1]).toContain('messages_created_idx');
    for (const plan of plans) {
      expect(plan).not.toMatch(/Seq Scan on (deliveries|attempts|messages)\b/);
      expect(plan).not.toMatch(/Hash Join/);
    }
  });

  it('keeps serving claims in under 100 ms while it deletes 20,000 old deliveries', async () => {
    // Due work for the claims: recent pending deliveries of other endpoints.
    const busy = await Promise.all(
      Array.from({ length: 5 }, () => t.store.endpoints.create(endpointInput())),
    );
    await seed(
      db(),
      Array.from({ length: 2000 }, (_, i) => ({
        endpoint: busy[i % busy.length]!,
        createdAt: new Date(Date.now() - 60_000),
        status: 'pending' as const,
      })),
    );
    let done = false;
    const run = runRetention(db(), {
      retentionDays: 7,
      statsRetentionDays: 400,
      batchSize: 500,
      pauseMs: 20,
      now: () => now,
    }).finally(() => {
      done = true;
    });
    const latencies: number[] = [];
    let claimed = 0;
    while (!done) {
      const started = performance.now();
      const rows = await t.store.queue.claim({
        workerId: 'w',
        limit: 10,
        leaseMs: 60_000,
        maxPerEndpoint: 1000,
      });
      latencies.push(performance.now() - started);
      claimed += rows.length;
    }
    const result = await run;
    expect(result.deleted.deliveries).toBe(20_000);
    expect(result.deleted.attempts).toBe(20_000);
    expect(latencies.length).toBeGreaterThan(10);
    expect(claimed).toBeGreaterThan(0);
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
    // The machine is shared: the 95th percentile, with the maximum reported on failure.
    expect(
      { p95: p95 < 100, max: Math.round(latencies[latencies.length - 1]!) },
      `claims: ${latencies.length}, p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms`,
    ).toMatchObject({ p95: true });
    expect(
      await count(
        db(),
        sql`select count(*)::int as n from deliveries where created_at < ${result.horizon!}`,
      ),
    ).toBe(0);
  }, 60_000);
});

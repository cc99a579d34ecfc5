import { describe, expect, it } from 'vitest';
import {
  databaseNow,
  endpointInput,
  endpointWithMessages as seedEndpoint,
  testDrivers,
  useTestDatabase,
} from '../../test/databases';
import { insecureDevelopmentCipher } from './cipher';
import { queueStats, queueStatsStatement } from './leases';
import { sql } from './sql';
import type { ClaimStats, NewEndpoint } from './types';

describe.each(testDrivers)('leases and queue stats on %s', (driver) => {
  const t = useTestDatabase(driver);

  async function endpointWithMessages(count: number, overrides: Partial<NewEndpoint> = {}) {
    return (await seedEndpoint(t.store, count, overrides)).endpoint;
  }

  function dbNow(): Promise<Date> {
    return databaseNow(t.database.sql);
  }

  async function leaseOf(id: string) {
    const [row] = await t.database.sql.query<{
      locked_until: Date | null;
      lease_token: string | null;
      attempt_count: number;
      status: string;
    }>(
      sql`select locked_until, lease_token, attempt_count, status from deliveries where id = ${id}`,
    );
    return row!;
  }

  it('releases a held lease so that another worker claims the delivery at once, attempt count unchanged', async () => {
    await endpointWithMessages(2);
    const claimed = await t.store.queue.claim({ workerId: 'w1', limit: 10, leaseMs: 60_000 });
    expect(claimed).toHaveLength(2);
    // Leased for a minute: nobody else gets them.
    expect(await t.store.queue.claim({ workerId: 'w2', limit: 10, leaseMs: 60_000 })).toEqual([]);

    const released = await t.store.queue.release(
      claimed.map((c) => ({ deliveryId: c.id, leaseToken: c.leaseToken })),
    );
    expect(released.sort()).toEqual(claimed.map((c) => c.id).sort());
    for (const c of claimed) {
      expect(await leaseOf(c.id)).toMatchObject({
        locked_until: null,
        lease_token: null,
        attempt_count: 0,
        status: 'pending',
      });
    }

    const stats: ClaimStats = { leaseExpired: -1, rateLimited: -1, readyLeft: -1 };
    const again = await t.store.queue.claim({ workerId: 'w2', limit: 10, leaseMs: 60_000, stats });
    expect(again.map((c) => c.id).sort()).toEqual(claimed.map((c) => c.id).sort());
    expect(again.every((c) => c.attemptNumber === 1)).toBe(true);
    // A released lease is not a lapsed one.
    expect(stats).toEqual({ leaseExpired: 0, rateLimited: 0, readyLeft: 0 });
  });

  it("gives back a worker's leases other than those it names, and nobody else's", async () => {
    await endpointWithMessages(6);
    const mine = await t.store.queue.claim({ workerId: 'w1', limit: 4, leaseMs: 60_000 });
    const theirs = await t.store.queue.claim({ workerId: 'w2', limit: 1, leaseMs: 60_000 });
    expect([mine.length, theirs.length]).toEqual([4, 1]);
    const held = mine.slice(0, 2).map((c) => c.id);
    const lost = mine.slice(2).map((c) => c.id);

    const released = await t.store.queue.releaseUnheld('w1', held);
    expect(released.sort()).toEqual([...lost].sort());
    for (const id of lost) {
      expect(await leaseOf(id)).toMatchObject({
        locked_until: null,
        lease_token: null,
        attempt_count: 0,
      });
    }
    // Still leased: the ones the worker holds, and the other worker's.
    for (const c of [...mine.slice(0, 2), ...theirs]) {
      expect(await leaseOf(c.id)).toMatchObject({ lease_token: c.leaseToken });
    }
    // Claimable again at once, with the one never-claimed delivery.
    const again = await t.store.queue.claim({ workerId: 'w3', limit: 10, leaseMs: 60_000 });
    expect(again).toHaveLength(3);
    expect(again.map((c) => c.id)).toEqual(expect.arrayContaining(lost));
    // With nothing held, everything of the worker goes; a worker without leases gets nothing.
    expect((await t.store.queue.releaseUnheld('w1', [])).sort()).toEqual([...held].sort());
    expect(await t.store.queue.releaseUnheld('w9', [])).toEqual([]);
  });

  it('releases nothing when the lease token is no longer the holder’s', async () => {
    await endpointWithMessages(1);
    const [first] = await t.store.queue.claim({ workerId: 'w1', limit: 1, leaseMs: 1_000 });
    // The lease lapses and another worker takes the delivery over.
    const later = new Date((await dbNow()).getTime() + 5_000);
    const [second] = await t.store.queue.claim({
      workerId: 'w2',
      limit: 1,
      leaseMs: 60_000,
      now: later,
    });
    expect(second!.id).toBe(first!.id);

    expect(
      await t.store.queue.release([{ deliveryId: first!.id, leaseToken: first!.leaseToken }]),
    ).toEqual([]);
    expect((await leaseOf(first!.id)).lease_token).toBe(second!.leaseToken);
  });

  it('counts deliveries claimed again after their lease lapsed', async () => {
    await endpointWithMessages(3);
    const start = await dbNow();
    const stats: ClaimStats = { leaseExpired: 0, rateLimited: 0, readyLeft: 0 };
    const first = await t.store.queue.claim({
      workerId: 'w1',
      limit: 2,
      leaseMs: 1_000,
      now: start,
      stats,
    });
    expect(first).toHaveLength(2);
    expect(stats.leaseExpired).toBe(0);

    // Two leases lapsed; the third delivery was never claimed.
    const again = await t.store.queue.claim({
      workerId: 'w2',
      limit: 10,
      leaseMs: 60_000,
      now: new Date(start.getTime() + 10_000),
      stats,
    });
    expect(again).toHaveLength(3);
    expect(stats.leaseExpired).toBe(2);
  });

  it('counts the endpoints whose due deliveries a claim leaves because their rate limit is used up', async () => {
    await endpointWithMessages(3, { rateLimitPerMinute: 1 });
    await endpointWithMessages(2);
    const stats: ClaimStats = { leaseExpired: 0, rateLimited: 0, readyLeft: 0 };
    const first = await t.store.queue.claim({ workerId: 'w1', limit: 10, leaseMs: 60_000, stats });
    // One of the limited endpoint's, both of the other's.
    expect(first).toHaveLength(3);
    expect(stats.rateLimited).toBe(0);

    const second = await t.store.queue.claim({ workerId: 'w1', limit: 10, leaseMs: 60_000, stats });
    expect(second).toEqual([]);
    expect(stats.rateLimited).toBe(1);
  });

  it('counts the due deliveries a claim left at its limit, within their endpoints’ free slots', async () => {
    await endpointWithMessages(5);
    const stats: ClaimStats = { leaseExpired: 0, rateLimited: 0, readyLeft: -1 };
    const claim = (limit: number) =>
      t.store.queue.claim({ workerId: 'w1', limit, leaseMs: 60_000, maxPerEndpoint: 3, stats });
    // Five due, three slots on the endpoint: the claim of two leaves one another worker could take.
    expect(await claim(2)).toHaveLength(2);
    expect(stats.readyLeft).toBe(1);
    // That one taken, the endpoint is at its cap: the two still due are nobody's to claim now.
    expect(await claim(10)).toHaveLength(1);
    expect(stats.readyLeft).toBe(0);
    expect(await claim(10)).toHaveLength(0);
    expect(stats.readyLeft).toBe(0);
  });

  it('does not count a rate-limited endpoint that has nothing due', async () => {
    const limited = await endpointWithMessages(1, { rateLimitPerMinute: 1 });
    const stats: ClaimStats = { leaseExpired: 0, rateLimited: 0, readyLeft: 0 };
    const [only] = await t.store.queue.claim({ workerId: 'w1', limit: 10, leaseMs: 60_000 });
    expect(only!.endpoint.id).toBe(limited.id);
    // Its one delivery is leased now: the rate is used up, but nothing due waits for it.
    await t.store.queue.claim({ workerId: 'w1', limit: 10, leaseMs: 60_000, stats });
    expect(stats.rateLimited).toBe(0);
  });

  it('reports the due deliveries and how long the oldest claimable one has waited', async () => {
    expect(await t.store.queue.stats()).toMatchObject({ due: 0, oldestDueAt: null });
    const active = await endpointWithMessages(3);
    const paused = await endpointWithMessages(2);
    await t.database.sql.query(sql`
      update deliveries set next_attempt_at = now() - interval '90 seconds'
      where endpoint_id = ${paused.id}`);
    await t.database.sql.query(sql`
      update deliveries set next_attempt_at = now() - interval '30 seconds'
      where endpoint_id = ${active.id}`);
    // A paused endpoint's pending rows are due but no worker may claim them.
    await t.store.endpoints.setStatus(paused.id, 'paused');
    // A future retry is not due.
    const future = await endpointWithMessages(1);
    await t.database.sql.query(sql`
      update deliveries set next_attempt_at = now() + interval '1 hour'
      where endpoint_id = ${future.id}`);

    const stats = await t.store.queue.stats();
    expect(stats.due).toBe(5);
    const age = (stats.now.getTime() - stats.oldestDueAt!.getTime()) / 1000;
    expect(age).toBeGreaterThanOrEqual(29);
    expect(age).toBeLessThan(60);

    // Leased rows are being attempted: they do not make the wait look longer.
    const claimed = await t.store.queue.claim({ workerId: 'w1', limit: 10, leaseMs: 60_000 });
    expect(claimed.map((c) => c.endpoint.id)).toEqual([active.id, active.id, active.id]);
    const during = await t.store.queue.stats();
    expect(during.due).toBe(5);
    expect(during.oldestDueAt).toBeNull();
  });

  it('stops counting at the limit and reads the partial due index, not the table', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    // A backlog beyond the count limit, plus finished rows that must not be read at all.
    const limit = 2_000;
    const rows = 5_000;
    await t.database.sql.exec(`
      insert into messages (id, tenant_id, event_type, payload, created_at)
        select 'msg_bulk' || lpad(i::text, 22, '0'), 't1', 'e', '{}', now()
        from generate_series(1, ${rows + 20_000}) i;
      insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
          next_attempt_at)
        select 'dlv_bulk' || lpad(i::text, 22, '0'), 'msg_bulk' || lpad(i::text, 22, '0'),
          '${endpoint.id}', 't1', 'e',
          case when i <= ${rows} then 'pending' else 'succeeded' end,
          case when i <= ${rows} then now() - interval '1 minute' end
        from generate_series(1, ${rows + 20_000}) i;
      analyze deliveries;`);

    const ctx = { sql: t.database.sql, cipher: insecureDevelopmentCipher, wake: () => {} };
    const stats = await queueStats(ctx, limit);
    expect(stats.due).toBe(limit);
    expect(stats.oldestDueAt).not.toBeNull();
    expect((await queueStats(ctx, rows + 1)).due).toBe(rows);

    const plan = (
      await t.database.sql.query<{ 'QUERY PLAN': string }>(
        sql`explain ${queueStatsStatement(limit)}`,
      )
    )
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    // The count reads only the partial index; the head is the first rows in due order.
    expect(plan).toMatch(/Index Only Scan using deliveries_due_idx/);
    expect(plan).toMatch(/Index Scan using deliveries_due_idx/);
    expect(plan).not.toMatch(/Seq Scan on deliveries/);
  }, 120_000);
});

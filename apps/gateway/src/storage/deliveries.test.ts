import { describe, expect, it } from 'vitest';
import { attemptInput, endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import { sql } from './sql';
import type { Endpoint } from './types';

describe.each(testDrivers)('delivery log on %s', (driver) => {
  const t = useTestDatabase(driver);

  async function send(tenantId: string, eventType: string, endpointId?: string) {
    const result = await t.store.messages.create({
      tenantId,
      eventType,
      payloadJson: '{}',
      endpointId: endpointId ?? null,
    });
    if (result.kind !== 'created') throw new Error(result.kind);
    return result.message.id;
  }

  async function claimAll() {
    return t.store.queue.claim({ workerId: 'w', limit: 250, leaseMs: 30_000, maxPerEndpoint: 250 });
  }

  it('lists deliveries newest first in pages without gaps or duplicates', async () => {
    await t.store.endpoints.create(endpointInput());
    await t.store.endpoints.create(endpointInput());
    for (let i = 0; i < 6; i++) await send('t1', 'a.b');
    const all = await t.database.sql.query<{ id: string }>(
      sql`select id from deliveries order by id desc`,
    );
    expect(all).toHaveLength(12);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await t.store.deliveries.list({ tenantId: 't1', limit: 5, cursor });
      seen.push(...page.data.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
  });

  it('filters by endpoint, tenant, message, status and event type', async () => {
    const a = await t.store.endpoints.create(endpointInput());
    const b = await t.store.endpoints.create(endpointInput({ eventTypes: ['x.one'] }));
    await t.store.endpoints.create(endpointInput({ tenantId: 't2' }));
    const m1 = await send('t1', 'x.one');
    await send('t1', 'x.two');
    await send('t2', 'x.one');
    const ids = async (filter: Parameters<typeof t.store.deliveries.list>[0]) =>
      (await t.store.deliveries.list(filter)).data.map((d) => `${d.endpointId}:${d.eventType}`);

    expect(await ids({ endpointId: b.id })).toEqual([`${b.id}:x.one`]);
    expect((await ids({ tenantId: 't1' })).sort()).toEqual(
      [`${a.id}:x.one`, `${a.id}:x.two`, `${b.id}:x.one`].sort(),
    );
    expect((await ids({ messageId: m1 })).sort()).toEqual(
      [`${a.id}:x.one`, `${b.id}:x.one`].sort(),
    );
    expect(await ids({ tenantId: 't1', eventType: 'x.two' })).toEqual([`${a.id}:x.two`]);

    const [first] = await claimAll();
    await t.store.queue.recordOutcome({
      deliveryId: first!.id,
      leaseToken: first!.leaseToken,
      status: 'dead',
      attempt: attemptInput({ outcome: 'http_4xx', httpStatus: 400 }),
    });
    const dead = await t.store.deliveries.list({ status: 'dead' });
    expect(dead.data.map((d) => d.id)).toEqual([first!.id]);
    expect(
      (await t.store.deliveries.list({ status: 'pending', tenantId: 't1' })).data,
    ).toHaveLength(2);
  });

  it('shows the delivery’s latest attempt and, on its own, every attempt oldest first', async () => {
    await t.store.endpoints.create(endpointInput());
    await send('t1', 'a.b');
    const [c1] = await claimAll();
    await t.store.queue.recordOutcome({
      deliveryId: c1!.id,
      leaseToken: c1!.leaseToken,
      status: 'failed',
      nextAttemptAt: new Date(Date.now() - 1),
      attempt: attemptInput({
        outcome: 'network_error',
        httpStatus: null,
        latencyMs: null,
        error: 'ECONNREFUSED',
        responseHeaders: null,
        responseBody: null,
      }),
    });
    const [c2] = await claimAll();
    await t.store.queue.recordOutcome({
      deliveryId: c2!.id,
      leaseToken: c2!.leaseToken,
      status: 'succeeded',
      attempt: attemptInput({ httpStatus: 204 }),
    });
    const listed = (await t.store.deliveries.list()).data[0]!;
    expect(listed.lastAttempt).toMatchObject({
      attemptNumber: 2,
      outcome: 'success',
      httpStatus: 204,
    });
    expect(listed.lastAttempt).not.toHaveProperty('requestBody');
    const full = await t.store.deliveries.getWithAttempts(c1!.id);
    expect(full?.attempts.map((a) => [a.attemptNumber, a.outcome])).toEqual([
      [1, 'network_error'],
      [2, 'success'],
    ]);
    expect(full?.attempts[0]).toMatchObject({
      latencyMs: null,
      error: 'ECONNREFUSED',
      responseHeaders: null,
      responseBody: null,
    });
  });

  it('hides other tenants’ deliveries and, for an endpoint-bound scope, other endpoints’', async () => {
    const a = await t.store.endpoints.create(endpointInput());
    const b = await t.store.endpoints.create(endpointInput());
    await t.store.endpoints.create(endpointInput({ tenantId: 't2' }));
    await send('t1', 'a.b');
    await send('t2', 'a.b');
    const theirs = (await t.store.deliveries.list({ tenantId: 't2' })).data[0]!;
    const mine = { tenantId: 't1' };
    expect(await t.store.deliveries.get(theirs.id, mine)).toBeNull();
    expect(await t.store.deliveries.getWithAttempts(theirs.id, mine)).toBeNull();
    expect((await t.store.deliveries.list({ tenantId: 't2' }, mine)).data).toEqual([]);
    expect((await t.store.deliveries.list({}, mine)).data).toHaveLength(2);

    const onlyA = { tenantId: 't1', endpointId: a.id };
    const listed = (await t.store.deliveries.list({}, onlyA)).data;
    expect(listed.map((d) => d.endpointId)).toEqual([a.id]);
    const ofB = (await t.store.deliveries.list({ endpointId: b.id })).data[0]!;
    expect(await t.store.deliveries.get(ofB.id, onlyA)).toBeNull();
    expect(await t.store.deliveries.recover(b.id, new Date(0), onlyA)).toBe(0);
  });

  describe('endpoint stats', () => {
    async function finish(endpoint: Endpoint, outcomes: ('succeeded' | 'failed' | 'dead')[]) {
      for (let i = 0; i < outcomes.length; i++) await send('t1', 'a.b', endpoint.id);
      const claimed = await claimAll();
      await t.store.queue.recordOutcomes(
        claimed.map((c, i) => ({
          deliveryId: c.id,
          leaseToken: c.leaseToken,
          status: outcomes[i]!,
          nextAttemptAt: outcomes[i] === 'failed' ? new Date(Date.now() + 3_600_000) : null,
          attempt: attemptInput({
            outcome: outcomes[i] === 'succeeded' ? 'success' : 'http_5xx',
            latencyMs: (i + 1) * 10,
          }),
        })),
      );
    }

    it('counts deliveries by status and gives success rate, latency percentiles and health', async () => {
      const endpoint = await t.store.endpoints.create(endpointInput());
      await finish(endpoint, ['succeeded', 'succeeded', 'succeeded', 'failed', 'dead']);
      await send('t1', 'a.b', endpoint.id); // still pending
      const stats = await t.store.endpoints.stats(endpoint.id, '24h');
      expect(stats).toEqual({
        window: '24h',
        succeeded: 3,
        failed: 1,
        pending: 1,
        dead: 1,
        successRate: 0.6,
        latencyMsP50: 30,
        latencyMsP95: 48,
        health: 'red',
      });
    });

    it('is green with no finished deliveries and leaves out tests and old deliveries', async () => {
      const endpoint = await t.store.endpoints.create(endpointInput());
      const test = await t.store.queue.createTestDelivery({
        tenantId: 't1',
        endpointId: endpoint.id,
        eventType: 'x',
        payloadJson: '{}',
        workerId: 'api',
        leaseMs: 1000,
      });
      await t.store.queue.recordOutcome({
        deliveryId: test!.id,
        leaseToken: test!.leaseToken,
        status: 'failed',
        attempt: attemptInput({ outcome: 'timeout', latencyMs: 15_000 }),
      });
      await finish(endpoint, ['dead']);
      await t.database.sql.query(sql`
        update deliveries set created_at = now() - interval '2 hours' where not test`);
      await t.database.sql.query(sql`
        update attempts set attempted_at = now() - interval '2 hours' where trigger <> 'test'`);
      expect(await t.store.endpoints.stats(endpoint.id, '1h')).toEqual({
        window: '1h',
        succeeded: 0,
        failed: 0,
        pending: 0,
        dead: 0,
        successRate: null,
        latencyMsP50: null,
        latencyMsP95: null,
        health: 'green',
      });
      expect((await t.store.endpoints.stats(endpoint.id, '24h'))?.dead).toBe(1);
    });
  });
});

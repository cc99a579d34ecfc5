import { describe, expect, it } from 'vitest';
import {
  attemptInput,
  databaseNow,
  endpointWithMessages as seedEndpoint,
  testDrivers,
  useTestDatabase,
} from '../../test/databases';
import { DEFAULT_CIRCUIT_BREAKER } from './queue';
import { sql } from './sql';
import type {
  ClaimedDelivery,
  EndpointHealthPolicy,
  NewEndpoint,
  OutcomeInput,
  RecordedOutcome,
} from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A breaker that trips after 5 attempts, so tests stay small. */
const SMALL: Partial<EndpointHealthPolicy> = {
  breaker: { ...DEFAULT_CIRCUIT_BREAKER, minAttempts: 5 },
};

type EventRow = {
  id: string;
  type: string;
  tenant_id: string;
  endpoint_id: string;
  delivery_id: string | null;
  message_id: string | null;
  data: Record<string, unknown>;
  dispatched_at: Date | null;
};

type BreakerRow = {
  breaker_opened_at: Date | null;
  breaker_probe_at: Date | null;
  breaker_failed_probes: number;
  breaker_probe_delivery_id: string | null;
  now: Date;
};

describe.each(testDrivers)('endpoint health on %s', (driver) => {
  const t = useTestDatabase(driver);

  async function endpointWithMessages(count: number, overrides: Partial<NewEndpoint> = {}) {
    return (await seedEndpoint(t.store, count, overrides)).endpoint;
  }

  function claim(limit = 100, now?: Date, workerId = 'w1') {
    return t.store.queue.claim({
      workerId,
      limit,
      leaseMs: 30_000,
      maxPerEndpoint: 100,
      ...(now ? { now } : {}),
    });
  }

  function failure(c: ClaimedDelivery, extra: Partial<OutcomeInput> = {}): OutcomeInput {
    return {
      deliveryId: c.id,
      leaseToken: c.leaseToken,
      status: 'failed',
      retryDelayMs: 3_600_000,
      attempt: attemptInput({
        outcome: 'http_5xx',
        httpStatus: 500,
        responseBody: 'down',
        error: 'HTTP 500',
      }),
      ...extra,
    };
  }

  function success(c: ClaimedDelivery): OutcomeInput {
    return {
      deliveryId: c.id,
      leaseToken: c.leaseToken,
      status: 'succeeded',
      attempt: attemptInput(),
    };
  }

  async function eventsOf(endpointId: string): Promise<EventRow[]> {
    return t.database.sql.query<EventRow>(sql`
      select id, type, tenant_id, endpoint_id, delivery_id, message_id, data, dispatched_at
      from operational_events where endpoint_id = ${endpointId} order by id`);
  }

  async function breakerOf(endpointId: string): Promise<BreakerRow> {
    const [row] = await t.database.sql.query<BreakerRow>(sql`
      select breaker_opened_at, breaker_probe_at, breaker_failed_probes, breaker_probe_delivery_id,
        now() as now
      from endpoints where id = ${endpointId}`);
    return row!;
  }

  async function dbNow(): Promise<number> {
    return (await databaseNow(t.database.sql)).getTime();
  }

  /** Fails `count` deliveries of the endpoint, one record each; the last result. */
  async function failSeveral(
    count: number,
    policy: Partial<EndpointHealthPolicy> = SMALL,
  ): Promise<RecordedOutcome[]> {
    const claimed = await claim(count);
    expect(claimed).toHaveLength(count);
    const results: RecordedOutcome[] = [];
    for (const c of claimed) results.push(await t.store.queue.recordOutcome(failure(c), policy));
    return results;
  }

  describe('operational events', () => {
    it('writes delivery.dead with the last attempt in the statement that makes the delivery dead', async () => {
      const endpoint = await endpointWithMessages(1);
      const [c] = await claim();
      await t.store.queue.recordOutcome({
        ...failure(c!),
        status: 'dead',
        attempt: attemptInput({
          outcome: 'timeout',
          httpStatus: null,
          error: 'Timed out after 15 s.',
        }),
      });
      const events = await eventsOf(endpoint.id);
      expect(events).toEqual([
        {
          id: expect.stringMatching(/^evt_[0-9a-z]{26}$/),
          type: 'delivery.dead',
          tenant_id: 't1',
          endpoint_id: endpoint.id,
          delivery_id: c!.id,
          message_id: c!.message.id,
          data: {
            attempt_count: 1,
            outcome: 'timeout',
            http_status: null,
            error: 'Timed out after 15 s.',
            event_type: 'order.created',
          },
          dispatched_at: null,
        },
      ]);
    });

    it('writes nothing for an outcome whose lease was lost', async () => {
      const endpoint = await endpointWithMessages(1);
      const [c] = await claim();
      const result = await t.store.queue.recordOutcome({
        ...failure(c!),
        status: 'dead',
        leaseToken: '00000000-0000-4000-8000-000000000000',
        disableEndpoint: 'gone',
      });
      expect(result.recorded).toBe(false);
      expect(await eventsOf(endpoint.id)).toEqual([]);
      expect((await t.store.endpoints.get(endpoint.id))?.status).toBe('active');
    });

    it('writes no event for a test delivery, and a test never moves the endpoint’s health', async () => {
      const endpoint = await endpointWithMessages(0);
      for (let i = 0; i < 6; i++) {
        const test = await t.store.queue.createTestDelivery({
          tenantId: 't1',
          endpointId: endpoint.id,
          eventType: 'x',
          payloadJson: '{}',
          workerId: 'api',
          leaseMs: 1000,
        });
        const result = await t.store.queue.recordOutcome(
          { ...failure(test!), retryDelayMs: null, disableEndpoint: 'gone' },
          SMALL,
        );
        expect(result).toMatchObject({ recorded: true, endpointDisabled: null, breaker: null });
      }
      expect(await eventsOf(endpoint.id)).toEqual([]);
      const after = await t.store.endpoints.get(endpoint.id);
      expect(after).toMatchObject({ status: 'active', failingSince: null });
      expect((await breakerOf(endpoint.id)).breaker_opened_at).toBeNull();
    });

    it('writes endpoint.recovered once when a failing endpoint succeeds again', async () => {
      const endpoint = await endpointWithMessages(4);
      const [a, b, c, d] = await claim();
      await t.store.queue.recordOutcome(failure(a!));
      const [first, second] = await t.store.queue.recordOutcomes([success(b!), success(c!)]);
      expect(first).toMatchObject({ endpointRecovered: true, endpointFailingSince: null });
      expect(second).toMatchObject({ endpointRecovered: true });
      expect(await t.store.queue.recordOutcome(success(d!))).toMatchObject({
        endpointRecovered: false,
      });
      const events = await eventsOf(endpoint.id);
      expect(events.map((e) => e.type)).toEqual(['endpoint.recovered']);
      expect([b!.id, c!.id]).toContain(events[0]!.delivery_id);
      expect(events[0]!.data).toMatchObject({ failing_since: expect.any(String) });
    });
  });

  describe('retry scheduling', () => {
    it('stores the next attempt at the database clock plus the delay, whatever the worker clock says', async () => {
      await endpointWithMessages(2);
      const [a, b] = await claim();
      const before = await dbNow();
      const results = await t.store.queue.recordOutcomes([
        failure(a!, {
          retryDelayMs: 30_000,
          attempt: attemptInput({
            outcome: 'http_5xx',
            attemptedAt: new Date(Date.now() + 6 * DAY_MS),
          }),
        }),
        failure(b!, {
          retryDelayMs: 30_000,
          attempt: attemptInput({
            outcome: 'http_5xx',
            attemptedAt: new Date(Date.now() - 3_600_000),
          }),
        }),
      ]);
      const after = await dbNow();
      for (const result of results) {
        const next = result.nextAttemptAt!.getTime();
        expect(next).toBeGreaterThanOrEqual(before + 30_000);
        expect(next).toBeLessThanOrEqual(after + 30_000);
        const stored = await t.store.deliveries.get(result.deliveryId);
        expect(stored?.nextAttemptAt).toEqual(result.nextAttemptAt);
      }
    });

    it('still takes an absolute next attempt time when no delay is given', async () => {
      await endpointWithMessages(1);
      const [c] = await claim();
      const at = new Date(Date.now() + 120_000);
      const result = await t.store.queue.recordOutcome({
        ...failure(c!),
        retryDelayMs: undefined,
        nextAttemptAt: at,
      });
      expect(result.nextAttemptAt).toEqual(at);
    });
  });

  describe('auto-disable', () => {
    it('disables an endpoint at once on 410 Gone, with one endpoint.disabled event', async () => {
      const endpoint = await endpointWithMessages(2);
      const [a, b] = await claim();
      const [gone, other] = await t.store.queue.recordOutcomes([
        failure(a!, {
          disableEndpoint: 'gone',
          attempt: attemptInput({ outcome: 'http_4xx', httpStatus: 410, error: 'HTTP 410' }),
        }),
        failure(b!, {
          disableEndpoint: 'gone',
          attempt: attemptInput({ outcome: 'http_4xx', httpStatus: 410, error: 'HTTP 410' }),
        }),
      ]);
      expect(gone).toMatchObject({ endpointDisabled: 'gone' });
      expect(other).toMatchObject({ endpointDisabled: 'gone' });
      expect(await t.store.endpoints.get(endpoint.id)).toMatchObject({
        status: 'disabled',
        disabledReason: 'gone',
      });
      const events = await eventsOf(endpoint.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'endpoint.disabled',
        delivery_id: expect.stringMatching(/^dlv_/),
        data: { reason: 'gone', http_status: 410, outcome: 'http_4xx', error: 'HTTP 410' },
      });
      // Already disabled: a late 410 disables nothing more.
      await t.store.endpoints.setStatus(endpoint.id, 'active');
      await t.store.endpoints.setStatus(endpoint.id, 'disabled', { reason: 'manual' });
      await t.store.messages.create({
        tenantId: 't1',
        eventType: 'order.created',
        payloadJson: '{}',
        endpointId: endpoint.id,
      });
      expect(await eventsOf(endpoint.id)).toHaveLength(1);
    });

    it('disables an endpoint that has failed every attempt for the period, by the database clock', async () => {
      const endpoint = await endpointWithMessages(3);
      const [a, b, c] = await claim();
      await t.store.queue.recordOutcome(failure(a!));
      // Four days and 23 hours of failing: not yet.
      await t.database.sql.query(sql`
        update endpoints set failing_since = now() - interval '4 days 23 hours'
        where id = ${endpoint.id}`);
      expect(await t.store.queue.recordOutcome(failure(b!))).toMatchObject({
        endpointDisabled: null,
      });
      await t.database.sql.query(sql`
        update endpoints set failing_since = now() - interval '5 days 1 second'
        where id = ${endpoint.id}`);
      const result = await t.store.queue.recordOutcome(failure(c!));
      expect(result).toMatchObject({ endpointDisabled: 'failing' });
      expect(await t.store.endpoints.get(endpoint.id)).toMatchObject({
        status: 'disabled',
        disabledReason: 'failing',
      });
      const events = await eventsOf(endpoint.id);
      expect(events.map((e) => [e.type, e.data.reason])).toEqual([
        ['endpoint.disabled', 'failing'],
      ]);
      expect(events[0]).toMatchObject({ delivery_id: c!.id, message_id: c!.message.id });
    });

    it('resets the clock on a success: a failure after it disables nothing', async () => {
      const endpoint = await endpointWithMessages(3);
      const [a, b, c] = await claim();
      await t.store.queue.recordOutcome(failure(a!));
      await t.database.sql.query(sql`
        update endpoints set failing_since = now() - interval '6 days' where id = ${endpoint.id}`);
      // The batch ends with a success: the run is over.
      const [, ok] = await t.store.queue.recordOutcomes([
        failure(b!, {
          attempt: attemptInput({ outcome: 'http_5xx', attemptedAt: new Date(Date.now() - 1000) }),
        }),
        success(c!),
      ]);
      expect(ok).toMatchObject({ endpointDisabled: null, endpointRecovered: true });
      expect(await t.store.endpoints.get(endpoint.id)).toMatchObject({
        status: 'active',
        failingSince: null,
      });
      await t.store.messages.create({
        tenantId: 't1',
        eventType: 'order.created',
        payloadJson: '{}',
        endpointId: endpoint.id,
      });
      const [d] = await claim();
      expect(await t.store.queue.recordOutcome(failure(d!))).toMatchObject({
        endpointDisabled: null,
      });
      expect(await t.store.endpoints.get(endpoint.id)).toMatchObject({ status: 'active' });
    });

    it('is not fooled by a worker clock jumped six days ahead', async () => {
      const endpoint = await endpointWithMessages(2);
      const [a, b] = await claim();
      const ahead = new Date(Date.now() + 6 * DAY_MS);
      for (const c of [a!, b!]) {
        const result = await t.store.queue.recordOutcome(
          failure(c, { attempt: attemptInput({ outcome: 'http_5xx', attemptedAt: ahead }) }),
        );
        expect(result.endpointDisabled).toBeNull();
        expect(result.endpointFailingSince!.getTime()).toBeLessThan(Date.now() + 60_000);
      }
      expect((await t.store.endpoints.get(endpoint.id))?.status).toBe('active');
    });

    it('leaves a paused endpoint paused, and never disables with the period turned off', async () => {
      const endpoint = await endpointWithMessages(2);
      const [a, b] = await claim();
      await t.database.sql.query(sql`
        update endpoints set failing_since = now() - interval '30 days' where id = ${endpoint.id}`);
      expect(
        await t.store.queue.recordOutcome(failure(a!), { disableAfterFailingMs: null }),
      ).toMatchObject({ endpointDisabled: null });
      await t.database.sql.query(
        sql`update endpoints set status = 'paused' where id = ${endpoint.id}`,
      );
      expect(await t.store.queue.recordOutcome(failure(b!))).toMatchObject({
        endpointDisabled: null,
      });
      expect((await t.store.endpoints.get(endpoint.id))?.status).toBe('paused');
      expect(await eventsOf(endpoint.id)).toEqual([]);
    });

    it('writes one endpoint.disabled when two workers record racing failures for one endpoint', async () => {
      const endpoint = await endpointWithMessages(8);
      const first = await claim(4, undefined, 'w1');
      const second = await claim(4, undefined, 'w2');
      expect(new Set([...first, ...second].map((c) => c.id)).size).toBe(8);
      await t.database.sql.query(sql`
        update endpoints set failing_since = now() - interval '6 days' where id = ${endpoint.id}`);
      const race = () =>
        Promise.all([
          t.store.queue.recordOutcomes(first.map((c) => failure(c))),
          t.store.queue.recordOutcomes(second.map((c) => failure(c))),
        ]);
      let results: RecordedOutcome[][];
      if (driver === 'postgres') {
        // Both records start while a third connection holds the endpoint row, so both statements
        // see it active before either can change it; the row lock then makes them take turns.
        let racing: Promise<RecordedOutcome[][]> | undefined;
        let settled = false;
        await t.database.sql.transaction(async (tx) => {
          await tx.query(sql`select id from endpoints where id = ${endpoint.id} for update`);
          racing = race();
          racing.then(
            () => (settled = true),
            () => (settled = true),
          );
          await new Promise((done) => setTimeout(done, 300));
          expect(settled).toBe(false);
        });
        results = await racing!;
      } else {
        results = await race();
      }
      const disabledBy = results.map((batch) => batch[0]!.endpointDisabled);
      expect(disabledBy.filter((r) => r === 'failing')).toHaveLength(1);
      expect(results.flat().every((r) => r.recorded)).toBe(true);
      const events = await eventsOf(endpoint.id);
      expect(events.map((e) => e.type)).toEqual(['endpoint.disabled']);
    });
  });

  describe('circuit breaker', () => {
    it('opens when most attempts in the window failed, and the claim then gives nothing until the probe time', async () => {
      const endpoint = await endpointWithMessages(20);
      const results = await failSeveral(5);
      expect(results.map((r) => r.breaker)).toEqual([null, null, null, null, 'opened']);
      const state = await breakerOf(endpoint.id);
      expect(state.breaker_opened_at).not.toBeNull();
      const wait = state.breaker_probe_at!.getTime() - state.now.getTime();
      expect(wait).toBeGreaterThan(DEFAULT_CIRCUIT_BREAKER.probeDelayMs - 5_000);
      expect(wait).toBeLessThanOrEqual(DEFAULT_CIRCUIT_BREAKER.probeDelayMs);
      // Fifteen deliveries are due, none is handed out, none loses an attempt.
      expect(await claim()).toEqual([]);
      const waiting = (await t.store.deliveries.list({ endpointId: endpoint.id, limit: 100 })).data;
      expect(waiting.filter((d) => d.status === 'pending' && d.attemptCount === 0)).toHaveLength(
        15,
      );
      // The stats show it red although most of the window's deliveries are still pending.
      expect((await t.store.endpoints.stats(endpoint.id, '24h'))?.health).toBe('red');
      expect(await eventsOf(endpoint.id)).toEqual([]);
    });

    it('leases exactly one probe at the probe time, even to concurrent claimers', async () => {
      const endpoint = await endpointWithMessages(15);
      await failSeveral(5);
      const { breaker_probe_at } = await breakerOf(endpoint.id);
      const later = new Date(breaker_probe_at!.getTime() + 1);
      const claims = await Promise.all([
        claim(10, later, 'w1'),
        claim(10, later, 'w2'),
        claim(10, later, 'w3'),
      ]);
      const probes = claims.flat();
      expect(probes).toHaveLength(1);
      const state = await breakerOf(endpoint.id);
      expect(state.breaker_probe_delivery_id).toBe(probes[0]!.id);
      // While the probe is out, nothing else goes.
      expect(await claim(10, new Date(later.getTime() + 1_000))).toEqual([]);
    });

    it('re-opens on a failed probe for twice as long each time, up to the cap', async () => {
      const endpoint = await endpointWithMessages(12);
      await failSeveral(5);
      const waits: number[] = [];
      for (let i = 0; i < 6; i++) {
        const { breaker_probe_at } = await breakerOf(endpoint.id);
        const [probe] = await claim(10, new Date(breaker_probe_at!.getTime() + 1));
        expect(probe).toBeDefined();
        const result = await t.store.queue.recordOutcome(failure(probe!), SMALL);
        expect(result.breaker).toBe('reopened');
        const state = await breakerOf(endpoint.id);
        waits.push(state.breaker_probe_at!.getTime() - state.now.getTime());
        expect(state.breaker_failed_probes).toBe(i + 1);
      }
      const expected = [60_000, 120_000, 240_000, 480_000, 600_000, 600_000];
      waits.forEach((wait, i) => {
        expect(wait).toBeGreaterThan(expected[i]! - 5_000);
        expect(wait).toBeLessThanOrEqual(expected[i]!);
      });
      expect(await eventsOf(endpoint.id)).toEqual([]);
    });

    it('closes on a successful probe, reports the recovery and hands out the backlog again', async () => {
      const endpoint = await endpointWithMessages(12);
      await failSeveral(5);
      const { breaker_probe_at } = await breakerOf(endpoint.id);
      const [probe] = await claim(10, new Date(breaker_probe_at!.getTime() + 1));
      const result = await t.store.queue.recordOutcome(success(probe!), SMALL);
      expect(result).toMatchObject({ breaker: 'closed', endpointRecovered: true });
      const state = await breakerOf(endpoint.id);
      expect(state).toMatchObject({
        breaker_opened_at: null,
        breaker_probe_at: null,
        breaker_failed_probes: 0,
        breaker_probe_delivery_id: null,
      });
      const events = await eventsOf(endpoint.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'endpoint.recovered',
        delivery_id: probe!.id,
        data: { breaker_opened_at: expect.any(String), failing_since: expect.any(String) },
      });
      expect(await claim()).toHaveLength(6);
      // A clean window: one more failure does not re-open it.
      const [next] = await claim(1, new Date(Date.now() + 2 * 3_600_000));
      expect((await t.store.queue.recordOutcome(failure(next!), SMALL)).breaker).toBeNull();
    });

    it('ignores the failure of an attempt leased before it opened, and closes on such a success', async () => {
      const endpoint = await endpointWithMessages(7);
      const claimed = await claim(7);
      for (const c of claimed.slice(0, 5)) await t.store.queue.recordOutcome(failure(c), SMALL);
      const opened = await breakerOf(endpoint.id);
      expect(opened.breaker_opened_at).not.toBeNull();
      // Not the probe: the breaker keeps its probe time and count.
      const stray = await t.store.queue.recordOutcome(failure(claimed[5]!), SMALL);
      expect(stray.breaker).toBeNull();
      expect(await breakerOf(endpoint.id)).toMatchObject({
        breaker_probe_at: opened.breaker_probe_at,
        breaker_failed_probes: 0,
      });
      const late = await t.store.queue.recordOutcome(success(claimed[6]!), SMALL);
      expect(late).toMatchObject({ breaker: 'closed', endpointRecovered: true });
    });

    it('stays closed below the failure ratio, for a quiet endpoint, and with the breaker off', async () => {
      const mixed = await endpointWithMessages(10);
      const claimed = await claim(10);
      // 8 of 10 failed: under 90 %.
      const outcomes = claimed.map((c, i) => (i === 3 || i === 7 ? success(c) : failure(c)));
      for (const o of outcomes) {
        expect((await t.store.queue.recordOutcome(o, SMALL)).breaker).toBeNull();
      }
      expect((await breakerOf(mixed.id)).breaker_opened_at).toBeNull();

      await t.reset();
      const quiet = await endpointWithMessages(4);
      expect((await failSeveral(4)).map((r) => r.breaker)).toEqual([null, null, null, null]);
      expect((await breakerOf(quiet.id)).breaker_opened_at).toBeNull();

      await t.reset();
      const off = await endpointWithMessages(8);
      const results = await failSeveral(8, { breaker: null });
      expect(results.map((r) => r.breaker).filter(Boolean)).toEqual([]);
      expect((await breakerOf(off.id)).breaker_opened_at).toBeNull();
    });

    it('forgets failures that slid out of the window', async () => {
      const endpoint = await endpointWithMessages(8);
      await failSeveral(4);
      // The four failures' bucket began 80 s ago: it rolls to the previous bucket (20 s to 80 s
      // ago), which the sliding minute overlaps by two thirds, so 2.7 of them still count: the
      // third failure from now makes 5.7 attempts in the window and opens it.
      await t.database.sql.query(sql`
        update endpoints set health_window_at = now() - interval '80 seconds'
        where id = ${endpoint.id}`);
      const results = await failSeveral(4);
      expect(results.map((r) => r.breaker)).toEqual([null, null, 'opened', null]);

      await t.reset();
      const old = await endpointWithMessages(8);
      await failSeveral(4);
      // Two windows old: nothing counts any more.
      await t.database.sql.query(sql`
        update endpoints set health_window_at = now() - interval '121 seconds'
        where id = ${old.id}`);
      expect((await failSeveral(4)).map((r) => r.breaker)).toEqual([null, null, null, null]);
    });

    it('tells the next due time as the probe time while the breaker is open', async () => {
      const endpoint = await endpointWithMessages(8);
      await failSeveral(5);
      const { breaker_probe_at } = await breakerOf(endpoint.id);
      expect(await t.store.queue.nextDueAt()).toEqual(breaker_probe_at);
    });

    it('keeps serving a healthy endpoint while another’s breaker is open', async () => {
      const failing = await endpointWithMessages(10);
      await failSeveral(5);
      const healthy = await endpointWithMessages(10);
      const claimed = await claim(100);
      expect(claimed).toHaveLength(10);
      expect(new Set(claimed.map((c) => c.endpoint.id))).toEqual(new Set([healthy.id]));
      expect((await breakerOf(failing.id)).breaker_opened_at).not.toBeNull();
    });
  });
});

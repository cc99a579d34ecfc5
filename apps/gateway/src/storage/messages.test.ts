import { describe, expect, it } from 'vitest';
import { countStatements, endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import { insecureDevelopmentCipher } from './cipher';
import { sql } from './sql';
import { createStore } from './store';
import type { CreateMessageResult, MessageAccepted, NewMessage } from './types';

function message(overrides: Partial<NewMessage> = {}): NewMessage {
  return { tenantId: 't1', eventType: 'invoice.paid', payloadJson: '{"n":1}', ...overrides };
}

function created(result: CreateMessageResult): MessageAccepted {
  if (result.kind !== 'created') throw new Error(`expected created, got ${result.kind}`);
  return result.message;
}

describe.each(testDrivers)('messages on %s', (driver) => {
  const t = useTestDatabase(driver);

  async function deliveriesOf(messageId: string) {
    return t.database.sql.query<{ endpoint_id: string; status: string; due: boolean }>(sql`
      select endpoint_id, status, next_attempt_at <= now() as due
      from deliveries where message_id = ${messageId} order by endpoint_id`);
  }

  it('fans out to exactly the tenant’s active and paused endpoints whose filter matches', async () => {
    const e = t.store.endpoints;
    const all = await e.create(endpointInput());
    const matching = await e.create(endpointInput({ eventTypes: ['invoice.paid', 'x.y'] }));
    const paused = await e.create(endpointInput({ status: 'paused' }));
    await e.create(endpointInput({ eventTypes: ['invoice.voided'] }));
    await e.create(endpointInput({ status: 'disabled' }));
    await e.create(endpointInput({ tenantId: 't2' }));

    const accepted = created(await t.store.messages.create(message()));
    expect(accepted.deliveryCount).toBe(3);
    const rows = await deliveriesOf(accepted.id);
    const byEndpoint = Object.fromEntries(rows.map((r) => [r.endpoint_id, r]));
    expect(Object.keys(byEndpoint).sort()).toEqual([all.id, matching.id, paused.id].sort());
    expect(byEndpoint[all.id]).toMatchObject({ status: 'pending', due: true });
    expect(byEndpoint[matching.id]).toMatchObject({ status: 'pending', due: true });
    expect(byEndpoint[paused.id]).toMatchObject({ status: 'held', due: null });
  });

  it('delivers to the one named endpoint only', async () => {
    const a = await t.store.endpoints.create(endpointInput());
    await t.store.endpoints.create(endpointInput());
    const accepted = created(await t.store.messages.create(message({ endpointId: a.id })));
    expect(accepted.deliveryCount).toBe(1);
    expect((await deliveriesOf(accepted.id)).map((r) => r.endpoint_id)).toEqual([a.id]);
    expect((await t.store.messages.get(accepted.id))?.endpointId).toBe(a.id);
  });

  it('refuses an endpoint of another tenant and stores nothing', async () => {
    const theirs = await t.store.endpoints.create(endpointInput({ tenantId: 't2' }));
    const result = await t.store.messages.create(message({ endpointId: theirs.id }));
    expect(result).toEqual({ kind: 'endpoint_not_found' });
    expect((await t.store.messages.list()).data).toEqual([]);
  });

  it('accepts a message no endpoint matches, with zero deliveries', async () => {
    const accepted = created(await t.store.messages.create(message({ tenantId: 'lonely' })));
    expect(accepted.deliveryCount).toBe(0);
    expect(await t.store.messages.get(accepted.id)).toMatchObject({ deliveryCount: 0 });
  });

  it('keeps the payload text byte for byte and the time to the millisecond', async () => {
    const payloadJson = '{"z": 1,  "a":[true, null], "é":"\\u00e9"}';
    const accepted = created(await t.store.messages.create(message({ payloadJson })));
    const stored = await t.store.messages.get(accepted.id);
    expect(stored?.payloadJson).toBe(payloadJson);
    expect(stored?.createdAt.getTime()).toBe(accepted.createdAt.getTime());
    expect(accepted.createdAt.getTime() % 1).toBe(0);
    const [row] = await t.database.sql.query<{ sub_ms: number }>(
      sql`select extract(microseconds from created_at)::int % 1000 as sub_ms from messages
          where id = ${accepted.id}`,
    );
    expect(row?.sub_ms).toBe(0);
  });

  it('fans out to 10,000 endpoints with one statement, quickly', async () => {
    await t.database.sql.query(sql`
      insert into endpoints (id, tenant_id, url, secret_ciphertext, secret_hint, event_types)
      select 'ep_bulk' || lpad(i::text, 20, '0'), 'big', 'https://r.example/' || i,
        ${insecureDevelopmentCipher.encrypt('whsec_x')}, 'whsec_x',
        case when i % 2 = 0 then '{}'::text[] else array['order.created'] end
      from generate_series(1, 10000) i`);
    const counted = countStatements(t.database.sql);
    let woken = 0;
    // The wake-up goes out after the commit, on its own: count only the message's statements.
    const store = createStore(counted.sql, {
      cipher: insecureDevelopmentCipher,
      waker: { wake: () => woken++, subscribe: () => Promise.reject(new Error('unused')) },
    });
    const started = performance.now();
    const accepted = created(
      await store.messages.create(message({ tenantId: 'big', eventType: 'order.created' })),
    );
    const ms = performance.now() - started;
    console.info(`[${driver}] fan-out to 10,000 endpoints: ${ms.toFixed(0)} ms`);
    expect(accepted.deliveryCount).toBe(10_000);
    // Message, insert … select of every delivery and count: one statement, whatever the size;
    // then one wake-up for the workers.
    expect(counted.count()).toBe(1);
    expect(woken).toBe(1);
    const [row] = await t.database.sql.query<{ n: number; ids: number }>(sql`
      select count(*)::int as n, count(distinct id)::int as ids from deliveries
      where message_id = ${accepted.id}`);
    expect(row).toEqual({ n: 10_000, ids: 10_000 });
    expect(ms).toBeLessThan(driver === 'pglite' ? 15_000 : 5_000);
  });

  it('gives deliveries k-sortable ids made after the message id', async () => {
    await t.store.endpoints.create(endpointInput());
    await t.store.endpoints.create(endpointInput());
    const accepted = created(await t.store.messages.create(message()));
    const rows = await t.database.sql.query<{ id: string }>(
      sql`select id from deliveries where message_id = ${accepted.id}`,
    );
    for (const { id } of rows) {
      expect(id).toMatch(/^dlv_[0-9a-hjkmnp-tv-z]{26}$/);
      expect(id.slice(4, 14) >= accepted.id.slice(4, 14)).toBe(true);
    }
  });

  describe('idempotency', () => {
    it('answers a repeat with the same key and request with the first answer, storing nothing', async () => {
      await t.store.endpoints.create(endpointInput());
      const input = message({ idempotencyKey: 'evt_1', requestHash: 'h1' });
      const first = await t.store.messages.create(input);
      const again = await t.store.messages.create(input);
      expect(first.kind).toBe('created');
      expect(again).toEqual({ kind: 'replayed', message: created(first) });
      expect((await t.store.messages.list()).data).toHaveLength(1);
      const [row] = await t.database.sql.query<{ n: number }>(
        sql`select count(*)::int as n from deliveries`,
      );
      expect(row?.n).toBe(1);
    });

    it('reports a conflict for the same key with a different request', async () => {
      await t.store.messages.create(message({ idempotencyKey: 'k', requestHash: 'h1' }));
      const other = await t.store.messages.create(
        message({ idempotencyKey: 'k', requestHash: 'h2', payloadJson: '{"n":2}' }),
      );
      expect(other).toEqual({ kind: 'idempotency_conflict' });
      expect((await t.store.messages.list()).data).toHaveLength(1);
    });

    it('scopes keys per tenant', async () => {
      const a = await t.store.messages.create(
        message({ tenantId: 'a', idempotencyKey: 'same', requestHash: 'ha' }),
      );
      const b = await t.store.messages.create(
        message({ tenantId: 'b', idempotencyKey: 'same', requestHash: 'hb' }),
      );
      expect([a.kind, b.kind]).toEqual(['created', 'created']);
    });

    it('forgets a key after its 24 hours', async () => {
      const input = message({ idempotencyKey: 'old', requestHash: 'h' });
      const first = created(await t.store.messages.create(input));
      await t.database.sql.query(
        sql`update idempotency_keys set expires_at = now() - interval '1 second'`,
      );
      const second = created(await t.store.messages.create(input));
      expect(second.id).not.toBe(first.id);
      const conflict = await t.store.messages.create({ ...input, requestHash: 'other' });
      expect(conflict.kind).toBe('idempotency_conflict');
    });

    it('stores exactly one message when 20 identical requests race', async () => {
      await t.store.endpoints.create(endpointInput());
      const input = message({ idempotencyKey: 'race', requestHash: 'h' });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t.store.messages.create(input)),
      );
      const kinds = results.map((r) => r.kind).sort();
      expect(kinds.filter((k) => k === 'created')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'replayed')).toHaveLength(19);
      const ids = new Set(results.map((r) => ('message' in r ? r.message.id : null)));
      expect(ids.size).toBe(1);
      const [row] = await t.database.sql.query<{ messages: number; deliveries: number }>(sql`
        select (select count(*)::int from messages) as messages,
               (select count(*)::int from deliveries) as deliveries`);
      expect(row).toEqual({ messages: 1, deliveries: 1 });
    });

    it('does not keep a key when the message is refused', async () => {
      const theirs = await t.store.endpoints.create(endpointInput({ tenantId: 't2' }));
      const input = message({ idempotencyKey: 'k2', requestHash: 'h', endpointId: theirs.id });
      expect((await t.store.messages.create(input)).kind).toBe('endpoint_not_found');
      const ok = await t.store.messages.create({ ...input, endpointId: null });
      expect(ok.kind).toBe('created');
    });

    it('requires a request hash with a key', async () => {
      await expect(t.store.messages.create(message({ idempotencyKey: 'k' }))).rejects.toThrow(
        TypeError,
      );
    });
  });

  it('wakes listeners when a message brings due deliveries', async () => {
    await t.store.endpoints.create(endpointInput());
    let wakes = 0;
    const stop = await t.store.queue.onDeliveriesDue(() => {
      wakes++;
    });
    await t.store.messages.create(message());
    await expect.poll(() => wakes, { timeout: 5000 }).toBeGreaterThan(0);
    await stop();
  });

  it('lists messages newest first, filtered, in pages, and hides other tenants', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(created(await t.store.messages.create(message({ eventType: `e.${i % 2}` }))).id);
    }
    await t.store.messages.create(message({ tenantId: 'other' }));
    const page1 = await t.store.messages.list({ tenantId: 't1', limit: 2 });
    const page2 = await t.store.messages.list({
      tenantId: 't1',
      limit: 2,
      cursor: page1.nextCursor,
    });
    const page3 = await t.store.messages.list({
      tenantId: 't1',
      limit: 2,
      cursor: page2.nextCursor,
    });
    expect([...page1.data, ...page2.data, ...page3.data].map((m) => m.id)).toEqual(
      [...ids].reverse(),
    );
    expect(page3.nextCursor).toBeNull();
    const odd = await t.store.messages.list({ eventType: 'e.1' });
    expect(odd.data.map((m) => m.id)).toEqual([ids[3], ids[1]]);
    const scoped = await t.store.messages.list({}, { tenantId: 'other' });
    expect(scoped.data).toHaveLength(1);
    expect(await t.store.messages.get(ids[0]!, { tenantId: 'other' })).toBeNull();
  });

  it('shows a token bound to one endpoint only the messages delivered to it', async () => {
    const a = await t.store.endpoints.create(endpointInput());
    const b = await t.store.endpoints.create(endpointInput());
    const toA = created(await t.store.messages.create(message({ endpointId: a.id })));
    const toB = created(await t.store.messages.create(message({ endpointId: b.id })));
    const scope = { tenantId: 't1', endpointId: a.id };
    expect((await t.store.messages.list({}, scope)).data.map((m) => m.id)).toEqual([toA.id]);
    expect(await t.store.messages.get(toB.id, scope)).toBeNull();
  });
});

import { newId, newIdBlock } from '../domain/ids';
import {
  pageLimit,
  type StorageContext,
  scopeConditions,
  toDate,
  toPage,
  whereAll,
} from './common';
import { json, type Sql, type SqlFragment, sql } from './sql';
import type {
  CreateMessageResult,
  Message,
  MessageAccepted,
  MessageFilter,
  NewMessage,
  Page,
  Scope,
} from './types';

/** How long an idempotency key is remembered. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

type MessageRow = {
  id: string;
  tenant_id: string;
  event_type: string;
  endpoint_id: string | null;
  payload: string;
  delivery_count: number;
  created_at: Date;
};

const COLUMNS = sql`m.id, m.tenant_id, m.event_type, m.endpoint_id, m.payload, m.delivery_count, m.created_at`;

function mapMessage(row: MessageRow): Message {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    eventType: row.event_type,
    payloadJson: row.payload,
    endpointId: row.endpoint_id,
    deliveryCount: Number(row.delivery_count),
    createdAt: toDate(row.created_at),
  };
}

/** The stored first answer, in the wire's snake_case so it is replayed as it was sent. */
type StoredResponse = {
  id: string;
  tenant_id: string;
  event_type: string;
  created_at: string;
  delivery_count: number;
};

function toStored(m: MessageAccepted): StoredResponse {
  return {
    id: m.id,
    tenant_id: m.tenantId,
    event_type: m.eventType,
    created_at: m.createdAt.toISOString(),
    delivery_count: m.deliveryCount,
  };
}

function fromStored(r: StoredResponse): MessageAccepted {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    eventType: r.event_type,
    createdAt: new Date(r.created_at),
    deliveryCount: r.delivery_count,
  };
}

/** Thrown inside the transaction to roll it back with a result. */
class Rollback {
  constructor(readonly result: CreateMessageResult) {}
}

/**
 * Stores a message and fans it out in one transaction: one `insert … select` creates a delivery
 * for every endpoint of the tenant whose status is `active` (→ `pending`, due now) or `paused`
 * (→ `held`) and whose event filter is empty or names the event type, or for `endpointId` alone.
 *
 * With an idempotency key (per tenant, 24 h), a repeat with the same request hash gets the first
 * answer back and stores nothing; another hash is a conflict. Concurrent repeats are serialised
 * by the key's primary key (insert … on conflict), never by check-then-insert. Workers are woken
 * after the commit (`ctx.wake`): in this process at once, elsewhere by a coalesced NOTIFY, so
 * message commits never queue on PostgreSQL's server-wide NOTIFY lock.
 */
export async function createMessage(
  ctx: StorageContext,
  input: NewMessage,
): Promise<CreateMessageResult> {
  const key = input.idempotencyKey ?? null;
  if (key !== null && !input.requestHash) {
    throw new TypeError('An idempotency key needs the request hash to compare repeats with.');
  }
  const id = newId('msg');
  const deliveryIds = newIdBlock('dlv');
  const endpointId = input.endpointId ?? null;
  // The message, its fan-out, its delivery count and the wake-up, in ONE statement: one round
  // trip, atomic without an explicit transaction. All parts read the same snapshot, so the
  // counted endpoints are exactly the ones that get a delivery.
  const fanout = (db: Sql) =>
    db.query<{ created_at: Date; delivery_count: number; due: number }>(sql`
      with matching as materialized (
        select e.id, e.tenant_id, e.status
        from endpoints e
        where e.tenant_id = ${input.tenantId}
          and e.status in ('active', 'paused')
          and (cardinality(e.event_types) = 0 or ${input.eventType}::text = any(e.event_types))
          ${endpointId !== null ? sql`and e.id = ${endpointId}` : sql``}
      ),
      message as (
        insert into messages (id, tenant_id, event_type, endpoint_id, payload, delivery_count,
          created_at)
        select ${id}, ${input.tenantId}, ${input.eventType}, ${endpointId}::text,
          ${input.payloadJson}, (select count(*)::int from matching),
          date_trunc('milliseconds', now())
        -- A named endpoint must be the tenant's (of any status), or nothing is stored.
        ${
          endpointId !== null
            ? sql`where exists (select 1 from endpoints
                where id = ${endpointId} and tenant_id = ${input.tenantId})`
            : sql``
        }
        returning created_at, delivery_count
      ),
      inserted as (
        insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
          next_attempt_at)
        select ${deliveryIds}::text || hookline_id_counter(row_number() over () - 1),
          ${id}, m.id, m.tenant_id, ${input.eventType},
          case when m.status = 'active' then 'pending' else 'held' end,
          case when m.status = 'active' then now() end
        from matching m
        where exists (select 1 from message)
        returning status
      )
      select message.created_at, message.delivery_count,
        (select count(*)::int from inserted where status = 'pending') as due
      from message`);

  const accepted = (row: { created_at: Date; delivery_count: number }): MessageAccepted => ({
    id,
    tenantId: input.tenantId,
    eventType: input.eventType,
    createdAt: toDate(row.created_at),
    deliveryCount: Number(row.delivery_count),
  });

  if (key === null) {
    const [row] = await fanout(ctx.sql);
    if (!row) return { kind: 'endpoint_not_found' };
    if (Number(row.due) > 0) ctx.wake();
    return { kind: 'created', message: accepted(row) };
  }
  let due = 0;
  try {
    const result = await ctx.sql.transaction(async (tx) => {
      const repeat = await claimIdempotencyKey(tx, input.tenantId, key, input.requestHash!, id);
      if (repeat) return repeat;
      const [row] = await fanout(tx);
      // Roll back the key too: a refused request must not hold it.
      if (!row) throw new Rollback({ kind: 'endpoint_not_found' });
      const message = accepted(row);
      await tx.query(sql`
        update idempotency_keys set response = ${json(toStored(message))}
        where tenant_id = ${input.tenantId} and key = ${key}`);
      due = Number(row.due);
      return { kind: 'created', message } as const;
    });
    if (due > 0) ctx.wake();
    return result;
  } catch (error) {
    if (error instanceof Rollback) return error.result;
    throw error;
  }
}

/**
 * Takes the key for message `id` (inserting it, or taking over an expired one); when it is live
 * and someone else's, returns the answer for this repeat instead.
 */
async function claimIdempotencyKey(
  tx: Sql,
  tenantId: string,
  key: string,
  requestHash: string,
  id: string,
): Promise<CreateMessageResult | null> {
  // A concurrent first request holding the key makes this insert wait until it commits or
  // rolls back; afterwards the row is either ours or visible to the select below.
  const taken = await tx.query(sql`
    insert into idempotency_keys (tenant_id, key, request_hash, message_id, expires_at)
    values (${tenantId}, ${key}, ${requestHash}, ${id},
      now() + ${IDEMPOTENCY_WINDOW_HOURS}::int * interval '1 hour')
    on conflict (tenant_id, key) do update set
      request_hash = excluded.request_hash, message_id = excluded.message_id, response = null,
      created_at = now(), expires_at = excluded.expires_at
    where idempotency_keys.expires_at <= now()
    returning message_id`);
  if (taken.length > 0) return null;
  const [existing] = await tx.query<{ request_hash: string; response: StoredResponse | null }>(sql`
    select request_hash, response from idempotency_keys
    where tenant_id = ${tenantId} and key = ${key}`);
  if (existing && existing.request_hash === requestHash && existing.response) {
    return { kind: 'replayed', message: fromStored(existing.response) };
  }
  return { kind: 'idempotency_conflict' };
}

function scoped(scope: Scope | undefined): SqlFragment[] {
  const conditions = scopeConditions(scope && { tenantId: scope.tenantId }, sql`m.tenant_id`);
  if (scope?.endpointId != null) {
    // A token bound to one endpoint sees only the messages delivered to it.
    conditions.push(sql`exists (select 1 from deliveries d
      where d.message_id = m.id and d.endpoint_id = ${scope.endpointId})`);
  }
  return conditions;
}

/** One message, or null when it does not exist or lies outside `scope`. */
export async function getMessage(
  ctx: StorageContext,
  id: string,
  scope?: Scope,
): Promise<Message | null> {
  const [row] = await ctx.sql.query<MessageRow>(
    sql`select ${COLUMNS} from messages m ${whereAll([sql`m.id = ${id}`, ...scoped(scope)])}`,
  );
  return row ? mapMessage(row) : null;
}

/** Messages newest first, filtered by tenant and event type. */
export async function listMessages(
  ctx: StorageContext,
  filter: MessageFilter = {},
  scope?: Scope,
): Promise<Page<Message>> {
  const limit = pageLimit(filter.limit);
  const rows = await ctx.sql.query<MessageRow>(sql`
    select ${COLUMNS} from messages m
    ${whereAll([
      filter.tenantId !== undefined && sql`m.tenant_id = ${filter.tenantId}`,
      filter.eventType !== undefined && sql`m.event_type = ${filter.eventType}`,
      filter.cursor && sql`m.id < ${filter.cursor}`,
      ...scoped(scope),
    ])}
    order by m.id desc
    limit ${limit + 1}`);
  return toPage(rows, limit, mapMessage, (row) => row.id);
}

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
  const fanout = (db: Sql) => insertOne(db, input, id, deliveryIds);

  const accepted = (row: { created_at: Date; delivery_count: number }): MessageAccepted => ({
    id,
    tenantId: input.tenantId,
    eventType: input.eventType,
    createdAt: toDate(row.created_at),
    deliveryCount: Number(row.delivery_count),
  });

  if (key === null) {
    if (ctx.messageWriter) return ctx.messageWriter.create(input, id, deliveryIds);
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
 * The message, its fan-out, its delivery count and whether any delivery is due, in ONE
 * statement: one round trip, atomic without an explicit transaction. All parts read the same
 * snapshot, so the counted endpoints are exactly the ones that get a delivery.
 */
function insertOne(db: Sql, input: NewMessage, id: string, deliveryIds: string) {
  const endpointId = input.endpointId ?? null;
  return db.query<{ created_at: Date; delivery_count: number; due: number }>(sql`
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
}

/** Inserts messages without an idempotency key many per statement (see `createMessageWriter`). */
export interface MessageWriter {
  /** Stores `input` as message `id`, its deliveries numbered from the id block `deliveryIds`. */
  create(input: NewMessage, id: string, deliveryIds: string): Promise<CreateMessageResult>;
  /** Statements under way and messages waiting for one (tests, metrics). */
  readonly pending: { running: number; queued: number };
}

/** Options of `createMessageWriter`. */
export interface MessageWriterOptions {
  /** Statements under way at once (default 2); further messages queue and go in the next ones. */
  concurrency?: number;
  /** Most messages per statement (default 128). */
  maxBatch?: number;
  /** Most payload bytes per statement (default 2 MiB; one larger payload still goes alone). */
  maxBatchBytes?: number;
}

interface Queued {
  input: NewMessage;
  id: string;
  deliveryIds: string;
  bytes: number;
  resolve: (result: CreateMessageResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for `POST /v1/messages`: while `concurrency` statements are under way, arriving
 * messages queue, and the next statement stores all of them (up to `maxBatch`) with their
 * fan-out in ONE statement, so ONE commit. Each request is still answered only after the commit
 * that holds its message. At low load a message finds a free slot and goes alone at the end of
 * the event-loop turn it arrived in, so batching adds no latency (messages that arrived in the
 * same turn go together); under load a statement per message would spend the database on
 * per-statement and per-commit overhead, which is what caps intake. When a batch fails, its
 * messages are retried one by one, so one message that the database refuses fails alone.
 */
export function createMessageWriter(
  ctx: StorageContext,
  options: MessageWriterOptions = {},
): MessageWriter {
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const maxBatch = Math.max(1, options.maxBatch ?? 128);
  const maxBatchBytes = Math.max(1, options.maxBatchBytes ?? 2 * 1024 * 1024);
  const queue: Queued[] = [];
  let running = 0;
  let pumpScheduled = false;

  /**
   * Starts statements at the end of this turn of the event loop, not at once: requests whose
   * bytes arrived together reach `create` one after another in the same turn, and a free slot
   * taken by the first of them alone would split them over several statements (and commits).
   */
  function pumpSoon(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function pump(): void {
    while (running < concurrency && queue.length > 0) {
      let bytes = queue[0]!.bytes;
      let take = 1;
      while (
        take < queue.length &&
        take < maxBatch &&
        bytes + queue[take]!.bytes <= maxBatchBytes
      ) {
        bytes += queue[take]!.bytes;
        take++;
      }
      const batch = queue.splice(0, take);
      running++;
      void write(batch).finally(() => {
        running--;
        pumpSoon();
      });
    }
  }

  async function write(batch: Queued[]): Promise<void> {
    let results: Map<string, { created_at: Date; delivery_count: number }>;
    let due: number;
    try {
      if (batch.length === 1) {
        // Alone (low load): the single-message statement, which skips the JSON input.
        const only = batch[0]!;
        const [row] = await insertOne(ctx.sql, only.input, only.id, only.deliveryIds);
        results = new Map(row ? [[only.id, row]] : []);
        due = row ? Number(row.due) : 0;
      } else {
        ({ results, due } = await insertBatch(ctx.sql, batch));
      }
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One by one, so that only what the database refuses fails.
      for (const item of batch) await write([item]);
      return;
    }
    if (due > 0) ctx.wake();
    for (const item of batch) {
      const row = results.get(item.id);
      if (!row) {
        item.resolve({ kind: 'endpoint_not_found' });
        continue;
      }
      item.resolve({
        kind: 'created',
        message: {
          id: item.id,
          tenantId: item.input.tenantId,
          eventType: item.input.eventType,
          createdAt: toDate(row.created_at),
          deliveryCount: Number(row.delivery_count),
        },
      });
    }
  }

  return {
    create(input, id, deliveryIds) {
      return new Promise<CreateMessageResult>((resolve, reject) => {
        queue.push({ input, id, deliveryIds, bytes: input.payloadJson.length, resolve, reject });
        pumpSoon();
      });
    },
    get pending() {
      return { running, queued: queue.length };
    },
  };
}

/**
 * Stores several messages and their fan-out in ONE statement (so one transaction): the same
 * rules as `createMessage`'s single-message statement, per message. Returns the stored messages
 * by id (a message naming an endpoint that is not its tenant's is not stored and is absent) and
 * how many deliveries became due.
 */
async function insertBatch(
  db: Sql,
  batch: readonly Queued[],
): Promise<{ results: Map<string, { created_at: Date; delivery_count: number }>; due: number }> {
  const input = batch.map((item, n) => ({
    n,
    id: item.id,
    tenant_id: item.input.tenantId,
    event_type: item.input.eventType,
    endpoint_id: item.input.endpointId ?? null,
    payload: item.input.payloadJson,
    dlv: item.deliveryIds,
  }));
  const rows = await db.query<{
    id: string;
    created_at: Date;
    delivery_count: number;
    due: number;
  }>(sql`
    with input as materialized (
      select * from jsonb_to_recordset(${json(input)}) as x(
        n int, id text, tenant_id text, event_type text, endpoint_id text, payload text, dlv text)
    ),
    matching as materialized (
      select i.n, e.id as endpoint_id, e.status,
        row_number() over (partition by i.n order by e.id) - 1 as k
      from input i
      join endpoints e on e.tenant_id = i.tenant_id
      where e.status in ('active', 'paused')
        and (cardinality(e.event_types) = 0 or i.event_type = any(e.event_types))
        and (i.endpoint_id is null or e.id = i.endpoint_id)
    ),
    counts as materialized (
      select n, count(*)::int as c from matching group by n
    ),
    message as (
      insert into messages (id, tenant_id, event_type, endpoint_id, payload, delivery_count,
        created_at)
      select i.id, i.tenant_id, i.event_type, i.endpoint_id, i.payload, coalesce(c.c, 0),
        date_trunc('milliseconds', now())
      from input i
      left join counts c on c.n = i.n
      -- A named endpoint must be the tenant's (of any status), or that message is not stored.
      where i.endpoint_id is null
        or exists (select 1 from endpoints e
          where e.id = i.endpoint_id and e.tenant_id = i.tenant_id)
      order by i.n
      returning id, created_at, delivery_count
    ),
    inserted as (
      insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
        next_attempt_at)
      select i.dlv || hookline_id_counter(m.k), i.id, m.endpoint_id, i.tenant_id, i.event_type,
        case when m.status = 'active' then 'pending' else 'held' end,
        case when m.status = 'active' then now() end
      from matching m
      join input i on i.n = m.n
      where i.id in (select id from message)
      returning status
    )
    select m.id, m.created_at, m.delivery_count,
      (select count(*)::int from inserted where status = 'pending') as due
    from message m`);
  return {
    results: new Map(rows.map((row) => [row.id, row])),
    due: rows.length > 0 ? Number(rows[0]!.due) : 0,
  };
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

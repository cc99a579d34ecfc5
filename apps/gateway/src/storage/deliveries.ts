import {
  notifyDeliveriesDue,
  pageLimit,
  type StorageContext,
  scopeConditions,
  toDate,
  toDateOrNull,
  toNumberOrNull,
  toPage,
  whereAll,
} from './common';
import { type SqlFragment, sql } from './sql';
import type {
  Attempt,
  AttemptSummary,
  Delivery,
  DeliveryFilter,
  DeliveryStatus,
  DeliveryWithAttempts,
  Page,
  ReplayResult,
  Scope,
} from './types';

type DeliveryRow = {
  id: string;
  message_id: string;
  endpoint_id: string;
  tenant_id: string;
  event_type: string;
  status: Delivery['status'];
  attempt_count: number;
  next_attempt_at: Date | null;
  test: boolean;
  created_at: Date;
  updated_at: Date;
  la_id: string | null;
  la_attempt_number: number | null;
  la_trigger: AttemptSummary['trigger'] | null;
  la_outcome: AttemptSummary['outcome'] | null;
  la_http_status: number | null;
  la_latency_ms: number | null;
  la_error: string | null;
  la_attempted_at: Date | null;
};

// A delivery `d` with its latest attempt `la` (lateral join, one index probe per row).
const SELECT_DELIVERY = sql`
  select d.id, d.message_id, d.endpoint_id, d.tenant_id, d.event_type, d.status, d.attempt_count,
    d.next_attempt_at, d.test, d.created_at, d.updated_at,
    la.id as la_id, la.attempt_number as la_attempt_number, la.trigger as la_trigger,
    la.outcome as la_outcome, la.http_status as la_http_status, la.latency_ms as la_latency_ms,
    la.error as la_error, la.attempted_at as la_attempted_at
  from deliveries d
  left join lateral (
    select a.id, a.attempt_number, a.trigger, a.outcome, a.http_status, a.latency_ms, a.error,
      a.attempted_at
    from attempts a where a.delivery_id = d.id
    order by a.attempt_number desc limit 1
  ) la on true`;

function mapDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    messageId: row.message_id,
    endpointId: row.endpoint_id,
    tenantId: row.tenant_id,
    eventType: row.event_type,
    status: row.status,
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: toDateOrNull(row.next_attempt_at),
    lastAttempt:
      row.la_id === null
        ? null
        : {
            id: row.la_id,
            deliveryId: row.id,
            attemptNumber: Number(row.la_attempt_number),
            trigger: row.la_trigger!,
            outcome: row.la_outcome!,
            httpStatus: toNumberOrNull(row.la_http_status),
            latencyMs: toNumberOrNull(row.la_latency_ms),
            error: row.la_error,
            attemptedAt: toDate(row.la_attempted_at),
          },
    test: row.test,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

type AttemptRow = {
  id: string;
  delivery_id: string;
  attempt_number: number;
  trigger: Attempt['trigger'];
  outcome: Attempt['outcome'];
  http_status: number | null;
  latency_ms: number | null;
  request_headers: Record<string, string>;
  request_body: string;
  request_body_truncated: boolean;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  response_body_truncated: boolean;
  error: string | null;
  attempted_at: Date;
};

function mapAttempt(row: AttemptRow): Attempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    attemptNumber: Number(row.attempt_number),
    trigger: row.trigger,
    outcome: row.outcome,
    httpStatus: toNumberOrNull(row.http_status),
    latencyMs: toNumberOrNull(row.latency_ms),
    requestHeaders: row.request_headers ?? {},
    requestBody: row.request_body,
    requestBodyTruncated: row.request_body_truncated,
    responseHeaders: row.response_headers,
    responseBody: row.response_body,
    responseBodyTruncated: row.response_body_truncated,
    error: row.error,
    attemptedAt: toDate(row.attempted_at),
  };
}

function scoped(scope: Scope | undefined): SqlFragment[] {
  return scopeConditions(scope, sql`d.tenant_id`, sql`d.endpoint_id`);
}

/** One delivery with its latest attempt, or null when not found in scope. */
export async function getDelivery(
  ctx: StorageContext,
  id: string,
  scope?: Scope,
): Promise<Delivery | null> {
  const [row] = await ctx.sql.query<DeliveryRow>(
    sql`${SELECT_DELIVERY} ${whereAll([sql`d.id = ${id}`, ...scoped(scope)])}`,
  );
  return row ? mapDelivery(row) : null;
}

/** One delivery with every attempt, oldest first, or null when not found in scope. */
export async function getDeliveryWithAttempts(
  ctx: StorageContext,
  id: string,
  scope?: Scope,
): Promise<DeliveryWithAttempts | null> {
  const delivery = await getDelivery(ctx, id, scope);
  if (!delivery) return null;
  const attempts = await ctx.sql.query<AttemptRow>(sql`
    select id, delivery_id, attempt_number, trigger, outcome, http_status, latency_ms,
      request_headers, request_body, request_body_truncated, response_headers, response_body,
      response_body_truncated, error, attempted_at
    from attempts where delivery_id = ${id}
    order by attempt_number`);
  return { ...delivery, attempts: attempts.map(mapAttempt) };
}

/**
 * A status filter with the status in the statement's text: the gateway's PostgreSQL connections
 * use generic plans (`postgres-driver.ts`), and a generic plan can use a partial index such as
 * `deliveries_dead_idx` only when the value its predicate names is a literal.
 */
const STATUS_FILTERS: Record<DeliveryStatus, SqlFragment> = {
  pending: sql`d.status = 'pending'`,
  succeeded: sql`d.status = 'succeeded'`,
  failed: sql`d.status = 'failed'`,
  dead: sql`d.status = 'dead'`,
  held: sql`d.status = 'held'`,
  cancelled: sql`d.status = 'cancelled'`,
};

function statusIs(status: DeliveryStatus): SqlFragment {
  return Object.hasOwn(STATUS_FILTERS, status) ? STATUS_FILTERS[status] : sql`d.status = ${status}`;
}

/** Deliveries newest first, filtered by endpoint, tenant, message, status and event type. */
export async function listDeliveries(
  ctx: StorageContext,
  filter: DeliveryFilter = {},
  scope?: Scope,
): Promise<Page<Delivery>> {
  const limit = pageLimit(filter.limit);
  const rows = await ctx.sql.query<DeliveryRow>(sql`
    ${SELECT_DELIVERY}
    ${whereAll([
      filter.endpointId !== undefined && sql`d.endpoint_id = ${filter.endpointId}`,
      filter.tenantId !== undefined && sql`d.tenant_id = ${filter.tenantId}`,
      filter.messageId !== undefined && sql`d.message_id = ${filter.messageId}`,
      filter.status !== undefined && statusIs(filter.status),
      filter.eventType !== undefined && sql`d.event_type = ${filter.eventType}`,
      filter.cursor && sql`d.id < ${filter.cursor}`,
      ...scoped(scope),
    ])}
    order by d.id desc
    limit ${limit + 1}`);
  return toPage(rows, limit, mapDelivery, (row) => row.id);
}

/**
 * Queues one more attempt of a delivery, due now, with the same message (same `webhook-id`, same
 * bytes); its attempt records trigger `manual`. Refused while a worker holds the delivery.
 */
export async function replayDelivery(
  ctx: StorageContext,
  id: string,
  scope?: Scope,
): Promise<ReplayResult> {
  return ctx.sql.transaction(async (tx) => {
    const updated = await tx.query(sql`
      update deliveries d set status = 'pending', next_attempt_at = now(), next_trigger = 'manual',
        updated_at = now()
      ${whereAll([
        sql`d.id = ${id}`,
        sql`(d.locked_until is null or d.locked_until <= now())`,
        ...scoped(scope),
      ])}
      returning d.id`);
    if (updated.length === 0) {
      const [exists] = await tx.query(
        sql`select 1 from deliveries d ${whereAll([sql`d.id = ${id}`, ...scoped(scope)])}`,
      );
      return exists ? { kind: 'in_flight' } : { kind: 'not_found' };
    }
    await notifyDeliveriesDue(tx);
    const [row] = await tx.query<DeliveryRow>(sql`${SELECT_DELIVERY} where d.id = ${id}`);
    return { kind: 'replayed', delivery: mapDelivery(row!) };
  });
}

/**
 * Queues every `failed` or `dead` non-test delivery of the endpoint created at or after `since`
 * for one more attempt now (trigger `manual`); returns how many.
 */
export async function recoverDeliveries(
  ctx: StorageContext,
  endpointId: string,
  since: Date,
  scope?: Scope,
): Promise<number> {
  return ctx.sql.transaction(async (tx) => {
    const [row] = await tx.query<{ count: number }>(sql`
      with recovered as (
        update deliveries d set status = 'pending', next_attempt_at = now(),
          next_trigger = 'manual', updated_at = now()
        ${whereAll([
          sql`d.endpoint_id = ${endpointId}`,
          sql`d.status in ('failed', 'dead')`,
          sql`not d.test`,
          sql`d.created_at >= ${since}`,
          sql`(d.locked_until is null or d.locked_until <= now())`,
          ...scoped(scope),
        ])}
        returning 1
      )
      select count(*)::int as count from recovered`);
    const count = Number(row?.count ?? 0);
    if (count > 0) await notifyDeliveriesDue(tx);
    return count;
  });
}

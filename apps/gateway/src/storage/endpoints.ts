import { idLowerBound, newId } from '../domain/ids';
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
import {
  dayStart,
  histogramPercentile,
  latencyBucketSql,
  rawHorizon,
  sumRollups,
  utcDay,
} from './retention';
import { join, json, type SqlFragment, sql } from './sql';
import type {
  DisabledReason,
  Endpoint,
  EndpointFilter,
  EndpointPatch,
  EndpointStats,
  EndpointStatus,
  Health,
  NewEndpoint,
  Page,
  RotateSecretInput,
  Rotation,
  Scope,
  SigningKeys,
  StatsWindow,
} from './types';

// Never the ciphertext columns: endpoint reads that serve the API must not carry secret material.
const COLUMNS = sql`id, tenant_id, url, description, event_types, status, disabled_reason,
  rate_limit_per_minute, retry_schedule, headers, metadata, signing, secret_hint, public_key,
  case when previous_secret_ciphertext is not null and previous_secret_expires_at > now()
    then previous_secret_expires_at end as rotation_expires_at,
  failing_since, created_at, updated_at`;

type EndpointRow = {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_types: string[];
  status: EndpointStatus;
  disabled_reason: DisabledReason | null;
  rate_limit_per_minute: number | null;
  retry_schedule: number[] | null;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  signing: Endpoint['signing'];
  secret_hint: string;
  public_key: string | null;
  rotation_expires_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
};

function mapEndpoint(row: EndpointRow): Endpoint {
  const rotationEnds = toDateOrNull(row.rotation_expires_at);
  const rotation: Rotation | null = rotationEnds ? { previousSecretExpiresAt: rotationEnds } : null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types ?? [],
    status: row.status,
    disabledReason: row.disabled_reason,
    rateLimitPerMinute: toNumberOrNull(row.rate_limit_per_minute),
    retrySchedule: row.retry_schedule ? row.retry_schedule.map(Number) : null,
    headers: row.headers ?? {},
    metadata: row.metadata ?? {},
    signing: row.signing,
    secretHint: row.secret_hint,
    publicKey: row.public_key,
    rotation,
    failingSince: toDateOrNull(row.failing_since),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

function scoped(scope: Scope | undefined): SqlFragment[] {
  return scopeConditions(scope, sql`tenant_id`, sql`id`);
}

/** Stores a new endpoint; its secret is encrypted with the context's cipher. */
export async function createEndpoint(ctx: StorageContext, input: NewEndpoint): Promise<Endpoint> {
  const status = input.status ?? 'active';
  const [row] = await ctx.sql.query<EndpointRow>(sql`
    insert into endpoints (id, tenant_id, url, description, event_types, status, disabled_reason,
      rate_limit_per_minute, retry_schedule, headers, metadata, signing, secret_ciphertext,
      secret_hint, public_key)
    values (${input.id ?? newId('ep')}, ${input.tenantId}, ${input.url}, ${input.description ?? ''},
      ${input.eventTypes ?? []}::text[], ${status},
      ${status === 'disabled' ? (input.disabledReason ?? 'manual') : null},
      ${input.rateLimitPerMinute ?? null}::int, ${input.retrySchedule ?? null}::int[],
      ${json(input.headers ?? {})}, ${json(input.metadata ?? {})}, ${input.signing ?? 'hmac'},
      ${ctx.cipher.encrypt(input.secret)}, ${input.secretHint ?? input.secret.slice(0, 10)},
      ${input.publicKey ?? null}::text)
    returning ${COLUMNS}`);
  return mapEndpoint(row!);
}

/**
 * Stores a new endpoint unless its tenant already has `max`; null then. A transaction-scoped
 * advisory lock on the tenant serialises the count and the insert, so concurrent creates in any
 * number of processes never exceed `max`.
 */
export async function createEndpointWithinLimit(
  ctx: StorageContext,
  max: number,
  input: NewEndpoint,
): Promise<Endpoint | null> {
  return ctx.sql.transaction(async (tx) => {
    await tx.query(
      sql`select pg_advisory_xact_lock(hashtextextended(${`hookline:endpoints:${input.tenantId}`}::text, 0))`,
    );
    const [row] = await tx.query<{ count: number }>(
      sql`select count(*)::int as count from endpoints where tenant_id = ${input.tenantId}`,
    );
    if (Number(row?.count ?? 0) >= max) return null;
    return createEndpoint({ ...ctx, sql: tx }, input);
  });
}

/** One endpoint, or null when it does not exist or lies outside `scope`. */
export async function getEndpoint(
  ctx: StorageContext,
  id: string,
  scope?: Scope,
): Promise<Endpoint | null> {
  const [row] = await ctx.sql.query<EndpointRow>(
    sql`select ${COLUMNS} from endpoints ${whereAll([sql`id = ${id}`, ...scoped(scope)])}`,
  );
  return row ? mapEndpoint(row) : null;
}

/** Endpoints newest first, filtered by tenant and status. */
export async function listEndpoints(
  ctx: StorageContext,
  filter: EndpointFilter = {},
  scope?: Scope,
): Promise<Page<Endpoint>> {
  const limit = pageLimit(filter.limit);
  const rows = await ctx.sql.query<EndpointRow>(sql`
    select ${COLUMNS} from endpoints
    ${whereAll([
      filter.tenantId !== undefined && sql`tenant_id = ${filter.tenantId}`,
      filter.status !== undefined && sql`status = ${filter.status}`,
      filter.cursor && sql`id < ${filter.cursor}`,
      ...scoped(scope),
    ])}
    order by id desc
    limit ${limit + 1}`);
  return toPage(rows, limit, mapEndpoint, (row) => row.id);
}

/**
 * Changes the given fields. A status change to `active` turns the endpoint's `held` deliveries
 * back into `pending`, due now, in the same transaction. Null when not found in scope.
 */
export async function updateEndpoint(
  ctx: StorageContext,
  id: string,
  patch: EndpointPatch,
  scope?: Scope,
): Promise<Endpoint | null> {
  const sets: SqlFragment[] = [sql`updated_at = now()`];
  if (patch.url !== undefined) sets.push(sql`url = ${patch.url}`);
  if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`);
  if (patch.eventTypes !== undefined) sets.push(sql`event_types = ${patch.eventTypes}::text[]`);
  if (patch.rateLimitPerMinute !== undefined) {
    sets.push(sql`rate_limit_per_minute = ${patch.rateLimitPerMinute}::int`);
  }
  if (patch.retrySchedule !== undefined) {
    sets.push(sql`retry_schedule = ${patch.retrySchedule}::int[]`);
  }
  if (patch.headers !== undefined) sets.push(sql`headers = ${json(patch.headers)}`);
  if (patch.metadata !== undefined) sets.push(sql`metadata = ${json(patch.metadata)}`);
  if (patch.status !== undefined) {
    sets.push(sql`status = ${patch.status}`);
    sets.push(
      sql`disabled_reason = ${patch.status === 'disabled' ? (patch.disabledReason ?? 'manual') : null}::text`,
    );
    if (patch.status !== 'disabled') sets.push(sql`failing_since = null`);
  }
  return ctx.sql.transaction(async (tx) => {
    const [row] = await tx.query<EndpointRow>(sql`
      update endpoints set ${join(sets)}
      ${whereAll([sql`id = ${id}`, ...scoped(scope)])}
      returning ${COLUMNS}`);
    if (!row) return null;
    if (patch.status === 'active') {
      const released = await tx.query(sql`
        update deliveries set status = 'pending', next_attempt_at = now(), updated_at = now()
        where endpoint_id = ${id} and status = 'held'
        returning id`);
      if (released.length > 0) await notifyDeliveriesDue(tx);
    }
    return mapEndpoint(row);
  });
}

/** Pauses, resumes or disables (with a reason, default `manual`); see `updateEndpoint`. */
export function setEndpointStatus(
  ctx: StorageContext,
  id: string,
  status: EndpointStatus,
  options: { reason?: DisabledReason; scope?: Scope } = {},
): Promise<Endpoint | null> {
  return updateEndpoint(
    ctx,
    id,
    { status, ...(options.reason ? { disabledReason: options.reason } : {}) },
    options.scope,
  );
}

/**
 * Deletes the endpoint with its deliveries, their attempts and its portal tokens (cascades), which
 * also cancels everything queued for it. False when not found in scope.
 */
export async function deleteEndpoint(
  ctx: StorageContext,
  id: string,
  scope?: Scope,
): Promise<boolean> {
  const rows = await ctx.sql.query(
    sql`delete from endpoints ${whereAll([sql`id = ${id}`, ...scoped(scope)])} returning id`,
  );
  return rows.length > 0;
}

/**
 * Replaces the secret; the old one keeps signing for `gracePeriodSeconds`. Returns when that
 * ends (now, for 0), or null when the endpoint is not found in scope.
 */
export async function rotateEndpointSecret(
  ctx: StorageContext,
  id: string,
  input: RotateSecretInput,
  scope?: Scope,
): Promise<{ previousSecretExpiresAt: Date } | null> {
  const grace = Math.max(0, Math.floor(input.gracePeriodSeconds));
  const [row] = await ctx.sql.query<{ previous_secret_expires_at: Date }>(sql`
    update endpoints set
      previous_secret_ciphertext = secret_ciphertext,
      previous_secret_expires_at = now() + ${grace}::int * interval '1 second',
      secret_ciphertext = ${ctx.cipher.encrypt(input.secret)},
      secret_hint = ${input.secretHint ?? input.secret.slice(0, 10)},
      public_key = ${input.publicKey ?? null}::text,
      updated_at = now()
    ${whereAll([sql`id = ${id}`, ...scoped(scope)])}
    returning previous_secret_expires_at`);
  return row ? { previousSecretExpiresAt: toDate(row.previous_secret_expires_at) } : null;
}

/** How many endpoints a tenant has (for per-tenant limits). */
export async function countEndpoints(ctx: StorageContext, tenantId: string): Promise<number> {
  const [row] = await ctx.sql.query<{ count: number }>(
    sql`select count(*)::int as count from endpoints where tenant_id = ${tenantId}`,
  );
  return Number(row?.count ?? 0);
}

/** Row shape of the secret columns, shared with the claim. */
export type SecretColumns = {
  signing: SigningKeys['signing'];
  secret_ciphertext: Uint8Array;
  previous_secret_ciphertext: Uint8Array | null;
  previous_secret_expires_at: Date | null;
};

/** Decrypts the live secrets of a row (the previous one only while its grace period runs). */
export function decryptKeys(
  ctx: StorageContext,
  row: SecretColumns,
  now = new Date(),
): SigningKeys {
  const previousExpiresAt = toDateOrNull(row.previous_secret_expires_at);
  const live =
    row.previous_secret_ciphertext != null && previousExpiresAt !== null && previousExpiresAt > now;
  return {
    signing: row.signing,
    current: ctx.cipher.decrypt(row.secret_ciphertext),
    previous: live ? ctx.cipher.decrypt(row.previous_secret_ciphertext!) : null,
    previousExpiresAt: live ? previousExpiresAt : null,
  };
}

/** The plaintext signing secrets, for the worker only (never for API responses). */
export async function getSigningKeys(
  ctx: StorageContext,
  endpointId: string,
): Promise<SigningKeys | null> {
  const [row] = await ctx.sql.query<SecretColumns>(sql`
    select signing, secret_ciphertext, previous_secret_ciphertext, previous_secret_expires_at
    from endpoints where id = ${endpointId}`);
  return row ? decryptKeys(ctx, row) : null;
}

const WINDOW_MS: Record<StatsWindow, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

/**
 * Health colour from the success rate over the window: green at 95 % or more (or with no finished
 * deliveries), yellow from 80 %, red below 80 %.
 */
export function healthFromSuccessRate(successRate: number | null): Health {
  if (successRate === null || successRate >= 0.95) return 'green';
  return successRate >= 0.8 ? 'yellow' : 'red';
}

/**
 * Counts of the endpoint's deliveries created in the window by status (tests excluded), the
 * success rate succeeded / (succeeded + failed + dead), and attempt latency p50/p95. Null when
 * the endpoint is not found in scope.
 *
 * Within the raw horizon (storage/retention.ts) every figure comes from the raw rows, latency
 * percentiles exact. A window reaching past it adds the daily rollups of the whole UTC days from
 * the one holding the window's start up to the horizon (day granularity there), and takes the
 * percentiles from the merged latency histograms: within one histogram bucket (~19 %).
 */
export async function endpointStats(
  ctx: StorageContext,
  endpointId: string,
  window: StatsWindow,
  options: { scope?: Scope; now?: Date } = {},
): Promise<EndpointStats | null> {
  const since = new Date((options.now ?? new Date()).getTime() - WINDOW_MS[window]);
  const horizon = await rawHorizon(ctx.sql);
  const combined = horizon !== null && since < horizon;
  const from = combined ? horizon : since;
  const latency = combined
    ? sql`
      select array_agg(h.bucket order by h.bucket) as buckets,
             array_agg(h.n order by h.bucket) as counts, max(h.max) as max
      from (
        select ${latencyBucketSql(sql`a.latency_ms`)} as bucket, count(*)::int as n,
               max(a.latency_ms) as max
        from attempts a
        where a.endpoint_id = e.id and a.trigger <> 'test' and a.attempted_at >= ${from}
          and a.latency_ms is not null
        group by 1
      ) h`
    : sql`
      select percentile_cont(0.5) within group (order by a.latency_ms)::float8 as p50,
             percentile_cont(0.95) within group (order by a.latency_ms)::float8 as p95
      from attempts a
      where a.endpoint_id = e.id and a.trigger <> 'test' and a.attempted_at >= ${from}
        and a.latency_ms is not null`;
  const [row] = await ctx.sql.query<{
    succeeded: number;
    failed: number;
    pending: number;
    dead: number;
    p50?: number | null;
    p95?: number | null;
    buckets?: number[] | null;
    counts?: number[] | null;
    max?: number | null;
    breaker_open: boolean;
  }>(sql`
    select c.succeeded, c.failed, c.pending, c.dead, l.*,
      e.breaker_opened_at is not null as breaker_open
    from endpoints e
    cross join lateral (
      select count(*) filter (where d.status = 'succeeded')::int as succeeded,
             count(*) filter (where d.status = 'failed')::int as failed,
             count(*) filter (where d.status in ('pending', 'held'))::int as pending,
             count(*) filter (where d.status = 'dead')::int as dead
      from deliveries d
      where d.endpoint_id = e.id and not d.test
        and d.id >= ${idLowerBound('dlv', from)} and d.created_at >= ${from}
    ) c
    cross join lateral (${latency}) l
    ${whereAll([sql`e.id = ${endpointId}`, ...scopeConditions(options.scope, sql`e.tenant_id`, sql`e.id`)])}`);
  if (!row) return null;
  let { succeeded, failed, pending, dead } = row;
  let p50 = toNumberOrNull(row.p50 ?? null);
  let p95 = toNumberOrNull(row.p95 ?? null);
  if (combined) {
    const past = await sumRollups(ctx.sql, endpointId, dayStart(utcDay(since)), horizon);
    succeeded += past.succeeded;
    failed += past.failed;
    pending += past.pending;
    dead += past.dead;
    const histogram = past.latencyHistogram;
    (row.buckets ?? []).forEach((bucket, i) => {
      histogram[Number(bucket)]! += Number(row.counts![i]);
    });
    const max = Math.max(past.latencyMaxMs ?? 0, toNumberOrNull(row.max ?? null) ?? 0);
    p50 = histogramPercentile(histogram, 0.5, max);
    p95 = histogramPercentile(histogram, 0.95, max);
  }
  const finished = succeeded + failed + dead;
  const successRate = finished === 0 ? null : succeeded / finished;
  return {
    window,
    succeeded,
    failed,
    pending,
    dead,
    successRate,
    latencyMsP50: p50,
    latencyMsP95: p95,
    // An open circuit breaker is red whatever the window's older deliveries say: a recent
    // failure rate of 90 % or more is what opened it.
    health: row.breaker_open ? 'red' : healthFromSuccessRate(successRate),
  };
}

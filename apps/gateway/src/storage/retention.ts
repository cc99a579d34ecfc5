/**
 * Retention: deletes raw deliveries, attempts and messages older than HOOKLINE_RETENTION_DAYS,
 * and other rows that have served their purpose, in small batches; keeps what the stats API needs
 * of the deleted rows first, as per-endpoint daily rollups (`endpoint_daily_stats`).
 *
 * The order of a run is what keeps the stats API right while rows go:
 * 1. roll up every complete UTC day not rolled up yet (delivery and attempt figures);
 * 2. finalize each day older than the retention period, oldest first: retake its delivery
 *    figures (statuses moved on since) and mark it finalized; the stats API reads finalized days
 *    from the rollups only, so the "raw horizon" (the day after the last finalized one) moves
 *    forward before any raw row of a day is deleted;
 * 3. delete, below that horizon only, deliveries with their attempts; then old messages left
 *    without deliveries (their payloads with them), expired idempotency keys, spent portal
 *    tokens, dispatched operational events and rollups past HOOKLINE_STATS_RETENTION_DAYS.
 *
 * Every delete is one short statement of at most `batchSize` rows of the table it walks, found
 * through an index, with a pause between batches: nothing holds locks for long, claims skip the
 * rows a batch holds (and a batch skips rows that are claimed), and nothing rewrites a table (the
 * space goes back to PostgreSQL for reuse by autovacuum; on embedded PGlite, which has none, by the
 * gateway's own VACUUM: statistics.ts). Runs are idempotent and resumable:
 * stopped anywhere, the next run carries on from what is left.
 */
import { type Sql, type SqlFragment, sql } from './sql';

/**
 * Upper bounds (exclusive, ms) of the latency histogram's buckets: about 2^(1/4) apart (each
 * bucket ~19 % wide), 1 ms to 10 min. With `width_bucket` a latency falls in bucket 0 (< 1 ms)
 * … 73 (≥ 623,488 ms). Stored histograms are counts per bucket: NEVER change these bounds.
 */
export const LATENCY_BUCKET_BOUNDS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 23, 27, 32, 39, 46, 54, 64, 77, 91, 108, 128, 153,
  182, 216, 256, 305, 363, 431, 512, 609, 725, 862, 1024, 1218, 1449, 1723, 2048, 2436, 2897, 3445,
  4096, 4871, 5793, 6889, 8192, 9742, 11586, 13778, 16384, 19484, 23171, 27555, 32768, 38968, 46341,
  55109, 65536, 77936, 92682, 110218, 131072, 155872, 185364, 220436, 262144, 311744, 370728,
  440872, 524288, 623488,
]);

/** Buckets of a latency histogram (`LATENCY_BUCKET_BOUNDS.length + 1`). */
export const LATENCY_BUCKETS = LATENCY_BUCKET_BOUNDS.length + 1;

/** `width_bucket(latency_ms, bounds)`: the histogram bucket of a latency (as SQL does it). */
export function latencyBucketSql(column: SqlFragment): SqlFragment {
  return sql`width_bucket(${column}, ${[...LATENCY_BUCKET_BOUNDS]}::int[])`;
}

/** The histogram bucket of a latency in ms (the same as `latencyBucketSql`). */
export function latencyBucket(ms: number): number {
  let low = 0;
  let high = LATENCY_BUCKET_BOUNDS.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (LATENCY_BUCKET_BOUNDS[mid]! <= ms) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The p-quantile (0…1) of a latency histogram, interpolated inside the bucket that holds it, so
 * within one bucket of the exact value; null for an empty histogram. `maxMs` closes the last
 * (open) bucket.
 */
export function histogramPercentile(
  histogram: readonly number[],
  p: number,
  maxMs: number | null = null,
): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  // The 0-based rank percentile_cont interpolates at; estimate the sample at its floor.
  const rank = Math.floor(p * (total - 1));
  let before = 0;
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    const count = histogram[bucket] ?? 0;
    if (count === 0 || before + count <= rank) {
      before += count;
      continue;
    }
    // Latencies are whole milliseconds: bucket b holds bounds[b-1] … bounds[b] - 1.
    const low = bucket === 0 ? 0 : LATENCY_BUCKET_BOUNDS[bucket - 1]!;
    const last =
      bucket < LATENCY_BUCKET_BOUNDS.length
        ? LATENCY_BUCKET_BOUNDS[bucket]! - 1
        : Math.max(low, maxMs ?? low);
    const position = (rank - before + 0.5) / count;
    return Math.round(low + position * (last - low));
  }
  return null;
}

/** Adds histogram `b` into `a` (element-wise); returns `a`. */
export function addHistogram(a: number[], b: readonly number[]): number[] {
  for (let i = 0; i < LATENCY_BUCKETS; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return a;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the UTC day holding `at`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Midnight UTC starting `day` (`YYYY-MM-DD`). */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

function addDays(day: string, days: number): string {
  return utcDay(new Date(dayStart(day).getTime() + days * DAY_MS));
}

function toDay(value: unknown): string {
  if (value instanceof Date) return utcDay(value);
  return String(value).slice(0, 10);
}

/**
 * The raw horizon: deliveries created and attempts made before it may have been deleted, and
 * their figures are in `endpoint_daily_stats`; from it on, raw rows are complete. Null before
 * the first day was finalized.
 */
export async function rawHorizon(db: Sql): Promise<Date | null> {
  const [row] = await db.query<{ day: unknown }>(sql`
    select max(day) as day from stats_rollup_days where finalized_at is not null`);
  if (row?.day === null || row?.day === undefined) return null;
  return dayStart(addDays(toDay(row.day), 1));
}

/** One endpoint's rollup figures for a set of days, summed. */
export interface RollupFigures {
  succeeded: number;
  failed: number;
  pending: number;
  dead: number;
  latencyHistogram: number[];
  latencyMaxMs: number | null;
}

/** Sum of an endpoint's rollups for days `from` (inclusive) to `to` (exclusive), both UTC midnights. */
export async function sumRollups(
  db: Sql,
  endpointId: string,
  from: Date,
  to: Date,
): Promise<RollupFigures> {
  const rows = await db.query<{
    succeeded: number;
    failed: number;
    pending: number;
    dead: number;
    latency_histogram: number[];
    latency_max_ms: number | null;
  }>(sql`
    select succeeded, failed, pending, dead, latency_histogram, latency_max_ms
    from endpoint_daily_stats
    where endpoint_id = ${endpointId} and day >= ${utcDay(from)}::text::date and day < ${utcDay(to)}::text::date`);
  const sum: RollupFigures = {
    succeeded: 0,
    failed: 0,
    pending: 0,
    dead: 0,
    latencyHistogram: new Array<number>(LATENCY_BUCKETS).fill(0),
    latencyMaxMs: null,
  };
  for (const row of rows) {
    sum.succeeded += row.succeeded;
    sum.failed += row.failed;
    sum.pending += row.pending;
    sum.dead += row.dead;
    addHistogram(sum.latencyHistogram, row.latency_histogram.map(Number));
    if (row.latency_max_ms !== null) {
      sum.latencyMaxMs = Math.max(sum.latencyMaxMs ?? 0, Number(row.latency_max_ms));
    }
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Rollups

const OUTCOMES = [
  'success',
  'timeout',
  'http_4xx',
  'http_5xx',
  'redirect',
  'network_error',
  'blocked',
] as const;
type Outcome = (typeof OUTCOMES)[number];

type DeliveryFigures = {
  succeeded: number;
  failed: number;
  pending: number;
  dead: number;
  cancelled: number;
};

interface DayRow extends DeliveryFigures {
  endpoint_id: string;
  tenant_id: string;
  attempts: Record<Outcome, number>;
  latency_count: number;
  latency_sum_ms: number;
  latency_max_ms: number | null;
  latency_histogram: number[];
}

const ENDPOINT_BATCH = 500;
const HOUR_MS = 3_600_000;

/**
 * Delivery figures of one day by endpoint: the deliveries created that day (tests left out) by
 * their status now. Read an hour at a time through `deliveries_created_idx`, so no statement
 * reads more than an hour of deliveries.
 */
async function deliveryFiguresOfDay(db: Sql, day: string): Promise<Map<string, DeliveryFigures>> {
  const figures = new Map<string, DeliveryFigures>();
  const start = dayStart(day).getTime();
  for (let hour = 0; hour < 24; hour++) {
    const rows = await db.query<DeliveryFigures & { endpoint_id: string }>(sql`
      select endpoint_id,
        count(*) filter (where status = 'succeeded')::int as succeeded,
        count(*) filter (where status = 'failed')::int as failed,
        count(*) filter (where status in ('pending', 'held'))::int as pending,
        count(*) filter (where status = 'dead')::int as dead,
        count(*) filter (where status = 'cancelled')::int as cancelled
      from deliveries
      where created_at >= ${new Date(start + hour * HOUR_MS)}
        and created_at < ${new Date(start + (hour + 1) * HOUR_MS)} and not test
      group by endpoint_id`);
    for (const row of rows) {
      const sum = figures.get(row.endpoint_id);
      if (!sum) {
        figures.set(row.endpoint_id, pickDeliveryFigures(row));
        continue;
      }
      sum.succeeded += row.succeeded;
      sum.failed += row.failed;
      sum.pending += row.pending;
      sum.dead += row.dead;
      sum.cancelled += row.cancelled;
    }
  }
  return figures;
}

function emptyDayRow(endpointId: string, tenantId: string): DayRow {
  return {
    endpoint_id: endpointId,
    tenant_id: tenantId,
    succeeded: 0,
    failed: 0,
    pending: 0,
    dead: 0,
    cancelled: 0,
    attempts: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    latency_count: 0,
    latency_sum_ms: 0,
    latency_max_ms: null,
    latency_histogram: new Array<number>(LATENCY_BUCKETS).fill(0),
  };
}

function rowsJson(rows: DayRow[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      endpoint_id: r.endpoint_id,
      tenant_id: r.tenant_id,
      succeeded: r.succeeded,
      failed: r.failed,
      pending: r.pending,
      dead: r.dead,
      cancelled: r.cancelled,
      ...Object.fromEntries(OUTCOMES.map((o) => [`attempts_${o}`, r.attempts[o]])),
      latency_count: r.latency_count,
      latency_sum_ms: r.latency_sum_ms,
      latency_max_ms: r.latency_max_ms,
      latency_histogram: r.latency_histogram,
    })),
  );
}

/** Upserts whole rows (every figure replaced). */
async function writeDayRows(db: Sql, day: string, rows: DayRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(sql`
    insert into endpoint_daily_stats (endpoint_id, day, tenant_id, succeeded, failed, pending, dead,
      cancelled, attempts_success, attempts_timeout, attempts_http_4xx, attempts_http_5xx,
      attempts_redirect, attempts_network_error, attempts_blocked, latency_count, latency_sum_ms,
      latency_max_ms, latency_histogram, updated_at)
    select r.endpoint_id, ${day}::text::date, r.tenant_id, r.succeeded, r.failed, r.pending, r.dead,
      r.cancelled, r.attempts_success, r.attempts_timeout, r.attempts_http_4xx, r.attempts_http_5xx,
      r.attempts_redirect, r.attempts_network_error, r.attempts_blocked, r.latency_count,
      r.latency_sum_ms, r.latency_max_ms, r.latency_histogram, now()
    from jsonb_to_recordset(${rowsJson(rows)}::text::jsonb) as r(endpoint_id text, tenant_id text,
      succeeded int, failed int, pending int, dead int, cancelled int, attempts_success int,
      attempts_timeout int, attempts_http_4xx int, attempts_http_5xx int, attempts_redirect int,
      attempts_network_error int, attempts_blocked int, latency_count int, latency_sum_ms bigint,
      latency_max_ms int, latency_histogram int[])
    -- An endpoint deleted meanwhile takes its rollups with it.
    where exists (select 1 from endpoints e where e.id = r.endpoint_id)
    on conflict (endpoint_id, day) do update set
      tenant_id = excluded.tenant_id, succeeded = excluded.succeeded, failed = excluded.failed,
      pending = excluded.pending, dead = excluded.dead, cancelled = excluded.cancelled,
      attempts_success = excluded.attempts_success, attempts_timeout = excluded.attempts_timeout,
      attempts_http_4xx = excluded.attempts_http_4xx, attempts_http_5xx = excluded.attempts_http_5xx,
      attempts_redirect = excluded.attempts_redirect,
      attempts_network_error = excluded.attempts_network_error,
      attempts_blocked = excluded.attempts_blocked, latency_count = excluded.latency_count,
      latency_sum_ms = excluded.latency_sum_ms, latency_max_ms = excluded.latency_max_ms,
      latency_histogram = excluded.latency_histogram, updated_at = excluded.updated_at`);
}

/** Upserts the delivery figures only (attempt figures of an existing row are kept). */
async function writeDeliveryFigures(db: Sql, day: string, rows: DayRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(sql`
    insert into endpoint_daily_stats (endpoint_id, day, tenant_id, succeeded, failed, pending, dead,
      cancelled, latency_histogram, updated_at)
    select r.endpoint_id, ${day}::text::date, r.tenant_id, r.succeeded, r.failed, r.pending, r.dead,
      r.cancelled, ${new Array<number>(LATENCY_BUCKETS).fill(0)}::int[], now()
    from jsonb_to_recordset(${rowsJson(rows)}::text::jsonb) as r(endpoint_id text, tenant_id text,
      succeeded int, failed int, pending int, dead int, cancelled int)
    where exists (select 1 from endpoints e where e.id = r.endpoint_id)
    on conflict (endpoint_id, day) do update set
      succeeded = excluded.succeeded, failed = excluded.failed, pending = excluded.pending,
      dead = excluded.dead, cancelled = excluded.cancelled, updated_at = excluded.updated_at`);
}

/**
 * Rolls up one complete UTC day (`YYYY-MM-DD`) from the raw rows: every endpoint's delivery
 * figures (deliveries created that day, by status now) and attempt figures (attempts made that
 * day, by outcome, with a latency histogram). Replaces what was there: running it again over the
 * same rows writes the same figures.
 */
export async function rollUpDay(db: Sql, day: string): Promise<{ endpoints: number }> {
  const deliveries = await deliveryFiguresOfDay(db, day);
  const start = dayStart(day);
  const end = dayStart(addDays(day, 1));
  await db.query(sql`delete from endpoint_daily_stats where day = ${day}::text::date`);
  let written = 0;
  let after = '';
  for (;;) {
    // Endpoints in id order, a batch at a time; each one's attempts of the day are one range
    // of attempts_endpoint_time_idx.
    const batch = await db.query<{ id: string; tenant_id: string }>(sql`
      select id, tenant_id from endpoints
      where id > ${after}
      order by id limit ${ENDPOINT_BATCH}::int`);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    const attempts = await db.query<{
      endpoint_id: string;
      outcome: Outcome;
      bucket: number | null;
      n: number;
      latency_sum: string | number;
      latency_max: number | null;
    }>(sql`
      select e.id as endpoint_id, a.outcome, a.bucket, a.n, a.latency_sum, a.latency_max
      from endpoints e
      cross join lateral (
        select outcome, ${latencyBucketSql(sql`latency_ms`)} as bucket, count(*)::int as n,
          coalesce(sum(latency_ms), 0)::bigint as latency_sum, max(latency_ms) as latency_max
        from attempts
        where endpoint_id = e.id and attempted_at >= ${start} and attempted_at < ${end}
          and trigger <> 'test'
        group by 1, 2
      ) a
      where e.id = any(${batch.map((e) => e.id)}::text[])`);
    const rows = new Map<string, DayRow>();
    const tenantOf = new Map(batch.map((e) => [e.id, e.tenant_id]));
    const rowOf = (endpointId: string): DayRow => {
      let row = rows.get(endpointId);
      if (!row) {
        row = emptyDayRow(endpointId, tenantOf.get(endpointId)!);
        rows.set(endpointId, row);
      }
      return row;
    };
    for (const endpoint of batch) {
      const figures = deliveries.get(endpoint.id);
      if (figures) Object.assign(rowOf(endpoint.id), pickDeliveryFigures(figures));
    }
    for (const a of attempts) {
      const row = rowOf(a.endpoint_id);
      row.attempts[a.outcome] += a.n;
      if (a.bucket !== null) {
        const bucket = Number(a.bucket);
        row.latency_histogram[bucket] = (row.latency_histogram[bucket] ?? 0) + a.n;
        row.latency_count += a.n;
        row.latency_sum_ms += Number(a.latency_sum);
        if (a.latency_max !== null) {
          row.latency_max_ms = Math.max(row.latency_max_ms ?? 0, Number(a.latency_max));
        }
      }
    }
    await writeDayRows(db, day, [...rows.values()]);
    written += rows.size;
    if (batch.length < ENDPOINT_BATCH) break;
  }
  await db.query(sql`
    insert into stats_rollup_days (day, rolled_up_at) values (${day}::text::date, now())
    on conflict (day) do update set rolled_up_at = excluded.rolled_up_at`);
  return { endpoints: written };
}

function pickDeliveryFigures(f: DeliveryFigures): DeliveryFigures {
  return {
    succeeded: f.succeeded,
    failed: f.failed,
    pending: f.pending,
    dead: f.dead,
    cancelled: f.cancelled,
  };
}

/**
 * Retakes the delivery figures of a rolled-up day (statuses move on after the day ends: retries
 * succeed or die) and marks it finalized: from then on the stats API reads the day from rollups
 * only, and its raw rows may go. Attempt figures are kept as taken when the day ended: by now
 * attempts made that day for deliveries of earlier, already deleted days are gone.
 */
export async function finalizeDay(
  db: Sql,
  day: string,
  options: { retake: boolean },
): Promise<void> {
  if (options.retake) {
    const deliveries = await deliveryFiguresOfDay(db, day);
    await db.query(sql`
      update endpoint_daily_stats set succeeded = 0, failed = 0, pending = 0, dead = 0, cancelled = 0
      where day = ${day}::text::date`);
    const entries = [...deliveries.entries()];
    for (let i = 0; i < entries.length; i += ENDPOINT_BATCH) {
      const chunk = entries.slice(i, i + ENDPOINT_BATCH);
      const tenants = await db.query<{ id: string; tenant_id: string }>(sql`
        select id, tenant_id from endpoints where id = any(${chunk.map(([id]) => id)}::text[])`);
      const tenantOf = new Map(tenants.map((t) => [t.id, t.tenant_id]));
      await writeDeliveryFigures(
        db,
        day,
        chunk
          .filter(([id]) => tenantOf.has(id))
          .map(([id, f]) => ({ ...emptyDayRow(id, tenantOf.get(id)!), ...pickDeliveryFigures(f) })),
      );
    }
  }
  await db.query(sql`
    update stats_rollup_days set finalized_at = now() where day = ${day}::text::date`);
}

// ---------------------------------------------------------------------------------------------
// Delete statements: each deletes at most `limit` rows of the table it walks, found through an
// index (exported so tests can EXPLAIN them). The rows to delete are passed on as an array
// (`= any(array(…))`): a join with the batch would let the planner, which cannot know the
// batch's size, hash-join it against a sequential scan of the whole table.

/**
 * Deliveries created before `horizon`, with their attempts, in one statement: attempts first (by
 * delivery id, attempts_delivery_number_key), then the deliveries, so the cascade finds nothing
 * left to do. A leased delivery (a worker is sending it now) is left for the next run; rows a
 * claim holds are skipped, never waited for. Deleted whatever their status: a delivery still
 * pending, held or failed after the whole retention period has outlived any retry schedule (its
 * endpoint is paused, disabled or down for weeks), and its payload is covered by the same
 * promise to delete data after HOOKLINE_RETENTION_DAYS as every other; the count is logged.
 */
export function deliveriesBatch(horizon: Date, limit: number): SqlFragment {
  return sql`
    with batch as (
      select id from deliveries
      where created_at < ${horizon}
        and (locked_until is null or locked_until <= now())
      order by created_at
      limit ${limit}::int
      for update skip locked
    ),
    gone_attempts as (
      delete from attempts where delivery_id = any(array(select id from batch)) returning 1
    ),
    gone as (
      delete from deliveries where id = any(array(select id from batch)) returning status
    )
    select (select count(*)::int from gone) as deliveries,
      (select count(*)::int from gone where status in ('pending', 'held', 'failed'))
        as unfinished,
      (select count(*)::int from gone_attempts) as attempts`;
}

/**
 * Messages created before `cutoff` with no delivery left (payload included; their idempotency
 * keys go by cascade). Walks (created_at, id) on from where the previous batch ended, so
 * messages still held by a delivery are read once per run.
 */
export function messagesBatch(
  cutoff: Date,
  after: { afterAt: string; afterId: string },
  limit: number,
): SqlFragment {
  return sql`
    with page as (
      select m.id, m.created_at from messages m
      where m.created_at < ${cutoff} and m.created_at >= ${after.afterAt}::text::timestamptz
        and (m.created_at, m.id) > (${after.afterAt}::text::timestamptz, ${after.afterId}::text)
      order by m.created_at, m.id
      limit ${limit}::int
    ),
    gone as (
      delete from messages m
      where m.id = any(array(select id from page))
        and not exists (select 1 from deliveries d where d.message_id = m.id)
      returning 1
    ),
    last as (select created_at, id from page order by created_at desc, id desc limit 1)
    select (select count(*)::int from gone) as deleted,
      (select count(*)::int from page) as scanned,
      (select created_at::text from last) as last_at,
      (select id from last) as last_id`;
}

/** Idempotency keys past their window (API.md: 24 h). */
export function idempotencyKeysBatch(now: Date, limit: number): SqlFragment {
  return sql`
    with batch as (
      select ctid from idempotency_keys where expires_at < ${now}
      order by expires_at limit ${limit}::int for update skip locked
    ),
    -- The row versions just locked: a TID scan, and no other statement can move them meanwhile.
    gone as (delete from idempotency_keys where ctid = any(array(select ctid from batch)) returning 1)
    select count(*)::int as n from gone`;
}

/**
 * Portal tokens expired or revoked before `spent` (a day ago: for a day, someone still holding
 * the link is told "expired" or "revoked" rather than "unknown").
 */
export function portalTokensBatch(spent: Date, limit: number): SqlFragment {
  return sql`
    with batch as (
      select id from (
        (select id from portal_tokens where expires_at < ${spent}
          order by expires_at limit ${limit}::int)
        union
        (select id from portal_tokens where revoked_at < ${spent}
          order by revoked_at limit ${limit}::int)
      ) t limit ${limit}::int
    ),
    gone as (delete from portal_tokens where id = any(array(select id from batch)) returning 1)
    select count(*)::int as n from gone`;
}

/** Operational events created before `cutoff` that the alert dispatcher is done with. */
export function operationalEventsBatch(cutoff: Date, limit: number): SqlFragment {
  return sql`
    with batch as (
      select id from operational_events
      where dispatched_at is not null and created_at < ${cutoff}
      order by created_at limit ${limit}::int for update skip locked
    ),
    gone as (
      delete from operational_events where id = any(array(select id from batch)) returning 1
    )
    select count(*)::int as n from gone`;
}

/** Daily rollups of days before `day` (past HOOKLINE_STATS_RETENTION_DAYS). */
export function dailyStatsBatch(day: string, limit: number): SqlFragment {
  return sql`
    with batch as (
      select ctid from endpoint_daily_stats where day < ${day}::text::date
      order by day limit ${limit}::int for update skip locked
    ),
    gone as (
      delete from endpoint_daily_stats where ctid = any(array(select ctid from batch)) returning 1
    )
    select count(*)::int as n from gone`;
}

// ---------------------------------------------------------------------------------------------
// The run

/** How one run behaves. */
export interface RetentionOptions {
  /** Raw deliveries, attempts and messages are kept this many whole UTC days past today. */
  retentionDays: number;
  /** Daily rollups are kept this many days. */
  statsRetentionDays: number;
  /** Rows per delete statement (default 500). */
  batchSize?: number;
  /** Pause between two batches (default 50 ms): lets claims and records in between. */
  pauseMs?: number;
  /** A day is rolled up this long after it ends (default 15 min: late attempt records land). */
  rollupDelayMs?: number;
  /** The clock (tests): which days are complete or old. Row locks use the database clock. */
  now?: () => Date;
  /** Stops the run between two batches; the next run carries on. */
  signal?: AbortSignal;
}

/** What one run deleted, by table. */
export interface RetentionDeleted {
  deliveries: number;
  /** Of `deliveries`: still pending, held or failed (never finished within the retention period). */
  unfinishedDeliveries: number;
  attempts: number;
  messages: number;
  idempotencyKeys: number;
  portalTokens: number;
  operationalEvents: number;
  dailyStats: number;
}

/** What one run did. */
export interface RetentionResult {
  /** False when another process was running retention (nothing was done). */
  ran: boolean;
  /** False when stopped (signal) before the end; the next run carries on. */
  complete: boolean;
  /** Days rolled up (`YYYY-MM-DD`). */
  rolledUpDays: string[];
  /** Days finalized: their raw rows were deleted in this run. */
  finalizedDays: string[];
  /** Raw rows before this are gone (see `rawHorizon`); null when none has been deleted yet. */
  horizon: Date | null;
  deleted: RetentionDeleted;
  /** Delete statements run, and the most rows one of them deleted (of the table it walks). */
  batches: number;
  maxBatchRows: number;
  durationMs: number;
}

// An arbitrary constant shared by every Hookline process: one retention run at a time.
const RETENTION_LOCK_KEY = 7_238_410_916;
const PORTAL_TOKEN_GRACE_MS = DAY_MS;

// Runs in progress in this process (per database handle).
const runningHere = new WeakSet<Sql>();

/**
 * Runs `fn` holding the cluster-wide retention lock, or returns null when another process holds
 * it. On PostgreSQL the lock is a transaction-level advisory lock held by one otherwise idle
 * transaction for the length of the run (the Sql interface has no reserved session; a READ
 * COMMITTED transaction without writes holds back no vacuum); `lost` resolves if that session
 * dies. PGlite is one process with one session: the in-process guard is the lock.
 */
async function withRetentionLock<T>(
  db: Sql,
  fn: (lost: { lost: boolean }) => Promise<T>,
): Promise<T | null> {
  if (runningHere.has(db)) return null;
  runningHere.add(db);
  try {
    if (db.driver === 'pglite') return await fn({ lost: false });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let settle!: (held: boolean) => void;
    const acquired = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const state = { lost: false };
    const holder = db
      .transaction(async (tx) => {
        await tx.query(sql`set local idle_in_transaction_session_timeout = 0`);
        const [row] = await tx.query<{ held: boolean }>(
          sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY}::bigint) as held`,
        );
        settle(row?.held === true);
        if (row?.held) await released;
      })
      .then(
        () => settle(false),
        (error: unknown) => {
          state.lost = true;
          settle(false);
          return error;
        },
      );
    const held = await acquired;
    if (!held) {
      const error = await holder;
      if (error) throw error;
      return null;
    }
    try {
      return await fn(state);
    } finally {
      release();
      await holder;
    }
  } finally {
    runningHere.delete(db);
  }
}

class Stopped extends Error {}

/**
 * One retention run (see the module comment). Returns `ran: false` at once when another process
 * is running one.
 */
export async function runRetention(db: Sql, options: RetentionOptions): Promise<RetentionResult> {
  const started = Date.now();
  const clock = options.now ?? (() => new Date());
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
  const pauseMs = Math.max(0, options.pauseMs ?? 50);
  const rollupDelayMs = options.rollupDelayMs ?? 15 * 60_000;
  const deleted: RetentionDeleted = {
    deliveries: 0,
    unfinishedDeliveries: 0,
    attempts: 0,
    messages: 0,
    idempotencyKeys: 0,
    portalTokens: 0,
    operationalEvents: 0,
    dailyStats: 0,
  };
  const result: RetentionResult = {
    ran: true,
    complete: false,
    rolledUpDays: [],
    finalizedDays: [],
    horizon: null,
    deleted,
    batches: 0,
    maxBatchRows: 0,
    durationMs: 0,
  };

  const outcome = await withRetentionLock(db, async (lock) => {
    const checkStop = () => {
      if (options.signal?.aborted || lock.lost) throw new Stopped();
    };
    const pause = () =>
      new Promise<void>((resolve) => {
        if (pauseMs === 0 || options.signal?.aborted) return resolve();
        const timer = setTimeout(done, pauseMs);
        function done() {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        }
        options.signal?.addEventListener('abort', done, { once: true });
      });
    /** Runs `batch` until it deletes fewer than `batchSize` rows. */
    const drain = async (batch: () => Promise<number>) => {
      for (;;) {
        checkStop();
        const rows = await batch();
        result.batches++;
        result.maxBatchRows = Math.max(result.maxBatchRows, rows);
        if (rows < batchSize) return;
        await pause();
      }
    };

    try {
      const now = clock();
      const today = utcDay(now);
      // Whole days: rows of the `retentionDays` days before today (and today's) are kept.
      const cutoffDay = addDays(today, -options.retentionDays);
      const cutoff = dayStart(cutoffDay);

      // 1. Roll up complete days from the oldest raw delivery on.
      const [oldest] = await db.query<{ at: Date | null }>(
        sql`select min(created_at) as at from deliveries`,
      );
      const lastComplete = utcDay(new Date(now.getTime() - rollupDelayMs - DAY_MS));
      // One row a day, pruned with the rollups: a few hundred rows.
      const known = await db.query<{ day: unknown; finalized: boolean }>(sql`
        select day, finalized_at is not null as finalized from stats_rollup_days`);
      const rolledUp = new Set(known.map((k) => toDay(k.day)));
      const finalized = new Set(known.filter((k) => k.finalized).map((k) => toDay(k.day)));
      const horizonBefore = await rawHorizon(db);
      if (oldest?.at) {
        // Days below the horizon are finalized already (their raw rows are going).
        let day = utcDay(new Date(oldest.at));
        if (horizonBefore && day < utcDay(horizonBefore)) day = utcDay(horizonBefore);
        for (; day <= lastComplete; day = addDays(day, 1)) {
          if (rolledUp.has(day)) continue;
          checkStop();
          await rollUpDay(db, day);
          rolledUp.add(day);
          result.rolledUpDays.push(day);
        }
      }

      // 2. Finalize days before the cutoff, oldest first, with no gap: the horizon is the day
      // after the last finalized one.
      const pending = [...rolledUp].filter((d) => d < cutoffDay && !finalized.has(d)).sort();
      for (const day of pending) {
        checkStop();
        await finalizeDay(db, day, { retake: !result.rolledUpDays.includes(day) });
        result.finalizedDays.push(day);
      }
      const horizon = await rawHorizon(db);
      result.horizon = horizon;

      // 3. Deliveries below the horizon, with their attempts, in one statement per batch:
      // attempts first (by delivery id, attempts_delivery_number_key), then the deliveries, so
      // the cascade finds nothing left to do. A leased delivery (a worker is sending it now) is
      // left for the next run; rows a claim holds are skipped, never waited for.
      if (horizon) {
        await drain(async () => {
          const [row] = await db.query<{
            deliveries: number;
            unfinished: number;
            attempts: number;
          }>(deliveriesBatch(horizon, batchSize));
          deleted.deliveries += row?.deliveries ?? 0;
          deleted.unfinishedDeliveries += row?.unfinished ?? 0;
          deleted.attempts += row?.attempts ?? 0;
          return row?.deliveries ?? 0;
        });
      }

      // 4. Messages older than the retention period with no delivery left (payload included;
      // their idempotency keys go by cascade). Walked in (created_at, id) order from where the
      // previous batch ended, so messages still held by a delivery are read once per run.
      let afterAt = '-infinity';
      let afterId = '';
      await drain(async () => {
        const [row] = await db.query<{
          deleted: number;
          scanned: number;
          last_at: string | null;
          last_id: string | null;
        }>(messagesBatch(cutoff, { afterAt, afterId }, batchSize));
        deleted.messages += row?.deleted ?? 0;
        if (row?.last_at && row.last_id) {
          afterAt = row.last_at;
          afterId = row.last_id;
        }
        // Scanned, not deleted, decides whether there is more to walk.
        return row?.scanned ?? 0;
      });

      // 5. Idempotency keys past their window (API.md: 24 h).
      await drain(async () => {
        const [row] = await db.query<{ n: number }>(idempotencyKeysBatch(now, batchSize));
        deleted.idempotencyKeys += row?.n ?? 0;
        return row?.n ?? 0;
      });

      // 6. Portal tokens expired or revoked more than a day ago (a day of "expired" / "revoked"
      // answers instead of "unknown" for someone still holding the link).
      const spent = new Date(now.getTime() - PORTAL_TOKEN_GRACE_MS);
      await drain(async () => {
        const [row] = await db.query<{ n: number }>(portalTokensBatch(spent, batchSize));
        deleted.portalTokens += row?.n ?? 0;
        return row?.n ?? 0;
      });

      // 7. Operational events older than the retention period that the dispatcher is done with.
      await drain(async () => {
        const [row] = await db.query<{ n: number }>(operationalEventsBatch(cutoff, batchSize));
        deleted.operationalEvents += row?.n ?? 0;
        return row?.n ?? 0;
      });

      // 8. Rollups past the stats retention period.
      const statsCutoffDay = addDays(today, -options.statsRetentionDays);
      await drain(async () => {
        const [row] = await db.query<{ n: number }>(dailyStatsBatch(statsCutoffDay, batchSize));
        deleted.dailyStats += row?.n ?? 0;
        return row?.n ?? 0;
      });
      // Keeps the newest finalized day whatever its age: it is the raw horizon.
      await db.query(sql`
        delete from stats_rollup_days
        where day < ${statsCutoffDay}::text::date
          and day < (select max(day) from stats_rollup_days where finalized_at is not null)`);
      result.complete = true;
    } catch (error) {
      if (!(error instanceof Stopped)) throw error;
    }
    return result;
  });

  if (outcome === null) return { ...result, ran: false, durationMs: Date.now() - started };
  result.durationMs = Date.now() - started;
  return result;
}

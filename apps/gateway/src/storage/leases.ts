/**
 * Queue operations for shutdown and monitoring: giving leases back, and the queue's depth and
 * lag for `/metrics`. (The claim and the record live in `queue.ts`.)
 */
import { type StorageContext, toDateOrNull } from './common';
import { type SqlFragment, sql } from './sql';

// The assignments that give a lease back: claimable at once, attempt count unchanged.
const CLEAR_LEASE = sql`locked_until = null, locked_by = null, lease_token = null, updated_at = now()`;

/** A lease to give back: the delivery and the token its claim returned. */
export interface LeaseRef {
  deliveryId: string;
  leaseToken: string;
}

/**
 * Gives leases back before they lapse (a worker stopping with attempts unfinished): the
 * deliveries become claimable at once by any worker instead of after the lease, with their
 * attempt count unchanged, as if never claimed. Conditional on the lease token, so a lease that
 * lapsed and was claimed by another worker meanwhile is left alone. Wakes the workers. Returns
 * the ids released.
 */
export async function releaseLeases(
  ctx: StorageContext,
  leases: readonly LeaseRef[],
): Promise<string[]> {
  if (leases.length === 0) return [];
  const rows = await ctx.sql.query<{ id: string }>(sql`
    update deliveries d set ${CLEAR_LEASE}
    from unnest(${leases.map((l) => l.deliveryId)}::text[],
      ${leases.map((l) => l.leaseToken)}::uuid[]) as r(id, token)
    -- An array of ids: primary-key lookups whatever the planner believes about row counts.
    where d.id = any(${leases.map((l) => l.deliveryId)}::text[])
      and d.id = r.id and d.lease_token = r.token
    returning d.id`);
  if (rows.length > 0) ctx.wake();
  return rows.map((row) => row.id);
}

/**
 * Gives back every lease `workerId` holds except those of `heldIds`: the leases of a claim that
 * committed but whose answer never reached the worker (its connection was lost on the way), which
 * would otherwise wait out the lease before any worker sends them. Only the worker itself knows
 * which of its leases it still works on, and it calls this only while no claim of its own is
 * under way (so none can commit behind it). Wakes the workers. Returns the ids released.
 */
export async function releaseUnheldLeases(
  ctx: StorageContext,
  workerId: string,
  heldIds: readonly string[],
): Promise<string[]> {
  const rows = await ctx.sql.query<{ id: string }>(sql`
    update deliveries d set ${CLEAR_LEASE}
    -- Leased rows only: the partial index deliveries_leased_idx holds exactly these.
    where d.locked_until is not null
      and d.locked_by = ${workerId}
      and not (d.id = any(${[...heldIds]}::text[]))
    returning d.id`);
  if (rows.length > 0) ctx.wake();
  return rows.map((row) => row.id);
}

/** Rows counted at most by `queueStats`: the count stops here so that it stays cheap. */
export const QUEUE_DEPTH_COUNT_LIMIT = 100_000;

/** The queue as `/metrics` shows it. */
export interface QueueStats {
  /**
   * Deliveries due now (`pending`/`failed`, `next_attempt_at` passed), in flight or not,
   * counted up to `QUEUE_DEPTH_COUNT_LIMIT`.
   */
  due: number;
  /** When the longest-waiting delivery a worker could claim now fell due; null when none. */
  oldestDueAt: Date | null;
  /** The database's clock when read (ages are measured on it, not on this process's clock). */
  now: Date;
}

/**
 * Depth and lag of the queue in one statement whose cost is bounded whatever the backlog: the
 * count is an index-only scan of `deliveries_due_idx` that stops at `countLimit` rows, and the oldest claimable row is looked for among the first 1,000 due rows in due order
 * (leased rows and rows of paused or disabled endpoints skipped).
 */
export async function queueStats(
  ctx: StorageContext,
  countLimit: number = QUEUE_DEPTH_COUNT_LIMIT,
): Promise<QueueStats> {
  const [row] = await ctx.sql.query<{ due: number; oldest: Date | null; now: Date }>(
    queueStatsStatement(countLimit),
  );
  return {
    due: Number(row?.due ?? 0),
    oldestDueAt: toDateOrNull(row?.oldest),
    now: toDateOrNull(row?.now) ?? new Date(),
  };
}

/** The statement of `queueStats` (exported so tests can EXPLAIN it). */
export function queueStatsStatement(countLimit: number = QUEUE_DEPTH_COUNT_LIMIT): SqlFragment {
  return sql`
    with head as materialized (
      select d.endpoint_id, d.next_attempt_at, d.locked_until
      from deliveries d
      where d.status in ('pending', 'failed') and d.next_attempt_at <= now()
      order by d.next_attempt_at
      limit 1000
    )
    select
      (select count(*)::int from (
        select 1 from deliveries d
        where d.status in ('pending', 'failed') and d.next_attempt_at <= now()
        limit ${Math.max(1, Math.floor(countLimit))}::int) x) as due,
      (select min(h.next_attempt_at) from head h
        join endpoints e on e.id = h.endpoint_id and e.status = 'active'
        where h.locked_until is null or h.locked_until <= now()) as oldest,
      now() as now`;
}

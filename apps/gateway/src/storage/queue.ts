import { newId, newIdBlock } from '../domain/ids';
import {
  type StorageContext,
  scopeConditions,
  toDate,
  toDateOrNull,
  toNumberOrNull,
  truncateUtf8,
  whereAll,
} from './common';
import { decryptKeys, type SecretColumns } from './endpoints';
import { json, type SqlFragment, sql } from './sql';
import type {
  AttemptTrigger,
  BreakerTransition,
  CircuitBreakerPolicy,
  ClaimedDelivery,
  ClaimOptions,
  EndpointHealthPolicy,
  NewTestDelivery,
  OutcomeInput,
  RecordedOutcome,
  Scope,
  SigningKeys,
} from './types';

/** Stored request bodies are cut at 64 KiB, response bodies at 4 KiB (API.md). */
export const STORED_BODY_LIMITS = { requestBytes: 64 * 1024, responseBytes: 4 * 1024 } as const;

/** Default per-endpoint cap on concurrently leased deliveries. */
export const DEFAULT_MAX_PER_ENDPOINT = 10;

type ClaimRow = SecretColumns & {
  id: string;
  tenant_id: string;
  event_type: string;
  lease_token: string;
  locked_until: Date;
  attempt_count: number;
  next_trigger: AttemptTrigger;
  test: boolean;
  next_attempt_at: Date | null;
  message_id: string;
  message_event_type: string;
  payload: string;
  message_created_at: Date;
  endpoint_id: string;
  url: string;
  headers: Record<string, string>;
  retry_schedule: number[] | null;
  rate_limit_per_minute: number | null;
};

// Everything the worker needs, from the claimed delivery `d`, its message `m` and endpoint `e`.
const CLAIM_RETURNING = sql`d.id, d.tenant_id, d.event_type, d.lease_token, d.locked_until,
  d.attempt_count, d.next_trigger, d.test, d.next_attempt_at,
  m.id as message_id, m.event_type as message_event_type, m.payload,
  m.created_at as message_created_at,
  e.id as endpoint_id, e.url, e.headers, e.retry_schedule, e.rate_limit_per_minute, e.signing,
  e.secret_ciphertext, e.previous_secret_ciphertext, e.previous_secret_expires_at`;

function mapClaimed(row: ClaimRow, keys: SigningKeys): ClaimedDelivery {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    eventType: row.event_type,
    leaseToken: String(row.lease_token),
    lockedUntil: toDate(row.locked_until),
    attemptNumber: Number(row.attempt_count) + 1,
    trigger: row.test ? 'test' : row.next_trigger,
    test: row.test,
    message: {
      id: row.message_id,
      eventType: row.message_event_type,
      payloadJson: row.payload,
      createdAt: toDate(row.message_created_at),
    },
    endpoint: {
      id: row.endpoint_id,
      url: row.url,
      headers: row.headers ?? {},
      retrySchedule: row.retry_schedule ? row.retry_schedule.map(Number) : null,
      rateLimitPerMinute: toNumberOrNull(row.rate_limit_per_minute),
      keys,
    },
  };
}

/**
 * Leases up to `limit` due deliveries to `workerId` in ONE statement and returns all a worker
 * needs to send them, earliest due first.
 *
 * Due: `pending`/`failed`, `next_attempt_at <= now`, unleased or with an expired lease (a crashed
 * worker's rows come back), of an `active` endpoint. Rows are locked `for update skip locked`, so
 * concurrent claimers never get the same row.
 *
 * The statement visits endpoints, not the global due order: a loose index scan over
 * `deliveries_endpoint_due_idx` finds the next endpoints with pending work after
 * `cursor.after` (one index probe each, whatever their backlogs), and each gets its earliest due
 * rows up to its free slots. So the cost of a claim follows the endpoints it visits and the rows
 * it returns, never the size of the backlog, and endpoints are served round-robin: one with a
 * deep backlog cannot crowd out the others. Limits, checked per endpoint:
 * - concurrency: at most `maxPerEndpoint` leases alive across all workers (concurrent claimers
 *   see each other's leases only once committed, so a race may briefly exceed it);
 * - rate: `rate_limit_per_minute`, by the generic cell rate algorithm over one row per endpoint
 *   (`endpoint_rate_limits`), taken with `insert … on conflict do update`, which sees the
 *   latest row version, so concurrent claimers in any number of processes never take the same
 *   slot, and no 60 s ever hold more than the limit. Over-limit rows stay `pending` and
 *   untouched: deferred, never failed;
 * - circuit breaker: an endpoint whose breaker is open (see `recordStatement`) gets nothing
 *   before `breaker_probe_at`, then one delivery, the probe, taken by an update of the endpoint
 *   row that moves `breaker_probe_at` a lease ahead, so concurrent claimers lease one probe in
 *   all. Its other rows stay as they are (no attempt used up) until the breaker closes.
 *
 * `cursor` (optional, in/out) carries the round-robin position between claims of one worker.
 */
export async function claimDueDeliveries(
  ctx: StorageContext,
  options: ClaimOptions,
): Promise<ClaimedDelivery[]> {
  const rows = await ctx.sql.query<ClaimRow & ClaimCursorRow>(claimStatement(options));
  const cursorRow = rows[0];
  if (options.cursor && cursorRow) {
    options.cursor.after = cursorRow.cursor_after ?? '';
    options.cursor.more = cursorRow.cursor_more === true;
    options.cursor.capped = rows.find((row) => row.capped !== null)?.capped ?? [];
  }
  const claimed = rows.filter((row) => row.id !== null);
  if (options.stats) {
    options.stats.leaseExpired = claimed.filter((row) => row.lease_expired === true).length;
    options.stats.rateLimited = Number(cursorRow?.rate_limited ?? 0);
    options.stats.readyLeft = Number(cursorRow?.ready_left ?? 0);
  }
  claimed.sort(
    (a, b) =>
      toDate(a.next_attempt_at).getTime() - toDate(b.next_attempt_at).getTime() ||
      (a.id < b.id ? -1 : 1),
  );
  const keysByEndpoint = new Map<string, SigningKeys>();
  return claimed.map((row) => {
    let keys = keysByEndpoint.get(row.endpoint_id);
    if (!keys) {
      keys = decryptKeys(ctx, row);
      keysByEndpoint.set(row.endpoint_id, keys);
    }
    return mapClaimed(row, keys);
  });
}

type ClaimCursorRow = {
  cursor_after: string | null;
  cursor_more: boolean;
  capped: string[] | null;
  // Metrics only (see `ClaimStats`).
  lease_expired?: boolean | null;
  rate_limited?: number | null;
  // Read by the worker to wake other processes (see `ClaimStats.readyLeft`).
  ready_left?: number | null;
};

/** The claim statement of `claimDueDeliveries` (exported so tests can EXPLAIN it). */
export function claimStatement(options: ClaimOptions): SqlFragment {
  const limit = Math.max(1, Math.floor(options.limit));
  const cap = Math.max(1, Math.floor(options.maxPerEndpoint ?? DEFAULT_MAX_PER_ENDPOINT));
  // Endpoints visited per claim: room for some to have nothing to give (capped, rate-limited,
  // only future retries) without under-filling; the rest wait for the next claim's turn.
  const probes = Math.min(limit * 2 + 8, 1_000);
  const after = options.cursor?.after ?? '';
  const now = options.now ? sql`${options.now}::timestamptz` : sql`now()`;
  return sql`
    with recursive ahead(endpoint_id, n) as (
      -- The endpoints with pending work after the cursor, one index probe each.
      (select d.endpoint_id, 1 from deliveries d
        where d.status in ('pending', 'failed') and d.endpoint_id > ${after}
        order by d.endpoint_id limit 1)
      union all
      select (select d.endpoint_id from deliveries d
          where d.status in ('pending', 'failed') and d.endpoint_id > w.endpoint_id
          order by d.endpoint_id limit 1),
        w.n + 1
      from ahead w
      where w.endpoint_id is not null and w.n < ${probes}::int
    ),
    wrapped(endpoint_id, n) as (
      -- Past the last endpoint: on from the first, up to the cursor, in the same claim.
      (select d.endpoint_id, ${probes}::int + 1 from deliveries d
        where d.status in ('pending', 'failed') and ${after} <> ''
          -- The walk ahead reached the last endpoint (it did not stop at its probe bound).
          and not exists (select 1 from ahead
            where n = ${probes}::int and endpoint_id is not null)
        order by d.endpoint_id limit 1)
      union all
      select (select d.endpoint_id from deliveries d
          where d.status in ('pending', 'failed') and d.endpoint_id > w.endpoint_id
          order by d.endpoint_id limit 1),
        w.n + 1
      from wrapped w
      where w.endpoint_id is not null and w.endpoint_id <= ${after}
        and w.n < ${probes * 2}::int
    ),
    walk as materialized (
      select endpoint_id, n from ahead
      union all
      select endpoint_id, n from wrapped where endpoint_id is null or endpoint_id <= ${after}
    ),
    lap as (
      -- The round is over when the walk reached the last endpoint and, having started after
      -- the cursor, came back round to it: neither part stopped at its probe bound.
      select not exists (select 1 from ahead where n = ${probes}::int and endpoint_id is not null)
        and not exists (select 1 from wrapped
          where n = ${probes * 2}::int and endpoint_id is not null and endpoint_id <= ${after})
        as ended
    ),
    candidates as materialized (
      -- Free slots per endpoint: its concurrency cap minus its live leases, and for a
      -- rate-limited endpoint no more than its rate allows now (read here without a lock to
      -- size the claim; taken for real, atomically, in limits below).
      select c.n, c.id, c.rate, c.period, c.tolerance, c.probing, c.open_slots,
        least(c.open_slots,
          case when c.rate is null then ${cap}::int
            else greatest(0, floor(extract(epoch from ${now}
              + c.tolerance * interval '1 second' - greatest(coalesce(r.tat, ${now}), ${now}))
              / c.period + 1e-3) + 1)::int end) as free
      from (
        select w.n, e.id, e.rate_limit_per_minute as rate,
          -- Concurrency slots: an endpoint whose circuit breaker is open gets one lease at a
          -- time, its probe.
          case when e.breaker_opened_at is not null then 1 else ${cap}::int end
            - (select count(*)::int from deliveries l
            where l.endpoint_id = e.id and l.locked_until is not null
              and l.locked_until > ${now}) as open_slots,
          61.0 / (e.rate_limit_per_minute - s.slack) as period,
          s.slack * 61.0 / (e.rate_limit_per_minute - s.slack) as tolerance,
          e.breaker_opened_at is not null as probing
        from walk w
        join endpoints e on e.id = w.endpoint_id and e.status = 'active'
          -- Circuit breaker open: nothing before its probe time.
          and (e.breaker_opened_at is null or e.breaker_probe_at <= ${now})
        -- Sends are spaced period seconds apart, with tolerance seconds of slack for a late
        -- claim, so that no window of 61 s of claims holds more than rate_limit_per_minute of
        -- them: n claims within 61 s need (n - 1) * period - tolerance < 61, i.e. n < 1 + rate.
        -- The extra second is for what follows a claim: a request leaves (and arrives) up to
        -- a second later than its claim's now() (commit, dispatch, connect; more under load),
        -- and by varying amounts; measured on send times, a 60 s bound on claims let 121 of
        -- 120 through once. About a second of slack (a claim that comes late loses nothing),
        -- paid for by spacing sends for a little less: 116 a minute for 120, 5,803 for 6,000.
        cross join lateral (select case when e.rate_limit_per_minute < 5 then 0
          else least(e.rate_limit_per_minute * 0.1,
            greatest(0.5, e.rate_limit_per_minute / 60.0)) end as slack) s
      ) c
      left join endpoint_rate_limits r on r.endpoint_id = c.id
    ),
    available as materialized (
      -- How many rows each endpoint can give now (at most its free slots).
      select c.n, c.id, c.rate, c.open_slots,
        (select count(*)::int from (
          select 1 from deliveries d
          where d.endpoint_id = c.id and d.status in ('pending', 'failed')
            and d.next_attempt_at <= ${now}
            and (d.locked_until is null or d.locked_until <= ${now})
          -- The order makes the plan walk deliveries_endpoint_due_idx and stop early; without
          -- it a generic plan may scan the table for the first few matches.
          order by d.next_attempt_at
          limit c.free) x) as ready
      from candidates c
      where c.free > 0
    ),
    allotted as materialized (
      -- In walk order, until the claim's limit is allotted.
      select a.n, a.id, a.rate, a.open_slots,
        greatest(0, least(a.ready, ${limit}::int - coalesce(sum(a.ready) over (
          order by a.n rows between unbounded preceding and 1 preceding), 0)::int)) as slots
      from available a
      where a.ready > 0
    ),
    picked as materialized (
      select p.id, p.next_attempt_at, a.id as endpoint_id, a.rate,
        row_number() over (partition by a.id order by p.next_attempt_at) as place
      from allotted a
      cross join lateral (
        select d.id, d.next_attempt_at from deliveries d
        where d.endpoint_id = a.id and d.status in ('pending', 'failed')
          and d.next_attempt_at <= ${now}
          and (d.locked_until is null or d.locked_until <= ${now})
        order by d.next_attempt_at
        limit a.slots
        for update of d skip locked
      ) p
      where a.slots > 0
    ),
    wanted as materialized (
      select p.endpoint_id, count(*)::int as n, c.period, c.tolerance
      from picked p
      join candidates c on c.id = p.endpoint_id
      where p.rate is not null
      group by p.endpoint_id, c.period, c.tolerance
    ),
    limits as (
      insert into endpoint_rate_limits as b (endpoint_id, tat, granted)
      -- (+ 1e-3: a whole number of periods, rounded to microseconds, must not fall just short;
      -- the bound on any 60 s holds for any slack under one period.)
      select w.endpoint_id,
        ${now} + least(w.n, floor(w.tolerance / w.period + 1e-3) + 1) * w.period * interval '1 second',
        least(w.n, floor(w.tolerance / w.period + 1e-3) + 1)::int
      from wanted w
      on conflict (endpoint_id) do update set
        granted = (select greatest(0, least(w.n, floor(extract(epoch from
            ${now} + w.tolerance * interval '1 second' - greatest(b.tat, ${now})) / w.period + 1e-3) + 1))
          from wanted w where w.endpoint_id = b.endpoint_id)::int,
        tat = (select greatest(b.tat, ${now}) + greatest(0, least(w.n, floor(extract(epoch from
            ${now} + w.tolerance * interval '1 second' - greatest(b.tat, ${now})) / w.period + 1e-3) + 1))
            * w.period * interval '1 second'
          from wanted w where w.endpoint_id = b.endpoint_id)
      returning b.endpoint_id, b.granted
    ),
    probes as (
      -- Takes the probe slot of each open breaker (the picked row is its only one) with an
      -- update that re-checks the latest row version: of concurrent claimers, one probes, and
      -- the next probe waits for this one's outcome or its lease.
      update endpoints e set
        breaker_probe_at = ${now} + ${Math.max(1, Math.floor(options.leaseMs))}::int * interval '1 millisecond',
        breaker_probe_delivery_id = p.id
      from picked p
      join candidates c on c.id = p.endpoint_id and c.probing
      where e.id = p.endpoint_id and p.place = 1
        and e.breaker_opened_at is not null and e.breaker_probe_at <= ${now}
      returning e.id
    ),
    chosen as materialized (
      select p.id from picked p
      left join limits k on k.endpoint_id = p.endpoint_id
      left join probes g on g.id = p.endpoint_id
      where (p.rate is null or p.place <= coalesce(k.granted, 0))
        and (g.id is not null
          or not exists (select 1 from candidates c where c.id = p.endpoint_id and c.probing))
    ),
    claimed as (
      update deliveries d set
        locked_until = ${now} + ${Math.max(1, Math.floor(options.leaseMs))}::int * interval '1 millisecond',
        locked_by = ${options.workerId},
        lease_token = gen_random_uuid(),
        updated_at = now()
      from messages m, endpoints e
      -- An array, not a join: one primary-key lookup per id whatever the planner believes about
      -- row counts (queue tables go from empty to busy faster than statistics follow).
      where d.id = any(array(select id from chosen)) and m.id = d.message_id
        and e.id = d.endpoint_id
      returning ${CLAIM_RETURNING},
        -- (metrics) The statement's snapshot still holds the row as before this update: a lease
        -- set then is one that lapsed, since only unleased or lapsed rows are claimed.
        (select o.locked_until is not null from deliveries o where o.id = d.id) as lease_expired
    ),
    walked as (
      select
        -- Filled up: continue after the last endpoint served. Else after the last one visited,
        -- or from the start when the walk reached the end.
        case
          when f.filled then (select id from allotted where slots > 0 order by n desc limit 1)
          when f.ended then ''
          else (select endpoint_id from walk where endpoint_id is not null order by n desc limit 1)
        end as cursor_after,
        f.filled or not f.ended as cursor_more
      from (select
          -- What was claimed, not what was allotted: a rate grant may give less.
          (select count(*) from claimed) >= ${limit}::int as filled,
          (select ended from lap) as ended) f
    )
    select c.*, walked.cursor_after, walked.cursor_more,
      -- Endpoints left at their concurrency cap, so likely with due rows waiting for a slot:
      -- none open before the claim, or this claim allotted every open one. On one row only
      -- (up to a few hundred ids, not repeated on each of up to limit rows).
      case when row_number() over () = 1 then
        array(select c3.id from candidates c3 where c3.open_slots <= 0
          union all
          select a.id from allotted a where a.slots >= a.open_slots) end as capped,
      -- (metrics) Endpoints whose due rows this claim left because their rate was used up: no
      -- grant left before the claim (one due-row probe each), or less granted than picked.
      (select count(*)::int from candidates c2
        join endpoint_rate_limits r on r.endpoint_id = c2.id
        where c2.rate is not null
          and floor(extract(epoch from ${now} + c2.tolerance * interval '1 second'
            - greatest(r.tat, ${now})) / c2.period + 1e-3) + 1 <= 0
          and exists (select 1 from deliveries d
            where d.endpoint_id = c2.id and d.status in ('pending', 'failed')
              and d.next_attempt_at <= ${now}
              and (d.locked_until is null or d.locked_until <= ${now})))
        + (select count(*)::int from wanted w
          join limits k on k.endpoint_id = w.endpoint_id where k.granted < w.n) as rate_limited,
      -- Rows ready within their endpoints' free slots that the limit left for other workers.
      (select coalesce(sum(ready), 0)::int from available)
        - (select count(*)::int from claimed) as ready_left
    from walked left join claimed c on true`;
}

type RecordRow = {
  delivery_id: string;
  attempt_id: string | null;
  attempt_number: number | null;
  endpoint_id: string | null;
  next_attempt_at: Date | null;
  failing_since: Date | null;
  recovered: boolean | null;
  disabled: 'gone' | 'failing' | null;
  breaker: BreakerTransition | null;
};

/**
 * The circuit breaker's defaults: over a sliding minute, at least 20 attempts of which 90 % or
 * more failed open it; the first probe goes 30 s later, each failed probe doubles the wait up to
 * 10 minutes. Quiet endpoints (fewer than 20 attempts a minute) never trip it: their retries are
 * spaced by the schedule already, and auto-disable covers a long outage.
 */
export const DEFAULT_CIRCUIT_BREAKER: Readonly<CircuitBreakerPolicy> = Object.freeze({
  windowMs: 60_000,
  minAttempts: 20,
  failureRatio: 0.9,
  probeDelayMs: 30_000,
  maxProbeDelayMs: 10 * 60_000,
});

/** Disable after 5 days of failing every attempt (API.md), with the breaker's defaults. */
export const DEFAULT_ENDPOINT_HEALTH: Readonly<EndpointHealthPolicy> = Object.freeze({
  disableAfterFailingMs: 5 * 24 * 60 * 60 * 1000,
  breaker: DEFAULT_CIRCUIT_BREAKER,
});

/**
 * Records many attempts in ONE statement: for each outcome whose lease token still matches,
 * inserts the attempt, sets the delivery's status (`failed` schedules the next attempt at the
 * database's `now()` + `retryDelayMs`), counts the attempt and releases the lease. In the same
 * statement, for the endpoints of non-test outcomes (see `recordStatement`): moves the
 * failing-since clock, the failure-rate window and the circuit breaker, disables the endpoint
 * (410, or failing for `disableAfterFailingMs`), and writes the operational events
 * (`delivery.dead`, `endpoint.disabled`, `endpoint.recovered`), so an event commits exactly when
 * its state change does. An outcome whose lease was lost (expired and re-claimed, or the delivery
 * deleted) changes nothing and comes back with `recorded: false`. Results are in input order.
 */
export async function recordOutcomes(
  ctx: StorageContext,
  outcomes: readonly OutcomeInput[],
  policy: Partial<EndpointHealthPolicy> = {},
): Promise<RecordedOutcome[]> {
  if (outcomes.length === 0) return [];
  const rows = await ctx.sql.query<RecordRow>(recordStatement(outcomes, policy));
  const byDelivery = new Map(rows.map((row) => [row.delivery_id, row]));
  return outcomes.map((o) => {
    const row = byDelivery.get(o.deliveryId);
    const recorded = row?.attempt_id != null;
    return {
      deliveryId: o.deliveryId,
      recorded,
      attemptId: recorded ? row!.attempt_id : null,
      attemptNumber: recorded ? Number(row!.attempt_number) : null,
      endpointId: recorded ? row!.endpoint_id : null,
      endpointFailingSince: recorded ? toDateOrNull(row!.failing_since) : null,
      endpointRecovered: recorded ? row!.recovered === true : false,
      endpointDisabled: recorded ? (row!.disabled ?? null) : null,
      breaker: recorded ? (row!.breaker ?? null) : null,
      nextAttemptAt: recorded ? toDateOrNull(row!.next_attempt_at) : null,
    };
  });
}

function finiteOrNull(ms: number | null | undefined): number | null {
  return ms == null || !Number.isFinite(ms) ? null : Math.max(0, ms);
}

/**
 * The statement of `recordOutcomes` (exported so tests can EXPLAIN it).
 *
 * Endpoint health, per endpoint of the batch's non-test outcomes, all by the database clock:
 * - failing since: set at the first failure of a run, cleared by a success;
 * - failure-rate window: two buckets of `windowMs` (the current one, and the previous one
 *   weighted by how much of it the sliding window still covers), counted only once a failure
 *   started them, so a healthy endpoint's row is never written;
 * - breaker: opens when the window holds `minAttempts` or more with `failureRatio` or more of
 *   them failed and the batch's last outcome failed; the claim then leases one probe at a time
 *   from `breaker_probe_at` on. Any success closes it; a failed probe re-opens it for twice the
 *   last wait (capped);
 * - disable: `gone` when an outcome asks for it (410) and the endpoint is not disabled yet,
 *   `failing` when an active endpoint's failing-since is `disableAfterFailingMs` old and its last
 *   outcome failed;
 * - events: `delivery.dead` per dead delivery, `endpoint.disabled` per disable,
 *   `endpoint.recovered` when a run of failures ends or the breaker closes.
 * The endpoints the batch may change are locked (in id order) and read at their latest version
 * first, so concurrent records for one endpoint take turns: one disable, one event.
 */
export function recordStatement(
  outcomes: readonly OutcomeInput[],
  policy: Partial<EndpointHealthPolicy> = {},
): SqlFragment {
  const input = outcomes.map((o) => {
    const a = o.attempt;
    const request = truncateUtf8(a.requestBody, STORED_BODY_LIMITS.requestBytes);
    const response =
      a.responseBody === null
        ? null
        : truncateUtf8(a.responseBody, STORED_BODY_LIMITS.responseBytes);
    const failed = o.status === 'failed';
    return {
      delivery_id: o.deliveryId,
      lease_token: o.leaseToken,
      status: o.status,
      next_attempt_at: failed ? (o.nextAttemptAt ?? null) : null,
      retry_delay_ms:
        failed && o.retryDelayMs != null ? Math.max(0, Math.round(o.retryDelayMs)) : null,
      disable_endpoint: o.disableEndpoint ?? null,
      attempt_id: a.id ?? newId('att'),
      trigger: a.trigger ?? null,
      outcome: a.outcome,
      http_status: a.httpStatus,
      latency_ms: a.latencyMs === null ? null : Math.round(a.latencyMs),
      request_headers: a.requestHeaders,
      request_body: request.text,
      request_body_truncated: a.requestBodyTruncated || request.truncated,
      response_headers: a.responseHeaders,
      response_body: response?.text ?? null,
      response_body_truncated: a.responseBodyTruncated || (response?.truncated ?? false),
      error: a.error,
      attempted_at: a.attemptedAt.toISOString(),
    };
  });
  const ids = outcomes.map((o) => o.deliveryId);
  const disableAfterMs = finiteOrNull(
    policy.disableAfterFailingMs === undefined
      ? DEFAULT_ENDPOINT_HEALTH.disableAfterFailingMs
      : policy.disableAfterFailingMs,
  );
  const breakerOn = policy.breaker !== null;
  // Off, an open breaker still probes and closes with the default timing; none opens.
  const b = { ...DEFAULT_CIRCUIT_BREAKER, ...(policy.breaker ?? {}) };
  const windowMs = Math.max(1, b.windowMs);
  const minAttempts = Math.max(1, Math.ceil(b.minAttempts));
  const ratio = Math.min(1, Math.max(0, b.failureRatio));
  const probeMs = Math.max(0, b.probeDelayMs);
  const maxProbeMs = Math.max(probeMs, b.maxProbeDelayMs);
  const ms = (value: number) => sql`(${value}::float8 * interval '1 millisecond')`;
  // One id block for every event this statement writes (domain/ids.ts `newIdBlock`).
  const eventIds = newIdBlock('evt');
  return sql`
    with input as materialized (
      select * from jsonb_to_recordset(${json(input)}) as x(
        delivery_id text, lease_token uuid, status text, next_attempt_at timestamptz,
        retry_delay_ms bigint, disable_endpoint text,
        attempt_id text, trigger text, outcome text, http_status int, latency_ms int,
        request_headers jsonb, request_body text, request_body_truncated boolean,
        response_headers jsonb, response_body text, response_body_truncated boolean,
        error text, attempted_at timestamptz)
    ),
    previous as materialized (
      -- The trigger recorded by the attempt is the one the delivery had before this update.
      -- Ids as an array: primary-key lookups whatever the planner believes about row counts.
      select d.id, d.next_trigger from deliveries d where d.id = any(${ids}::text[])
    ),
    updated as (
      update deliveries d set
        status = i.status,
        attempt_count = d.attempt_count + 1,
        -- The database clock: a worker whose clock jumped neither parks nor hurries the retry.
        next_attempt_at = case when i.status = 'failed' then coalesce(
          now() + i.retry_delay_ms * interval '1 millisecond', i.next_attempt_at) end,
        next_trigger = 'scheduled',
        locked_until = null,
        locked_by = null,
        lease_token = null,
        updated_at = now()
      from input i
      -- The lease check: a worker whose lease was taken over records nothing.
      where d.id = any(${ids}::text[]) and d.id = i.delivery_id
        and d.lease_token = i.lease_token
      returning d.id, d.endpoint_id, d.tenant_id, d.message_id, d.event_type, d.status,
        d.attempt_count, d.next_attempt_at, d.test
    ),
    inserted as (
      insert into attempts (id, delivery_id, endpoint_id, attempt_number, trigger, outcome,
        http_status, latency_ms, request_headers, request_body, request_body_truncated,
        response_headers, response_body, response_body_truncated, error, attempted_at)
      select i.attempt_id, u.id, u.endpoint_id, u.attempt_count,
        coalesce(i.trigger, case when u.test then 'test' else p.next_trigger end, 'scheduled'),
        i.outcome, i.http_status, i.latency_ms, coalesce(i.request_headers, '{}'::jsonb),
        i.request_body, i.request_body_truncated, i.response_headers, i.response_body,
        i.response_body_truncated, i.error, i.attempted_at
      from updated u
      join input i on i.delivery_id = u.id
      left join previous p on p.id = u.id
      returning id, delivery_id, attempt_number
    ),
    health as materialized (
      -- The batch per endpoint (tests never count toward health), last attempt first.
      select u.endpoint_id,
        count(*)::int as attempts,
        count(*) filter (where i.outcome <> 'success')::int as failures,
        (array_agg(i.outcome = 'success' order by i.attempted_at desc, u.id desc))[1]
          as last_success,
        coalesce(bool_or(i.disable_endpoint = 'gone'), false) as gone,
        array_agg(u.id) filter (where i.outcome <> 'success') as failed_ids,
        (array_agg(u.id order by i.attempted_at desc, u.id desc))[1] as last_delivery_id,
        (array_agg(u.message_id order by i.attempted_at desc, u.id desc))[1] as last_message_id,
        (array_agg(jsonb_build_object('outcome', i.outcome, 'http_status', i.http_status,
            'error', i.error) order by i.attempted_at desc, u.id desc))[1] as last_attempt,
        (array_agg(u.id order by i.attempted_at desc, u.id desc)
          filter (where i.outcome = 'success'))[1] as success_delivery_id,
        (array_agg(u.message_id order by i.attempted_at desc, u.id desc)
          filter (where i.outcome = 'success'))[1] as success_message_id
      from updated u join input i on i.delivery_id = u.id
      where not u.test
      group by u.endpoint_id
    ),
    current as materialized (
      -- The endpoints this batch may change, locked in id order and read at their latest
      -- version (a concurrent record's committed change included). An endpoint that only
      -- succeeded and has no failure on record is left alone, unlocked and unwritten.
      select e.id, e.tenant_id, e.status, e.failing_since, e.breaker_opened_at,
        e.breaker_probe_delivery_id, e.breaker_failed_probes, e.health_window_at,
        e.health_attempts, e.health_failures, e.health_prev_attempts, e.health_prev_failures
      from endpoints e
      join health h on h.endpoint_id = e.id
      where h.failures > 0 or h.gone or e.failing_since is not null
        or e.breaker_opened_at is not null
        or e.health_window_at > now() - 2 * ${ms(windowMs)}
      order by e.id
      for no key update of e
    ),
    counted as materialized (
      -- The failure-rate window after this batch: roll the buckets forward, then add it.
      select c.*, h.attempts, h.failures, h.last_success, h.gone, h.failed_ids,
        h.last_delivery_id, h.last_message_id, h.last_attempt, h.success_delivery_id,
        h.success_message_id, w.window_at, w.cur_a, w.cur_f, w.prev_a, w.prev_f
      from current c
      join health h on h.endpoint_id = c.id
      cross join lateral (select case
          when c.health_window_at is null or c.health_window_at > now()
            or c.health_window_at <= now() - 2 * ${ms(windowMs)} then 'reset'
          when c.health_window_at <= now() - ${ms(windowMs)} then 'roll'
          else 'add' end as step) s
      cross join lateral (select
          case s.step when 'reset' then now()
            when 'roll' then c.health_window_at + ${ms(windowMs)}
            else c.health_window_at end as window_at,
          case s.step when 'add' then c.health_attempts + h.attempts else h.attempts end as cur_a,
          case s.step when 'add' then c.health_failures + h.failures else h.failures end as cur_f,
          case s.step when 'reset' then 0 when 'roll' then c.health_attempts
            else c.health_prev_attempts end as prev_a,
          case s.step when 'reset' then 0 when 'roll' then c.health_failures
            else c.health_prev_failures end as prev_f) w
    ),
    decided as materialized (
      select k.*,
        case when k.last_success then null else coalesce(k.failing_since, now()) end
          as new_failing_since,
        case
          when k.breaker_opened_at is not null and k.attempts > k.failures then 'closed'
          when k.breaker_opened_at is not null
            and k.breaker_probe_delivery_id = any(coalesce(k.failed_ids, '{}')) then 'reopened'
          when k.breaker_opened_at is null and ${breakerOn}::boolean and not k.last_success
            and r.attempts >= ${minAttempts}::int
            and r.failures >= ${ratio}::float8 * r.attempts then 'opened'
        end as transition,
        case
          when k.gone and k.status <> 'disabled' then 'gone'
          when k.status = 'active' and not k.last_success and ${disableAfterMs}::float8 is not null
            and coalesce(k.failing_since, now()) <= now() - ${disableAfterMs}::float8
              * interval '1 millisecond' then 'failing'
        end as disable
      from counted k
      -- The sliding window: the current bucket and the share of the previous one it overlaps.
      cross join lateral (select greatest(0, 1 - extract(epoch from now() - k.window_at) * 1000
          / ${windowMs}::float8) as carry) o
      cross join lateral (select k.cur_a + k.prev_a * o.carry as attempts,
          k.cur_f + k.prev_f * o.carry as failures) r
    ),
    verdict as materialized (
      select d.*,
        (d.failing_since is not null and d.new_failing_since is null)
          or d.transition = 'closed' as recovered
      from decided d
    ),
    moved as (
      update endpoints e set
        failing_since = v.new_failing_since,
        status = case when v.disable is null then e.status else 'disabled' end,
        disabled_reason = case when v.disable is null then e.disabled_reason else v.disable end,
        updated_at = case when v.disable is null then e.updated_at else now() end,
        breaker_opened_at = case v.transition when 'opened' then now() when 'closed' then null
          else e.breaker_opened_at end,
        breaker_probe_at = case v.transition
          when 'opened' then now() + ${ms(probeMs)}
          when 'reopened' then now() + least(${ms(maxProbeMs)},
            ${ms(probeMs)} * power(2, least(e.breaker_failed_probes + 1, 30)))
          when 'closed' then null
          else e.breaker_probe_at end,
        breaker_probe_delivery_id = case when v.transition is null
          then e.breaker_probe_delivery_id end,
        breaker_failed_probes = case v.transition when 'reopened' then e.breaker_failed_probes + 1
          when 'opened' then 0 when 'closed' then 0 else e.breaker_failed_probes end,
        -- A closed breaker starts from a clean window; with the breaker off none is kept.
        health_window_at = case when v.transition = 'closed' or not ${breakerOn}::boolean then null
          else v.window_at end,
        health_attempts = case when v.transition = 'closed' then 0 else v.cur_a end,
        health_failures = case when v.transition = 'closed' then 0 else v.cur_f end,
        health_prev_attempts = case when v.transition = 'closed' then 0 else v.prev_a end,
        health_prev_failures = case when v.transition = 'closed' then 0 else v.prev_f end
      from verdict v
      where e.id = v.id
      returning e.id
    ),
    news as (
      select 1 as kind, u.tenant_id, u.endpoint_id, u.id as delivery_id, u.message_id,
        'delivery.dead' as type,
        jsonb_build_object('attempt_count', u.attempt_count, 'outcome', i.outcome,
          'http_status', i.http_status, 'error', i.error, 'event_type', u.event_type) as data
      from updated u join input i on i.delivery_id = u.id
      where u.status = 'dead' and not u.test
      union all
      select 2, v.tenant_id, v.id, v.success_delivery_id, v.success_message_id,
        'endpoint.recovered',
        jsonb_build_object('failing_since', v.failing_since,
          'breaker_opened_at', v.breaker_opened_at)
      from verdict v where v.recovered
      union all
      select 3, v.tenant_id, v.id, v.last_delivery_id, v.last_message_id, 'endpoint.disabled',
        jsonb_build_object('reason', v.disable, 'failing_since', v.new_failing_since)
          || v.last_attempt
      from verdict v where v.disable is not null
    ),
    events as (
      insert into operational_events (id, type, tenant_id, endpoint_id, delivery_id,
        message_id, data)
      select ${eventIds} || hookline_id_counter(n.place - 1), n.type, n.tenant_id,
        n.endpoint_id, n.delivery_id, n.message_id, n.data
      from (select x.*, row_number() over (order by x.kind, x.endpoint_id, x.delivery_id)
          as place from news x) n
      returning id
    )
    select i.delivery_id, ins.id as attempt_id, ins.attempt_number, u.endpoint_id,
      u.next_attempt_at,
      case when v.id is not null then v.new_failing_since else e.failing_since end
        as failing_since,
      coalesce(v.recovered, false) and not u.test as recovered,
      case when not u.test then v.disable end as disabled,
      case when not u.test then v.transition end as breaker
    from input i
    left join updated u on u.id = i.delivery_id
    left join inserted ins on ins.delivery_id = i.delivery_id
    left join endpoints e on e.id = u.endpoint_id
    left join verdict v on v.id = u.endpoint_id`;
}

/** Records one attempt; see `recordOutcomes`. */
export async function recordOutcome(
  ctx: StorageContext,
  outcome: OutcomeInput,
  policy: Partial<EndpointHealthPolicy> = {},
): Promise<RecordedOutcome> {
  const [result] = await recordOutcomes(ctx, [outcome], policy);
  return result!;
}

/**
 * Creates a test message and its one delivery (`test: true`), already leased to the caller, for
 * `POST /v1/endpoints/{id}/test`: send it, then `recordOutcome` with `succeeded` or `failed`
 * without a next attempt (a test is never retried). Null when the endpoint is not the tenant's.
 */
export async function createTestDelivery(
  ctx: StorageContext,
  input: NewTestDelivery,
  scope?: Scope,
): Promise<ClaimedDelivery | null> {
  const messageId = newId('msg');
  const deliveryId = newId('dlv');
  const rows = await ctx.sql.transaction(async (tx) => {
    const [endpoint] = await tx.query(sql`
      select id from endpoints
      ${whereAll([
        sql`id = ${input.endpointId}`,
        sql`tenant_id = ${input.tenantId}`,
        ...scopeConditions(scope, sql`tenant_id`, sql`id`),
      ])}`);
    if (!endpoint) return [];
    await tx.query(sql`
      insert into messages (id, tenant_id, event_type, endpoint_id, payload, delivery_count, created_at)
      values (${messageId}, ${input.tenantId}, ${input.eventType}, ${input.endpointId},
        ${input.payloadJson}, 1, date_trunc('milliseconds', now()))`);
    return tx.query<ClaimRow>(sql`
      with d as (
        insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
          next_trigger, test, locked_until, locked_by, lease_token)
        values (${deliveryId}, ${messageId}, ${input.endpointId}, ${input.tenantId},
          ${input.eventType}, 'pending', 'test', true,
          now() + ${Math.max(1, Math.floor(input.leaseMs))}::int * interval '1 millisecond',
          ${input.workerId}, gen_random_uuid())
        returning *
      )
      select ${CLAIM_RETURNING}
      from d join messages m on m.id = ${messageId} join endpoints e on e.id = d.endpoint_id`);
  });
  const [row] = rows;
  return row ? mapClaimed(row, decryptKeys(ctx, row)) : null;
}

/**
 * When the earliest claimable delivery falls due (possibly in the past), or null when none is
 * waiting: lets a worker sleep until then. Rows held back by a per-endpoint cap count too, so a
 * worker should still wait at least its poll interval between empty claims.
 */
export async function nextDueAt(ctx: StorageContext): Promise<Date | null> {
  const [row] = await ctx.sql.query<{ at: Date | null }>(sql`
    with due as materialized (
      -- The first rows in due order (deliveries_due_idx), then their endpoints: a hint for when
      -- to wake, so the first rows suffice (the poll interval is the safety net). Materialized:
      -- joined first, the planner would read every pending row of the endpoints and sort them.
      select d.endpoint_id, d.next_attempt_at, d.locked_until
      from deliveries d
      where d.status in ('pending', 'failed') and d.next_attempt_at is not null
      order by d.next_attempt_at
      limit 100
    )
    -- (An open circuit breaker holds its endpoint's rows until the probe time.)
    select min(greatest(due.next_attempt_at, due.locked_until, e.breaker_probe_at)) as at
    from due join endpoints e on e.id = due.endpoint_id and e.status = 'active'`);
  return toDateOrNull(row?.at);
}

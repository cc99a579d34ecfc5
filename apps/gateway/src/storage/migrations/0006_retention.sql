-- Hookline schema 6: retention (storage/retention.ts). Raw deliveries, attempts and messages
-- older than HOOKLINE_RETENTION_DAYS are deleted in small batches; what the stats API needs of
-- them is kept first, per endpoint and UTC day, in `endpoint_daily_stats`.

-- One row per endpoint and UTC day with any activity. Delivery figures count the deliveries
-- created that day by status (tests excluded), as last taken: when the day ended and again right
-- before its raw rows were deleted. Attempt figures count the attempts made that day (tests
-- excluded), taken once when the day ended (attempts never change afterwards).
create table endpoint_daily_stats (
  endpoint_id text collate "C" not null references endpoints (id) on delete cascade,
  day date not null,
  tenant_id text not null,
  succeeded integer not null default 0,
  failed integer not null default 0,
  -- Pending and held, as in the stats API.
  pending integer not null default 0,
  dead integer not null default 0,
  cancelled integer not null default 0,
  attempts_success integer not null default 0,
  attempts_timeout integer not null default 0,
  attempts_http_4xx integer not null default 0,
  attempts_http_5xx integer not null default 0,
  attempts_redirect integer not null default 0,
  attempts_network_error integer not null default 0,
  attempts_blocked integer not null default 0,
  latency_count integer not null default 0,
  latency_sum_ms bigint not null default 0,
  latency_max_ms integer,
  -- Attempt latencies counted in fixed log-scale buckets (retention.ts LATENCY_BUCKET_BOUNDS,
  -- `width_bucket` index 0…n): histograms of several days add up element-wise, from which the
  -- stats API reads p50/p95 (per-day percentiles could not be merged). Never change the bounds.
  latency_histogram integer[] not null,
  updated_at timestamptz not null default now(),
  primary key (endpoint_id, day)
);
-- Pruning after HOOKLINE_STATS_RETENTION_DAYS.
create index endpoint_daily_stats_day_idx on endpoint_daily_stats (day);

-- The days rolled up. `rolled_up_at`: the day had ended and its figures were taken.
-- `finalized_at`: delivery figures retaken for the last time and raw rows of the day may be
-- deleted from then on; the stats API reads days before the last finalized one from
-- `endpoint_daily_stats` only.
create table stats_rollup_days (
  day date primary key,
  rolled_up_at timestamptz not null,
  finalized_at timestamptz
);

-- Retention walks these in order, one small batch at a time (never a sequential scan).
create index deliveries_created_idx on deliveries (created_at);
create index messages_created_idx on messages (created_at);
create index portal_tokens_revoked_idx on portal_tokens (revoked_at) where revoked_at is not null;
create index operational_events_dispatched_idx on operational_events (created_at)
  where dispatched_at is not null;

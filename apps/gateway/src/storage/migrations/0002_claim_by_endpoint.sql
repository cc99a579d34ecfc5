-- Hookline schema 2: the claim walks endpoints, not the global due order.
--
-- Schema 1's claim read `deliveries_due_idx` in due order and skipped the rows of endpoints at
-- their concurrency cap one by one, so with every busy endpoint capped a claim read the whole
-- backlog to return nothing. The claim now visits the endpoints that have pending work (a loose
-- index scan over this index: one probe per endpoint) and takes each one's earliest due rows.
create index deliveries_endpoint_due_idx on deliveries (endpoint_id, next_attempt_at)
  where status in ('pending', 'failed');

-- Per-endpoint rate limits (`rate_limit_per_minute`), shared by every worker: the generic cell
-- rate algorithm, one row per endpoint holding its theoretical arrival time. A claim takes
-- sends with `insert … on conflict do update`, which works on the latest row version under
-- concurrent claims, so two workers never take the same slot.
create table endpoint_rate_limits (
  endpoint_id text collate "C" primary key references endpoints (id) on delete cascade,
  -- When the next send is due if sends were perfectly spaced (GCRA's TAT).
  tat timestamptz not null,
  -- What the last claim was granted (read back by that claim's RETURNING).
  granted integer not null default 0
);

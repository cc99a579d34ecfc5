-- Hookline schema 4: endpoint health. The circuit breaker and the failure-rate window live on
-- the endpoint row itself, so the claim reads them from the row it already joins and the record
-- statement moves failing_since, the breaker and an automatic disable under ONE row lock (two
-- workers recording racing outcomes serialise on it: one disable, one event). Every time here is
-- the database clock (`now()`), never a worker's.
alter table endpoints
  -- Set while the breaker is open: the claim gives the endpoint nothing before
  -- breaker_probe_at, then one delivery at a time as a probe (half-open).
  add column breaker_opened_at timestamptz,
  add column breaker_probe_at timestamptz,
  -- The delivery leased as the current probe: its outcome closes or re-opens the breaker.
  add column breaker_probe_delivery_id text collate "C",
  -- Failed probes in a row: the wait before the next one doubles with each.
  add column breaker_failed_probes integer not null default 0 check (breaker_failed_probes >= 0),
  -- The failure-rate window, two consecutive buckets of the window length (the sliding window
  -- is the current bucket plus the overlapping share of the previous one). Only written while
  -- the endpoint has recent failures: a healthy endpoint's row is never touched by a record.
  add column health_window_at timestamptz,
  add column health_attempts integer not null default 0,
  add column health_failures integer not null default 0,
  add column health_prev_attempts integer not null default 0,
  add column health_prev_failures integer not null default 0;

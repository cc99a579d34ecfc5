-- Hookline schema 3: operational events (API.md "Delivery rules"): `delivery.dead`,
-- `endpoint.disabled`, `endpoint.recovered`. A row is written in the same transaction as the
-- state change it reports, so an event is never lost when a process dies right after; the alert
-- dispatcher then fans each row out to the operational webhook and the tenant's alert channels.
create table operational_events (
  -- `evt_…`: the `webhook-id` of the operational webhook that carries it.
  id text collate "C" primary key,
  type text not null
    check (type in ('delivery.dead', 'endpoint.disabled', 'endpoint.recovered')),
  tenant_id text not null,
  -- No foreign keys: an event outlives the endpoint or delivery it reports.
  endpoint_id text collate "C" not null,
  delivery_id text collate "C",
  message_id text collate "C",
  -- What the alert shows, e.g. {"reason": "failing", "http_status": 500, "error": "…"}.
  data jsonb not null default '{}',
  created_at timestamptz not null default now(),
  -- Set once the dispatcher has turned the event into notifications (one per channel).
  dispatched_at timestamptz
);
create index operational_events_pending_idx on operational_events (created_at)
  where dispatched_at is null;
create index operational_events_endpoint_idx on operational_events (endpoint_id, created_at);

-- Hookline schema 5: alert notifications. The alert dispatcher turns each `operational_events`
-- row into one notification per channel (the operator's webhook, a tenant's email and Slack
-- channels), sends it, retries it with backoff and keeps every state here, so an alert survives
-- a restart and is sent at least once.
create table alert_notifications (
  id text collate "C" primary key,
  channel text not null check (channel in ('operational_webhook', 'email', 'slack')),
  type text not null
    check (type in ('delivery.dead', 'endpoint.disabled', 'endpoint.recovered')),
  tenant_id text not null,
  endpoint_id text collate "C" not null,
  -- The first and the latest event folded into this notification. The latest is what it shows
  -- (and the operational webhook's `webhook-id`); both are frozen once a send was tried.
  first_event_id text collate "C" not null,
  last_event_id text collate "C" not null,
  -- Events this notification stands for: 1 + those folded in while it waited (rate limit).
  event_count integer not null default 1 check (event_count > 0),
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed', 'cancelled')),
  -- Counted at claim, so a notification already tried takes no more folded events.
  attempt_count integer not null default 0,
  -- When the rate limit let it go out; `next_attempt_at` moves on with each retry.
  scheduled_at timestamptz not null,
  -- Due time of the next try. A claim moves it to the end of its lease, so a notification whose
  -- sender died is claimed again then (at least once); only the holder of `lease_token` records.
  next_attempt_at timestamptz,
  lease_token uuid,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz
);
create index alert_notifications_due_idx on alert_notifications (next_attempt_at)
  where status = 'pending';
create index alert_notifications_tenant_idx on alert_notifications (tenant_id, id desc);
create index alert_notifications_endpoint_idx on alert_notifications (endpoint_id, id desc);
create index alert_notifications_done_idx on alert_notifications (updated_at)
  where status <> 'pending';

-- The rate limit: per (channel, endpoint, event type) the due time of the latest notification,
-- so the next one is due at least one interval later. Its row lock also serialises the
-- dispatchers that expand events for one key at the same time.
create table alert_rate_limits (
  channel text not null,
  endpoint_id text collate "C" not null,
  type text not null,
  -- Due time of the latest notification of this key (null before the first).
  last_scheduled_at timestamptz,
  -- The notification that still takes folded events (not yet tried), if any.
  open_notification_id text collate "C",
  primary key (channel, endpoint_id, type)
);

-- Wakes the dispatchers when events are written (by any process, in any transaction: NOTIFY is
-- sent at commit; identical ones of a transaction are sent once). A row trigger, not a statement
-- one: the worker's hot record statement inserts events through a CTE that is almost always
-- empty, and only the rare commit that wrote an event should pay for the NOTIFY lock.
create function hookline_notify_alerts() returns trigger language plpgsql as $$
begin
  perform pg_notify('hookline_alerts', '');
  return null;
end
$$;
create trigger operational_events_notify after insert on operational_events
  for each row execute function hookline_notify_alerts();

-- A Slack incoming-webhook URL is a bearer credential: kept as SecretCipher output from now on.
-- Rows written before this migration keep the plain column until `secrets reencrypt` (or the
-- next PUT) moves them; reads fall back to it.
alter table tenant_alert_channels add column slack_webhook_url_ciphertext bytea;

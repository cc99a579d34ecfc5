-- Hookline schema 1. Ids are `<prefix>_<26 base32 chars>` (domain/ids.ts) and compare bytewise
-- (collate "C"), so ordering by id is ordering by creation time.

-- The 4-character row counter that ends an id of a reserved id block (domain/ids.ts
-- `newIdBlock`): lets one insert … select mint k-sortable ids for every row it inserts.
create function hookline_id_counter(n bigint) returns text
language sql immutable strict parallel safe
as $$
  select substr('0123456789abcdefghjkmnpqrstvwxyz', ((n >> 15) & 31)::int + 1, 1)
      || substr('0123456789abcdefghjkmnpqrstvwxyz', ((n >> 10) & 31)::int + 1, 1)
      || substr('0123456789abcdefghjkmnpqrstvwxyz', ((n >> 5) & 31)::int + 1, 1)
      || substr('0123456789abcdefghjkmnpqrstvwxyz', (n & 31)::int + 1, 1)
$$;

create table api_keys (
  id text collate "C" primary key,
  name text not null default '',
  key_hash text not null unique,
  key_hint text not null default '',
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table endpoints (
  id text collate "C" primary key,
  tenant_id text not null,
  url text not null,
  description text not null default '',
  event_types text[] not null default '{}',
  status text not null default 'active' check (status in ('active', 'paused', 'disabled')),
  disabled_reason text check (disabled_reason in ('manual', 'gone', 'failing')),
  rate_limit_per_minute integer check (rate_limit_per_minute > 0),
  retry_schedule integer[],
  headers jsonb not null default '{}',
  metadata jsonb not null default '{}',
  signing text not null default 'hmac' check (signing in ('hmac', 'ed25519')),
  -- Secret material only ever as SecretCipher output; never returned by endpoint reads.
  secret_ciphertext bytea not null,
  secret_hint text not null,
  public_key text,
  previous_secret_ciphertext bytea,
  previous_secret_expires_at timestamptz,
  -- Start of the current run of failed attempts (null after a success): auto-disable clock.
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index endpoints_tenant_idx on endpoints (tenant_id, id desc);
create index endpoints_status_idx on endpoints (status, id desc);

create table event_types (
  name text collate "C" primary key,
  description text not null default '',
  schema jsonb,
  example jsonb,
  archived_at timestamptz,
  -- Millisecond precision so that the list cursor (created_at, name) round-trips through JS.
  created_at timestamptz not null default date_trunc('milliseconds', clock_timestamp()),
  updated_at timestamptz not null default now()
);
create index event_types_created_idx on event_types (created_at desc, name desc);

create table messages (
  id text collate "C" primary key,
  tenant_id text not null,
  event_type text not null,
  -- Set for a message sent to one endpoint only. No foreign key: messages outlive endpoints.
  endpoint_id text collate "C",
  -- The payload's JSON text exactly as accepted (not jsonb, which would reorder keys): the
  -- delivered body embeds it byte for byte.
  payload text not null,
  delivery_count integer not null default 0,
  -- Millisecond precision: the delivered body's `timestamp`, rebuilt identically on every attempt.
  created_at timestamptz not null
);
create index messages_tenant_idx on messages (tenant_id, id desc);
create index messages_tenant_event_idx on messages (tenant_id, event_type, id desc);
create index messages_event_idx on messages (event_type, id desc);

-- Idempotency keys are scoped per tenant: an operator that sends one event to several tenants
-- may reuse its own event id as the key for each.
create table idempotency_keys (
  tenant_id text not null,
  key text not null,
  request_hash text not null,
  message_id text collate "C" not null
    references messages (id) on delete cascade deferrable initially deferred,
  -- The first answer, replayed for a repeat with the same request hash.
  response jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (tenant_id, key)
);
create index idempotency_keys_expires_idx on idempotency_keys (expires_at);
create index idempotency_keys_message_idx on idempotency_keys (message_id);

create table deliveries (
  id text collate "C" primary key,
  message_id text collate "C" not null references messages (id) on delete cascade,
  endpoint_id text collate "C" not null references endpoints (id) on delete cascade,
  tenant_id text not null,
  event_type text not null,
  status text not null
    check (status in ('pending', 'succeeded', 'failed', 'dead', 'held', 'cancelled')),
  attempt_count integer not null default 0,
  next_attempt_at timestamptz,
  -- The trigger the next attempt records: `manual` after a replay or recover.
  next_trigger text not null default 'scheduled'
    check (next_trigger in ('scheduled', 'manual', 'test')),
  -- The lease: a claimed delivery belongs to `locked_by` until `locked_until`; only the holder
  -- of `lease_token` may record its outcome.
  locked_until timestamptz,
  locked_by text,
  lease_token uuid,
  test boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint deliveries_message_endpoint_key unique (message_id, endpoint_id)
);
-- The claim walks this in due order; it holds only rows that can become due.
create index deliveries_due_idx on deliveries (next_attempt_at)
  where status in ('pending', 'failed');
-- Leased rows per endpoint, for the per-endpoint concurrency cap (a lease is cleared on record).
create index deliveries_leased_idx on deliveries (endpoint_id) where locked_until is not null;
create index deliveries_endpoint_idx on deliveries (endpoint_id, id desc);
create index deliveries_tenant_idx on deliveries (tenant_id, id desc);
create index deliveries_tenant_event_idx on deliveries (tenant_id, event_type, id desc);
-- The dead-letter view across tenants; other statuses are listed through the indexes above
-- (an index on every status would churn on every claim and record).
create index deliveries_dead_idx on deliveries (id desc) where status = 'dead';

create table attempts (
  id text collate "C" primary key,
  delivery_id text collate "C" not null references deliveries (id) on delete cascade,
  -- Copied from the delivery for per-endpoint stats; goes with the delivery.
  endpoint_id text collate "C" not null,
  attempt_number integer not null,
  trigger text not null check (trigger in ('scheduled', 'manual', 'test')),
  outcome text not null check (
    outcome in ('success', 'timeout', 'http_4xx', 'http_5xx', 'redirect', 'network_error', 'blocked')
  ),
  http_status integer,
  latency_ms integer,
  request_headers jsonb not null default '{}',
  request_body text not null default '',
  request_body_truncated boolean not null default false,
  response_headers jsonb,
  response_body text,
  response_body_truncated boolean not null default false,
  error text,
  attempted_at timestamptz not null,
  constraint attempts_delivery_number_key unique (delivery_id, attempt_number)
);
create index attempts_endpoint_time_idx on attempts (endpoint_id, attempted_at);

create table portal_tokens (
  id text collate "C" primary key,
  token_hash text not null unique,
  tenant_id text not null,
  endpoint_id text collate "C" references endpoints (id) on delete cascade,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index portal_tokens_tenant_idx on portal_tokens (tenant_id, id desc);
create index portal_tokens_expires_idx on portal_tokens (expires_at);

create table tenant_alert_channels (
  tenant_id text primary key,
  emails text[] not null default '{}',
  slack_webhook_url text,
  updated_at timestamptz not null default now()
);

/**
 * Operational events and the alert notifications made from them: the durable queue behind the
 * alert dispatcher (`alerts/`). An event row is expanded once into one notification per channel,
 * rate-limited per (channel, endpoint, event type) by folding later events into a waiting
 * notification; notifications are claimed with leases like deliveries, so any number of
 * processes can dispatch and a dead one's work is picked up again (at least once).
 */
import { newId } from '../domain/ids';
import { type StorageContext, toDate, toDateOrNull } from './common';
import { json, sql } from './sql';

/** The NOTIFY channel that wakes alert dispatchers (migration 0005's trigger sends it). */
export const ALERTS_DUE_CHANNEL = 'hookline_alerts';

/** The operational events of API.md "Delivery rules". */
export type OperationalEventType = 'delivery.dead' | 'endpoint.disabled' | 'endpoint.recovered';

/** Every operational event type. */
export const OPERATIONAL_EVENT_TYPES: readonly OperationalEventType[] = [
  'delivery.dead',
  'endpoint.disabled',
  'endpoint.recovered',
];

/** Where a notification goes: the operator's webhook, or a tenant's email or Slack channel. */
export type AlertChannelKind = 'operational_webhook' | 'email' | 'slack';

/** A new operational event. */
export interface NewOperationalEvent {
  type: OperationalEventType;
  tenantId: string;
  endpointId: string;
  deliveryId?: string | null;
  messageId?: string | null;
  /** What the alert shows: e.g. `attempt_count`, `http_status`, `outcome`, `error`, `reason`, `event_type`. */
  data?: Record<string, unknown>;
}

/** An `operational_events` row. */
export interface OperationalEvent {
  id: string;
  type: OperationalEventType;
  tenantId: string;
  endpointId: string;
  deliveryId: string | null;
  messageId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
  dispatchedAt: Date | null;
}

/** How `expandEvents` turns events into notifications. */
export interface ExpandOptions {
  /** Whether the operator's webhook is configured (it gets every event). */
  operationalWebhook: boolean;
  /** Whether email can be sent (SMTP configured): tenants' addresses get notifications. */
  email: boolean;
  /** Whether Slack notifications are made for tenants with a Slack URL. */
  slack: boolean;
  /** At most one notification per (channel, endpoint, event type) this often; 0 = one per event. */
  intervalMs: number;
  /** Events per call (default 100). */
  limit?: number;
}

/** What `expandEvents` did. */
export interface ExpandResult {
  /** Events marked dispatched. */
  events: number;
  /** New notifications. */
  created: number;
  /** Events folded into a notification already waiting (rate limit). */
  folded: number;
}

/** A notification leased to one dispatcher, with what it needs to render. */
export interface ClaimedNotification {
  id: string;
  channel: AlertChannelKind;
  type: OperationalEventType;
  tenantId: string;
  endpointId: string;
  /** Events this notification stands for (1 + folded). */
  eventCount: number;
  /** This try's number (1 for the first). */
  attemptCount: number;
  leaseToken: string;
  /** The first event folded in (its time starts the "N more since …" count). */
  firstEvent: OperationalEvent;
  /** The latest event: what the notification shows; its id is the operational `webhook-id`. */
  lastEvent: OperationalEvent;
  /** The endpoint's URL now; null when the endpoint was deleted. */
  endpointUrl: string | null;
}

/** How a try ended. */
export type NotificationResult =
  | { status: 'sent' }
  /** Due again `delayMs` after now by the database's clock (a host's clock jump moves nothing). */
  | { status: 'retry'; delayMs: number; error: string }
  | { status: 'failed'; error: string }
  /** The channel went away (e.g. the tenant removed it) before it could be sent. */
  | { status: 'cancelled'; error: string };

/** Records a try; only the lease holder's record counts. */
export interface NotificationOutcome {
  id: string;
  leaseToken: string;
  result: NotificationResult;
}

/** A notification as stored (for inspection and tests). */
export interface AlertNotification {
  id: string;
  channel: AlertChannelKind;
  type: OperationalEventType;
  tenantId: string;
  endpointId: string;
  firstEventId: string;
  lastEventId: string;
  eventCount: number;
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  attemptCount: number;
  scheduledAt: Date;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

type EventRow = {
  id: string;
  type: OperationalEventType;
  tenant_id: string;
  endpoint_id: string;
  delivery_id: string | null;
  message_id: string | null;
  data: Record<string, unknown> | string | null;
  created_at: Date;
  dispatched_at: Date | null;
};

const EVENT_COLUMNS = sql`id, type, tenant_id, endpoint_id, delivery_id, message_id, data,
  created_at, dispatched_at`;

function mapEvent(row: EventRow): OperationalEvent {
  const data = typeof row.data === 'string' ? JSON.parse(row.data) : row.data;
  return {
    id: row.id,
    type: row.type,
    tenantId: row.tenant_id,
    endpointId: row.endpoint_id,
    deliveryId: row.delivery_id,
    messageId: row.message_id,
    data: (data ?? {}) as Record<string, unknown>,
    createdAt: toDate(row.created_at),
    dispatchedAt: toDateOrNull(row.dispatched_at),
  };
}

/**
 * Stores an operational event. Call it with the transaction that makes the state change it
 * reports (`{ ...ctx, sql: tx }`), so the event exists exactly when the change does; the insert
 * trigger wakes the dispatchers when that transaction commits.
 */
export async function recordOperationalEvent(
  ctx: Pick<StorageContext, 'sql'>,
  input: NewOperationalEvent,
): Promise<OperationalEvent> {
  const [row] = await ctx.sql.query<EventRow>(sql`
    insert into operational_events (id, type, tenant_id, endpoint_id, delivery_id, message_id, data)
    values (${newId('evt')}, ${input.type}, ${input.tenantId}, ${input.endpointId},
      ${input.deliveryId ?? null}::text, ${input.messageId ?? null}::text, ${json(input.data ?? {})})
    returning ${EVENT_COLUMNS}`);
  return mapEvent(row!);
}

/** One operational event, or null. */
export async function getOperationalEvent(
  ctx: StorageContext,
  id: string,
): Promise<OperationalEvent | null> {
  const [row] = await ctx.sql.query<EventRow>(
    sql`select ${EVENT_COLUMNS} from operational_events where id = ${id}`,
  );
  return row ? mapEvent(row) : null;
}

/**
 * Turns undispatched events (oldest first, skipping those another dispatcher holds) into
 * notifications and marks them dispatched, all in one transaction: a crash leaves either both
 * or neither. Per (channel, endpoint, type) the first event makes a notification due now; while
 * that one has not been tried yet, later events fold into it; after that, the next is due one
 * interval after the previous, and takes every event until it goes out.
 */
export async function expandEvents(
  ctx: StorageContext,
  options: ExpandOptions,
): Promise<ExpandResult> {
  const limit = options.limit ?? 100;
  const intervalSeconds = Math.max(0, options.intervalMs) / 1000;
  return ctx.sql.transaction(async (tx) => {
    const events = await tx.query<
      EventRow & { emails: string[] | null; has_slack: boolean | null }
    >(sql`
      select e.id, e.type, e.tenant_id, e.endpoint_id, e.delivery_id, e.message_id, e.data,
        e.created_at, e.dispatched_at, c.emails,
        (c.slack_webhook_url is not null or c.slack_webhook_url_ciphertext is not null) as has_slack
      from operational_events e
      left join tenant_alert_channels c on c.tenant_id = e.tenant_id
      where e.dispatched_at is null
      order by e.created_at, e.id
      limit ${limit}::int
      for update of e skip locked`);
    const result: ExpandResult = { events: events.length, created: 0, folded: 0 };
    if (events.length === 0) return result;

    const channelsOf = (event: (typeof events)[number]): AlertChannelKind[] => {
      const channels: AlertChannelKind[] = [];
      if (options.operationalWebhook) channels.push('operational_webhook');
      if (options.email && (event.emails?.length ?? 0) > 0) channels.push('email');
      if (options.slack && event.has_slack) channels.push('slack');
      return channels;
    };
    // Lock every rate-limit key of the batch first, in one global order: dispatchers expanding
    // the same keys at once then take turns instead of deadlocking.
    const keys = [
      ...new Set(
        events.flatMap((event) =>
          channelsOf(event).map((channel) => `${channel}\n${event.endpoint_id}\n${event.type}`),
        ),
      ),
    ].sort();
    for (const key of keys) {
      const [channel, endpointId, type] = key.split('\n') as [string, string, string];
      await tx.query(sql`
        insert into alert_rate_limits (channel, endpoint_id, type)
        values (${channel}, ${endpointId}, ${type})
        on conflict (channel, endpoint_id, type) do update set channel = excluded.channel`);
    }

    for (const event of events) {
      for (const channel of channelsOf(event)) {
        const [limitRow] = await tx.query<{ open_notification_id: string | null }>(sql`
          select open_notification_id from alert_rate_limits
          where channel = ${channel} and endpoint_id = ${event.endpoint_id}
            and type = ${event.type}`);
        const open = limitRow?.open_notification_id ?? null;
        if (open !== null && intervalSeconds > 0) {
          // Only a notification nobody tried yet takes more events: once tried, its content
          // (and its webhook-id) stays what the receiver may already have seen.
          const folded = await tx.query(sql`
            update alert_notifications set event_count = event_count + 1,
              last_event_id = greatest(last_event_id, ${event.id}), updated_at = now()
            where id = ${open} and status = 'pending' and attempt_count = 0
            returning id`);
          if (folded.length > 0) {
            result.folded++;
            continue;
          }
        }
        await tx.query(sql`
          with slot as (
            select greatest(now(), coalesce(
              last_scheduled_at + ${intervalSeconds}::float8 * interval '1 second', now())) as at
            from alert_rate_limits
            where channel = ${channel} and endpoint_id = ${event.endpoint_id} and type = ${event.type}
          ), created as (
            insert into alert_notifications (id, channel, type, tenant_id, endpoint_id,
              first_event_id, last_event_id, scheduled_at, next_attempt_at)
            select ${newId('ntf')}, ${channel}, ${event.type}, ${event.tenant_id},
              ${event.endpoint_id}, ${event.id}, ${event.id}, slot.at, slot.at
            from slot
            returning id, scheduled_at
          )
          update alert_rate_limits r
          set last_scheduled_at = created.scheduled_at, open_notification_id = created.id
          from created
          where r.channel = ${channel} and r.endpoint_id = ${event.endpoint_id}
            and r.type = ${event.type}`);
        result.created++;
      }
    }
    await tx.query(sql`
      update operational_events set dispatched_at = now()
      where id = any(${events.map((e) => e.id)}::text[])`);
    return result;
  });
}

type NotificationRow = {
  id: string;
  channel: AlertChannelKind;
  type: OperationalEventType;
  tenant_id: string;
  endpoint_id: string;
  first_event_id: string;
  last_event_id: string;
  event_count: number;
  status: AlertNotification['status'];
  attempt_count: number;
  scheduled_at: Date;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
};

/** What a claim returns: a notification's identity and counts, and the lease it now holds. */
type ClaimRow = Pick<
  NotificationRow,
  | 'id'
  | 'channel'
  | 'type'
  | 'tenant_id'
  | 'endpoint_id'
  | 'first_event_id'
  | 'last_event_id'
  | 'event_count'
  | 'attempt_count'
> & { lease_token: string };

/**
 * Leases due notifications of the given channels (skipping those another dispatcher holds) and
 * counts the try. The lease is the due time: a notification whose dispatcher dies before
 * recording falls due again when the lease ends, and is sent again.
 */
export async function claimNotifications(
  ctx: StorageContext,
  options: { channels: readonly AlertChannelKind[]; limit: number; leaseMs: number },
): Promise<ClaimedNotification[]> {
  if (options.channels.length === 0 || options.limit < 1) return [];
  const rows = await ctx.sql.query<ClaimRow>(sql`
    with due as (
      select id from alert_notifications
      where status = 'pending' and next_attempt_at <= now()
        and channel = any(${[...options.channels]}::text[])
      order by next_attempt_at
      limit ${options.limit}::int
      for update skip locked
    )
    update alert_notifications n
    set attempt_count = n.attempt_count + 1, lease_token = gen_random_uuid(),
      next_attempt_at = now() + ${options.leaseMs}::float8 * interval '1 millisecond',
      updated_at = now()
    from due where n.id = due.id
    returning n.id, n.channel, n.type, n.tenant_id, n.endpoint_id, n.first_event_id,
      n.last_event_id, n.event_count, n.attempt_count, n.lease_token`);
  if (rows.length === 0) return [];
  const eventIds = [...new Set(rows.flatMap((r) => [r.first_event_id, r.last_event_id]))];
  const endpointIds = [...new Set(rows.map((r) => r.endpoint_id))];
  const [eventRows, endpointRows] = await Promise.all([
    ctx.sql.query<EventRow>(
      sql`select ${EVENT_COLUMNS} from operational_events where id = any(${eventIds}::text[])`,
    ),
    ctx.sql.query<{ id: string; url: string }>(
      sql`select id, url from endpoints where id = any(${endpointIds}::text[])`,
    ),
  ]);
  const events = new Map(eventRows.map((row) => [row.id, mapEvent(row)]));
  const urls = new Map(endpointRows.map((row) => [row.id, row.url]));
  const claimed: ClaimedNotification[] = [];
  for (const row of rows) {
    const lastEvent = events.get(row.last_event_id);
    const firstEvent = events.get(row.first_event_id) ?? lastEvent;
    if (!lastEvent || !firstEvent) {
      // The event rows were pruned (retention) under a pending notification: nothing to show.
      await recordNotification(ctx, {
        id: row.id,
        leaseToken: String(row.lease_token),
        result: { status: 'cancelled', error: 'The operational event no longer exists.' },
      });
      continue;
    }
    claimed.push({
      id: row.id,
      channel: row.channel,
      type: row.type,
      tenantId: row.tenant_id,
      endpointId: row.endpoint_id,
      eventCount: Number(row.event_count),
      attemptCount: Number(row.attempt_count),
      leaseToken: String(row.lease_token),
      firstEvent,
      lastEvent,
      endpointUrl: urls.get(row.endpoint_id) ?? null,
    });
  }
  return claimed;
}

/** Records how a try ended, if the caller still holds the lease; false when it lost it. */
export async function recordNotification(
  ctx: StorageContext,
  outcome: NotificationOutcome,
): Promise<boolean> {
  const { result } = outcome;
  const delayMs = result.status === 'retry' ? Math.max(0, result.delayMs) : null;
  const error = result.status === 'sent' ? null : result.error.slice(0, 1000);
  const status = result.status === 'retry' ? 'pending' : result.status;
  const rows = await ctx.sql.query(sql`
    update alert_notifications
    set status = ${status},
      next_attempt_at = now() + ${delayMs}::float8 * interval '1 millisecond',
      last_error = ${error}::text,
      lease_token = null, updated_at = now(),
      sent_at = case when ${status} = 'sent' then now() else sent_at end
    where id = ${outcome.id} and lease_token = ${outcome.leaseToken}::uuid
    returning id`);
  return rows.length > 0;
}

/** When the earliest pending notification of these channels falls due, or null. */
export async function nextNotificationDueAt(
  ctx: StorageContext,
  channels: readonly AlertChannelKind[],
): Promise<Date | null> {
  if (channels.length === 0) return null;
  const [row] = await ctx.sql.query<{ at: Date | null }>(sql`
    select min(next_attempt_at) as at from alert_notifications
    where status = 'pending' and channel = any(${[...channels]}::text[])`);
  return toDateOrNull(row?.at ?? null);
}

/**
 * Deletes finished notifications older than `keepDays` and rate-limit rows whose interval is
 * long over, in batches of `batchSize`; how many notifications went.
 */
export async function pruneNotifications(
  ctx: StorageContext,
  options: { keepDays: number; intervalMs: number; batchSize?: number },
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const deleted = await ctx.sql.query(sql`
    delete from alert_notifications where id in (
      select id from alert_notifications
      where status <> 'pending' and updated_at < now() - ${options.keepDays}::float8 * interval '1 day'
      limit ${batchSize}::int)
    returning id`);
  // A key whose last notification is more than an interval old limits nothing any more.
  await ctx.sql.query(sql`
    delete from alert_rate_limits where (channel, endpoint_id, type) in (
      select r.channel, r.endpoint_id, r.type from alert_rate_limits r
      where r.last_scheduled_at < now() - ${options.intervalMs}::float8 * interval '1 millisecond'
        - interval '1 hour'
        and not exists (select 1 from alert_notifications n
          where n.id = r.open_notification_id and n.status = 'pending')
      limit ${batchSize}::int)`);
  return deleted.length;
}

/** Notifications (oldest first), optionally of one tenant or endpoint: for inspection and tests. */
export async function listNotifications(
  ctx: StorageContext,
  filter: { tenantId?: string; endpointId?: string } = {},
): Promise<AlertNotification[]> {
  const rows = await ctx.sql.query<NotificationRow>(sql`
    select id, channel, type, tenant_id, endpoint_id, first_event_id, last_event_id, event_count,
      status, attempt_count, scheduled_at, next_attempt_at, last_error, created_at, sent_at
    from alert_notifications
    where (${filter.tenantId ?? null}::text is null or tenant_id = ${filter.tenantId ?? null}::text)
      and (${filter.endpointId ?? null}::text is null
        or endpoint_id = ${filter.endpointId ?? null}::text)
    order by id`);
  return rows.map((row) => ({
    id: row.id,
    channel: row.channel,
    type: row.type,
    tenantId: row.tenant_id,
    endpointId: row.endpoint_id,
    firstEventId: row.first_event_id,
    lastEventId: row.last_event_id,
    eventCount: Number(row.event_count),
    status: row.status,
    attemptCount: Number(row.attempt_count),
    scheduledAt: toDate(row.scheduled_at),
    nextAttemptAt: toDateOrNull(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: toDate(row.created_at),
    sentAt: toDateOrNull(row.sent_at),
  }));
}

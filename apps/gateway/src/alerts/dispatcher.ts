/**
 * The alert dispatcher: turns operational events into notifications (one per channel,
 * rate-limited) and sends them: the operator's webhook (signed like deliveries), tenants' emails
 * and Slack. Every state is in the database, so any number of processes may run one; a failed
 * send is retried with backoff for hours, then marked failed and logged.
 */
import type { Logger } from '../logger';
import type { HttpClient, SendResult } from '../net/http-client';
import { signWebhook } from '../signing/signer';
import type { AlertChannelKind, ClaimedNotification, NotificationResult } from '../storage/alerts';
import type { Store } from '../storage/store';
import { describeEmailError, type EmailTransport } from './email';
import { ALERT_PORTAL_LINK_TTL_MS, mintAlertPortalLink } from './portal-link';
import { type AlertView, operationalWebhookBody, renderEmail, renderSlack, viewOf } from './render';

/** Delays (seconds) after each failed try: 9 tries over about 8 hours. */
export const DEFAULT_ALERT_RETRY_SCHEDULE: readonly number[] = [
  10, 60, 300, 900, 1800, 3600, 7200, 14400,
];
/** Default rate limit: one alert per channel, endpoint and event type per hour. */
export const DEFAULT_ALERT_INTERVAL_MS = 60 * 60 * 1000;

/** The operator's webhook (`HOOKLINE_OPERATIONAL_WEBHOOK_URL` / `_SECRET`). */
export interface OperationalWebhookChannel {
  url: string;
  /** The `whsec_` secret it is signed with. */
  secret: string;
  /** Operator configuration, so not SSRF-guarded like tenant URLs (see docs/security.md). */
  client: Pick<HttpClient, 'send'>;
}

/** Tenants' emails (`HOOKLINE_SMTP_URL`, `HOOKLINE_SMTP_FROM`). */
export interface EmailChannel {
  transport: EmailTransport;
  from: string;
}

/** Tenants' Slack-compatible incoming webhooks: tenant URLs, so through the SSRF-guarded client. */
export interface SlackChannel {
  client: Pick<HttpClient, 'send'>;
}

/** What `createAlertDispatcher` needs. */
export interface AlertDispatcherOptions {
  store: Pick<Store, 'alerts' | 'alertChannels' | 'endpoints' | 'portalTokens'>;
  logger: Logger;
  /** The channels this process can send to; a channel left out is neither expanded nor claimed. */
  channels: {
    operationalWebhook?: OperationalWebhookChannel | null;
    email?: EmailChannel | null;
    slack?: SlackChannel | null;
  };
  /** Base of the portal links in emails (`HOOKLINE_PUBLIC_URL`). */
  publicUrl: string;
  /** For `user-agent: Hookline/<version>`. */
  userAgentVersion: string;
  /** At most one alert per (channel, endpoint, event type) this often (default 1 h; 0 = all). */
  intervalMs?: number;
  /** Delays in seconds after each failed try (default: 10 s … 4 h, 9 tries). */
  retrySchedule?: readonly number[];
  /** How long a claimed notification stays this dispatcher's (default 60 s). */
  leaseMs?: number;
  /** Longest sleep with nothing due: the safety net under LISTEN/NOTIFY (default 1 s). */
  pollIntervalMs?: number;
  /** Notifications sent at once (default 8). */
  concurrency?: number;
  /** Request timeout of webhook and Slack sends (default 10 s). */
  timeoutMs?: number;
  /** Lifetime of an email's portal link (default 7 days). */
  portalLinkTtlMs?: number;
  /** Finished notifications are deleted after this many days (default 14). */
  keepDays?: number;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
}

/** A running dispatcher. */
export interface AlertDispatcher {
  /** Subscribes to new events and starts dispatching. */
  start(): Promise<void>;
  /**
   * Stops claiming and waits up to `graceMs` (default 10 s) for sends in flight; any still
   * going after that are sent again by whichever dispatcher claims them when their lease ends.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Runs one round now (tests, and a wake-up from this process). */
  wake(): void;
}

type SendOutcome =
  | { ok: true; detail?: Record<string, unknown> }
  | { ok: false; error: string; permanent?: boolean; cancelled?: boolean };

function httpFailure(result: SendResult): string {
  if (result.outcome === 'success') return '';
  const status = result.httpStatus === undefined ? '' : ` (HTTP ${result.httpStatus})`;
  return `${result.outcome.replace(/_/g, ' ')}${status}${result.error ? `: ${result.error}` : ''}`;
}

/** Creates the dispatcher; call `start()`. */
export function createAlertDispatcher(options: AlertDispatcherOptions): AlertDispatcher {
  const { store } = options;
  const log = options.logger.child({ component: 'alerts' });
  const channels = options.channels;
  const intervalMs = Math.max(0, options.intervalMs ?? DEFAULT_ALERT_INTERVAL_MS);
  const schedule = options.retrySchedule ?? DEFAULT_ALERT_RETRY_SCHEDULE;
  const maxAttempts = schedule.length + 1;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const portalLinkTtlMs = options.portalLinkTtlMs ?? ALERT_PORTAL_LINK_TTL_MS;
  const keepDays = options.keepDays ?? 14;
  const random = options.random ?? Math.random;
  const kinds: AlertChannelKind[] = [];
  if (channels.operationalWebhook) kinds.push('operational_webhook');
  if (channels.email) kinds.push('email');
  if (channels.slack) kinds.push('slack');

  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const sending = new Set<Promise<void>>();
  let dirty = true;
  let wakeSleeper: (() => void) | undefined;
  let lastPruneAt = 0;

  function wake(): void {
    dirty = true;
    wakeSleeper?.();
  }

  async function sendOperationalWebhook(
    channel: OperationalWebhookChannel,
    view: AlertView,
  ): Promise<SendOutcome> {
    const body = Buffer.from(operationalWebhookBody(view), 'utf8');
    // Signed exactly like a tenant delivery; the event id is the webhook-id on every retry.
    const signature = signWebhook({
      keys: { current: channel.secret },
      messageId: view.eventId,
      timestamp: new Date(),
      body,
    });
    const result = await channel.client.send({
      url: channel.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': `Hookline/${options.userAgentVersion}`,
        ...signature,
      },
      body,
      timeoutMs,
    });
    return result.outcome === 'success'
      ? { ok: true, detail: { http_status: result.httpStatus } }
      : { ok: false, error: httpFailure(result) };
  }

  async function sendEmail(
    channel: EmailChannel,
    notification: ClaimedNotification,
    view: AlertView,
  ): Promise<SendOutcome> {
    const { emails } = await store.alertChannels.get(notification.tenantId);
    if (emails.length === 0) {
      return { ok: false, cancelled: true, error: 'The tenant no longer has alert emails.' };
    }
    // One fresh link per try (revoked if the try fails); none once the endpoint is deleted.
    const link = await mintAlertPortalLink(store, {
      tenantId: notification.tenantId,
      endpointId: notification.endpointId,
      publicUrl: options.publicUrl,
      ttlMs: portalLinkTtlMs,
    });
    const email = renderEmail(view, link);
    try {
      const result = await channel.transport.send({
        from: channel.from,
        to: emails,
        ...email,
        // Ties the tries of one alert together in mail clients and server logs.
        headers: { 'X-Hookline-Event-Id': view.eventId, 'X-Hookline-Alert-Id': notification.id },
      });
      if (result.rejected.length > 0) {
        log.warn(
          { notification_id: notification.id, rejected: result.rejected.length },
          'some alert email recipients were refused',
        );
        log.debug(
          { notification_id: notification.id, rejected: result.rejected },
          'refused recipients',
        );
      }
      log.debug(
        { notification_id: notification.id, accepted: result.accepted },
        'alert email accepted',
      );
      return { ok: true, detail: { recipients: result.accepted.length } };
    } catch (error) {
      // The link was never delivered: make sure it cannot be used.
      if (link) await store.portalTokens.revoke(link.tokenId).catch(() => false);
      const described = describeEmailError(error);
      return { ok: false, error: described.message, permanent: described.permanent };
    }
  }

  async function sendSlack(
    channel: SlackChannel,
    notification: ClaimedNotification,
    view: AlertView,
  ): Promise<SendOutcome> {
    const { slackWebhookUrl } = await store.alertChannels.get(notification.tenantId);
    if (slackWebhookUrl === null) {
      return { ok: false, cancelled: true, error: 'The tenant no longer has a Slack webhook.' };
    }
    const result = await channel.client.send({
      url: slackWebhookUrl,
      headers: {
        'content-type': 'application/json',
        'user-agent': `Hookline/${options.userAgentVersion}`,
      },
      body: JSON.stringify(renderSlack(view)),
      timeoutMs,
    });
    // The URL's path is the credential: errors from the client never carry it.
    return result.outcome === 'success'
      ? { ok: true, detail: { http_status: result.httpStatus } }
      : { ok: false, error: httpFailure(result) };
  }

  async function sendOne(notification: ClaimedNotification): Promise<SendOutcome> {
    const view = viewOf(notification, intervalMs);
    switch (notification.channel) {
      case 'operational_webhook':
        return channels.operationalWebhook
          ? sendOperationalWebhook(channels.operationalWebhook, view)
          : { ok: false, cancelled: true, error: 'No operational webhook is configured.' };
      case 'email':
        return channels.email
          ? sendEmail(channels.email, notification, view)
          : { ok: false, cancelled: true, error: 'No SMTP server is configured.' };
      case 'slack':
        return channels.slack
          ? sendSlack(channels.slack, notification, view)
          : { ok: false, cancelled: true, error: 'Slack alerts are not enabled.' };
    }
  }

  async function deliver(notification: ClaimedNotification): Promise<void> {
    let outcome: SendOutcome;
    try {
      outcome = await sendOne(notification);
    } catch (error) {
      outcome = {
        ok: false,
        error: `alert not sent: ${error instanceof Error ? error.message : String(error)}`.slice(
          0,
          300,
        ),
      };
    }
    const fields = {
      type: notification.type,
      channel: notification.channel,
      event_id: notification.lastEvent.id,
      notification_id: notification.id,
      tenant_id: notification.tenantId,
      endpoint_id: notification.endpointId,
      event_count: notification.eventCount,
      attempt: notification.attemptCount,
    };
    let result: NotificationResult;
    if (outcome.ok) {
      result = { status: 'sent' };
    } else if (outcome.cancelled) {
      result = { status: 'cancelled', error: outcome.error };
    } else if (outcome.permanent || notification.attemptCount >= maxAttempts) {
      result = { status: 'failed', error: outcome.error };
    } else {
      const base = (schedule[notification.attemptCount - 1] ?? 0) * 1000;
      // ±10 % jitter, as for deliveries: dispatchers retrying after one outage spread out.
      const delay = Math.round(base * (0.9 + 0.2 * random()));
      result = { status: 'retry', delayMs: delay, error: outcome.error };
    }
    let recorded = false;
    try {
      recorded = await store.alerts.record({
        id: notification.id,
        leaseToken: notification.leaseToken,
        result,
      });
    } catch (error) {
      log.error({ err: error, ...fields }, 'could not record an alert notification');
    }
    if (outcome.ok) {
      log.info({ ...fields, ...outcome.detail }, 'alert sent');
    } else if (result.status === 'cancelled') {
      log.info({ ...fields, reason: outcome.error }, 'alert cancelled');
    } else if (result.status === 'failed') {
      log.error(
        { ...fields, error: outcome.error, permanent: outcome.permanent === true },
        'alert failed: giving up',
      );
    } else {
      log.warn(
        { ...fields, error: outcome.error, retry_in_ms: (result as { delayMs: number }).delayMs },
        'alert not sent: will retry',
      );
    }
    if (!recorded) {
      log.warn(
        fields,
        'alert lease was lost before its outcome was recorded; it may be sent again',
      );
    }
  }

  async function round(): Promise<void> {
    // Expand every waiting event first (in batches), so a burst folds before anything is sent.
    for (let batch = 0; batch < 20; batch++) {
      const expanded = await store.alerts.expandEvents({
        operationalWebhook: channels.operationalWebhook != null,
        email: channels.email != null,
        slack: channels.slack != null,
        intervalMs,
        limit: 200,
      });
      if (expanded.events > 0) {
        log.debug(expanded, 'operational events expanded into alert notifications');
      }
      if (expanded.events < 200) break;
    }
    const free = concurrency - sending.size;
    if (free > 0 && kinds.length > 0) {
      const claimed = await store.alerts.claim({ channels: kinds, limit: free, leaseMs });
      for (const notification of claimed) {
        const task: Promise<void> = deliver(notification).finally(() => {
          sending.delete(task);
          wake();
        });
        sending.add(task);
      }
    }
    if (Date.now() - lastPruneAt > 60 * 60 * 1000) {
      lastPruneAt = Date.now();
      const pruned = await store.alerts.prune({ keepDays, intervalMs });
      if (pruned > 0) log.debug({ pruned }, 'old alert notifications deleted');
    }
  }

  /** Sleeps up to `ms`, or until a wake-up (new events, a freed slot, `stop`). */
  async function pause(ms: number): Promise<void> {
    await new Promise<void>((done) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      wakeSleeper = () => {
        clearTimeout(timer);
        done();
      };
    });
    wakeSleeper = undefined;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (state === 'running') {
      dirty = false;
      try {
        await round();
        failures = 0;
      } catch (error) {
        failures++;
        log.error({ err: error }, 'alert dispatch round failed');
        // Back off while the database is in trouble; a wake-up (or stop) cuts the wait short.
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (dirty || state !== 'running') continue;
      let waitMs = pollIntervalMs;
      if (sending.size < concurrency) {
        try {
          const due = await store.alerts.nextDueAt(kinds);
          // At least 50 ms: with the host's clock ahead of the database's, a due time that
          // looks past here may not be due yet there, and must not make this loop spin.
          if (due) waitMs = Math.max(50, Math.min(waitMs, due.getTime() - Date.now()));
        } catch {
          // The next round reports database trouble.
        }
      }
      if (dirty || state !== 'running') continue;
      await pause(waitMs);
    }
  }

  return {
    async start() {
      if (state !== 'new') throw new Error('The alert dispatcher was already started.');
      state = 'running';
      try {
        unlisten = await store.alerts.onEvents(wake);
      } catch (error) {
        // Polling still finds every event, a little later.
        log.warn({ err: error }, 'could not listen for operational events; polling only');
      }
      loop = run();
      log.info(
        { channels: kinds, interval_ms: intervalMs, max_attempts: maxAttempts },
        'alert dispatcher started',
      );
    },
    async stop({ graceMs = 10_000 } = {}) {
      if (state !== 'running') {
        state = 'stopped';
        return;
      }
      state = 'stopping';
      wakeSleeper?.();
      await loop;
      if (sending.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...sending]),
          new Promise<void>((done) => {
            timer = setTimeout(done, graceMs);
          }),
        ]);
        clearTimeout(timer);
      }
      await unlisten?.().catch(() => {});
      state = 'stopped';
    },
    wake,
  };
}

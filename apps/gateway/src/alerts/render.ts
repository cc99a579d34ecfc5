/**
 * What an alert says, per channel: the operational webhook's JSON body, an email (subject, text,
 * HTML) and a Slack incoming-webhook message. Plain functions of one notification's view.
 */
import type { ClaimedNotification, OperationalEventType } from '../storage/alerts';

/** Everything an alert shows. */
export interface AlertView {
  type: OperationalEventType;
  tenantId: string;
  endpointId: string;
  /** The endpoint's URL as shown (query and credentials left out); null when it was deleted. */
  endpointUrl: string | null;
  /** The latest event's id (the operational `webhook-id`). */
  eventId: string;
  deliveryId: string | null;
  messageId: string | null;
  /** The latest event's data. */
  data: Record<string, unknown>;
  /** Events this alert stands for (1 + folded by the rate limit). */
  eventCount: number;
  firstAt: Date;
  lastAt: Date;
  /** The rate limit (ms), to explain a folded count. */
  intervalMs: number;
}

/** A portal link to put in an email (a credential: never logged). */
export interface PortalLinkView {
  url: string;
  expiresAt: Date;
}

/** The rendered email. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** A Slack incoming-webhook body. */
export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/**
 * An endpoint URL fit to show in alerts: scheme, host, port and path. The query (which often
 * carries a token) becomes `?…`; credentials and fragment are left out.
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** The view of a claimed notification. */
export function viewOf(notification: ClaimedNotification, intervalMs: number): AlertView {
  const last = notification.lastEvent;
  return {
    type: notification.type,
    tenantId: notification.tenantId,
    endpointId: notification.endpointId,
    endpointUrl: notification.endpointUrl === null ? null : displayUrl(notification.endpointUrl),
    eventId: last.id,
    deliveryId: last.deliveryId,
    messageId: last.messageId,
    data: last.data,
    eventCount: notification.eventCount,
    firstAt: notification.firstEvent.createdAt,
    lastAt: last.createdAt,
    intervalMs,
  };
}

/** The operational webhook body: `{"type", "timestamp", "data"}` like a tenant delivery. */
export function operationalWebhookBody(view: AlertView): string {
  return JSON.stringify({
    type: view.type,
    timestamp: view.lastAt.toISOString(),
    data: {
      ...view.data,
      tenant_id: view.tenantId,
      endpoint_id: view.endpointId,
      endpoint_url: view.endpointUrl,
      delivery_id: view.deliveryId,
      message_id: view.messageId,
      // Events of this type for this endpoint since the last alert, this one included.
      event_count: view.eventCount,
      first_event_at: view.firstAt.toISOString(),
    },
  });
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** "42 minutes", "3 hours", "2 days". */
export function humanDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.round(seconds / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return '1 second';
}

/** What the last attempt got: "HTTP 500", or "no HTTP response (timeout)". */
function lastStatus(data: Record<string, unknown>): string | null {
  const status = integer(data.http_status);
  if (status !== null) return `HTTP ${status}`;
  const outcome = text(data.outcome);
  return outcome === null ? null : `no HTTP response (${outcome.replace(/_/g, ' ')})`;
}

function endpointName(view: AlertView): string {
  return view.endpointUrl ?? `endpoint ${view.endpointId} (deleted)`;
}

function title(view: AlertView): string {
  const target = view.endpointUrl === null ? view.endpointId : hostOf(view.endpointUrl);
  switch (view.type) {
    case 'delivery.dead':
      return view.eventCount > 1
        ? `${view.eventCount} webhook deliveries failed permanently to ${target}`
        : `Webhook delivery failed permanently to ${target}`;
    case 'endpoint.disabled':
      return `Webhook endpoint disabled: ${target}`;
    case 'endpoint.recovered':
      return `Webhook endpoint recovered: ${target}`;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The opening sentence. */
function headline(view: AlertView): string {
  const url = endpointName(view);
  const since = text(view.data.failing_since);
  switch (view.type) {
    case 'delivery.dead': {
      const eventType = text(view.data.event_type);
      return `A webhook${eventType ? ` (${eventType})` : ''} to ${url} failed on every attempt and will not be retried. It can be replayed.`;
    }
    case 'endpoint.disabled':
      return view.data.reason === 'gone'
        ? `The endpoint ${url} answered 410 Gone and was disabled: it receives no more webhooks until it is enabled again.`
        : `The endpoint ${url} failed every delivery${since ? ` since ${since}` : ''} and was disabled automatically: it receives no more webhooks until it is enabled again.`;
    case 'endpoint.recovered':
      return `The endpoint ${url} is receiving webhooks again${since ? ` after failing since ${since}` : ''}.`;
  }
}

/** The rate limit's summary ("12 more deliveries … died in the last 58 minutes"), if any. */
export function foldedLine(view: AlertView): string | null {
  if (view.eventCount <= 1) return null;
  const more = view.eventCount - 1;
  const span = humanDuration(view.lastAt.getTime() - view.firstAt.getTime());
  const limit = humanDuration(view.intervalMs);
  const url = endpointName(view);
  switch (view.type) {
    case 'delivery.dead':
      return `${more} more ${more === 1 ? 'delivery' : 'deliveries'} to ${url} died in the last ${span} (alerts for this endpoint are sent at most once per ${limit}).`;
    case 'endpoint.disabled':
      return `The endpoint was disabled ${view.eventCount} times in the last ${span} (alerts for this endpoint are sent at most once per ${limit}).`;
    case 'endpoint.recovered':
      return `The endpoint recovered ${view.eventCount} times in the last ${span} (alerts for this endpoint are sent at most once per ${limit}).`;
  }
}

/** Label and value rows shared by email and Slack. */
function facts(view: AlertView): [string, string][] {
  const rows: [string, string][] = [
    ['Endpoint', `${endpointName(view)} (${view.endpointId})`],
    ['Tenant', view.tenantId],
  ];
  const eventType = text(view.data.event_type);
  if (eventType) rows.push(['Event type', eventType]);
  if (view.deliveryId)
    rows.push([view.type === 'delivery.dead' ? 'Delivery' : 'Last delivery', view.deliveryId]);
  if (view.messageId) rows.push(['Message', view.messageId]);
  const attempts = integer(view.data.attempt_count);
  if (attempts !== null) rows.push(['Attempts', String(attempts)]);
  if (view.type !== 'endpoint.recovered') {
    const status = lastStatus(view.data);
    if (status) rows.push(['Last status', status]);
    const error = text(view.data.error);
    if (error) rows.push(['Last error', truncate(error, 500)]);
  }
  if (view.type === 'endpoint.disabled' && text(view.data.reason)) {
    rows.push(['Reason', view.data.reason === 'gone' ? '410 Gone' : 'failing for too long']);
  }
  rows.push(['When', view.lastAt.toISOString()]);
  rows.push(['Event', view.eventId]);
  return rows;
}

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The alert email: subject, plain text and a simple HTML version. */
export function renderEmail(view: AlertView, portal: PortalLinkView | null): RenderedEmail {
  const subject = `[Hookline] ${title(view)}`;
  const rows = facts(view);
  const folded = foldedLine(view);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = [headline(view), ''];
  for (const [label, value] of rows) lines.push(`${`${label}:`.padEnd(width)}${value}`);
  if (folded) lines.push('', folded);
  const action =
    view.type === 'endpoint.recovered'
      ? 'Review the endpoint in the portal'
      : view.type === 'delivery.dead'
        ? 'Replay it from the portal'
        : 'Fix the endpoint, enable it and recover its failed deliveries in the portal';
  if (portal) {
    lines.push(
      '',
      `${action} (this link signs you in; it is valid until ${portal.expiresAt.toISOString()}, do not forward it):`,
      portal.url,
    );
  }
  lines.push('', '-- ', 'Sent by Hookline because this address receives alerts for its tenant.');

  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.4">',
    `<p>${escapeHtml(headline(view))}</p>`,
    '<table cellpadding="4" style="border-collapse: collapse">',
    ...rows.map(
      ([label, value]) =>
        `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    ),
    '</table>',
    folded ? `<p>${escapeHtml(folded)}</p>` : '',
    portal
      ? `<p><a href="${escapeHtml(portal.url)}">${escapeHtml(action)}</a> (this link signs you in; it is valid until ${escapeHtml(portal.expiresAt.toISOString())}, do not forward it).</p>`
      : '',
    '<p style="color: #666">Sent by Hookline because this address receives alerts for its tenant.</p>',
    '</body></html>',
  ].join('\n');
  return { subject, text: `${lines.join('\n')}\n`, html };
}

function escapeSlack(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack incoming-webhook body: a fallback `text` and Block Kit `blocks`. */
export function renderSlack(view: AlertView): SlackMessage {
  const folded = foldedLine(view);
  const summary = `${title(view)}. ${headline(view)}`;
  const fields = facts(view)
    .filter(([label]) => label !== 'Event')
    .slice(0, 10)
    .map(([label, value]) => ({
      type: 'mrkdwn',
      text: truncate(`*${escapeSlack(label)}*\n${escapeSlack(value)}`, 2000),
    }));
  const blocks: Record<string, unknown>[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*${escapeSlack(title(view))}*\n${escapeSlack(headline(view))}`, 3000),
      },
    },
    { type: 'section', fields },
  ];
  if (folded) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(folded) } });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: escapeSlack(`Hookline · ${view.type} · ${view.eventId}`) }],
  });
  return { text: truncate(folded ? `${summary} ${folded}` : summary, 3000), blocks };
}

import type {
  AttemptOutcome,
  DeliveryStatus,
  EndpointStatus,
  ErrorDetail,
  Health,
} from './wire.gen';

/** Colour family of a badge. */
export type Tone = 'success' | 'warning' | 'danger' | 'info' | 'neutral';

let dateTimeFormat: Intl.DateTimeFormat | undefined;

/** A timestamp as a medium local date and time. */
export function formatDateTime(iso: string): string {
  dateTimeFormat ??= new Intl.DateTimeFormat(undefined, {
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}

/** Milliseconds as `45 ms` or `1.2 s`; an em dash when unknown. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Seconds as the largest whole unit: `30 s`, `5 min`, `2 h`, `1 d`. */
export function formatDelay(seconds: number): string {
  if (seconds === 0) return 'immediately';
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** A percentage of a 0–1 rate, or an em dash. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${Math.round(rate * 1000) / 10}%`;
}

const DELIVERY_STATUS: Record<DeliveryStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'info' },
  succeeded: { label: 'Succeeded', tone: 'success' },
  failed: { label: 'Failed, will retry', tone: 'warning' },
  dead: { label: 'Failed', tone: 'danger' },
  held: { label: 'Held (paused)', tone: 'neutral' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
};

/** Label and tone of a delivery status. */
export function deliveryStatusInfo(status: DeliveryStatus): { label: string; tone: Tone } {
  return DELIVERY_STATUS[status] ?? { label: status, tone: 'neutral' };
}

const OUTCOME: Record<AttemptOutcome, string> = {
  success: 'Success',
  timeout: 'Timed out',
  http_4xx: 'Client error (4xx)',
  http_5xx: 'Server error (5xx)',
  redirect: 'Redirect (not followed)',
  network_error: 'Network error',
  blocked: 'Blocked by the gateway',
};

/** A human label of an attempt outcome. */
export function outcomeLabel(outcome: AttemptOutcome): string {
  return OUTCOME[outcome] ?? outcome;
}

const ENDPOINT_STATUS: Record<EndpointStatus, { label: string; tone: Tone }> = {
  active: { label: 'Active', tone: 'success' },
  paused: { label: 'Paused', tone: 'warning' },
  disabled: { label: 'Disabled', tone: 'danger' },
};

/** Label and tone of an endpoint status. */
export function endpointStatusInfo(status: EndpointStatus): { label: string; tone: Tone } {
  return ENDPOINT_STATUS[status] ?? { label: status, tone: 'neutral' };
}

const HEALTH: Record<Health, string> = {
  green: 'Healthy',
  yellow: 'Some failures',
  red: 'Failing',
};

/** A human label of an endpoint's health. */
export function healthLabel(health: Health): string {
  return HEALTH[health] ?? health;
}

/** An endpoint's event filter in a few words: `All events`, `a.b`, `a.b, c.d`, `a.b +2 more`. */
export function eventFilterSummary(eventTypes: readonly string[]): string {
  if (eventTypes.length === 0) return 'All events';
  if (eventTypes.length <= 2) return eventTypes.join(', ');
  return `${eventTypes[0]} +${eventTypes.length - 1} more`;
}

/** A body for display: pretty-printed when it is JSON, as received otherwise. */
export function prettyBody(text: string): string {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text;
  }
}

/**
 * Groups a 400's details by top-level field: `headers["Host"]` → `headers`, `emails[1]` → `emails`,
 * `''` (the whole body) → `''`.
 */
export function detailsByField(details: readonly ErrorDetail[]): Map<string, ErrorDetail[]> {
  const out = new Map<string, ErrorDetail[]>();
  for (const detail of details) {
    const field = /^[A-Za-z_][A-Za-z0-9_]*/.exec(detail.path)?.[0] ?? '';
    const list = out.get(field) ?? [];
    list.push(detail);
    out.set(field, list);
  }
  return out;
}

/** A field error as a sentence: `must use https://` → `Must use https://.` */
export function sentence(predicate: string): string {
  const text = predicate.trim();
  if (text === '') return text;
  const capital = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Whether an endpoint URL passes the gateway's scheme rules: https (or http when allowed), no credentials. */
export function endpointUrlProblem(value: string, allowHttp: boolean): string | null {
  const text = value.trim();
  if (text === '') return 'Enter the URL that should receive webhooks.';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter a full URL, like https://example.com/webhooks.';
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    return allowHttp
      ? 'The URL must start with https:// or http://.'
      : 'The URL must start with https://.';
  }
  if (url.username !== '' || url.password !== '') {
    return 'The URL must not contain a username or password.';
  }
  return null;
}

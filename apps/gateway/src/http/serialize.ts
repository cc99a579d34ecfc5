/**
 * The one place where storage's camelCase records become API.md's snake_case wire objects
 * (the `@hookline/api` response schemas). Timestamps are RFC 3339 (`toISOString`).
 */
import type {
  EndpointRotateSecretResponse,
  EndpointWithSecret,
  ListResponse,
  AlertChannels as WireAlertChannels,
  Attempt as WireAttempt,
  AttemptSummary as WireAttemptSummary,
  Delivery as WireDelivery,
  DeliveryWithAttempts as WireDeliveryWithAttempts,
  Endpoint as WireEndpoint,
  EndpointStats as WireEndpointStats,
  EventType as WireEventType,
  Message as WireMessage,
  MessageAccepted as WireMessageAccepted,
  PortalLink as WirePortalLink,
} from '@hookline/api';
import type { RotatedSecret } from '../domain/endpoints';
import type { PortalLink } from '../domain/portal';
import type {
  AlertChannels,
  Attempt,
  AttemptSummary,
  Delivery,
  DeliveryWithAttempts,
  Endpoint,
  EndpointStats,
  EventType,
  Message,
  MessageAccepted,
  Page,
} from '../storage/types';

const iso = (date: Date): string => date.toISOString();
const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** A page as `{data, next_cursor}`. */
export function page<T, W>(items: Page<T>, map: (item: T) => W): ListResponse<W> {
  return { data: items.data.map(map), next_cursor: items.nextCursor };
}

/** The endpoint object: never the secret, only its hint. */
export function endpoint(e: Endpoint): WireEndpoint {
  return {
    id: e.id,
    tenant_id: e.tenantId,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    status: e.status,
    disabled_reason: e.status === 'disabled' ? (e.disabledReason ?? 'manual') : null,
    rate_limit_per_minute: e.rateLimitPerMinute,
    retry_schedule: e.retrySchedule,
    headers: e.headers,
    metadata: e.metadata,
    signing: e.signing,
    secret_hint: e.secretHint,
    public_key: e.publicKey,
    rotation: e.rotation
      ? { previous_secret_expires_at: iso(e.rotation.previousSecretExpiresAt) }
      : null,
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
  };
}

/** The create answer: the endpoint with its secret (the only time it is shown). */
export function endpointWithSecret(e: Endpoint, secret: string): EndpointWithSecret {
  return { ...endpoint(e), secret };
}

/** The rotate-secret answer. */
export function rotatedSecret(r: RotatedSecret): EndpointRotateSecretResponse {
  return {
    secret: r.secret,
    previous_secret_expires_at: iso(r.previousSecretExpiresAt),
    public_key: r.publicKey,
  };
}

/** Endpoint stats. */
export function endpointStats(s: EndpointStats): WireEndpointStats {
  return {
    window: s.window,
    succeeded: s.succeeded,
    failed: s.failed,
    pending: s.pending,
    dead: s.dead,
    success_rate: s.successRate,
    latency_ms_p50: s.latencyMsP50,
    latency_ms_p95: s.latencyMsP95,
    health: s.health,
  };
}

/** The 202 answer of `POST /v1/messages`. */
export function messageAccepted(m: MessageAccepted): WireMessageAccepted {
  return {
    id: m.id,
    tenant_id: m.tenantId,
    event_type: m.eventType,
    created_at: iso(m.createdAt),
    delivery_count: m.deliveryCount,
  };
}

/** The message object with its payload. */
export function message(m: Message): WireMessage {
  return {
    id: m.id,
    tenant_id: m.tenantId,
    event_type: m.eventType,
    payload: JSON.parse(m.payloadJson) as Record<string, unknown>,
    endpoint_id: m.endpointId,
    created_at: iso(m.createdAt),
  };
}

/** An attempt without headers and bodies (`last_attempt`). */
export function attemptSummary(a: AttemptSummary): WireAttemptSummary {
  return {
    id: a.id,
    delivery_id: a.deliveryId,
    attempt_number: a.attemptNumber,
    trigger: a.trigger,
    outcome: a.outcome,
    http_status: a.httpStatus,
    latency_ms: a.latencyMs,
    error: a.error,
    attempted_at: iso(a.attemptedAt),
  };
}

/** An attempt with its request and response. */
export function attempt(a: Attempt): WireAttempt {
  return {
    ...attemptSummary(a),
    request_headers: a.requestHeaders,
    request_body: a.requestBody,
    request_body_truncated: a.requestBodyTruncated,
    response_headers: a.responseHeaders,
    response_body: a.responseBody,
    response_body_truncated: a.responseBodyTruncated,
  };
}

/** The delivery object. */
export function delivery(d: Delivery): WireDelivery {
  return {
    id: d.id,
    message_id: d.messageId,
    endpoint_id: d.endpointId,
    tenant_id: d.tenantId,
    event_type: d.eventType,
    status: d.status,
    attempt_count: d.attemptCount,
    next_attempt_at: isoOrNull(d.nextAttemptAt),
    last_attempt: d.lastAttempt ? attemptSummary(d.lastAttempt) : null,
    test: d.test,
    created_at: iso(d.createdAt),
  };
}

/** A delivery with every attempt, oldest first. */
export function deliveryWithAttempts(d: DeliveryWithAttempts): WireDeliveryWithAttempts {
  return { ...delivery(d), attempts: d.attempts.map(attempt) };
}

/** A catalog entry. */
export function eventType(t: EventType): WireEventType {
  return {
    name: t.name,
    description: t.description,
    schema: t.schema,
    example: t.example,
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

/** A tenant's alert channels. */
export function alertChannels(a: AlertChannels): WireAlertChannels {
  return { tenant_id: a.tenantId, emails: a.emails, slack_webhook_url: a.slackWebhookUrl };
}

/** A minted portal link. */
export function portalLink(l: PortalLink): WirePortalLink {
  return { url: l.url, token: l.token, expires_at: iso(l.expiresAt) };
}

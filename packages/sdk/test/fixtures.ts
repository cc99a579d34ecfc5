// Wire objects as the gateway sends them (checked against the @hookline/api response schemas by
// the tests that use them), and the same objects as the SDK must hand them over, written out by
// hand in camelCase: the conversion is checked against an independent statement of the result.
import type * as api from '@hookline/api';
import type {
  AlertChannels,
  Attempt,
  Delivery,
  DeliveryWithAttempts,
  Endpoint,
  EndpointStats,
  EndpointWithSecret,
  EventType,
  Message,
  MessageAccepted,
  PortalLink,
  RotatedSecret,
} from '../src/index';

const T0 = '2025-01-31T12:00:00.000Z';
const T1 = '2025-01-31T12:00:05.000Z';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** User-chosen keys that must survive untouched in both directions. */
export const FREE_FORM = {
  headers: { 'X-Api_Key': 'k1', 'x-tenant-tag': 'blue', x_trace_id: 't1' },
  metadata: { customerId: 'c_1', plan_tier: 'pro', 'Mixed-Key': 'v' },
  payload: {
    invoice_id: 'in_1',
    amountDue: 4200,
    nested_obj: { line_items: [{ unit_price: 1 }], camelCase: true },
    __proto__weird: 'kept',
  },
};

export const wire = {
  endpoint: {
    id: 'ep_2f8a',
    tenant_id: 'acme',
    url: 'https://acme.example/hooks',
    description: 'Default',
    event_types: ['invoice.paid'],
    status: 'active',
    disabled_reason: null,
    rate_limit_per_minute: 60,
    retry_schedule: [30, 300],
    headers: FREE_FORM.headers,
    metadata: FREE_FORM.metadata,
    signing: 'hmac',
    secret_hint: 'whsec_MfKQ',
    public_key: null,
    rotation: { previous_secret_expires_at: T1 },
    created_at: T0,
    updated_at: T1,
  } satisfies api.Endpoint as api.Endpoint,
  get endpointWithSecret(): api.EndpointWithSecret {
    return { ...this.endpoint, secret: SECRET };
  },
  rotated: {
    secret: SECRET,
    previous_secret_expires_at: T1,
    public_key: null,
  } satisfies api.EndpointRotateSecretResponse,
  stats: {
    window: '24h',
    succeeded: 9,
    failed: 1,
    pending: 0,
    dead: 0,
    success_rate: 0.9,
    latency_ms_p50: 12,
    latency_ms_p95: 40.5,
    health: 'green',
  } satisfies api.EndpointStats,
  recover: { count: 3 } satisfies api.EndpointRecoverResponse,
  attempt: {
    id: 'att_1',
    delivery_id: 'dlv_1',
    attempt_number: 1,
    trigger: 'test',
    outcome: 'success',
    http_status: 204,
    latency_ms: 12,
    error: null,
    attempted_at: T1,
    request_headers: { 'webhook-id': 'msg_1', 'X-Api_Key': '[redacted]' },
    request_body: '{"type":"hookline.test"}',
    request_body_truncated: false,
    response_headers: { 'x-powered_by': 'receiver' },
    response_body: '',
    response_body_truncated: false,
  } satisfies api.Attempt,
  get delivery(): api.Delivery {
    return {
      id: 'dlv_1',
      message_id: 'msg_1',
      endpoint_id: 'ep_2f8a',
      tenant_id: 'acme',
      event_type: 'invoice.paid',
      status: 'succeeded',
      attempt_count: 1,
      next_attempt_at: null,
      last_attempt: {
        id: 'att_1',
        delivery_id: 'dlv_1',
        attempt_number: 1,
        trigger: 'scheduled',
        outcome: 'success',
        http_status: 204,
        latency_ms: 12,
        error: null,
        attempted_at: T1,
      },
      test: false,
      created_at: T0,
    };
  },
  get deliveryWithAttempts(): api.DeliveryWithAttempts {
    return { ...this.delivery, attempts: [this.attempt] };
  },
  messageAccepted: {
    id: 'msg_1',
    tenant_id: 'acme',
    event_type: 'invoice.paid',
    created_at: T0,
    delivery_count: 2,
  } satisfies api.MessageAccepted,
  message: {
    id: 'msg_1',
    tenant_id: 'acme',
    event_type: 'invoice.paid',
    payload: FREE_FORM.payload,
    endpoint_id: null,
    created_at: T0,
  } satisfies api.Message,
  eventType: {
    name: 'invoice.paid',
    description: 'An invoice was paid.',
    schema: { type: 'object', properties: { invoice_id: { type: 'string' } } },
    example: { invoice_id: 'in_1' },
    created_at: T0,
    updated_at: T0,
  } satisfies api.EventType,
  alertChannels: {
    tenant_id: 'acme',
    emails: ['ops@acme.example'],
    slack_webhook_url: 'https://hooks.slack.example/T1',
  } satisfies api.AlertChannels as api.AlertChannels,
  portalLink: {
    url: 'https://gateway.test/portal#token=hl_pt_abc',
    token: 'hl_pt_abc',
    expires_at: T1,
  } satisfies api.PortalLink,
};

export const sdk = {
  endpoint: {
    id: 'ep_2f8a',
    tenantId: 'acme',
    url: 'https://acme.example/hooks',
    description: 'Default',
    eventTypes: ['invoice.paid'],
    status: 'active',
    disabledReason: null,
    rateLimitPerMinute: 60,
    retrySchedule: [30, 300],
    headers: { 'X-Api_Key': 'k1', 'x-tenant-tag': 'blue', x_trace_id: 't1' },
    metadata: { customerId: 'c_1', plan_tier: 'pro', 'Mixed-Key': 'v' },
    signing: 'hmac',
    secretHint: 'whsec_MfKQ',
    publicKey: null,
    rotation: { previousSecretExpiresAt: T1 },
    createdAt: T0,
    updatedAt: T1,
  } satisfies Endpoint,
  get endpointWithSecret(): EndpointWithSecret {
    return { ...this.endpoint, secret: SECRET };
  },
  rotated: { secret: SECRET, previousSecretExpiresAt: T1, publicKey: null } satisfies RotatedSecret,
  stats: {
    window: '24h',
    succeeded: 9,
    failed: 1,
    pending: 0,
    dead: 0,
    successRate: 0.9,
    latencyMsP50: 12,
    latencyMsP95: 40.5,
    health: 'green',
  } satisfies EndpointStats,
  attempt: {
    id: 'att_1',
    deliveryId: 'dlv_1',
    attemptNumber: 1,
    trigger: 'test',
    outcome: 'success',
    httpStatus: 204,
    latencyMs: 12,
    error: null,
    attemptedAt: T1,
    requestHeaders: { 'webhook-id': 'msg_1', 'X-Api_Key': '[redacted]' },
    requestBody: '{"type":"hookline.test"}',
    requestBodyTruncated: false,
    responseHeaders: { 'x-powered_by': 'receiver' },
    responseBody: '',
    responseBodyTruncated: false,
  } satisfies Attempt,
  get delivery(): Delivery {
    return {
      id: 'dlv_1',
      messageId: 'msg_1',
      endpointId: 'ep_2f8a',
      tenantId: 'acme',
      eventType: 'invoice.paid',
      status: 'succeeded',
      attemptCount: 1,
      nextAttemptAt: null,
      lastAttempt: {
        id: 'att_1',
        deliveryId: 'dlv_1',
        attemptNumber: 1,
        trigger: 'scheduled',
        outcome: 'success',
        httpStatus: 204,
        latencyMs: 12,
        error: null,
        attemptedAt: T1,
      },
      test: false,
      createdAt: T0,
    };
  },
  get deliveryWithAttempts(): DeliveryWithAttempts {
    return { ...this.delivery, attempts: [this.attempt] };
  },
  messageAccepted: {
    id: 'msg_1',
    tenantId: 'acme',
    eventType: 'invoice.paid',
    createdAt: T0,
    deliveryCount: 2,
  } satisfies MessageAccepted,
  message: {
    id: 'msg_1',
    tenantId: 'acme',
    eventType: 'invoice.paid',
    payload: {
      invoice_id: 'in_1',
      amountDue: 4200,
      nested_obj: { line_items: [{ unit_price: 1 }], camelCase: true },
      __proto__weird: 'kept',
    },
    endpointId: null,
    createdAt: T0,
  } satisfies Message,
  eventType: {
    name: 'invoice.paid',
    description: 'An invoice was paid.',
    schema: { type: 'object', properties: { invoice_id: { type: 'string' } } },
    example: { invoice_id: 'in_1' },
    createdAt: T0,
    updatedAt: T0,
  } satisfies EventType,
  alertChannels: {
    tenantId: 'acme',
    emails: ['ops@acme.example'],
    slackWebhookUrl: 'https://hooks.slack.example/T1',
  } satisfies AlertChannels,
  portalLink: {
    url: 'https://gateway.test/portal#token=hl_pt_abc',
    token: 'hl_pt_abc',
    expiresAt: T1,
  } satisfies PortalLink,
};

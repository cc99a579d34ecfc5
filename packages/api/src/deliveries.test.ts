import { describe, expect, it } from 'vitest';
import { badPaths, detailsOf, parseOk } from '../test/helpers';
import {
  type Attempt,
  attemptSchema,
  type Delivery,
  deliveryListQuerySchema,
  deliveryListResponseSchema,
  deliveryReplayRequestSchema,
  deliverySchema,
  deliveryWithAttemptsSchema,
} from './index';

const attempt: Attempt = {
  id: 'att_01JH8Z3K9Q',
  delivery_id: 'dlv_01JH8Z3K9Q',
  attempt_number: 1,
  trigger: 'scheduled',
  outcome: 'http_5xx',
  http_status: 503,
  latency_ms: 87,
  request_headers: {
    'content-type': 'application/json',
    'webhook-id': 'msg_01JH8Z3K9Q',
    'webhook-timestamp': '1738324800',
    'user-agent': 'Hookline/0.1.0',
  },
  request_body: '{"type":"invoice.paid","timestamp":"2025-01-31T12:00:00Z","data":{}}',
  request_body_truncated: false,
  response_headers: { 'retry-after': '30' },
  response_body: 'Service Unavailable',
  response_body_truncated: false,
  error: null,
  attempted_at: '2025-01-31T12:00:00Z',
};

const {
  request_headers,
  request_body,
  request_body_truncated,
  response_headers,
  response_body,
  response_body_truncated,
  ...summary
} = attempt;

const delivery: Delivery = {
  id: 'dlv_01JH8Z3K9Q',
  message_id: 'msg_01JH8Z3K9Q',
  endpoint_id: 'ep_01JH8Z3K9Q',
  tenant_id: 'acme',
  event_type: 'invoice.paid',
  status: 'failed',
  attempt_count: 1,
  next_attempt_at: '2025-01-31T12:00:30Z',
  last_attempt: summary,
  test: false,
  created_at: '2025-01-31T12:00:00Z',
};

describe('delivery list query', () => {
  it('accepts every filter of API.md and defaults limit to 50', () => {
    const query = {
      endpoint_id: 'ep_1',
      tenant_id: 'acme',
      message_id: 'msg_1',
      status: 'dead',
      event_type: 'invoice.paid',
      cursor: 'c1',
    };
    expect(parseOk(deliveryListQuerySchema, query)).toEqual({ ...query, limit: 50 });
  });

  it.each([
    ['endpoint_id', 'dlv_1'],
    ['message_id', 'ep_1'],
    ['status', 'retrying'],
    ['event_type', 'x..y'],
    ['tenant_id', 'a b'],
    ['limit', '500'],
  ])('rejects a bad %s', (field, value) => {
    expect(badPaths(deliveryListQuerySchema, { [field]: value })).toEqual([field]);
  });

  it('rejects unknown parameters', () => {
    expect(detailsOf(deliveryListQuerySchema, { since: 'x' }, 'query')).toEqual([
      { path: 'since', message: 'is not a known field' },
    ]);
  });
});

describe('replay request', () => {
  it('accepts an empty object and rejects any field', () => {
    expect(parseOk(deliveryReplayRequestSchema, {})).toEqual({});
    expect(badPaths(deliveryReplayRequestSchema, { attempts: 2 })).toEqual(['attempts']);
  });
});

describe('delivery responses', () => {
  it('describe a delivery with its last attempt summarised', () => {
    expect(deliverySchema.parse(delivery)).toEqual(delivery);
    expect(
      deliverySchema.parse({ ...delivery, last_attempt: null, next_attempt_at: null }),
    ).toMatchObject({ last_attempt: null, next_attempt_at: null });
  });

  it('describe a delivery with every attempt and its truncation flags', () => {
    const full = { ...delivery, attempts: [attempt] };
    expect(deliveryWithAttemptsSchema.parse(full)).toEqual(full);
    const { request_body_truncated: _r, ...withoutFlag } = attempt;
    expect(attemptSchema.safeParse(withoutFlag).success).toBe(false);
  });

  it('describe an attempt that got no response', () => {
    const timedOut = {
      ...attempt,
      outcome: 'timeout',
      http_status: null,
      response_headers: null,
      response_body: null,
      latency_ms: 15_000,
      error: 'timed out after 15 s',
    };
    expect(attemptSchema.parse(timedOut)).toEqual(timedOut);
  });

  it('wrap deliveries in the list envelope', () => {
    const page = { data: [delivery], next_cursor: null };
    expect(deliveryListResponseSchema.parse(page)).toEqual(page);
    expect(deliveryListResponseSchema.safeParse({ data: [delivery] }).success).toBe(false);
  });
});

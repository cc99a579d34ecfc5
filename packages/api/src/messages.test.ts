import { describe, expect, it } from 'vitest';
import { badPaths, detailsOf, parseOk } from '../test/helpers';
import {
  idempotencyKeySchema,
  messageAcceptedSchema,
  messageCreateHeadersSchema,
  messageCreateRequestSchema,
  messageListQuerySchema,
  messageSchema,
} from './index';

const create = {
  tenant_id: 'acme',
  event_type: 'invoice.paid',
  payload: { invoice_id: 'in_1', amount: 4200, lines: [{ sku: 'a' }] },
};

describe('message create request', () => {
  it('accepts the body of API.md, with and without endpoint_id', () => {
    expect(parseOk(messageCreateRequestSchema, create)).toEqual(create);
    const targeted = { ...create, endpoint_id: 'ep_01JH8Z3K9Q' };
    expect(parseOk(messageCreateRequestSchema, targeted)).toEqual(targeted);
  });

  it('requires tenant_id, event_type and payload', () => {
    expect(detailsOf(messageCreateRequestSchema, {})).toEqual([
      { path: 'tenant_id', message: 'is required' },
      { path: 'event_type', message: 'is required' },
      { path: 'payload', message: 'is required' },
    ]);
  });

  it.each([
    ['tenant_id', ''],
    ['event_type', 'Invoice.Paid'],
    ['payload', [1, 2, 3]],
    ['payload', 'a string'],
    ['payload', null],
    ['payload', 42],
    ['endpoint_id', 'msg_01JH8Z3K9Q'],
  ])('rejects a bad %s at its own path', (field, value) => {
    expect(badPaths(messageCreateRequestSchema, { ...create, [field]: value })).toEqual([field]);
  });

  it('says the payload must be a JSON object', () => {
    expect(detailsOf(messageCreateRequestSchema, { ...create, payload: [] })).toEqual([
      { path: 'payload', message: 'must be a JSON object' },
    ]);
  });

  it('rejects unknown fields, naming each', () => {
    expect(detailsOf(messageCreateRequestSchema, { ...create, data: {}, type: 'x' })).toEqual([
      { path: 'data', message: 'is not a known field' },
      { path: 'type', message: 'is not a known field' },
    ]);
  });
});

describe('Idempotency-Key header', () => {
  it('accepts visible ASCII keys up to 255 characters', () => {
    expect(idempotencyKeySchema.safeParse('order-1234:create').success).toBe(true);
    expect(idempotencyKeySchema.safeParse('k'.repeat(255)).success).toBe(true);
  });

  it.each(['', 'has space', 'k'.repeat(256), 'naïve'])('rejects %j', (key) => {
    expect(idempotencyKeySchema.safeParse(key).success).toBe(false);
  });

  it('is optional and ignores the other request headers', () => {
    expect(parseOk(messageCreateHeadersSchema, { 'content-type': 'application/json' })).toEqual({});
    expect(parseOk(messageCreateHeadersSchema, { 'idempotency-key': 'a1' })).toEqual({
      'idempotency-key': 'a1',
    });
  });
});

describe('message list query', () => {
  it('coerces limit, defaults it to 50 and filters by tenant and event type', () => {
    expect(parseOk(messageListQuerySchema, {})).toEqual({ limit: 50 });
    expect(
      parseOk(messageListQuerySchema, { limit: '250', tenant_id: 'acme', event_type: 'a.b' }),
    ).toEqual({ limit: 250, tenant_id: 'acme', event_type: 'a.b' });
  });

  it('rejects a bad filter and unknown parameters', () => {
    expect(badPaths(messageListQuerySchema, { event_type: 'A', status: 'x' })).toEqual([
      'event_type',
      'status',
    ]);
  });
});

describe('message responses', () => {
  it('describe the 202 answer of API.md', () => {
    const accepted = {
      id: 'msg_01JH8Z3K9Q',
      tenant_id: 'acme',
      event_type: 'invoice.paid',
      created_at: '2025-01-31T12:00:00Z',
      delivery_count: 2,
    };
    expect(messageAcceptedSchema.parse(accepted)).toEqual(accepted);
    expect(messageAcceptedSchema.safeParse({ ...accepted, delivery_count: -1 }).success).toBe(
      false,
    );
  });

  it('describe the message object with its payload', () => {
    const message = {
      ...create,
      id: 'msg_1',
      endpoint_id: null,
      created_at: '2025-01-31T12:00:00Z',
    };
    expect(messageSchema.parse(message)).toEqual(message);
  });
});

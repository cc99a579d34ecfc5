import { describe, expect, it } from 'vitest';
import { badPaths, base64OfLength, detailsOf, parseOk } from '../test/helpers';
import {
  type Endpoint,
  endpointCreateRequestSchema,
  endpointListQuerySchema,
  endpointPatchRequestSchema,
  endpointRecoverRequestSchema,
  endpointRecoverResponseSchema,
  endpointRotateSecretRequestSchema,
  endpointRotateSecretResponseSchema,
  endpointSchema,
  endpointStatsQuerySchema,
  endpointStatsSchema,
  endpointTestRequestSchema,
  endpointWithSecretSchema,
} from './index';

const fullCreate = {
  tenant_id: 'acme',
  url: 'https://acme.example.com/webhooks',
  description: 'Billing events',
  event_types: ['invoice.paid', 'invoice.voided'],
  status: 'paused',
  rate_limit_per_minute: 600,
  retry_schedule: [30, 300, 1800, 7200],
  headers: { 'X-Api-Key': 'k-123' },
  metadata: { team: 'billing' },
  secret: `whsec_${base64OfLength(32)}`,
  signing: 'hmac',
};

describe('endpoint create request', () => {
  it('accepts a body with every field of API.md', () => {
    expect(parseOk(endpointCreateRequestSchema, fullCreate)).toEqual(fullCreate);
  });

  it('defaults status to active and signing to hmac', () => {
    expect(
      parseOk(endpointCreateRequestSchema, { tenant_id: 'acme', url: 'https://a.example' }),
    ).toEqual({ tenant_id: 'acme', url: 'https://a.example', status: 'active', signing: 'hmac' });
  });

  it('accepts null for an unlimited rate and for the default retry schedule', () => {
    const body = { ...fullCreate, rate_limit_per_minute: null, retry_schedule: null };
    expect(parseOk(endpointCreateRequestSchema, body)).toEqual(body);
  });

  it('accepts an http URL syntactically, leaving the scheme rule to the gateway', () => {
    expect(
      badPaths(endpointCreateRequestSchema, { ...fullCreate, url: 'http://localhost:3000' }),
    ).toEqual([]);
  });

  it('requires tenant_id and url', () => {
    expect(detailsOf(endpointCreateRequestSchema, {})).toEqual([
      { path: 'tenant_id', message: 'is required' },
      { path: 'url', message: 'is required' },
    ]);
  });

  it.each([
    ['tenant_id', 'has space'],
    ['url', 'ftp://example.com'],
    ['description', 'x'.repeat(1025)],
    ['event_types', 'invoice.paid'],
    ['status', 'deleted'],
    ['rate_limit_per_minute', 0],
    ['retry_schedule', [30, -1]],
    ['headers', { Host: 'evil.example' }],
    ['metadata', { a: 1 }],
    ['secret', 'sk_live_123'],
    ['signing', 'rsa'],
  ])('rejects a bad %s at its own path', (field, value) => {
    const paths = badPaths(endpointCreateRequestSchema, { ...fullCreate, [field]: value });
    expect(paths).toHaveLength(1);
    expect(paths[0]?.startsWith(field)).toBe(true);
  });

  it('names the element of a bad event type and of a duplicated one', () => {
    expect(
      badPaths(endpointCreateRequestSchema, {
        ...fullCreate,
        event_types: ['invoice.paid', 'Bad', 'invoice.paid'],
      }),
    ).toEqual(['event_types[1]', 'event_types[2]']);
    expect(
      detailsOf(endpointCreateRequestSchema, {
        ...fullCreate,
        event_types: ['invoice.paid', 'invoice.paid'],
      }),
    ).toEqual([{ path: 'event_types[1]', message: 'is listed twice' }]);
  });

  it('rejects unknown fields, naming each', () => {
    expect(
      detailsOf(endpointCreateRequestSchema, { ...fullCreate, enabled: true, filter: 'x' }),
    ).toEqual([
      { path: 'enabled', message: 'is not a known field' },
      { path: 'filter', message: 'is not a known field' },
    ]);
  });

  it('rejects a secret that does not match the signing scheme', () => {
    expect(
      detailsOf(endpointCreateRequestSchema, {
        ...fullCreate,
        signing: 'ed25519',
        secret: `whsec_${base64OfLength(32)}`,
      }),
    ).toEqual([{ path: 'secret', message: 'must be a whsk_ key when signing is ed25519' }]);
    expect(
      detailsOf(endpointCreateRequestSchema, {
        ...fullCreate,
        secret: `whsk_${base64OfLength(32)}`,
      }),
    ).toEqual([{ path: 'secret', message: 'must be a whsec_ secret when signing is hmac' }]);
  });

  it('accepts an ed25519 endpoint importing a whsk_ key', () => {
    const body = { ...fullCreate, signing: 'ed25519', secret: `whsk_${base64OfLength(32)}` };
    expect(parseOk(endpointCreateRequestSchema, body)).toEqual(body);
  });
});

describe('endpoint patch request', () => {
  it('accepts any subset of the mutable fields without applying defaults', () => {
    expect(parseOk(endpointPatchRequestSchema, { description: 'x' })).toEqual({ description: 'x' });
    expect(parseOk(endpointPatchRequestSchema, {})).toEqual({});
  });

  it('accepts every mutable field at once', () => {
    const { tenant_id: _t, secret: _s, signing: _g, ...mutable } = fullCreate;
    expect(parseOk(endpointPatchRequestSchema, mutable)).toEqual(mutable);
  });

  it.each(['tenant_id', 'secret', 'signing', 'id'])(
    'rejects %s, which cannot be patched, as an unknown field',
    (field) => {
      expect(detailsOf(endpointPatchRequestSchema, { [field]: 'x' })).toEqual([
        { path: field, message: 'is not a known field' },
      ]);
    },
  );

  it.each([
    ['url', 'not a url'],
    ['status', 'gone'],
    ['retry_schedule', [1e9]],
    ['headers', { 'webhook-id': 'x' }],
  ])('rejects a bad %s at its own path', (field, value) => {
    expect(badPaths(endpointPatchRequestSchema, { [field]: value })[0]?.startsWith(field)).toBe(
      true,
    );
  });
});

describe('rotate-secret request', () => {
  it('defaults the grace period to 86400 seconds', () => {
    expect(parseOk(endpointRotateSecretRequestSchema, {})).toEqual({
      grace_period_seconds: 86_400,
    });
  });

  it('accepts grace periods from 0 to 172800 and an imported secret', () => {
    const secret = `whsec_${base64OfLength(32)}`;
    expect(parseOk(endpointRotateSecretRequestSchema, { grace_period_seconds: 0 })).toEqual({
      grace_period_seconds: 0,
    });
    expect(
      parseOk(endpointRotateSecretRequestSchema, { grace_period_seconds: 172_800, secret }),
    ).toEqual({ grace_period_seconds: 172_800, secret });
  });

  it.each([-1, 172_801, 1.5, '60'])('rejects the grace period %j', (value) => {
    expect(badPaths(endpointRotateSecretRequestSchema, { grace_period_seconds: value })).toEqual([
      'grace_period_seconds',
    ]);
  });

  it('rejects a malformed secret and unknown fields', () => {
    expect(badPaths(endpointRotateSecretRequestSchema, { secret: 'whsec_x', grace: 1 })).toEqual([
      'secret',
      'grace',
    ]);
  });
});

describe('test-event request', () => {
  it('accepts an empty body and one with an event type and payload', () => {
    expect(parseOk(endpointTestRequestSchema, {})).toEqual({});
    const body = { event_type: 'invoice.paid', payload: { id: 'in_1', amount: 100 } };
    expect(parseOk(endpointTestRequestSchema, body)).toEqual(body);
  });

  it.each([
    ['event_type', 'Invoice Paid'],
    ['payload', [1, 2]],
    ['payload', 'text'],
    ['payload', null],
  ])('rejects a bad %s', (field, value) => {
    expect(badPaths(endpointTestRequestSchema, { [field]: value })).toEqual([field]);
  });

  it('rejects unknown fields', () => {
    expect(badPaths(endpointTestRequestSchema, { data: {} })).toEqual(['data']);
  });
});

describe('recover request', () => {
  it('accepts a since timestamp', () => {
    expect(parseOk(endpointRecoverRequestSchema, { since: '2025-01-30T00:00:00Z' })).toEqual({
      since: '2025-01-30T00:00:00Z',
    });
  });

  it('requires since as an RFC 3339 timestamp', () => {
    expect(detailsOf(endpointRecoverRequestSchema, {})).toEqual([
      { path: 'since', message: 'is required' },
    ]);
    expect(badPaths(endpointRecoverRequestSchema, { since: '2025-01-30' })).toEqual(['since']);
    expect(badPaths(endpointRecoverRequestSchema, { since: 1738195200 })).toEqual(['since']);
  });
});

describe('endpoint list query', () => {
  it('coerces limit from the query string and defaults it to 50', () => {
    expect(parseOk(endpointListQuerySchema, {})).toEqual({ limit: 50 });
    expect(
      parseOk(endpointListQuerySchema, {
        limit: '10',
        cursor: 'abc',
        tenant_id: 'acme',
        status: 'active',
      }),
    ).toEqual({ limit: 10, cursor: 'abc', tenant_id: 'acme', status: 'active' });
  });

  it.each(['0', '251', 'abc', '1.5', '-3'])('rejects limit=%s', (limit) => {
    expect(detailsOf(endpointListQuerySchema, { limit }, 'query')).toEqual([
      { path: 'limit', message: expect.stringMatching(/^must be/) },
    ]);
  });

  it('rejects unknown query parameters and bad filters', () => {
    expect(badPaths(endpointListQuerySchema, { sort: 'asc', status: 'on', cursor: '' })).toEqual([
      'cursor',
      'status',
      'sort',
    ]);
  });
});

describe('stats query', () => {
  it('defaults the window to 24h', () => {
    expect(parseOk(endpointStatsQuerySchema, {})).toEqual({ window: '24h' });
    expect(parseOk(endpointStatsQuerySchema, { window: '7d' })).toEqual({ window: '7d' });
  });

  it('rejects an unknown window and unknown parameters', () => {
    expect(badPaths(endpointStatsQuerySchema, { window: '2h', from: 'x' })).toEqual([
      'window',
      'from',
    ]);
  });
});

const endpoint: Endpoint = {
  id: 'ep_01JH8Z3K9Q2W4E6R8T0Y',
  tenant_id: 'acme',
  url: 'https://acme.example.com/webhooks',
  description: '',
  event_types: [],
  status: 'disabled',
  disabled_reason: 'gone',
  rate_limit_per_minute: null,
  retry_schedule: null,
  headers: {},
  metadata: {},
  signing: 'hmac',
  secret_hint: 'whsec_abcd',
  public_key: null,
  rotation: { previous_secret_expires_at: '2025-02-01T12:00:00Z' },
  created_at: '2025-01-31T12:00:00Z',
  updated_at: '2025-01-31T12:00:00Z',
};

describe('endpoint responses', () => {
  it('describe an endpoint without its secret, with a hint and the live rotation', () => {
    expect(endpointSchema.parse(endpoint)).toEqual(endpoint);
    expect(endpointSchema.parse({ ...endpoint, rotation: null }).rotation).toBeNull();
    expect(endpointSchema.shape).not.toHaveProperty('secret');
  });

  it('show the secret only in the create answer', () => {
    expect(endpointWithSecretSchema.safeParse(endpoint).success).toBe(false);
    const created = { ...endpoint, secret: `whsec_${base64OfLength(32)}` };
    expect(endpointWithSecretSchema.parse(created)).toEqual(created);
  });

  it('describe the rotate, stats and recover answers', () => {
    const rotated = {
      secret: `whsec_${base64OfLength(32)}`,
      previous_secret_expires_at: '2025-02-01T12:00:00Z',
      public_key: null,
    };
    expect(endpointRotateSecretResponseSchema.parse(rotated)).toEqual(rotated);
    const stats = {
      window: '24h',
      succeeded: 98,
      failed: 1,
      pending: 3,
      dead: 1,
      success_rate: 0.98,
      latency_ms_p50: 120,
      latency_ms_p95: 480.5,
      health: 'green',
    };
    expect(endpointStatsSchema.parse(stats)).toEqual(stats);
    expect(endpointStatsSchema.safeParse({ ...stats, health: 'orange' }).success).toBe(false);
    expect(endpointRecoverResponseSchema.parse({ count: 4 })).toEqual({ count: 4 });
  });

  it('keep working when the gateway adds a field', () => {
    expect(endpointSchema.parse({ ...endpoint, future_field: 1 })).toEqual(endpoint);
  });
});

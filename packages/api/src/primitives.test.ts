import { describe, expect, it } from 'vitest';
import { base64OfLength, detailsOf } from '../test/helpers';
import {
  attemptIdSchema,
  attemptOutcomeSchema,
  attemptTriggerSchema,
  customHeadersSchema,
  deliveryIdSchema,
  deliveryStatusSchema,
  endpointIdSchema,
  endpointStatusSchema,
  eventTypeNameSchema,
  healthSchema,
  httpUrlSchema,
  importedSecretSchema,
  isAllowedUrlScheme,
  isHttpsUrl,
  isReservedHeaderName,
  messageIdSchema,
  metadataSchema,
  RESERVED_HEADER_NAMES,
  rateLimitPerMinuteSchema,
  retryScheduleSchema,
  signingSchema,
  tenantIdSchema,
  timestampSchema,
} from './index';

const valid = (schema: { safeParse(input: unknown): { success: boolean } }, input: unknown) =>
  schema.safeParse(input).success;

describe('prefixed ids', () => {
  it.each([
    [endpointIdSchema, 'ep_01JH8Z3K9Q2W4E6R8T0Y'],
    [messageIdSchema, 'msg_2aBcD-eF_g'],
    [deliveryIdSchema, 'dlv_01jh8z3k9q'],
    [attemptIdSchema, 'att_x'],
  ])('accepts an id with its own prefix and URL-safe characters (%#)', (schema, id) => {
    expect(valid(schema, id)).toBe(true);
  });

  it('rejects an id with another resource prefix', () => {
    expect(valid(endpointIdSchema, 'msg_01JH8Z3K9Q')).toBe(false);
    expect(valid(messageIdSchema, 'ep_01JH8Z3K9Q')).toBe(false);
  });

  it.each(['ep_', 'ep', 'ep_a/b', 'ep_a b', 'ep_a+b', 'EP_abc', `ep_${'a'.repeat(65)}`])(
    'rejects the endpoint id %j',
    (id) => {
      expect(valid(endpointIdSchema, id)).toBe(false);
    },
  );

  it('says which prefix an id must have', () => {
    expect(detailsOf(endpointIdSchema, 'x')).toEqual([
      { path: '', message: 'must be an endpoint id (ep_…)' },
    ]);
  });
});

describe('tenant_id', () => {
  it.each(['a', 'acme', 'cus_123', 'acme-co:eu.1_x', 'A'.repeat(128)])('accepts %j', (id) => {
    expect(valid(tenantIdSchema, id)).toBe(true);
  });

  it.each(['', 'a b', 'acme/eu', 'ümlaut', 'a'.repeat(129), 'a\n'])('rejects %j', (id) => {
    expect(valid(tenantIdSchema, id)).toBe(false);
  });
});

describe('event type name', () => {
  it.each(['invoice.paid', 'a', 'a_b.c1', 'customer.subscription.updated', 'a'.repeat(128)])(
    'accepts %j',
    (name) => {
      expect(valid(eventTypeNameSchema, name)).toBe(true);
    },
  );

  it.each([
    '',
    'Invoice.paid',
    'invoice.',
    '.invoice',
    'invoice..paid',
    'invoice-paid',
    'invoice.*',
    'a'.repeat(129),
  ])('rejects %j', (name) => {
    expect(valid(eventTypeNameSchema, name)).toBe(false);
  });
});

describe('timestamps', () => {
  it.each(['2025-01-31T12:00:00Z', '2025-01-31T12:00:00.123Z', '2025-01-31T14:00:00+02:00'])(
    'accepts the RFC 3339 timestamp %j',
    (value) => {
      expect(valid(timestampSchema, value)).toBe(true);
    },
  );

  it.each(['2025-01-31', '2025-01-31T12:00:00', 'yesterday', '1738324800', '2025-02-30T00:00:00Z'])(
    'rejects %j, which is not an RFC 3339 timestamp with an offset',
    (value) => {
      expect(valid(timestampSchema, value)).toBe(false);
    },
  );
});

describe('metadata', () => {
  it('accepts string values under short keys', () => {
    expect(valid(metadataSchema, { plan: 'pro', 'owner.email': 'a@b.c' })).toBe(true);
  });

  it('rejects a non-string value at its key', () => {
    expect(detailsOf(metadataSchema, { count: 3 }).map((d) => d.path)).toEqual(['count']);
  });

  it('rejects more than 50 keys', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(detailsOf(metadataSchema, many)).toEqual([
      { path: '', message: 'must have at most 50 keys' },
    ]);
  });

  it('rejects a key longer than 40 characters and a value longer than 500', () => {
    const key = 'k'.repeat(41);
    expect(detailsOf(metadataSchema, { [key]: 'v' })).toEqual([
      { path: key, message: 'must be a key of at most 40 characters' },
    ]);
    expect(detailsOf(metadataSchema, { k: 'v'.repeat(501) })).toEqual([
      { path: 'k', message: 'must be at most 500 characters' },
    ]);
  });

  it('rejects an empty key', () => {
    expect(detailsOf(metadataSchema, { '': 'v' })).toEqual([
      { path: '[""]', message: 'must be a non-empty key' },
    ]);
  });
});

describe('custom headers', () => {
  it('accepts token names with visible values, including authorization', () => {
    expect(
      valid(customHeadersSchema, {
        'X-Api-Key': 'abc123',
        Authorization: 'Bearer t0ken',
        'x-tenant': 'acme; region=eu',
      }),
    ).toBe(true);
  });

  it.each([
    ...RESERVED_HEADER_NAMES,
    'Content-Type',
    'HOST',
    'User-Agent',
    'webhook-id',
    'Webhook-Signature',
    'webhook-anything',
    'svix-id',
    'Svix-Signature',
    'hookline-trace',
    'X-Hookline-Version',
  ])('rejects the reserved header name %j', (name) => {
    expect(isReservedHeaderName(name)).toBe(true);
    expect(detailsOf(customHeadersSchema, { [name]: 'x' })).toEqual([
      { path: expect.stringContaining(name), message: 'is a reserved header name' },
    ]);
  });

  it.each(['X Foo', 'X:Foo', 'X-Foo\r\n', '', 'X-Föö', '(x)'])(
    'rejects %j, which is not an HTTP token',
    (name) => {
      const details = detailsOf(customHeadersSchema, { [name]: 'x' });
      expect(details).toHaveLength(1);
      expect(details[0]?.message).toMatch(/header name/);
    },
  );

  it.each(['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'nul\u0000', 'del\u007f', 'emoji 🙂'])(
    'rejects the header value %j',
    (value) => {
      expect(detailsOf(customHeadersSchema, { 'X-Foo': value })).toEqual([
        { path: '["X-Foo"]', message: 'must not contain CR, LF or other control characters' },
      ]);
    },
  );

  it('rejects two names that differ only in case', () => {
    expect(detailsOf(customHeadersSchema, { 'X-Foo': 'a', 'x-foo': 'b' })).toEqual([
      { path: '["x-foo"]', message: 'is a duplicate header name (names are case-insensitive)' },
    ]);
  });

  it('rejects more than 20 headers', () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
    expect(detailsOf(customHeadersSchema, many)).toEqual([
      { path: '', message: 'must have at most 20 headers' },
    ]);
  });
});

describe('retry_schedule', () => {
  it('accepts the schedule of API.md and an empty schedule', () => {
    expect(valid(retryScheduleSchema, [30, 300, 1800, 7200])).toBe(true);
    expect(valid(retryScheduleSchema, [])).toBe(true);
  });

  it('names the position of each bad delay', () => {
    expect(detailsOf(retryScheduleSchema, [30, -1, 1.5, 86_401, '60']).map((d) => d.path)).toEqual([
      '[1]',
      '[2]',
      '[3]',
      '[4]',
    ]);
  });

  it('rejects more than 20 delays', () => {
    expect(
      valid(
        retryScheduleSchema,
        Array.from({ length: 21 }, () => 60),
      ),
    ).toBe(false);
  });
});

describe('rate_limit_per_minute', () => {
  it('accepts a positive integer or null for unlimited', () => {
    expect(valid(rateLimitPerMinuteSchema, 1)).toBe(true);
    expect(valid(rateLimitPerMinuteSchema, 600)).toBe(true);
    expect(valid(rateLimitPerMinuteSchema, null)).toBe(true);
  });

  it.each([0, -5, 2.5, '10', 1_000_001])('rejects %j', (value) => {
    expect(valid(rateLimitPerMinuteSchema, value)).toBe(false);
  });
});

describe('enums', () => {
  it('have exactly the values of API.md', () => {
    expect(endpointStatusSchema.options).toEqual(['active', 'paused', 'disabled']);
    expect(deliveryStatusSchema.options).toEqual([
      'pending',
      'succeeded',
      'failed',
      'dead',
      'held',
      'cancelled',
    ]);
    expect(attemptTriggerSchema.options).toEqual(['scheduled', 'manual', 'test']);
    expect(attemptOutcomeSchema.options).toEqual([
      'success',
      'timeout',
      'http_4xx',
      'http_5xx',
      'redirect',
      'network_error',
      'blocked',
    ]);
    expect(signingSchema.options).toEqual(['hmac', 'ed25519']);
    expect(healthSchema.options).toEqual(['green', 'yellow', 'red']);
  });
});

describe('URLs', () => {
  it.each([
    'https://example.com/webhooks',
    'https://hooks.example.com:8443/a?b=c',
    'http://localhost:3000/hook',
  ])('accepts the http(s) URL %j syntactically', (url) => {
    expect(valid(httpUrlSchema, url)).toBe(true);
  });

  it.each([
    ['an ftp URL', 'ftp://example.com/x'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['words', 'not a url'],
    ['a relative path', '/relative/path'],
    ['a URL with credentials', 'https://user:pass@example.com/'],
    ['a URL over 2048 characters', `https://example.com/${'a'.repeat(2048)}`],
  ])('rejects %s', (_, url) => {
    expect(valid(httpUrlSchema, url)).toBe(false);
  });

  it('leaves the https-only rule to the gateway through isHttpsUrl and isAllowedUrlScheme', () => {
    expect(isHttpsUrl('https://example.com')).toBe(true);
    expect(isHttpsUrl('http://example.com')).toBe(false);
    expect(isHttpsUrl('nonsense')).toBe(false);
    expect(isAllowedUrlScheme('http://example.com', { allowHttp: false })).toBe(false);
    expect(isAllowedUrlScheme('http://example.com', { allowHttp: true })).toBe(true);
    expect(isAllowedUrlScheme('https://example.com', { allowHttp: false })).toBe(true);
    expect(isAllowedUrlScheme('ftp://example.com', { allowHttp: true })).toBe(false);
  });
});

describe('imported secrets', () => {
  it('accepts a whsec_ secret of 24 to 64 bytes and a whsk_ key of 32 or 64 bytes', () => {
    for (const bytes of [24, 32, 64]) {
      expect(valid(importedSecretSchema, `whsec_${base64OfLength(bytes)}`)).toBe(true);
    }
    expect(valid(importedSecretSchema, `whsk_${base64OfLength(32)}`)).toBe(true);
    expect(valid(importedSecretSchema, `whsk_${base64OfLength(64)}`)).toBe(true);
  });

  it.each([
    `whsec_${base64OfLength(16)}`,
    `whsec_${base64OfLength(65)}`,
    `whsk_${base64OfLength(31)}`,
    `whpk_${base64OfLength(32)}`,
    `sk_${base64OfLength(32)}`,
    'whsec_not base64!',
    'whsec_abc',
    'plaintext',
    '',
  ])('rejects %j', (secret) => {
    expect(valid(importedSecretSchema, secret)).toBe(false);
  });
});

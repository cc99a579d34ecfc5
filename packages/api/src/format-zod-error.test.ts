import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  endpointCreateRequestSchema,
  endpointListQuerySchema,
  errorBody,
  errorBodySchema,
  formatIssuePath,
  formatZodError,
  parseRequest,
  retryScheduleSchema,
} from './index';

function errorOf(schema: z.ZodType, input: unknown): z.ZodError {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected a failure');
  return result.error;
}

describe('formatZodError', () => {
  it('answers the error body of API.md with code invalid_request and one detail per field', () => {
    const body = formatZodError(
      errorOf(endpointCreateRequestSchema, { tenant_id: 'acme', url: 'nope', signing: 'rsa' }),
      'body',
    );
    expect(errorBodySchema.parse(body)).toEqual(body);
    expect(body).toEqual({
      error: {
        code: 'invalid_request',
        message:
          'Invalid request body: url must be an absolute http(s) URL; signing must be one of "hmac", "ed25519".',
        details: [
          { path: 'url', message: 'must be an absolute http(s) URL' },
          { path: 'signing', message: 'must be one of "hmac", "ed25519"' },
        ],
      },
    });
  });

  it('keeps only the first problem of a field that has several', () => {
    const body = formatZodError(
      errorOf(endpointCreateRequestSchema, {
        tenant_id: `${'x'.repeat(200)} !`,
        url: 'https://a.b',
      }),
      'body',
    );
    expect(body.error.details).toHaveLength(1);
    expect(body.error.details?.[0]?.path).toBe('tenant_id');
  });

  it('names every unknown field in the details and the message', () => {
    const body = formatZodError(
      errorOf(endpointCreateRequestSchema, {
        tenant_id: 'acme',
        url: 'https://a.b',
        enabled: true,
        Filter: 1,
      }),
      'body',
    );
    expect(body.error.details).toEqual([
      { path: 'enabled', message: 'is not a known field' },
      { path: 'Filter', message: 'is not a known field' },
    ]);
    expect(body.error.message).toBe(
      'Invalid request body: enabled is not a known field; Filter is not a known field.',
    );
  });

  it('names unknown fields inside nested strict objects by their full path', () => {
    const schema = z.strictObject({ outer: z.strictObject({ inner: z.string() }) });
    expect(
      formatZodError(errorOf(schema, { outer: { inner: 'x', extra: 1 } }), 'body').error.details,
    ).toEqual([{ path: 'outer.extra', message: 'is not a known field' }]);
  });

  it('writes array positions in brackets and odd keys as quoted brackets', () => {
    expect(formatIssuePath(['retry_schedule', 2])).toBe('retry_schedule[2]');
    expect(formatIssuePath(['headers', 'X-Api-Key'])).toBe('headers["X-Api-Key"]');
    expect(formatIssuePath(['metadata', 'team'])).toBe('metadata.team');
    expect(formatIssuePath(['a', 0, 'b'])).toBe('a[0].b');
    expect(formatIssuePath([])).toBe('');
    const body = formatZodError(
      errorOf(endpointCreateRequestSchema, {
        tenant_id: 'acme',
        url: 'https://a.b',
        retry_schedule: [30, 'x'],
        headers: { Host: 'a', 'Webhook-Id': 'b' },
      }),
      'body',
    );
    expect(body.error.details?.map((detail) => detail.path)).toEqual([
      'retry_schedule[1]',
      'headers.Host',
      'headers["Webhook-Id"]',
    ]);
  });

  it('says "is required" for a missing field even without the request error map', () => {
    expect(
      formatZodError(errorOf(endpointCreateRequestSchema, { url: 'https://a.b' }), 'body'),
    ).toEqual({
      error: {
        code: 'invalid_request',
        message: 'Invalid request body: tenant_id is required.',
        details: [{ path: 'tenant_id', message: 'is required' }],
      },
    });
  });

  it('turns zod default messages into predicates', () => {
    const schema = z.strictObject({
      n: z.number().max(5),
      s: z.string().min(3),
      b: z.boolean(),
      list: z.array(z.string()).min(1),
    });
    expect(
      formatZodError(errorOf(schema, { n: 9, s: 'a', b: 'yes', list: [] }), 'body').error.details,
    ).toEqual([
      { path: 'n', message: 'must be at most 5' },
      { path: 's', message: 'must have at least 3 characters' },
      { path: 'b', message: 'must be true or false' },
      { path: 'list', message: 'must not be empty' },
    ]);
  });

  it('describes a body that is not an object as a whole', () => {
    expect(formatZodError(errorOf(endpointCreateRequestSchema, [1]), 'body')).toEqual({
      error: {
        code: 'invalid_request',
        message: 'Invalid request body: the request body must be a JSON object.',
        details: [{ path: '', message: 'must be a JSON object' }],
      },
    });
  });

  it('names the location in the message', () => {
    const body = formatZodError(errorOf(endpointListQuerySchema, { limit: '0' }), 'query');
    expect(body.error.message).toBe('Invalid query parameters: limit must be between 1 and 250.');
  });

  it('lists at most ten fields in the message but every field in the details', () => {
    const delays = Array.from({ length: 12 }, () => -1);
    const body = formatZodError(errorOf(retryScheduleSchema, delays), 'body');
    expect(body.error.details).toHaveLength(12);
    expect(body.error.message).toMatch(/; and 2 more\.$/);
  });
});

describe('parseRequest', () => {
  it('answers the parsed value with defaults applied', () => {
    expect(parseRequest(endpointListQuerySchema, { limit: '7' }, 'query')).toEqual({
      success: true,
      data: { limit: 7 },
    });
  });

  it('answers the 400 body on failure', () => {
    const result = parseRequest(endpointCreateRequestSchema, {}, 'body');
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(result.error.error.details).toEqual([
        { path: 'tenant_id', message: 'is required' },
        { path: 'url', message: 'is required' },
      ]);
    }
  });
});

describe('errorBody', () => {
  it('builds an error body with or without details', () => {
    expect(errorBody('url_not_allowed', 'That URL resolves to a private address.')).toEqual({
      error: { code: 'url_not_allowed', message: 'That URL resolves to a private address.' },
    });
    expect(errorBody('invalid_request', 'Bad.', [{ path: 'url', message: 'is bad' }])).toEqual({
      error: {
        code: 'invalid_request',
        message: 'Bad.',
        details: [{ path: 'url', message: 'is bad' }],
      },
    });
  });
});

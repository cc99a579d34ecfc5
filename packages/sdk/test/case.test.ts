import { apiRoutes } from '@hookline/api';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { camelKey, FREE_FORM_WIRE_KEYS, fromWire, snakeKey, toWire } from '../src/case';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(schema: z.ZodType): z.ZodType {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe') return unwrap(def.out!);
  return schema;
}

/** Every object key of every request and response schema, and whether its value is a record. */
function schemaKeys(): Map<string, Set<'record' | 'structured'>> {
  const keys = new Map<string, Set<'record' | 'structured'>>();
  const seen = new Set<z.ZodType>();
  const visit = (schema: z.ZodType) => {
    const inner = unwrap(schema);
    if (seen.has(inner)) return;
    seen.add(inner);
    const def = defOf(inner);
    if (def.type === 'array') visit(def.element!);
    if (def.type === 'union') for (const option of def.options!) visit(option);
    if (def.type !== 'object') return;
    for (const [key, field] of Object.entries(def.shape!)) {
      const kind = defOf(unwrap(field)).type === 'record' ? 'record' : 'structured';
      if (!keys.has(key)) keys.set(key, new Set());
      keys.get(key)!.add(kind);
      visit(field);
    }
  };
  for (const route of Object.values(apiRoutes)) {
    const r = route as {
      body?: { schema: z.ZodType };
      query?: z.ZodType;
      responses: Record<number, { schema?: z.ZodType }>;
    };
    if (r.body) visit(r.body.schema);
    if (r.query) visit(r.query);
    for (const response of Object.values(r.responses)) if (response.schema) visit(response.schema);
  }
  return keys;
}

describe('case conversion', () => {
  const keys = schemaKeys();

  it('finds the keys of the API’s schemas (the derivation below is not vacuous)', () => {
    expect(keys.size).toBeGreaterThan(50);
    expect(keys.get('tenant_id')).toEqual(new Set(['structured']));
    expect(keys.get('metadata')).toEqual(new Set(['record']));
  });

  it('leaves alone exactly the fields whose schema is a free-form record', () => {
    const records = [...keys].filter(([, kinds]) => kinds.has('record')).map(([key]) => key);
    expect([...records].sort()).toEqual([...FREE_FORM_WIRE_KEYS].sort());
  });

  it('never has a key that is a record in one schema and structured in another', () => {
    const ambiguous = [...keys].filter(([, kinds]) => kinds.size > 1).map(([key]) => key);
    expect(ambiguous).toEqual([]);
  });

  it('round-trips every wire key through camelCase, and no two keys collide', () => {
    const camel = new Map<string, string>();
    for (const key of keys.keys()) {
      expect(snakeKey(camelKey(key)), key).toBe(key);
      expect(camel.get(camelKey(key)), `${key} and another key`).toBeUndefined();
      camel.set(camelKey(key), key);
    }
    expect(camelKey('latency_ms_p50')).toBe('latencyMsP50');
    expect(snakeKey('latencyMsP50')).toBe('latency_ms_p50');
  });

  it('converts nested objects and arrays, drops undefined, keeps null, sends Dates as RFC 3339', () => {
    expect(
      toWire({
        tenantId: 'a',
        retrySchedule: [1, 2],
        rateLimitPerMinute: null,
        description: undefined,
        since: new Date('2025-01-01T00:00:00Z'),
        nested: [{ eventType: 'x' }],
      }),
    ).toEqual({
      tenant_id: 'a',
      retry_schedule: [1, 2],
      rate_limit_per_minute: null,
      since: '2025-01-01T00:00:00.000Z',
      nested: [{ event_type: 'x' }],
    });
    expect(
      fromWire({ data: [{ next_attempt_at: null, last_attempt: { http_status: 200 } }] }),
    ).toEqual({ data: [{ nextAttemptAt: null, lastAttempt: { httpStatus: 200 } }] });
  });

  it('passes free-form maps through untouched in both directions, whatever their keys', () => {
    const map = { snake_key: { inner_key: 1 }, camelKey: [{ a_b: 2 }], 'X-Header_Name': 'v' };
    const sent = toWire({ payload: map, metadata: map, headers: map, schema: map, example: map });
    expect(sent).toEqual({ payload: map, metadata: map, headers: map, schema: map, example: map });
    const received = fromWire({ request_headers: map, response_headers: map, payload: map });
    expect(received).toEqual({ requestHeaders: map, responseHeaders: map, payload: map });
  });
});

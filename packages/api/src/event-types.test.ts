import { describe, expect, it } from 'vitest';
import { badPaths, detailsOf, parseOk } from '../test/helpers';
import {
  eventTypeCreateRequestSchema,
  eventTypeListQuerySchema,
  eventTypePatchRequestSchema,
  eventTypeSchema,
} from './index';

const create = {
  name: 'invoice.paid',
  description: 'An invoice was paid.',
  schema: { type: 'object', properties: { invoice_id: { type: 'string' } } },
  example: { invoice_id: 'in_1' },
};

describe('event type create request', () => {
  it('accepts name, description, schema and example', () => {
    expect(parseOk(eventTypeCreateRequestSchema, create)).toEqual(create);
    expect(parseOk(eventTypeCreateRequestSchema, { name: 'a' })).toEqual({ name: 'a' });
  });

  it('requires a name', () => {
    expect(detailsOf(eventTypeCreateRequestSchema, {})).toEqual([
      { path: 'name', message: 'is required' },
    ]);
  });

  it.each([
    ['name', 'Invoice.Paid'],
    ['description', 'x'.repeat(1025)],
    ['schema', 'not an object'],
    ['example', [1]],
  ])('rejects a bad %s', (field, value) => {
    expect(badPaths(eventTypeCreateRequestSchema, { ...create, [field]: value })).toEqual([field]);
  });

  it('rejects unknown fields', () => {
    expect(badPaths(eventTypeCreateRequestSchema, { ...create, version: 2 })).toEqual(['version']);
  });
});

describe('event type patch request', () => {
  it('accepts a partial update and null to clear schema or example', () => {
    expect(parseOk(eventTypePatchRequestSchema, { description: 'x' })).toEqual({
      description: 'x',
    });
    expect(parseOk(eventTypePatchRequestSchema, { schema: null, example: null })).toEqual({
      schema: null,
      example: null,
    });
  });

  it('rejects renaming as an unknown field', () => {
    expect(detailsOf(eventTypePatchRequestSchema, { name: 'b' })).toEqual([
      { path: 'name', message: 'is not a known field' },
    ]);
  });
});

describe('event types list and object', () => {
  it('take only limit and cursor', () => {
    expect(parseOk(eventTypeListQuerySchema, { limit: '5' })).toEqual({ limit: 5 });
    expect(badPaths(eventTypeListQuerySchema, { name: 'a' })).toEqual(['name']);
  });

  it('describe an event type', () => {
    const eventType = {
      ...create,
      created_at: '2025-01-31T12:00:00Z',
      updated_at: '2025-01-31T12:00:00Z',
    };
    expect(eventTypeSchema.parse(eventType)).toEqual(eventType);
    expect(eventTypeSchema.parse({ ...eventType, schema: null, example: null })).toMatchObject({
      schema: null,
    });
  });
});

import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { base64OfLength } from '../test/helpers';
import { apiRouteList, buildOpenApiDocument, type JsonObject } from './index';

// Written from API.md by hand, independently of routes.ts: method, path, needs a token.
const API_MD_ROUTES: [string, string, boolean][] = [
  ['post', '/v1/endpoints', true],
  ['get', '/v1/endpoints', true],
  ['get', '/v1/endpoints/{id}', true],
  ['patch', '/v1/endpoints/{id}', true],
  ['delete', '/v1/endpoints/{id}', true],
  ['post', '/v1/endpoints/{id}/rotate-secret', true],
  ['post', '/v1/endpoints/{id}/test', true],
  ['get', '/v1/endpoints/{id}/stats', true],
  ['post', '/v1/endpoints/{id}/recover', true],
  ['post', '/v1/messages', true],
  ['get', '/v1/messages/{id}', true],
  ['get', '/v1/messages', true],
  ['get', '/v1/deliveries', true],
  ['get', '/v1/deliveries/{id}', true],
  ['post', '/v1/deliveries/{id}/replay', true],
  ['post', '/v1/event-types', true],
  ['get', '/v1/event-types', true],
  ['get', '/v1/event-types/{name}', true],
  ['patch', '/v1/event-types/{name}', true],
  ['delete', '/v1/event-types/{name}', true],
  ['get', '/v1/tenants/{tenant_id}/alert-channels', true],
  ['put', '/v1/tenants/{tenant_id}/alert-channels', true],
  ['post', '/v1/portal/links', true],
  ['get', '/healthz', false],
  ['get', '/readyz', false],
  ['get', '/metrics', false],
  ['get', '/openapi.json', false],
];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const doc = buildOpenApiDocument({ version: '1.2.3', serverUrl: 'https://hooks.example.com' });

function operations(): { method: string; path: string; op: JsonObject }[] {
  const out: { method: string; path: string; op: JsonObject }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) out.push({ method, path, op });
    }
  }
  return out;
}

function collectRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') out.push(child);
      else collectRefs(child, out);
    }
  }
  return out;
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

// The component schemas as one JSON Schema 2020-12 document, so that Ajv can compile them.
function componentsAjv() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  const defs = JSON.parse(
    JSON.stringify(doc.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'),
  );
  ajv.addSchema({ $id: 'https://hookline.test/components.json', $defs: defs });
  return (name: string) => {
    const validate = ajv.getSchema(`https://hookline.test/components.json#/$defs/${name}`);
    if (!validate) throw new Error(`no component ${name}`);
    return validate;
  };
}

describe('the OpenAPI document', () => {
  it('has exactly the routes of API.md', () => {
    const documented = operations()
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    const expected = API_MD_ROUTES.map(([method, path]) => `${method} ${path}`).sort();
    expect(documented).toEqual(expected);
    expect(apiRouteList).toHaveLength(API_MD_ROUTES.length);
  });

  it('asks for the bearer token on every /v1 route and on none of the operations routes', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    for (const [method, path, needsToken] of API_MD_ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op?.security, `${method} ${path}`).toEqual(needsToken ? [{ bearerAuth: [] }] : []);
      if (needsToken) expect(op?.responses, `${method} ${path}`).toHaveProperty('401');
    }
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('resolves every $ref', () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) {
      expect(resolvePointer(doc, ref), ref).toBeDefined();
    }
  });

  it('declares every path parameter of every path template', () => {
    for (const { method, path, op } of operations()) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = ((op.parameters ?? []) as JsonObject[])
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => {
          expect(parameter.required).toBe(true);
          return parameter.name;
        })
        .sort();
      expect(declared, `${method} ${path}`).toEqual(templated);
    }
  });

  it('gives every list route limit and cursor query parameters', () => {
    for (const { op } of operations().filter(
      ({ method, path }) => method === 'get' && path.startsWith('/v1/') && !path.includes('{'),
    )) {
      const query = (op.parameters as JsonObject[]).filter((parameter) => parameter.in === 'query');
      expect(query.find((parameter) => parameter.name === 'limit')).toMatchObject({
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
      });
      expect(query.find((parameter) => parameter.name === 'cursor')).toBeDefined();
      const ok = (op.responses as JsonObject)['200'] as JsonObject;
      const ref = collectRefs(ok)[0] ?? '';
      expect(resolvePointer(doc, ref)).toMatchObject({ required: ['data', 'next_cursor'] });
    }
  });

  it('describes every response status with a body schema except 204', () => {
    for (const { method, path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Record<string, JsonObject>)) {
        if (status === '204') expect(response.content, `${method} ${path}`).toBeUndefined();
        else expect(response.content, `${method} ${path} ${status}`).toBeDefined();
      }
    }
  });

  it('takes the documented request bodies, the Idempotency-Key header and the success statuses', () => {
    const bodyRef = (method: string, path: string) =>
      collectRefs(doc.paths[path]?.[method]?.requestBody)[0];
    expect(bodyRef('post', '/v1/endpoints')).toBe('#/components/schemas/EndpointCreateRequest');
    expect(bodyRef('patch', '/v1/endpoints/{id}')).toBe(
      '#/components/schemas/EndpointPatchRequest',
    );
    expect(bodyRef('post', '/v1/messages')).toBe('#/components/schemas/MessageCreateRequest');
    expect(bodyRef('put', '/v1/tenants/{tenant_id}/alert-channels')).toBe(
      '#/components/schemas/AlertChannelsPutRequest',
    );
    expect(doc.paths['/v1/messages']?.post?.parameters).toEqual([
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
    ]);
    const statuses = (method: string, path: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses as JsonObject);
    expect(statuses('post', '/v1/endpoints')).toContain('201');
    expect(statuses('post', '/v1/messages')).toEqual(
      expect.arrayContaining(['202', '400', '409', '413', '429', '503']),
    );
    // Every authenticated route may answer 503 (the database is not answering), with Retry-After.
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods as Record<string, JsonObject>)) {
        if (!path.startsWith('/v1/')) continue;
        const responses = operation.responses as Record<string, JsonObject>;
        expect(responses['503'], `${method} ${path}`).toMatchObject({
          headers: { 'Retry-After': { schema: { type: 'integer' } } },
        });
      }
    }
    expect(statuses('delete', '/v1/endpoints/{id}')).toContain('204');
    expect(statuses('post', '/v1/endpoints/{id}/recover')).toContain('202');
    expect(statuses('post', '/v1/deliveries/{id}/replay')).toContain('202');
    expect(statuses('post', '/v1/portal/links')).toContain('201');
  });

  it('carries the version and server URL it was given', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.servers).toEqual([{ url: 'https://hooks.example.com' }]);
    expect(buildOpenApiDocument({ version: '0' }).servers).toBeUndefined();
  });

  it('writes wire names in snake_case only', () => {
    const names = new Set<string>();
    const walk = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        const properties = (value as JsonObject).properties;
        if (properties && typeof properties === 'object') {
          for (const name of Object.keys(properties)) names.add(name);
        }
        Object.values(value).forEach(walk);
      }
    };
    walk(doc.components.schemas);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
  });
});

describe('the component schemas', () => {
  const component = componentsAjv();

  it('compile as JSON Schema 2020-12', () => {
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => component(name), name).not.toThrow();
    }
  });

  it('accept what the zod schemas accept and reject unknown request fields', () => {
    const create = component('EndpointCreateRequest');
    const body = {
      tenant_id: 'acme',
      url: 'https://acme.example.com/webhooks',
      retry_schedule: [30, 300, 1800, 7200],
      headers: { 'X-Api-Key': 'k' },
      secret: `whsec_${base64OfLength(32)}`,
    };
    expect(create(body), JSON.stringify(create.errors)).toBe(true);
    expect(create({ ...body, enabled: true })).toBe(false);
    expect(create({ tenant_id: 'acme' })).toBe(false);
  });

  it('let responses carry fields added later', () => {
    const accepted = component('MessageAccepted');
    const body = {
      id: 'msg_1',
      tenant_id: 'acme',
      event_type: 'invoice.paid',
      created_at: '2025-01-31T12:00:00Z',
      delivery_count: 1,
    };
    expect(accepted(body), JSON.stringify(accepted.errors)).toBe(true);
    expect(accepted({ ...body, new_field: true })).toBe(true);
    expect(accepted({ ...body, created_at: 'yesterday' })).toBe(false);
  });
});

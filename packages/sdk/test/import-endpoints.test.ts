import type * as api from '@hookline/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_MARKER } from '../src/index';
import { wire } from './fixtures';
import { apiError, client, json, mockGateway } from './mock-gateway';

const gateway = mockGateway();
beforeAll(() => gateway.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => gateway.reset());
afterAll(() => gateway.server.close());

type WireEndpoint = api.Endpoint;

/** A gateway that stores endpoints, lists them two per page and refuses one tenant. */
function statefulGateway(existing: WireEndpoint[] = [], refuseTenant?: string) {
  const endpoints: WireEndpoint[] = [...existing];
  gateway.on('listEndpoints', ({ url }) => {
    const tenant = url.searchParams.get('tenant_id');
    const mine = endpoints.filter((ep) => ep.tenant_id === tenant);
    const start = Number(url.searchParams.get('cursor') ?? 0);
    return json({
      data: mine.slice(start, start + 2),
      next_cursor: start + 2 < mine.length ? String(start + 2) : null,
    });
  });
  gateway.on('createEndpoint', ({ body }) => {
    const request = JSON.parse(body);
    if (request.tenant_id === refuseTenant) {
      return apiError(400, 'url_not_allowed', 'The url is not allowed.');
    }
    const created = {
      ...wire.endpoint,
      id: `ep_${endpoints.length + 1}`,
      tenant_id: request.tenant_id,
      url: request.url,
      description: request.description,
      event_types: request.event_types ?? [],
      headers: {},
      metadata: request.metadata ?? {},
      rotation: null,
    };
    endpoints.push(created);
    return json(
      { ...created, secret: request.secret ?? 'whsec_generatedgeneratedgeneratedgene' },
      201,
    );
  });
  return endpoints;
}

const entries = [
  {
    tenantId: 'acme',
    url: 'https://acme.example/hooks',
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  },
  { tenantId: 'globex', url: 'https://globex.example/webhook' },
];

describe('importEndpoints', () => {
  it('creates a "Default" endpoint per tenant, importing the secret, marked as imported', async () => {
    statefulGateway();
    const results = await client().importEndpoints(entries);
    expect(results.map((r) => [r.tenantId, r.status])).toEqual([
      ['acme', 'created'],
      ['globex', 'created'],
    ]);
    const bodies = gateway.calls('createEndpoint').map((c) => JSON.parse(c.body));
    expect(bodies).toEqual([
      {
        tenant_id: 'acme',
        url: 'https://acme.example/hooks',
        description: 'Default',
        metadata: { hookline_import: 'default' },
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      },
      {
        tenant_id: 'globex',
        url: 'https://globex.example/webhook',
        description: 'Default',
        metadata: { hookline_import: 'default' },
      },
    ]);
    const acme = results[0]!;
    expect(acme.status === 'created' && acme.endpoint.secret).toBe(entries[0]!.secret);
  });

  it('creates nothing when run again', async () => {
    statefulGateway();
    const h = client();
    await h.importEndpoints(entries);
    const again = await h.importEndpoints(entries);
    expect(again.map((r) => [r.tenantId, r.status])).toEqual([
      ['acme', 'existing'],
      ['globex', 'existing'],
    ]);
    expect(gateway.calls('createEndpoint')).toHaveLength(2);
    expect(again[0]!.status === 'existing' && again[0]!.endpoint.id).toBe('ep_1');
  });

  it('finds an earlier import on a later page, and an endpoint with the same URL', async () => {
    const other = (n: number) => ({
      ...wire.endpoint,
      id: `ep_o${n}`,
      tenant_id: 'acme',
      url: `https://acme.example/other-${n}`,
      metadata: {},
    });
    statefulGateway([
      other(1),
      other(2),
      other(3),
      {
        ...other(4),
        url: 'https://elsewhere.example',
        metadata: { [IMPORT_MARKER.key]: IMPORT_MARKER.value },
      },
      {
        ...wire.endpoint,
        id: 'ep_g',
        tenant_id: 'globex',
        url: 'https://globex.example/webhook',
        metadata: {},
      },
    ]);
    const results = await client().importEndpoints(entries);
    expect(
      results.map((r) => [r.tenantId, r.status, r.status === 'failed' ? null : r.endpoint.id]),
    ).toEqual([
      ['acme', 'existing', 'ep_o4'],
      ['globex', 'existing', 'ep_g'],
    ]);
    expect(gateway.calls('createEndpoint')).toHaveLength(0);
    expect(gateway.calls('listEndpoints').length).toBe(3);
  });

  it('reports one tenant’s failure and carries on with the others', async () => {
    statefulGateway([], 'acme');
    const results = await client().importEndpoints([
      ...entries,
      { tenantId: 'initech', url: 'https://initech.example/h' },
    ]);
    expect(results.map((r) => [r.tenantId, r.status])).toEqual([
      ['acme', 'failed'],
      ['globex', 'created'],
      ['initech', 'created'],
    ]);
    const failed = results[0]!;
    expect(failed.status === 'failed' && failed.error).toMatchObject({
      status: 400,
      code: 'url_not_allowed',
    });
  });

  it('applies description, event types and extra metadata, keeping the marker', async () => {
    statefulGateway();
    await client().importEndpoints([entries[1]!], {
      description: 'Migrated',
      eventTypes: ['invoice.paid'],
      metadata: { source: 'legacy_v1' },
    });
    expect(JSON.parse(gateway.calls('createEndpoint')[0]!.body)).toMatchObject({
      description: 'Migrated',
      event_types: ['invoice.paid'],
      metadata: { source: 'legacy_v1', hookline_import: 'default' },
    });
  });

  it.each([
    [
      'not an array',
      { tenantId: 'a', url: 'https://a' },
      /needs an array of \{ tenantId, url, secret\? \}/,
    ],
    [
      'a duplicate tenant',
      [entries[0], entries[0]],
      /lists the tenant acme twice; give one URL per tenant/,
    ],
    ['an entry without url', [{ tenantId: 'a' }], /needs every entry to have a url, got undefined/],
    [
      'a secret that is not a string',
      [{ tenantId: 'a', url: 'https://a', secret: 42 }],
      /needs secret, when given, to be a string, got a number/,
    ],
  ])('refuses %s before sending anything', async (_, input, message) => {
    await expect(client().importEndpoints(input as never)).rejects.toThrow(message);
    expect(gateway.recorded).toHaveLength(0);
  });
});

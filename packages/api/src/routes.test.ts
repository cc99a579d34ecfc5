import { describe, expect, it } from 'vitest';
import { apiRouteList, apiRoutes, toColonPath } from './index';

describe('the route table', () => {
  it('keys every route by its operationId, each method and path once', () => {
    for (const [key, route] of Object.entries(apiRoutes)) expect(route.operationId).toBe(key);
    const pairs = apiRouteList.map((route) => `${route.method} ${route.path}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('has a path params schema naming exactly the parameters of each path template', () => {
    for (const route of apiRouteList) {
      const templated = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = Object.keys(route.params?.shape ?? {}).sort();
      expect(declared, route.path).toEqual(templated);
    }
  });

  it('refuses portal tokens where API.md says so: creating messages and minting links', () => {
    expect(apiRoutes.createMessage.auth).toBe('api_key');
    expect(apiRoutes.createPortalLink.auth).toBe('api_key');
    expect(apiRoutes.testEndpoint.auth).toBe('api_key_or_portal');
    expect(apiRoutes.putAlertChannels.auth).toBe('api_key_or_portal');
    expect(apiRoutes.getHealth.auth).toBe('none');
  });

  it('validates path params with the resource id schemas', () => {
    expect(apiRoutes.getEndpoint.params.safeParse({ id: 'ep_1' }).success).toBe(true);
    expect(apiRoutes.getEndpoint.params.safeParse({ id: 'dlv_1' }).success).toBe(false);
    expect(apiRoutes.getEventType.params.safeParse({ name: 'invoice.paid' }).success).toBe(true);
    expect(apiRoutes.getAlertChannels.params.safeParse({ tenant_id: 'a b' }).success).toBe(false);
  });

  it('marks bodies whose fields are all optional as not required', () => {
    expect(apiRoutes.rotateEndpointSecret.body.required).toBe(false);
    expect(apiRoutes.testEndpoint.body.required).toBe(false);
    expect(apiRoutes.replayDelivery.body.required).toBe(false);
    expect(apiRoutes.createEndpoint.body.required).toBe(true);
  });

  it('turns path templates into Hono paths', () => {
    expect(toColonPath('/v1/endpoints/{id}/rotate-secret')).toBe('/v1/endpoints/:id/rotate-secret');
    expect(toColonPath('/v1/tenants/{tenant_id}/alert-channels')).toBe(
      '/v1/tenants/:tenant_id/alert-channels',
    );
    expect(toColonPath('/healthz')).toBe('/healthz');
  });
});

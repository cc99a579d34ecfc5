import { type ApiOperationId, apiRoutes } from '@hookline/api';
import { describe, expect, it } from 'vitest';
import { type OperationId, ROUTES } from '../src/routes';

describe('the SDK route table', () => {
  it('has exactly the operations of @hookline/api', () => {
    expect(Object.keys(ROUTES).sort()).toEqual(Object.keys(apiRoutes).sort());
  });

  it.each(Object.keys(apiRoutes) as ApiOperationId[])('%s: same method, path and auth', (id) => {
    const api = apiRoutes[id];
    const ours = ROUTES[id as OperationId];
    expect(ours.method).toBe(api.method.toUpperCase());
    expect(ours.path).toBe(api.path);
    expect(ours.auth).toBe(api.auth !== 'none');
  });

  it('repeats after an ambiguous failure only what is safe to repeat', () => {
    const repeatable = Object.entries(ROUTES)
      .filter(([, route]) => route.method === 'POST' && route.repeatable)
      .map(([id]) => id);
    expect(repeatable.sort()).toEqual(['createMessage', 'createPortalLink']);
    for (const route of Object.values(ROUTES)) {
      if (route.method !== 'POST') expect(route.repeatable).toBe(true);
    }
  });
});

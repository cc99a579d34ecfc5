import { renderHook, waitFor } from '@testing-library/react';
import { http } from 'msw';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import {
  errorResponse,
  GATEWAY,
  makeDelivery,
  makeEndpoint,
  makeEventType,
  TENANT,
  TOKEN,
} from '../../test/fake-gateway';
import { gateway, server } from '../../test/setup';
import { HooklineProvider } from '../context';
import {
  useAlertChannels,
  useDeliveries,
  useDelivery,
  useEndpoint,
  useEndpointStats,
  useEndpoints,
  useEventTypes,
  useTenantId,
} from './queries';

function wrapper(tenantId: string | null = TENANT) {
  return ({ children }: { children: ReactNode }) => (
    <HooklineProvider gatewayUrl={GATEWAY} token={TOKEN} {...(tenantId ? { tenantId } : {})}>
      {children}
    </HooklineProvider>
  );
}

describe('query hooks', () => {
  it('useEndpoints loads a page, and reports an error state', async () => {
    gateway.endpoints.push(makeEndpoint({ id: 'ep_a' }));
    const { result } = renderHook(() => useEndpoints({ status: 'active' }), { wrapper: wrapper() });
    expect(result.current.isLoading).toBe(true);
    await waitFor(() => expect(result.current.data?.data.map((e) => e.id)).toEqual(['ep_a']));
    expect(result.current.error).toBeUndefined();
    expect(gateway.requests[0]?.query).toEqual({ status: 'active' });

    server.use(
      http.get(`${GATEWAY}/v1/endpoints`, () => errorResponse(500, 'internal_error', 'Down.')),
    );
    await result.current.refetch();
    await waitFor(() => expect(result.current.error?.code).toBe('internal_error'));
    // The last good page stays available while the error shows.
    expect(result.current.data?.data).toHaveLength(1);
  });

  it('useEndpoint with null does nothing; with an unknown id reports 404', async () => {
    const idle = renderHook(() => useEndpoint(null), { wrapper: wrapper() });
    expect(idle.result.current).toMatchObject({
      isLoading: false,
      data: undefined,
      error: undefined,
    });
    const missing = renderHook(() => useEndpoint('ep_missing'), { wrapper: wrapper() });
    await waitFor(() => expect(missing.result.current.error?.status).toBe(404));
    expect(gateway.requests.map((r) => r.path)).toEqual(['/v1/endpoints/ep_missing']);
  });

  it('useEndpointStats asks for the window', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { result } = renderHook(() => useEndpointStats(endpoint.id, '7d'), {
      wrapper: wrapper(),
    });
    await waitFor(() => expect(result.current.data?.health).toBe('green'));
    expect(gateway.requests[0]).toMatchObject({
      path: `/v1/endpoints/${endpoint.id}/stats`,
      query: { window: '7d' },
    });
  });

  it('useDeliveries passes filters, returns an empty page, and refreshes on an interval', async () => {
    const { result } = renderHook(
      () =>
        useDeliveries(
          { endpoint_id: 'ep_x', status: 'dead', event_type: 'a.b' },
          { refreshInterval: 40 },
        ),
      { wrapper: wrapper() },
    );
    await waitFor(() => expect(result.current.data).toEqual({ data: [], next_cursor: null }));
    expect(gateway.requests[0]?.query).toEqual({
      endpoint_id: 'ep_x',
      status: 'dead',
      event_type: 'a.b',
    });
    await waitFor(() => expect(gateway.requests.length).toBeGreaterThanOrEqual(3));
  });

  it('useDelivery loads the attempts, and reports a delivery out of scope as 404', async () => {
    const endpoint = makeEndpoint();
    const delivery = makeDelivery(endpoint);
    gateway.deliveries.push(delivery);
    const { result } = renderHook(() => useDelivery(delivery.id), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.data?.attempts).toHaveLength(1));
    const other = renderHook(() => useDelivery('dlv_elsewhere'), { wrapper: wrapper() });
    await waitFor(() => expect(other.result.current.error?.status).toBe(404));
    expect(other.result.current.data).toBeUndefined();
  });

  it('useEventTypes reports a failing catalog', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/event-types`, () => errorResponse(500, 'internal_error', 'Down.')),
    );
    const { result } = renderHook(() => useEventTypes(), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.error?.message).toBe('Down.'));
    expect(result.current.isLoading).toBe(false);
  });

  it('useEventTypes returns the whole catalog sorted', async () => {
    gateway.eventTypes.push(makeEventType('invoice.paid'), makeEventType('customer.created'));
    const { result } = renderHook(() => useEventTypes(), { wrapper: wrapper() });
    await waitFor(() =>
      expect(result.current.data?.map((t) => t.name)).toEqual(['customer.created', 'invoice.paid']),
    );
  });

  it('useTenantId prefers the provider, else learns it from an endpoint, else is undefined', async () => {
    const given = renderHook(() => useTenantId(), { wrapper: wrapper('given') });
    expect(given.result.current).toEqual({ tenantId: 'given', isLoading: false, error: undefined });

    const unknown = renderHook(() => useTenantId(), { wrapper: wrapper(null) });
    await waitFor(() => expect(unknown.result.current.isLoading).toBe(false));
    expect(unknown.result.current.tenantId).toBeUndefined();

    gateway.endpoints.push(makeEndpoint({ tenant_id: 'learnt' }));
    const learnt = renderHook(() => useTenantId(), { wrapper: wrapper(null) });
    await waitFor(() => expect(learnt.result.current.tenantId).toBe('learnt'));
  });

  it("useAlertChannels reads the tenant's channels and reports another tenant as 404", async () => {
    gateway.alertChannels = {
      tenant_id: TENANT,
      emails: ['ops@acme.test'],
      slack_webhook_url: null,
    };
    const own = renderHook(() => useAlertChannels(), { wrapper: wrapper() });
    await waitFor(() => expect(own.result.current.data?.emails).toEqual(['ops@acme.test']));
    const other = renderHook(() => useAlertChannels(), { wrapper: wrapper('someone-else') });
    await waitFor(() => expect(other.result.current.error?.status).toBe(404));
  });

  it('shares one request between hooks reading the same key', async () => {
    renderHook(
      () => {
        useEndpoints();
        useEndpoints();
      },
      { wrapper: wrapper() },
    );
    await waitFor(() => expect(gateway.requests).toHaveLength(1));
  });
});

import { act, renderHook, waitFor } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import {
  errorResponse,
  GATEWAY,
  makeAttempt,
  makeDelivery,
  makeEndpoint,
  TENANT,
  TOKEN,
} from '../../test/fake-gateway';
import { gateway, server } from '../../test/setup';
import { HooklineProvider } from '../context';
import {
  useCreateEndpoint,
  useDeleteEndpoint,
  usePauseEndpoint,
  useRecoverEndpoint,
  useReplayDelivery,
  useResumeEndpoint,
  useRotateSecret,
  useSendTestEvent,
  useUpdateAlertChannels,
  useUpdateEndpoint,
} from './mutations';
import { useEndpoints } from './queries';

function wrapper(tenantId?: string) {
  return ({ children }: { children: ReactNode }) => (
    <HooklineProvider gatewayUrl={GATEWAY} token={TOKEN} {...(tenantId ? { tenantId } : {})}>
      {children}
    </HooklineProvider>
  );
}

describe('mutation hooks', () => {
  it('useCreateEndpoint fills in the tenant, returns the secret once, and refreshes lists', async () => {
    const { result } = renderHook(() => ({ create: useCreateEndpoint(), list: useEndpoints() }), {
      wrapper: wrapper(TENANT),
    });
    await waitFor(() => expect(result.current.list.data?.data).toEqual([]));
    let created: Awaited<ReturnType<typeof result.current.create.mutateAsync>> | undefined;
    await act(async () => {
      created = await result.current.create.mutateAsync({ url: 'https://new.example.com/h' });
    });
    expect(created?.secret).toMatch(/^whsec_/);
    expect(gateway.requests.find((r) => r.method === 'POST')?.body).toEqual({
      tenant_id: TENANT,
      url: 'https://new.example.com/h',
    });
    expect(result.current.create).toMatchObject({ isPending: false, error: undefined });
    await waitFor(() => expect(result.current.list.data?.data).toHaveLength(1));
  });

  it('useCreateEndpoint refuses to guess a tenant it does not know', async () => {
    const { result } = renderHook(() => useCreateEndpoint(), { wrapper: wrapper() });
    await act(async () => {
      await result.current.mutate({ url: 'https://new.example.com/h' });
    });
    expect(result.current.error?.code).toBe('tenant_unknown');
    expect(gateway.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('shows isPending while a mutation runs and the error after it fails', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.post(`${GATEWAY}/v1/endpoints`, async () => {
        await gate;
        return errorResponse(400, 'url_not_allowed', 'The url is not allowed.', [
          { path: 'url', message: 'is not allowed' },
        ]);
      }),
    );
    const { result } = renderHook(() => useCreateEndpoint(), { wrapper: wrapper(TENANT) });
    let outcome: Promise<unknown> | undefined;
    act(() => {
      outcome = result.current.mutate({ url: 'https://10.0.0.1/' });
    });
    await waitFor(() => expect(result.current.isPending).toBe(true));
    release();
    await act(async () => {
      expect(await outcome).toBeUndefined();
    });
    expect(result.current.isPending).toBe(false);
    expect(result.current.error?.details).toEqual([{ path: 'url', message: 'is not allowed' }]);
    act(() => result.current.reset());
    expect(result.current.error).toBeUndefined();
  });

  it('useUpdateEndpoint, usePauseEndpoint and useResumeEndpoint patch the endpoint', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { result } = renderHook(
      () => ({
        update: useUpdateEndpoint(),
        pause: usePauseEndpoint(),
        resume: useResumeEndpoint(),
      }),
      { wrapper: wrapper(TENANT) },
    );
    await act(async () => {
      await result.current.update.mutateAsync({
        id: endpoint.id,
        patch: { description: 'Billing' },
      });
      await result.current.pause.mutateAsync(endpoint.id);
    });
    expect(result.current.pause.data?.status).toBe('paused');
    await act(async () => {
      await result.current.resume.mutateAsync(endpoint.id);
    });
    expect(result.current.resume.data?.status).toBe('active');
    expect(gateway.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      { description: 'Billing' },
      { status: 'paused' },
      { status: 'active' },
    ]);
  });

  it('useDeleteEndpoint deletes, and reports a 404 for an endpoint out of scope', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { result } = renderHook(() => useDeleteEndpoint(), { wrapper: wrapper(TENANT) });
    await act(async () => {
      await result.current.mutateAsync(endpoint.id);
    });
    expect(gateway.endpoints).toHaveLength(0);
    await act(async () => {
      await result.current.mutate('ep_elsewhere');
    });
    expect(result.current.error?.status).toBe(404);
  });

  it('useRotateSecret sends the grace period and returns the new secret', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { result } = renderHook(() => useRotateSecret(), { wrapper: wrapper(TENANT) });
    await act(async () => {
      await result.current.mutateAsync({ id: endpoint.id, gracePeriodSeconds: 3600 });
    });
    expect(result.current.data?.secret).toMatch(/^whsec_/);
    expect(gateway.requests[0]?.body).toEqual({ grace_period_seconds: 3600 });
  });

  it('useSendTestEvent returns the attempt even when the endpoint answered 500', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    gateway.testAttempt = makeAttempt({
      outcome: 'http_5xx',
      http_status: 500,
      response_body: 'boom',
    });
    const { result } = renderHook(() => useSendTestEvent(), { wrapper: wrapper(TENANT) });
    await act(async () => {
      await result.current.mutateAsync({
        id: endpoint.id,
        eventType: 'invoice.paid',
        payload: { id: 1 },
      });
    });
    expect(result.current.data).toMatchObject({ http_status: 500, response_body: 'boom' });
    expect(result.current.error).toBeUndefined();
    expect(gateway.requests[0]?.body).toEqual({ event_type: 'invoice.paid', payload: { id: 1 } });
  });

  it('useReplayDelivery and useRecoverEndpoint queue new attempts', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const failed = makeDelivery(endpoint, { status: 'dead' });
    gateway.deliveries.push(failed, makeDelivery(endpoint, { status: 'failed' }));
    const { result } = renderHook(
      () => ({ replay: useReplayDelivery(), recover: useRecoverEndpoint() }),
      { wrapper: wrapper(TENANT) },
    );
    await act(async () => {
      await result.current.replay.mutateAsync(failed.id);
    });
    expect(result.current.replay.data?.status).toBe('pending');
    await act(async () => {
      await result.current.recover.mutateAsync({
        id: endpoint.id,
        since: new Date('2025-01-01T00:00:00Z'),
      });
    });
    expect(result.current.recover.data).toEqual({ count: 1 });
    expect(gateway.requests.at(-1)?.body).toEqual({ since: '2025-01-01T00:00:00.000Z' });
  });

  it('useUpdateAlertChannels replaces the channels and surfaces field errors', async () => {
    const { result } = renderHook(() => useUpdateAlertChannels(), { wrapper: wrapper(TENANT) });
    await act(async () => {
      await result.current.mutateAsync({ emails: ['ops@acme.test'], slack_webhook_url: null });
    });
    expect(gateway.alertChannels.emails).toEqual(['ops@acme.test']);
    await act(async () => {
      await result.current.mutate({ emails: ['nope'] });
    });
    expect(result.current.error?.details).toEqual([
      { path: 'emails[0]', message: 'must be an email address' },
    ]);
  });

  it('turns a network failure during a mutation into a network_error', async () => {
    server.use(http.post(`${GATEWAY}/v1/deliveries/:id/replay`, () => HttpResponse.error()));
    const { result } = renderHook(() => useReplayDelivery(), { wrapper: wrapper(TENANT) });
    await act(async () => {
      await result.current.mutate('dlv_1');
    });
    await waitFor(() => expect(result.current.error?.code).toBe('network_error'));
  });
});

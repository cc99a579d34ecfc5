import { useCallback, useRef, useState } from 'react';
import type { QueryFamily } from '../cache';
import { HooklineApiError, type HooklineClient } from '../client';
import { useHookline } from '../context';
import type {
  AlertChannels,
  AlertChannelsPutRequest,
  Attempt,
  Delivery,
  Endpoint,
  EndpointCreateRequest,
  EndpointPatchRequest,
  EndpointRecoverResponse,
  EndpointRotateSecretResponse,
  EndpointWithSecret,
} from '../wire.gen';
import { useTenantId } from './queries';

/** What every mutation hook returns. */
export interface MutationResult<Variables, Result> {
  /** Runs the mutation; resolves with its result, rejects with a `HooklineApiError`. */
  mutateAsync(variables: Variables): Promise<Result>;
  /** Runs the mutation; never rejects: the outcome lands in `data` or `error`. */
  mutate(variables: Variables): Promise<Result | undefined>;
  /** The last successful result. */
  data: Result | undefined;
  /** The last failure. */
  error: HooklineApiError | undefined;
  isPending: boolean;
  /** Forgets `data` and `error`. */
  reset(): void;
}

interface MutationState<Result> {
  data: Result | undefined;
  error: HooklineApiError | undefined;
  isPending: boolean;
}

/** Builds a mutation hook's result around `run`; invalidates `families` after success. */
export function useMutation<Variables, Result>(
  run: (client: HooklineClient, variables: Variables) => Promise<Result>,
  families: readonly QueryFamily[],
): MutationResult<Variables, Result> {
  const { client, cache } = useHookline();
  const [state, setState] = useState<MutationState<Result>>({
    data: undefined,
    error: undefined,
    isPending: false,
  });
  const runRef = useRef(run);
  runRef.current = run;
  // Only the latest call may set the state: an older, slower answer must not win.
  const latest = useRef(0);
  const familiesKey = families.join(',');

  const mutateAsync = useCallback(
    async (variables: Variables) => {
      const call = ++latest.current;
      setState((previous) => ({ ...previous, error: undefined, isPending: true }));
      try {
        const data = await runRef.current(client, variables);
        if (call === latest.current) setState({ data, error: undefined, isPending: false });
        void cache.invalidate(familiesKey.split(',') as QueryFamily[]);
        return data;
      } catch (thrown) {
        const error =
          thrown instanceof HooklineApiError
            ? thrown
            : new HooklineApiError('network_error', String(thrown), { cause: thrown });
        if (call === latest.current) setState({ data: undefined, error, isPending: false });
        throw error;
      }
    },
    [client, cache, familiesKey],
  );
  const mutate = useCallback(
    (variables: Variables) => mutateAsync(variables).catch(() => undefined),
    [mutateAsync],
  );
  const reset = useCallback(() => {
    latest.current++;
    setState({ data: undefined, error: undefined, isPending: false });
  }, []);
  return { ...state, mutateAsync, mutate, reset };
}

/** A new endpoint's fields; `tenant_id` defaults to the portal's tenant. */
export type CreateEndpointInput = Omit<EndpointCreateRequest, 'tenant_id'> & { tenant_id?: string };

/** Creates an endpoint; the result holds its secret, shown only this once. */
export function useCreateEndpoint(): MutationResult<CreateEndpointInput, EndpointWithSecret> {
  const { tenantId } = useTenantId();
  return useMutation(
    (client, input: CreateEndpointInput) => {
      const tenant = input.tenant_id ?? tenantId;
      if (tenant === undefined) {
        return Promise.reject(
          new HooklineApiError(
            'tenant_unknown',
            'This portal does not know which tenant it manages: give HooklineProvider a tenantId.',
          ),
        );
      }
      return client.createEndpoint({ ...input, tenant_id: tenant });
    },
    ['endpoints', 'stats'],
  );
}

/** Changes an endpoint's fields. */
export function useUpdateEndpoint(): MutationResult<
  { id: string; patch: EndpointPatchRequest },
  Endpoint
> {
  return useMutation(
    (client, { id, patch }: { id: string; patch: EndpointPatchRequest }) =>
      client.updateEndpoint(id, patch),
    ['endpoints', 'stats', 'deliveries'],
  );
}

/** Deletes an endpoint with its delivery log. */
export function useDeleteEndpoint(): MutationResult<string, void> {
  return useMutation(
    (client, id: string) => client.deleteEndpoint(id),
    ['endpoints', 'stats', 'deliveries'],
  );
}

/** Pauses an endpoint: deliveries are held until it resumes. */
export function usePauseEndpoint(): MutationResult<string, Endpoint> {
  return useMutation(
    (client, id: string) => client.updateEndpoint(id, { status: 'paused' }),
    ['endpoints', 'deliveries'],
  );
}

/** Resumes a paused (or re-enables a disabled) endpoint; held deliveries go out. */
export function useResumeEndpoint(): MutationResult<string, Endpoint> {
  return useMutation(
    (client, id: string) => client.updateEndpoint(id, { status: 'active' }),
    ['endpoints', 'deliveries', 'stats'],
  );
}

/** Rotates an endpoint's secret; both secrets sign until the grace period ends. */
export function useRotateSecret(): MutationResult<
  { id: string; gracePeriodSeconds?: number },
  EndpointRotateSecretResponse
> {
  return useMutation(
    (client, { id, gracePeriodSeconds }: { id: string; gracePeriodSeconds?: number }) =>
      client.rotateSecret(
        id,
        gracePeriodSeconds === undefined ? {} : { grace_period_seconds: gracePeriodSeconds },
      ),
    ['endpoints'],
  );
}

/** What a test event sends; both default on the gateway. */
export interface SendTestEventInput {
  id: string;
  eventType?: string;
  payload?: Record<string, unknown>;
}

/** Sends a test event now; resolves with the attempt, whatever the endpoint answered. */
export function useSendTestEvent(): MutationResult<SendTestEventInput, Attempt> {
  return useMutation(
    (client, { id, eventType, payload }: SendTestEventInput) =>
      client.sendTestEvent(id, {
        ...(eventType === undefined ? {} : { event_type: eventType }),
        ...(payload === undefined ? {} : { payload }),
      }),
    ['deliveries'],
  );
}

/** Replays a delivery: one more attempt now, same webhook-id, same bytes. */
export function useReplayDelivery(): MutationResult<string, Delivery> {
  return useMutation((client, id: string) => client.replayDelivery(id), ['deliveries', 'stats']);
}

/** Replays every failed or dead delivery of an endpoint since a time. */
export function useRecoverEndpoint(): MutationResult<
  { id: string; since: Date | string },
  EndpointRecoverResponse
> {
  return useMutation(
    (client, { id, since }: { id: string; since: Date | string }) =>
      client.recoverEndpoint(id, {
        since: typeof since === 'string' ? since : since.toISOString(),
      }),
    ['deliveries', 'stats'],
  );
}

/** Replaces the tenant's alert channels. */
export function useUpdateAlertChannels(): MutationResult<AlertChannelsPutRequest, AlertChannels> {
  const { tenantId } = useTenantId();
  return useMutation(
    (client, body: AlertChannelsPutRequest) => {
      if (tenantId === undefined) {
        return Promise.reject(
          new HooklineApiError(
            'tenant_unknown',
            'This portal does not know which tenant it manages: give HooklineProvider a tenantId.',
          ),
        );
      }
      return client.putAlertChannels(tenantId, body);
    },
    ['alert-channels'],
  );
}

import type { HooklineApiError } from '../client';
import { useHookline } from '../context';
import type {
  AlertChannels,
  DeliveryListQuery,
  DeliveryListResponse,
  DeliveryWithAttempts,
  Endpoint,
  EndpointListQuery,
  EndpointListResponse,
  EndpointStats,
  EventType,
  StatsWindow,
} from '../wire.gen';
import { type QueryOptions, type QueryResult, useQuery } from './use-query';

/** A page of the tenant's endpoints, newest first. */
export function useEndpoints(
  query: EndpointListQuery = {},
  options?: QueryOptions,
): QueryResult<EndpointListResponse> {
  return useQuery(['endpoints', 'list', query], (client) => client.listEndpoints(query), options);
}

/** One endpoint (without its secret); `null` waits. */
export function useEndpoint(id: string | null, options?: QueryOptions): QueryResult<Endpoint> {
  return useQuery(
    id === null ? null : ['endpoints', 'one', id],
    (client) => client.getEndpoint(id!),
    options,
  );
}

/** Delivery counts, success rate, latency and health of an endpoint over a window (default 24 h). */
export function useEndpointStats(
  id: string | null,
  window: StatsWindow = '24h',
  options?: QueryOptions,
): QueryResult<EndpointStats> {
  return useQuery(
    id === null ? null : ['stats', id, window],
    (client) => client.getEndpointStats(id!, window),
    options,
  );
}

/** A page of deliveries (filter by endpoint, status, event type; `cursor` for older pages). */
export function useDeliveries(
  query: DeliveryListQuery = {},
  options?: QueryOptions,
): QueryResult<DeliveryListResponse> {
  return useQuery(['deliveries', 'list', query], (client) => client.listDeliveries(query), options);
}

/** One delivery with every attempt (request and response); `null` waits. */
export function useDelivery(
  id: string | null,
  options?: QueryOptions,
): QueryResult<DeliveryWithAttempts> {
  return useQuery(
    id === null ? null : ['deliveries', 'one', id],
    (client) => client.getDelivery(id!),
    options,
  );
}

/** The whole event type catalog, sorted by name. */
export function useEventTypes(options?: QueryOptions): QueryResult<EventType[]> {
  return useQuery(['event-types'], (client) => client.listAllEventTypes(), options);
}

/** The tenant the portal acts for: the provider's `tenantId`, else learnt from its endpoints. */
export interface TenantIdResult {
  tenantId: string | undefined;
  isLoading: boolean;
  error: HooklineApiError | undefined;
}

/** The portal's tenant id (see `TenantIdResult`). */
export function useTenantId(): TenantIdResult {
  const { tenantId } = useHookline();
  const probe = useQuery(
    tenantId === undefined ? ['endpoints', 'list', { limit: 1 }] : null,
    (client) => client.listEndpoints({ limit: 1 }),
  );
  if (tenantId !== undefined) return { tenantId, isLoading: false, error: undefined };
  return {
    tenantId: probe.data?.data[0]?.tenant_id,
    isLoading: probe.isLoading,
    error: probe.error,
  };
}

/** The tenant's alert channels (emails, Slack-compatible webhook URL). */
export function useAlertChannels(options?: QueryOptions): QueryResult<AlertChannels> & {
  tenantId: string | undefined;
} {
  const tenant = useTenantId();
  const result = useQuery(
    tenant.tenantId === undefined ? null : ['alert-channels', tenant.tenantId],
    (client) => client.getAlertChannels(tenant.tenantId!),
    options,
  );
  return {
    ...result,
    isLoading: tenant.isLoading || result.isLoading,
    error: result.error ?? tenant.error,
    tenantId: tenant.tenantId,
  };
}

import type { Delivery, DeliveryStatus, DeliveryWithAttempts, Page } from '../storage/types';
import { assertTenantAccess, type Principal, scopeOf } from './auth';
import type { DomainDeps } from './deps';
import { GatewayError, notFound } from './errors';

/** Filters of the delivery log. */
export interface DeliveryListFilter {
  endpointId?: string;
  tenantId?: string;
  messageId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  limit?: number;
  cursor?: string;
}

/** Deliveries newest first; a portal token sees only its tenant's (or its endpoint's). */
export async function listDeliveries(
  deps: DomainDeps,
  principal: Principal,
  filter: DeliveryListFilter,
): Promise<Page<Delivery>> {
  if (filter.tenantId !== undefined) assertTenantAccess(principal, filter.tenantId);
  return deps.store.deliveries.list(filter, scopeOf(principal));
}

/** One delivery with every attempt, oldest first, or 404. */
export async function getDelivery(
  deps: DomainDeps,
  principal: Principal,
  id: string,
): Promise<DeliveryWithAttempts> {
  const delivery = await deps.store.deliveries.getWithAttempts(id, scopeOf(principal));
  if (!delivery) throw notFound('delivery');
  return delivery;
}

/**
 * Queues one more attempt now, with the same `webhook-id` and bytes. While a worker holds the
 * delivery the replay is refused with 409 `conflict` (try again once that attempt is recorded).
 */
export async function replayDelivery(
  deps: DomainDeps,
  principal: Principal,
  id: string,
): Promise<Delivery> {
  const result = await deps.store.deliveries.replay(id, scopeOf(principal));
  switch (result.kind) {
    case 'replayed':
      return result.delivery;
    case 'in_flight':
      throw new GatewayError(
        'conflict',
        'This delivery is being attempted right now; replay it once that attempt is recorded.',
      );
    case 'not_found':
      throw notFound('delivery');
  }
}

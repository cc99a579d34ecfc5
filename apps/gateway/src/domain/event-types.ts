import type { EventType, Page } from '../storage/types';
import type { Principal } from './auth';
import type { DomainDeps } from './deps';
import { GatewayError } from './errors';

/** A catalog entry to add. */
export interface CreateEventTypeInput {
  name: string;
  description?: string;
  schema?: Record<string, unknown>;
  example?: Record<string, unknown>;
}

/** Fields a patch may change; null clears `schema` or `example`. */
export interface UpdateEventTypeInput {
  description?: string;
  schema?: Record<string, unknown> | null;
  example?: Record<string, unknown> | null;
}

// The catalog is operator-wide; portal tokens may read it (the portal shows what exists) but
// never change it.
function assertOperator(principal: Principal): void {
  if (principal.kind !== 'api_key') {
    throw new GatewayError('unauthorized', 'This call needs an operator API key.');
  }
}

function eventTypeNotFound(): GatewayError {
  return new GatewayError('not_found', 'No event type with that name.');
}

/**
 * Adds a catalog entry; 409 `conflict` when the name is in the catalog. An archived (deleted)
 * entry of that name is restored with the new fields instead: DELETE archives rather than
 * erases, so that the name keeps its history, but to the API it is gone.
 */
export async function createEventType(
  deps: DomainDeps,
  principal: Principal,
  input: CreateEventTypeInput,
): Promise<EventType> {
  assertOperator(principal);
  const created = await deps.store.eventTypes.create(input);
  if (created) return created;
  const existing = await deps.store.eventTypes.get(input.name);
  if (existing?.archivedAt) {
    const restored = await deps.store.eventTypes.update(input.name, {
      description: input.description ?? '',
      schema: input.schema ?? null,
      example: input.example ?? null,
      archived: false,
    });
    if (restored) return restored;
  }
  throw new GatewayError('conflict', `An event type named "${input.name}" already exists.`);
}

/** The catalog, newest first, without archived entries. */
export async function listEventTypes(
  deps: DomainDeps,
  _principal: Principal,
  filter: { limit?: number; cursor?: string },
): Promise<Page<EventType>> {
  return deps.store.eventTypes.list(filter);
}

/** One live catalog entry, or 404 (archived entries read as deleted). */
export async function getEventType(
  deps: DomainDeps,
  _principal: Principal,
  name: string,
): Promise<EventType> {
  const found = await deps.store.eventTypes.get(name);
  if (!found || found.archivedAt) throw eventTypeNotFound();
  return found;
}

/** Changes a live catalog entry, or 404. */
export async function updateEventType(
  deps: DomainDeps,
  principal: Principal,
  name: string,
  patch: UpdateEventTypeInput,
): Promise<EventType> {
  assertOperator(principal);
  await getEventType(deps, principal, name);
  const updated = await deps.store.eventTypes.update(name, patch);
  if (!updated) throw eventTypeNotFound();
  return updated;
}

/** Archives a live catalog entry (DELETE), or 404. */
export async function deleteEventType(
  deps: DomainDeps,
  principal: Principal,
  name: string,
): Promise<void> {
  assertOperator(principal);
  await getEventType(deps, principal, name);
  if (!(await deps.store.eventTypes.archive(name))) throw eventTypeNotFound();
}

import { createHash } from 'node:crypto';
import type { Message, MessageAccepted, Page } from '../storage/types';
import type { Principal } from './auth';
import type { DomainDeps } from './deps';
import { GatewayError, notFound } from './errors';

/** Largest accepted `POST /v1/messages` request body, in bytes (API.md: 256 KiB, 413 beyond). */
export const MESSAGE_BODY_LIMIT_BYTES = 256 * 1024;

/** A message to send, as validated from the request. */
export interface CreateMessageInput {
  tenantId: string;
  eventType: string;
  /** The payload's JSON text as it arrived; delivered byte for byte. */
  payloadJson: string;
  endpointId?: string;
  /** `Idempotency-Key`. */
  idempotencyKey?: string;
  /** sha256 of the canonical request body (see `requestHash`); needed with a key. */
  requestHash?: string;
}

/** What `POST /v1/messages` answers: the accepted message, and whether it is a repeat. */
export interface CreatedMessage {
  message: MessageAccepted;
  /** True when an earlier request with the same idempotency key and body is answered again. */
  replayed: boolean;
}

/**
 * sha256 hex of a canonical JSON rendering of a request body (object keys sorted at every level,
 * no whitespace): bodies that differ only in formatting or key order are the same request.
 */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Stores a message and fans it out in one transaction; answers as soon as that is committed
 * (delivery is the worker's job). Only operator API keys may send (the route refuses portal
 * tokens before this is reached; checked again here).
 */
export async function createMessage(
  deps: DomainDeps,
  principal: Principal,
  input: CreateMessageInput,
): Promise<CreatedMessage> {
  assertApiKey(principal);
  const result = await deps.store.messages.create({
    tenantId: input.tenantId,
    eventType: input.eventType,
    payloadJson: input.payloadJson,
    endpointId: input.endpointId ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
    requestHash: input.idempotencyKey === undefined ? null : (input.requestHash ?? null),
  });
  switch (result.kind) {
    case 'created':
      return { message: result.message, replayed: false };
    case 'replayed':
      return { message: result.message, replayed: true };
    case 'idempotency_conflict':
      throw new GatewayError(
        'idempotency_conflict',
        'This Idempotency-Key was already used with a different request body in the last 24 hours.',
      );
    case 'endpoint_not_found':
      throw notFound('endpoint');
  }
}

/** One message, or 404. */
export async function getMessage(
  deps: DomainDeps,
  principal: Principal,
  id: string,
): Promise<Message> {
  assertApiKey(principal);
  const message = await deps.store.messages.get(id);
  if (!message) throw notFound('message');
  return message;
}

/** Messages newest first. */
export async function listMessages(
  deps: DomainDeps,
  principal: Principal,
  filter: { tenantId?: string; eventType?: string; limit?: number; cursor?: string },
): Promise<Page<Message>> {
  assertApiKey(principal);
  return deps.store.messages.list(filter);
}

function assertApiKey(principal: Principal): void {
  if (principal.kind !== 'api_key') {
    throw new GatewayError('unauthorized', 'This call needs an operator API key.');
  }
}

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { performAttempt } from '../delivery/attempt';
import { customHeaderProblems } from '../net/headers';
import { generateEndpointSecret, secretHint } from '../signing/secrets';
import type {
  Attempt,
  Endpoint,
  EndpointStats,
  EndpointStatus,
  Page,
  Signing,
  StatsWindow,
} from '../storage/types';
import { assertTenantAccess, type Principal, scopeOf } from './auth';
import type { DomainDeps } from './deps';
import { type ErrorDetail, GatewayError, notFound } from './errors';
import { newId } from './ids';
import { assertUrlAllowed } from './url-check';

/** A new endpoint, as validated from the request. */
export interface CreateEndpointInput {
  tenantId: string;
  url: string;
  description?: string;
  eventTypes?: string[];
  status?: EndpointStatus;
  rateLimitPerMinute?: number | null;
  retrySchedule?: number[] | null;
  headers?: Record<string, string>;
  metadata?: Record<string, string>;
  /** A `whsec_` (hmac) or `whsk_` (ed25519) secret to import instead of generating one. */
  secret?: string;
  signing?: Signing;
}

/** The fields `PATCH /v1/endpoints/{id}` may change. */
export interface UpdateEndpointInput {
  url?: string;
  description?: string;
  eventTypes?: string[];
  status?: EndpointStatus;
  rateLimitPerMinute?: number | null;
  retrySchedule?: number[] | null;
  headers?: Record<string, string>;
  metadata?: Record<string, string>;
}

/** An endpoint with its plaintext secret: only ever returned by create. */
export interface CreatedEndpoint {
  endpoint: Endpoint;
  secret: string;
}

/** The answer of a rotation. */
export interface RotatedSecret {
  secret: string;
  previousSecretExpiresAt: Date;
  publicKey: string | null;
}

/** Default of `HOOKLINE_MAX_ENDPOINTS_PER_TENANT`. */
export const DEFAULT_MAX_ENDPOINTS_PER_TENANT = 1000;

/** Event type and payload of a test event when the caller gives none. */
export const TEST_EVENT_DEFAULTS = {
  eventType: 'hookline.test',
  payloadJson: '{"message":"This is a test event from Hookline."}',
} as const;

// Long enough for the client's 15 s timeout, short enough that a crash leaves no lasting lease.
const TEST_LEASE_MS = 60_000;
const TEST_WORKER_ID = 'api:test';

/** Creates an endpoint with a generated or imported secret; the secret is returned this once. */
export async function createEndpoint(
  deps: DomainDeps,
  principal: Principal,
  input: CreateEndpointInput,
): Promise<CreatedEndpoint> {
  assertTenantAccess(principal, input.tenantId);
  if (principal.kind === 'portal' && principal.scope.endpointId != null) {
    // A token bound to one endpoint sees nothing else of the tenant, so new endpoints are out
    // of its scope as well.
    throw new GatewayError('not_found', 'No such tenant.');
  }
  assertHeadersAllowed(input.headers);
  await assertUrlAllowed(deps, input.url, 'url');
  const signing = input.signing ?? 'hmac';
  const { secret, publicKey } = secretFor(signing, input.secret);
  const max = deps.maxEndpointsPerTenant ?? DEFAULT_MAX_ENDPOINTS_PER_TENANT;
  const endpoint = await deps.store.endpoints.createWithinLimit(max, {
    tenantId: input.tenantId,
    url: input.url,
    description: input.description ?? '',
    eventTypes: input.eventTypes ?? [],
    status: input.status ?? 'active',
    rateLimitPerMinute: input.rateLimitPerMinute ?? null,
    retrySchedule: input.retrySchedule ?? null,
    headers: input.headers ?? {},
    metadata: input.metadata ?? {},
    signing,
    secret,
    secretHint: secretHint(secret),
    publicKey,
  });
  if (!endpoint) {
    const message = `already has ${max} endpoints, the most one tenant may have`;
    throw new GatewayError(
      'limit_exceeded',
      `Invalid request body: tenant_id ${message}; delete one first.`,
      { details: [{ path: 'tenant_id', message }] },
    );
  }
  return { endpoint, secret };
}

/** Endpoints newest first; a portal token sees only its own tenant's (or its one endpoint). */
export async function listEndpoints(
  deps: DomainDeps,
  principal: Principal,
  filter: { tenantId?: string; status?: EndpointStatus; limit?: number; cursor?: string },
): Promise<Page<Endpoint>> {
  if (filter.tenantId !== undefined) assertTenantAccess(principal, filter.tenantId);
  return deps.store.endpoints.list(filter, scopeOf(principal));
}

/** One endpoint in scope, or 404. */
export async function getEndpoint(
  deps: DomainDeps,
  principal: Principal,
  id: string,
): Promise<Endpoint> {
  const endpoint = await deps.store.endpoints.get(id, scopeOf(principal));
  if (!endpoint) throw notFound('endpoint');
  return endpoint;
}

/** Applies a partial update; a new URL is checked like at creation; resuming releases held deliveries. */
export async function updateEndpoint(
  deps: DomainDeps,
  principal: Principal,
  id: string,
  patch: UpdateEndpointInput,
): Promise<Endpoint> {
  const scope = scopeOf(principal);
  // Existence first: a caller must not learn anything about URLs of endpoints it cannot see.
  await getEndpoint(deps, principal, id);
  assertHeadersAllowed(patch.headers);
  if (patch.url !== undefined) await assertUrlAllowed(deps, patch.url, 'url');
  const updated = await deps.store.endpoints.update(
    id,
    { ...patch, ...(patch.status === 'disabled' ? { disabledReason: 'manual' as const } : {}) },
    scope,
  );
  if (!updated) throw notFound('endpoint');
  return updated;
}

/** Deletes the endpoint with its deliveries and attempts, cancelling what is queued. */
export async function deleteEndpoint(
  deps: DomainDeps,
  principal: Principal,
  id: string,
): Promise<void> {
  if (!(await deps.store.endpoints.delete(id, scopeOf(principal)))) throw notFound('endpoint');
}

/** Replaces the secret (generated, or imported matching the endpoint's signing scheme). */
export async function rotateEndpointSecret(
  deps: DomainDeps,
  principal: Principal,
  id: string,
  input: { gracePeriodSeconds: number; secret?: string },
): Promise<RotatedSecret> {
  const scope = scopeOf(principal);
  const endpoint = await deps.store.endpoints.get(id, scope);
  if (!endpoint) throw notFound('endpoint');
  if (input.secret !== undefined) assertSecretMatches(endpoint.signing, input.secret);
  const { secret, publicKey } = secretFor(endpoint.signing, input.secret);
  const rotated = await deps.store.endpoints.rotateSecret(
    id,
    {
      secret,
      secretHint: secretHint(secret),
      publicKey,
      gracePeriodSeconds: input.gracePeriodSeconds,
    },
    scope,
  );
  if (!rotated) throw notFound('endpoint');
  return { secret, previousSecretExpiresAt: rotated.previousSecretExpiresAt, publicKey };
}

/**
 * Sends one test event now and returns the attempt, whatever the endpoint answered. The test
 * delivery is created leased to this call and recorded `succeeded` or `failed` with no next
 * attempt: never retried, never dead-lettered; storage leaves test attempts out of the
 * endpoint's health and stats. A 410 answer to a test does not disable the endpoint either.
 */
export async function sendTestEvent(
  deps: DomainDeps,
  principal: Principal,
  id: string,
  input: { eventType?: string; payloadJson?: string },
): Promise<Attempt> {
  const scope = scopeOf(principal);
  const endpoint = await deps.store.endpoints.get(id, scope);
  if (!endpoint) throw notFound('endpoint');
  const claimed = await deps.store.queue.createTestDelivery(
    {
      tenantId: endpoint.tenantId,
      endpointId: endpoint.id,
      eventType: input.eventType ?? TEST_EVENT_DEFAULTS.eventType,
      payloadJson: input.payloadJson ?? TEST_EVENT_DEFAULTS.payloadJson,
      workerId: TEST_WORKER_ID,
      leaseMs: TEST_LEASE_MS,
    },
    scope,
  );
  if (!claimed) throw notFound('endpoint');
  const record = await performAttempt({
    delivery: {
      messageId: claimed.message.id,
      eventType: claimed.message.eventType,
      payloadJson: claimed.message.payloadJson,
      createdAt: claimed.message.createdAt,
    },
    endpoint: {
      url: claimed.endpoint.url,
      headers: claimed.endpoint.headers,
      keys: claimed.endpoint.keys,
    },
    now: deps.now(),
    client: deps.httpClient,
    userAgentVersion: deps.version,
  });
  const attempt: Attempt = {
    id: newId('att'),
    deliveryId: claimed.id,
    attemptNumber: claimed.attemptNumber,
    trigger: 'test',
    outcome: record.outcome,
    httpStatus: record.httpStatus,
    latencyMs: Math.round(record.latencyMs),
    error: record.error,
    attemptedAt: record.attemptedAt,
    requestHeaders: record.requestHeaders,
    requestBody: record.requestBody,
    requestBodyTruncated: record.requestBodyTruncated,
    responseHeaders: record.httpStatus === null ? null : record.responseHeaders,
    responseBody: record.httpStatus === null ? null : record.responseBody,
    responseBodyTruncated: record.responseBodyTruncated,
  };
  await deps.store.queue.recordOutcome({
    deliveryId: claimed.id,
    leaseToken: claimed.leaseToken,
    status: record.outcome === 'success' ? 'succeeded' : 'failed',
    nextAttemptAt: null,
    attempt: { ...attempt },
  });
  return attempt;
}

/** Delivery counts, success rate, latency and health of an endpoint over a window. */
export async function endpointStats(
  deps: DomainDeps,
  principal: Principal,
  id: string,
  window: StatsWindow,
): Promise<EndpointStats> {
  const stats = await deps.store.endpoints.stats(id, window, {
    scope: scopeOf(principal),
    now: deps.now(),
  });
  if (!stats) throw notFound('endpoint');
  return stats;
}

/** Re-queues every failed or dead delivery of the endpoint created since `since`; returns how many. */
export async function recoverEndpoint(
  deps: DomainDeps,
  principal: Principal,
  id: string,
  since: Date,
): Promise<number> {
  const scope = scopeOf(principal);
  await getEndpoint(deps, principal, id);
  return deps.store.deliveries.recover(id, since, scope);
}

/**
 * Custom header rules of the delivery path (`net/headers`), beyond the request schema's: a
 * header the sender would drop must be refused when it is saved, naming it.
 */
function assertHeadersAllowed(headers: Record<string, string> | undefined): void {
  if (!headers) return;
  const details: ErrorDetail[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const [problem] = customHeaderProblems({ [name]: value });
    if (problem) details.push({ path: headerPath(name), message: problem });
  }
  if (details.length > 0) {
    throw new GatewayError(
      'invalid_request',
      `Invalid request body: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      { details },
    );
  }
}

// The wire path of a header, spelled as `@hookline/api`'s formatIssuePath spells it.
function headerPath(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
    ? `headers.${name}`
    : `headers[${JSON.stringify(name)}]`;
}

function assertSecretMatches(signing: Signing, secret: string): void {
  const ed25519 = secret.startsWith('whsk_');
  if (ed25519 === (signing === 'ed25519')) return;
  const message =
    signing === 'ed25519'
      ? 'must be a whsk_ key: this endpoint signs with ed25519'
      : 'must be a whsec_ secret: this endpoint signs with hmac';
  throw new GatewayError('invalid_request', `Invalid request body: secret ${message}.`, {
    details: [{ path: 'secret', message }],
  });
}

function secretFor(
  signing: Signing,
  imported: string | undefined,
): { secret: string; publicKey: string | null } {
  if (imported === undefined) {
    const generated = generateEndpointSecret(signing);
    return { secret: generated.secret, publicKey: generated.publicKey ?? null };
  }
  return { secret: imported, publicKey: signing === 'ed25519' ? ed25519PublicKey(imported) : null };
}

// PKCS#8 wrapping of a raw 32-byte ed25519 seed (RFC 8410), so node:crypto can derive its key.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The `whpk_` public key of an imported `whsk_` secret key (a 32-byte seed, or 64 bytes of seed
 * and public key). `signing/` has no such function yet; this is the stopgap.
 */
export function ed25519PublicKey(secretKey: string): string {
  const bytes = Buffer.from(secretKey.slice('whsk_'.length), 'base64');
  const seed = bytes.subarray(0, 32);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return `whpk_${spki.subarray(spki.length - 32).toString('base64')}`;
}

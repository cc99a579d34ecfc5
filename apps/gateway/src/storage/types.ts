/**
 * The storage layer's public types: camelCase records mapped from snake_case rows. They mirror
 * API.md but are owned here, so storage depends on no other gateway module.
 */

/** `active` delivers; `paused` holds new deliveries; `disabled` gets none. */
export type EndpointStatus = 'active' | 'paused' | 'disabled';
/** Why an endpoint is disabled: through the API, answered 410, or failed too long. */
export type DisabledReason = 'manual' | 'gone' | 'failing';
/** Signature scheme: HMAC-SHA256 (`whsec_`) or ed25519 (`whsk_`/`whpk_`). */
export type Signing = 'hmac' | 'ed25519';
/** Delivery status (API.md). */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead' | 'held' | 'cancelled';
/** What started an attempt. */
export type AttemptTrigger = 'scheduled' | 'manual' | 'test';
/** How an attempt ended. */
export type AttemptOutcome =
  | 'success'
  | 'timeout'
  | 'http_4xx'
  | 'http_5xx'
  | 'redirect'
  | 'network_error'
  | 'blocked';
/** Endpoint health colour (see `healthFromSuccessRate`). */
export type Health = 'green' | 'yellow' | 'red';
/** Stats windows of `GET /v1/endpoints/{id}/stats`. */
export type StatsWindow = '1h' | '24h' | '7d' | '30d';

/**
 * Tenant isolation: when a scope is passed, the SQL itself adds `tenant_id = …` (and, for a
 * portal token bound to one endpoint, `endpoint_id = …`), so out-of-scope rows read as absent.
 */
export interface Scope {
  tenantId: string;
  /** Restricts endpoint, delivery and message reads to this one endpoint. */
  endpointId?: string | null;
}

/** `limit` (1–250, default 50) and the opaque `cursor` from a previous page. */
export interface PageQuery {
  limit?: number;
  cursor?: string | null;
}

/** One page of a list, newest first. */
export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A live secret rotation. */
export interface Rotation {
  previousSecretExpiresAt: Date;
}

/** An endpoint as the API shows it: never any secret material, only `secretHint`. */
export interface Endpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  /** Empty = every event type. */
  eventTypes: string[];
  status: EndpointStatus;
  disabledReason: DisabledReason | null;
  rateLimitPerMinute: number | null;
  /** Delays in seconds after each failure; null = the gateway default. */
  retrySchedule: number[] | null;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  signing: Signing;
  /** The first 10 characters of the current secret. */
  secretHint: string;
  /** `whpk_…` for ed25519 endpoints. */
  publicKey: string | null;
  /** Set while the previous secret still signs. */
  rotation: Rotation | null;
  /** Start of the current run of failed attempts; null when the last attempt succeeded. */
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Input of `endpoints.create`; `secret` is encrypted before it is stored. */
export interface NewEndpoint {
  /** Default: a new `ep_` id. */
  id?: string;
  tenantId: string;
  url: string;
  description?: string;
  eventTypes?: string[];
  status?: EndpointStatus;
  disabledReason?: DisabledReason | null;
  rateLimitPerMinute?: number | null;
  retrySchedule?: number[] | null;
  headers?: Record<string, string>;
  metadata?: Record<string, string>;
  signing?: Signing;
  /** The plaintext secret (`whsec_…`, or `whsk_…` for ed25519). */
  secret: string;
  /** Default: the first 10 characters of `secret`. */
  secretHint?: string;
  publicKey?: string | null;
}

/** The fields `endpoints.update` may change; absent fields are kept. */
export interface EndpointPatch {
  url?: string;
  description?: string;
  eventTypes?: string[];
  /** Becoming `active` releases held deliveries; `disabledReason` defaults to `manual` on disable. */
  status?: EndpointStatus;
  disabledReason?: DisabledReason | null;
  rateLimitPerMinute?: number | null;
  retrySchedule?: number[] | null;
  headers?: Record<string, string>;
  metadata?: Record<string, string>;
}

/** Filters of `endpoints.list`. */
export interface EndpointFilter extends PageQuery {
  tenantId?: string;
  status?: EndpointStatus;
}

/** The secrets a delivery is signed with (shape of `signing/signer` `EndpointKeys`). */
export interface SigningKeys {
  signing: Signing;
  current: string;
  /** The secret replaced by the last rotation, while it still signs. */
  previous: string | null;
  previousExpiresAt: Date | null;
}

/** Input of `endpoints.rotateSecret`. */
export interface RotateSecretInput {
  /** The new plaintext secret. */
  secret: string;
  secretHint?: string;
  publicKey?: string | null;
  /** How long the replaced secret keeps signing; 0 drops it at once. */
  gracePeriodSeconds: number;
}

/** A message (event) as stored. */
export interface Message {
  id: string;
  tenantId: string;
  eventType: string;
  /** The payload's JSON text exactly as accepted. */
  payloadJson: string;
  /** The one endpoint it was sent to, or null for a fan-out. */
  endpointId: string | null;
  deliveryCount: number;
  /** Millisecond precision: the delivered body's `timestamp`. */
  createdAt: Date;
}

/** The `202` answer of `POST /v1/messages` (also what an idempotent repeat gets back). */
export interface MessageAccepted {
  id: string;
  tenantId: string;
  eventType: string;
  createdAt: Date;
  deliveryCount: number;
}

/** Input of `messages.create`. */
export interface NewMessage {
  tenantId: string;
  eventType: string;
  /** The payload's JSON text; stored and delivered byte for byte. */
  payloadJson: string;
  /** Deliver to this one endpoint of the tenant only. */
  endpointId?: string | null;
  /** `Idempotency-Key`, scoped per tenant, remembered for 24 h. */
  idempotencyKey?: string | null;
  /** A hash of the request (required with `idempotencyKey`): a repeat with another hash is a conflict. */
  requestHash?: string | null;
}

/** Result of `messages.create`. */
export type CreateMessageResult =
  /** Stored and fanned out. */
  | { kind: 'created'; message: MessageAccepted }
  /** Same key and hash within 24 h: the first answer; nothing new was stored or sent. */
  | { kind: 'replayed'; message: MessageAccepted }
  /** Same key, different request: answer 409. */
  | { kind: 'idempotency_conflict' }
  /** `endpointId` names no endpoint of this tenant: answer 404; nothing was stored. */
  | { kind: 'endpoint_not_found' };

/** Filters of `messages.list`. */
export interface MessageFilter extends PageQuery {
  tenantId?: string;
  eventType?: string;
}

/** An attempt without headers and bodies (`last_attempt`). */
export interface AttemptSummary {
  id: string;
  deliveryId: string;
  attemptNumber: number;
  trigger: AttemptTrigger;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  latencyMs: number | null;
  error: string | null;
  attemptedAt: Date;
}

/** One HTTP request to the endpoint with its full outcome. */
export interface Attempt extends AttemptSummary {
  requestHeaders: Record<string, string>;
  requestBody: string;
  requestBodyTruncated: boolean;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  responseBodyTruncated: boolean;
}

/** One message × one endpoint. */
export interface Delivery {
  id: string;
  messageId: string;
  endpointId: string;
  tenantId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastAttempt: AttemptSummary | null;
  test: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A delivery with every attempt, oldest first. */
export interface DeliveryWithAttempts extends Delivery {
  attempts: Attempt[];
}

/** Filters of `deliveries.list`. */
export interface DeliveryFilter extends PageQuery {
  endpointId?: string;
  tenantId?: string;
  messageId?: string;
  status?: DeliveryStatus;
  eventType?: string;
}

/** Result of `deliveries.replay`. */
export type ReplayResult =
  | { kind: 'replayed'; delivery: Delivery }
  /** A worker holds it right now: try again once that attempt is recorded. */
  | { kind: 'in_flight' }
  | { kind: 'not_found' };

/** Options of `queue.claim`. */
export interface ClaimOptions {
  /** Who holds the leases (e.g. `hostname:pid`), for operators. */
  workerId: string;
  /** Most deliveries to claim. */
  limit: number;
  /** Lease length: the delivery is claimable again this long after the claim. */
  leaseMs: number;
  /** Most deliveries of one endpoint leased at once, across all workers (default 10). */
  maxPerEndpoint?: number;
  /** The clock (tests); default the database's `now()`. */
  now?: Date;
  /** Round-robin position over endpoints, kept by one worker between its claims; updated. */
  cursor?: ClaimCursor;
  /** Filled in by the claim (metrics, and `readyLeft` for wake-ups); overwritten, not added to. */
  stats?: ClaimStats;
}

/** What one claim saw besides the rows it returned. */
export interface ClaimStats {
  /** Claimed rows whose previous lease had lapsed (their worker died or stalled). */
  leaseExpired: number;
  /** Endpoints whose due deliveries this claim left alone because their rate limit was used up. */
  rateLimited: number;
  /**
   * Due deliveries, of the endpoints this claim visited, that it could have taken (within their
   * endpoints' free slots) but left at its limit: another worker could claim them now.
   */
  readyLeft: number;
}

/** Where the next claim continues its round over the endpoints with pending work. */
export interface ClaimCursor {
  /** Endpoint id the next claim starts after ('' = from the first). */
  after: string;
  /** Endpoints after `after` were not visited yet: claiming again may find more. */
  more: boolean;
  /**
   * (out) Endpoints this claim found at their concurrency cap (all slots leased, by any worker,
   * once its rows were taken) with due rows that may be waiting for a slot: a slot freed on one
   * of them is worth claiming for at once.
   */
  capped?: string[];
}

/** A leased delivery with everything needed to send it. */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  eventType: string;
  /** Pass back to `recordOutcome`: proves the lease is still this worker's. */
  leaseToken: string;
  lockedUntil: Date;
  /** The number the coming attempt gets (attempts so far + 1). */
  attemptNumber: number;
  trigger: AttemptTrigger;
  test: boolean;
  /** The message: its id is the `webhook-id`; body = `{"type","timestamp":createdAt,"data":payloadJson}`. */
  message: { id: string; eventType: string; payloadJson: string; createdAt: Date };
  endpoint: {
    id: string;
    url: string;
    headers: Record<string, string>;
    retrySchedule: number[] | null;
    rateLimitPerMinute: number | null;
    keys: SigningKeys;
  };
}

/** The attempt part of an outcome (fits `delivery/attempt` `AttemptRecord`). */
export interface AttemptInput {
  /** Default: a new `att_` id. */
  id?: string;
  /** Default: the delivery's own (`ClaimedDelivery.trigger`). */
  trigger?: AttemptTrigger;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  latencyMs: number | null;
  requestHeaders: Record<string, string>;
  /** Cut to 64 KiB here if longer. */
  requestBody: string;
  requestBodyTruncated: boolean;
  responseHeaders: Record<string, string> | null;
  /** Cut to 4 KiB here if longer. */
  responseBody: string | null;
  responseBodyTruncated: boolean;
  error: string | null;
  attemptedAt: Date;
}

/** One attempt's result to record, decided by the worker. */
export interface OutcomeInput {
  deliveryId: string;
  leaseToken: string;
  /**
   * `failed` needs `retryDelayMs` (or `nextAttemptAt`); a test delivery should end `succeeded` or
   * `failed` with neither.
   */
  status: 'succeeded' | 'failed' | 'dead';
  /**
   * The next attempt, this long after the record by the DATABASE clock (`now()`): a jump of the
   * worker's clock neither parks the retry nor fires it early. Wins over `nextAttemptAt`.
   */
  retryDelayMs?: number | null;
  /** The next attempt at an absolute time (operator tools and tests); prefer `retryDelayMs`. */
  nextAttemptAt?: Date | null;
  /** `gone`: the endpoint answered 410; disable it in the same statement (not for tests). */
  disableEndpoint?: 'gone' | null;
  attempt: AttemptInput;
}

/**
 * How recording outcomes moves an endpoint's health (`queue.recordOutcomes`); all times are the
 * database's. Defaults: `DEFAULT_ENDPOINT_HEALTH` in storage/queue.ts.
 */
export interface EndpointHealthPolicy {
  /** Disable an endpoint that has failed every attempt this long; null never does. */
  disableAfterFailingMs: number | null;
  /** The circuit breaker; null turns it off (an open breaker still closes on a success). */
  breaker: CircuitBreakerPolicy | null;
}

/** When an endpoint's breaker opens and how it probes. */
export interface CircuitBreakerPolicy {
  /** The sliding window the failure rate is measured over. */
  windowMs: number;
  /** Fewest attempts in the window before the rate counts (quiet endpoints never trip). */
  minAttempts: number;
  /** Opens at this share of failed attempts in the window or more (0–1). */
  failureRatio: number;
  /** Wait before the first probe; doubles after each failed probe… */
  probeDelayMs: number;
  /** …up to this. */
  maxProbeDelayMs: number;
}

/** What a record did to an endpoint's circuit breaker. */
export type BreakerTransition = 'opened' | 'reopened' | 'closed';

/** What recording one outcome did. */
export interface RecordedOutcome {
  deliveryId: string;
  /** False when the lease was lost (expired and re-claimed, or the delivery was deleted). */
  recorded: boolean;
  attemptId: string | null;
  attemptNumber: number | null;
  endpointId: string | null;
  /** The endpoint's failing-since after this record (null when it is healthy). */
  endpointFailingSince: Date | null;
  /**
   * True when this record ended a run of failures or closed the breaker (an `endpoint.recovered`
   * event was written). The endpoint fields are the same for every outcome of one endpoint in a
   * batch.
   */
  endpointRecovered: boolean;
  /** Set when this record disabled the endpoint (an `endpoint.disabled` event was written). */
  endpointDisabled: 'gone' | 'failing' | null;
  /** Set when this record opened, re-opened (failed probe) or closed the endpoint's breaker. */
  breaker: BreakerTransition | null;
  /** The stored next attempt (`failed` only), by the database clock. */
  nextAttemptAt: Date | null;
}

/** Input of `queue.createTestDelivery`: one delivery, leased to the caller at once. */
export interface NewTestDelivery {
  tenantId: string;
  endpointId: string;
  eventType: string;
  payloadJson: string;
  workerId: string;
  leaseMs: number;
}

/** `GET /v1/endpoints/{id}/stats` figures. */
export interface EndpointStats {
  window: StatsWindow;
  succeeded: number;
  failed: number;
  /** Pending and held deliveries. */
  pending: number;
  dead: number;
  /** succeeded / (succeeded + failed + dead); null when there are none. */
  successRate: number | null;
  latencyMsP50: number | null;
  latencyMsP95: number | null;
  health: Health;
}

/** A catalog entry. */
export interface EventType {
  name: string;
  description: string;
  schema: Record<string, unknown> | null;
  example: Record<string, unknown> | null;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Input of `eventTypes.create`. */
export interface NewEventType {
  name: string;
  description?: string;
  schema?: Record<string, unknown> | null;
  example?: Record<string, unknown> | null;
}

/** `eventTypes.update` fields; null clears `schema`/`example`; `archived` archives or restores. */
export interface EventTypePatch {
  description?: string;
  schema?: Record<string, unknown> | null;
  example?: Record<string, unknown> | null;
  archived?: boolean;
}

/** Filters of `eventTypes.list`. */
export interface EventTypeFilter extends PageQuery {
  /** Include archived entries (default false). */
  includeArchived?: boolean;
}

/** Where a tenant's alerts go. */
export interface AlertChannels {
  tenantId: string;
  emails: string[];
  slackWebhookUrl: string | null;
  /** Null when the tenant never set any. */
  updatedAt: Date | null;
}

/** An operator API key (only its hash is stored). */
export interface ApiKey {
  id: string;
  name: string;
  /** The first characters of the key, for recognising it in a list. */
  keyHint: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Input of `apiKeys.create`. */
export interface NewApiKey {
  /** A hash of the key (e.g. hex SHA-256); the key itself is never stored. */
  keyHash: string;
  name?: string;
  keyHint?: string;
}

/** A portal token's grant (only its hash is stored). */
export interface PortalToken {
  id: string;
  tenantId: string;
  endpointId: string | null;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
}

/** Input of `portalTokens.create`. */
export interface NewPortalToken {
  tokenHash: string;
  tenantId: string;
  endpointId?: string | null;
  expiresAt: Date;
}

import * as alerts from './alerts';
import * as catalog from './catalog';
import type { SecretCipher } from './cipher';
import { createWaker, type StorageContext, type Waker } from './common';
import * as deliveries from './deliveries';
import * as endpoints from './endpoints';
import * as leaseOps from './leases';
import type { MessageWriterOptions } from './messages';
import * as messages from './messages';
import * as queue from './queue';
import type { Sql } from './sql';
import type {
  AlertChannels,
  ApiKey,
  ClaimedDelivery,
  ClaimOptions,
  CreateMessageResult,
  Delivery,
  DeliveryFilter,
  DeliveryWithAttempts,
  DisabledReason,
  Endpoint,
  EndpointFilter,
  EndpointHealthPolicy,
  EndpointPatch,
  EndpointStats,
  EndpointStatus,
  EventType,
  EventTypeFilter,
  EventTypePatch,
  Message,
  MessageFilter,
  NewApiKey,
  NewEndpoint,
  NewEventType,
  NewMessage,
  NewPortalToken,
  NewTestDelivery,
  OutcomeInput,
  Page,
  PortalToken,
  RecordedOutcome,
  ReplayResult,
  RotateSecretInput,
  Scope,
  SigningKeys,
  StatsWindow,
} from './types';

/** Endpoint rows; API reads never carry secret material. */
export interface EndpointStore {
  /** Stores a new endpoint (secret encrypted); the caller already holds the plaintext to show once. */
  create(input: NewEndpoint): Promise<Endpoint>;
  /**
   * Like `create`, unless the tenant already has `max` endpoints: then null. Serialised per
   * tenant, so concurrent creates (from any number of processes) never exceed `max`.
   */
  createWithinLimit(max: number, input: NewEndpoint): Promise<Endpoint | null>;
  /** One endpoint, or null when absent or outside `scope`. */
  get(id: string, scope?: Scope): Promise<Endpoint | null>;
  /** Newest first, filtered by tenant/status, cursor-paginated. */
  list(filter?: EndpointFilter, scope?: Scope): Promise<Page<Endpoint>>;
  /** Partial update; becoming `active` releases held deliveries. Null when not found. */
  update(id: string, patch: EndpointPatch, scope?: Scope): Promise<Endpoint | null>;
  /** Pause, resume (releases held deliveries) or disable with a reason (default `manual`). */
  setStatus(
    id: string,
    status: EndpointStatus,
    options?: { reason?: DisabledReason; scope?: Scope },
  ): Promise<Endpoint | null>;
  /** Deletes it with its deliveries, attempts and portal tokens, cancelling queued work. */
  delete(id: string, scope?: Scope): Promise<boolean>;
  /** New secret; the old one signs until the returned time. Null when not found. */
  rotateSecret(
    id: string,
    input: RotateSecretInput,
    scope?: Scope,
  ): Promise<{ previousSecretExpiresAt: Date } | null>;
  /** Number of endpoints of a tenant. */
  countForTenant(tenantId: string): Promise<number>;
  /** Decrypted live secrets, for the worker and test sends only. */
  getSigningKeys(endpointId: string): Promise<SigningKeys | null>;
  /** Delivery counts, success rate, latency p50/p95 and health over a window. */
  stats(
    endpointId: string,
    window: StatsWindow,
    options?: { scope?: Scope; now?: Date },
  ): Promise<EndpointStats | null>;
}

/** Messages and their fan-out. */
export interface MessageStore {
  /** Stores a message and fans it out in one transaction, honouring the idempotency key. */
  create(input: NewMessage): Promise<CreateMessageResult>;
  /** One message, or null when absent or outside `scope`. */
  get(id: string, scope?: Scope): Promise<Message | null>;
  /** Newest first, filtered by tenant/event type, cursor-paginated. */
  list(filter?: MessageFilter, scope?: Scope): Promise<Page<Message>>;
}

/** The delivery log. */
export interface DeliveryStore {
  /** One delivery with its last attempt, or null. */
  get(id: string, scope?: Scope): Promise<Delivery | null>;
  /** One delivery with every attempt (oldest first), or null. */
  getWithAttempts(id: string, scope?: Scope): Promise<DeliveryWithAttempts | null>;
  /** Newest first, filtered by endpoint/tenant/message/status/event type, cursor-paginated. */
  list(filter?: DeliveryFilter, scope?: Scope): Promise<Page<Delivery>>;
  /** One more attempt now with the same bytes (trigger `manual`); refused while in flight. */
  replay(id: string, scope?: Scope): Promise<ReplayResult>;
  /** Re-queues the endpoint's failed/dead deliveries created since `since`; returns the count. */
  recover(endpointId: string, since: Date, scope?: Scope): Promise<number>;
}

/** The work queue (a delivery row is the job). */
export interface QueueStore {
  /** Leases due deliveries in one statement (skip locked, per-endpoint cap, lease expiry). */
  claim(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Records one attempt and the delivery's new status, if the lease is still held. */
  recordOutcome(
    outcome: OutcomeInput,
    policy?: Partial<EndpointHealthPolicy>,
  ): Promise<RecordedOutcome>;
  /**
   * Records many attempts in one statement, with the endpoints' health (failing clock, circuit
   * breaker, auto-disable) and operational events; results in input order.
   */
  recordOutcomes(
    outcomes: readonly OutcomeInput[],
    policy?: Partial<EndpointHealthPolicy>,
  ): Promise<RecordedOutcome[]>;
  /** A test message + delivery leased to the caller at once; null when the endpoint is not found. */
  createTestDelivery(input: NewTestDelivery, scope?: Scope): Promise<ClaimedDelivery | null>;
  /** When the earliest claimable delivery falls due, or null. */
  nextDueAt(): Promise<Date | null>;
  /**
   * Calls `onDue` on every wake-up (this process's, or another's NOTIFY); resolves to an
   * unsubscribe function. `hasRoom`: see `Waker.subscribe`.
   */
  onDeliveriesDue(
    onDue: () => void,
    options?: { hasRoom?: () => boolean },
  ): Promise<() => Promise<void>>;
  /**
   * This process's worker is full and its last claim left due rows behind: tells the workers of
   * other processes (see `Waker.wakeOthers`).
   */
  wakeOthers(): void;
  /** Gives leases back (if still held) so any worker claims them at once; the ids released. */
  release(leases: readonly leaseOps.LeaseRef[]): Promise<string[]>;
  /**
   * Gives back the leases `workerId` holds beyond `heldIds` (a claim whose answer was lost); the
   * ids released. Call only from that worker, with no claim of its own under way.
   */
  releaseUnheld(workerId: string, heldIds: readonly string[]): Promise<string[]>;
  /** Depth and lag of the queue, cheaply (for `/metrics`). */
  stats(): Promise<leaseOps.QueueStats>;
}

/** The event type catalog. */
export interface EventTypeStore {
  /** Adds an entry; null when the name is taken. */
  create(input: NewEventType): Promise<EventType | null>;
  /** One entry (archived too), or null. */
  get(name: string): Promise<EventType | null>;
  /** Newest first; archived only with `includeArchived`. */
  list(filter?: EventTypeFilter): Promise<Page<EventType>>;
  /** Partial update (null clears schema/example); null when not found. */
  update(name: string, patch: EventTypePatch): Promise<EventType | null>;
  /** Archives an entry; false when not found. */
  archive(name: string): Promise<boolean>;
}

/** Where tenants' alerts go. */
export interface AlertChannelStore {
  /** A tenant's channels (empty when never set). */
  get(tenantId: string): Promise<AlertChannels>;
  /** Replaces a tenant's channels. */
  put(
    tenantId: string,
    channels: { emails?: string[]; slackWebhookUrl?: string | null },
  ): Promise<AlertChannels>;
}

/** Operational events and the alert notifications made from them (see `storage/alerts.ts`). */
export interface AlertStore {
  /** Stores an operational event (wakes the dispatchers when it commits). */
  recordEvent(input: alerts.NewOperationalEvent): Promise<alerts.OperationalEvent>;
  /** One operational event, or null. */
  getEvent(id: string): Promise<alerts.OperationalEvent | null>;
  /** Turns undispatched events into notifications per channel, rate-limited. */
  expandEvents(options: alerts.ExpandOptions): Promise<alerts.ExpandResult>;
  /** Leases due notifications of these channels and counts the try. */
  claim(options: {
    channels: readonly alerts.AlertChannelKind[];
    limit: number;
    leaseMs: number;
  }): Promise<alerts.ClaimedNotification[]>;
  /** Records how a try ended, if the lease is still held. */
  record(outcome: alerts.NotificationOutcome): Promise<boolean>;
  /** When the earliest pending notification of these channels falls due, or null. */
  nextDueAt(channels: readonly alerts.AlertChannelKind[]): Promise<Date | null>;
  /** Deletes old finished notifications and stale rate-limit rows; how many notifications went. */
  prune(options: { keepDays: number; intervalMs: number }): Promise<number>;
  /** Notifications, oldest first (inspection and tests). */
  list(filter?: { tenantId?: string; endpointId?: string }): Promise<alerts.AlertNotification[]>;
  /** Calls `onDue` whenever events are recorded (by any process); resolves to unsubscribe. */
  onEvents(onDue: () => void): Promise<() => Promise<void>>;
}

/** Operator API keys (hashes only). */
export interface ApiKeyStore {
  /** Stores a key hash (idempotent on the hash). */
  create(input: NewApiKey): Promise<ApiKey>;
  /** The unrevoked key with this hash, or null. */
  findByHash(keyHash: string): Promise<ApiKey | null>;
  /** Sets `lastUsedAt` to now. */
  touch(id: string): Promise<void>;
  /** Revokes a key; false when absent or already revoked. */
  revoke(id: string): Promise<boolean>;
  /** Every key, newest first. */
  list(): Promise<ApiKey[]>;
}

/** Portal tokens (hashes only). */
export interface PortalTokenStore {
  /** Stores a token hash and its grant. */
  create(input: NewPortalToken): Promise<PortalToken>;
  /** The unrevoked, unexpired token with this hash, or null. */
  findValidByHash(tokenHash: string, now?: Date): Promise<PortalToken | null>;
  /** Revokes a token; false when absent or already revoked. */
  revoke(id: string): Promise<boolean>;
  /** Revokes every live token of a tenant; how many. */
  revokeTenant(tenantId: string): Promise<number>;
}

/** Everything the domain, HTTP layer and worker need from the database, on either driver. */
export interface Store {
  readonly endpoints: EndpointStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly queue: QueueStore;
  readonly eventTypes: EventTypeStore;
  readonly alertChannels: AlertChannelStore;
  readonly alerts: AlertStore;
  readonly apiKeys: ApiKeyStore;
  readonly portalTokens: PortalTokenStore;
}

/** Binds the repository functions to a database session and a secret cipher. */
export function createStore(
  db: Sql,
  options: {
    cipher: SecretCipher;
    waker?: Waker;
    /** Group commit of messages without an idempotency key (default on); `false` = one each. */
    messageBatching?: MessageWriterOptions | false;
  },
): Store {
  const waker = options.waker ?? createWaker(db);
  const ctx: StorageContext = { sql: db, cipher: options.cipher, wake: waker.wake };
  if (options.messageBatching !== false) {
    ctx.messageWriter = messages.createMessageWriter(ctx, options.messageBatching);
  }
  return Object.freeze({
    endpoints: {
      create: (input) => endpoints.createEndpoint(ctx, input),
      createWithinLimit: (max, input) => endpoints.createEndpointWithinLimit(ctx, max, input),
      get: (id, scope) => endpoints.getEndpoint(ctx, id, scope),
      list: (filter, scope) => endpoints.listEndpoints(ctx, filter, scope),
      update: (id, patch, scope) => endpoints.updateEndpoint(ctx, id, patch, scope),
      setStatus: (id, status, opts) => endpoints.setEndpointStatus(ctx, id, status, opts),
      delete: (id, scope) => endpoints.deleteEndpoint(ctx, id, scope),
      rotateSecret: (id, input, scope) => endpoints.rotateEndpointSecret(ctx, id, input, scope),
      countForTenant: (tenantId) => endpoints.countEndpoints(ctx, tenantId),
      getSigningKeys: (endpointId) => endpoints.getSigningKeys(ctx, endpointId),
      stats: (endpointId, window, opts) => endpoints.endpointStats(ctx, endpointId, window, opts),
    },
    messages: {
      create: (input) => messages.createMessage(ctx, input),
      get: (id, scope) => messages.getMessage(ctx, id, scope),
      list: (filter, scope) => messages.listMessages(ctx, filter, scope),
    },
    deliveries: {
      get: (id, scope) => deliveries.getDelivery(ctx, id, scope),
      getWithAttempts: (id, scope) => deliveries.getDeliveryWithAttempts(ctx, id, scope),
      list: (filter, scope) => deliveries.listDeliveries(ctx, filter, scope),
      replay: (id, scope) => deliveries.replayDelivery(ctx, id, scope),
      recover: (endpointId, since, scope) =>
        deliveries.recoverDeliveries(ctx, endpointId, since, scope),
    },
    queue: {
      claim: (opts) => queue.claimDueDeliveries(ctx, opts),
      recordOutcome: (outcome, policy) => queue.recordOutcome(ctx, outcome, policy),
      recordOutcomes: (outcomes, policy) => queue.recordOutcomes(ctx, outcomes, policy),
      createTestDelivery: (input, scope) => queue.createTestDelivery(ctx, input, scope),
      nextDueAt: () => queue.nextDueAt(ctx),
      onDeliveriesDue: (onDue, subscribeOptions) => waker.subscribe(onDue, subscribeOptions),
      wakeOthers: () => waker.wakeOthers(),
      release: (leases) => leaseOps.releaseLeases(ctx, leases),
      releaseUnheld: (workerId, heldIds) => leaseOps.releaseUnheldLeases(ctx, workerId, heldIds),
      stats: () => leaseOps.queueStats(ctx),
    },
    eventTypes: {
      create: (input) => catalog.createEventType(ctx, input),
      get: (name) => catalog.getEventType(ctx, name),
      list: (filter) => catalog.listEventTypes(ctx, filter),
      update: (name, patch) => catalog.updateEventType(ctx, name, patch),
      archive: (name) => catalog.archiveEventType(ctx, name),
    },
    alertChannels: {
      get: (tenantId) => catalog.getAlertChannels(ctx, tenantId),
      put: (tenantId, channels) => catalog.putAlertChannels(ctx, tenantId, channels),
    },
    alerts: {
      recordEvent: (input) => alerts.recordOperationalEvent(ctx, input),
      getEvent: (id) => alerts.getOperationalEvent(ctx, id),
      expandEvents: (opts) => alerts.expandEvents(ctx, opts),
      claim: (opts) => alerts.claimNotifications(ctx, opts),
      record: (outcome) => alerts.recordNotification(ctx, outcome),
      nextDueAt: (channels) => alerts.nextNotificationDueAt(ctx, channels),
      prune: (opts) => alerts.pruneNotifications(ctx, opts),
      list: (filter) => alerts.listNotifications(ctx, filter),
      onEvents: (onDue) => db.listen(alerts.ALERTS_DUE_CHANNEL, () => onDue()),
    },
    apiKeys: {
      create: (input) => catalog.createApiKey(ctx, input),
      findByHash: (hash) => catalog.findApiKeyByHash(ctx, hash),
      touch: (id) => catalog.touchApiKey(ctx, id),
      revoke: (id) => catalog.revokeApiKey(ctx, id),
      list: () => catalog.listApiKeys(ctx),
    },
    portalTokens: {
      create: (input) => catalog.createPortalToken(ctx, input),
      findValidByHash: (hash, now) => catalog.findValidPortalToken(ctx, hash, now),
      revoke: (id) => catalog.revokePortalToken(ctx, id),
      revokeTenant: (tenantId) => catalog.revokeTenantPortalTokens(ctx, tenantId),
    },
  } satisfies Store);
}

export {
  ALERTS_DUE_CHANNEL,
  type AlertChannelKind,
  type AlertNotification,
  type ClaimedNotification,
  type ExpandOptions,
  type ExpandResult,
  type NewOperationalEvent,
  type NotificationOutcome,
  type NotificationResult,
  OPERATIONAL_EVENT_TYPES,
  type OperationalEvent,
  type OperationalEventType,
  recordOperationalEvent,
} from './alerts';
export { insecureDevelopmentCipher, type SecretCipher } from './cipher';
export { createWaker, DELIVERIES_DUE_CHANNEL, PAGE_LIMITS, type Waker } from './common';
export {
  type Database,
  type DatabaseTarget,
  databaseFrom,
  openDatabase,
} from './database';
export { LOCK_FILE, lockDataDir, openEmbedded, openInMemory, PGDATA_DIR } from './embedded';
export { healthFromSuccessRate } from './endpoints';
export { DataDirLockedError, StorageError } from './errors';
export {
  ENCRYPTION_KEY_FILE,
  type KeyRingCipher,
  type KeyRingSource,
  keyRingCipher,
  loadKeyRing,
} from './key-ring';
export {
  type LeaseRef,
  QUEUE_DEPTH_COUNT_LIMIT,
  type QueueStats,
  queueStats,
  releaseLeases,
  releaseUnheldLeases,
} from './leases';
export { IDEMPOTENCY_WINDOW_HOURS } from './messages';
export {
  loadMigrations,
  type Migration,
  type MigrationResult,
  type MigrationStatus,
  migrate,
  migrationStatus,
} from './migrate';
export { connectPostgres, isDatabaseUnavailable, type PostgresOptions } from './postgres-driver';
export {
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_ENDPOINT_HEALTH,
  DEFAULT_MAX_PER_ENDPOINT,
  STORED_BODY_LIMITS,
} from './queue';
export {
  type RetentionDeleted,
  type RetentionOptions,
  type RetentionResult,
  rawHorizon,
  runRetention,
} from './retention';
export { type ReencryptResult, reencryptSecrets } from './secrets';
export {
  compile,
  join,
  json,
  type PoolStats,
  type Sql,
  type SqlClient,
  SqlFragment,
  sql,
  sqlState,
} from './sql';
export {
  needsAnalyze,
  needsVacuum,
  type TableActivity,
  type TableUpkeep,
  tableActivity,
  upkeepTables,
} from './statistics';
export {
  type AlertChannelStore,
  type AlertStore,
  type ApiKeyStore,
  createStore,
  type DeliveryStore,
  type EndpointStore,
  type EventTypeStore,
  type MessageStore,
  type PortalTokenStore,
  type QueueStore,
  type Store,
} from './store';
export type {
  AlertChannels,
  ApiKey,
  Attempt,
  AttemptInput,
  AttemptOutcome,
  AttemptSummary,
  AttemptTrigger,
  BreakerTransition,
  CircuitBreakerPolicy,
  ClaimCursor,
  ClaimedDelivery,
  ClaimOptions,
  ClaimStats,
  CreateMessageResult,
  Delivery,
  DeliveryFilter,
  DeliveryStatus,
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
  Health,
  Message,
  MessageAccepted,
  MessageFilter,
  NewApiKey,
  NewEndpoint,
  NewEventType,
  NewMessage,
  NewPortalToken,
  NewTestDelivery,
  OutcomeInput,
  Page,
  PageQuery,
  PortalToken,
  RecordedOutcome,
  ReplayResult,
  RotateSecretInput,
  Rotation,
  Scope,
  Signing,
  SigningKeys,
  StatsWindow,
} from './types';

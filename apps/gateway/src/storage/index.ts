export { insecureDevelopmentCipher, type SecretCipher } from './cipher';
export { DELIVERIES_DUE_CHANNEL, PAGE_LIMITS } from './common';
export {
  type Database,
  type DatabaseTarget,
  databaseFrom,
  openDatabase,
} from './database';
export { LOCK_FILE, lockDataDir, openEmbedded, openInMemory, PGDATA_DIR } from './embedded';
export { healthFromSuccessRate } from './endpoints';
export { DataDirLockedError, StorageError } from './errors';
export { IDEMPOTENCY_WINDOW_HOURS } from './messages';
export {
  loadMigrations,
  type Migration,
  type MigrationResult,
  type MigrationStatus,
  migrate,
  migrationStatus,
} from './migrate';
export { connectPostgres, type PostgresOptions } from './postgres-driver';
export { DEFAULT_MAX_PER_ENDPOINT, STORED_BODY_LIMITS } from './queue';
export { compile, join, json, type Sql, type SqlClient, SqlFragment, sql, sqlState } from './sql';
export {
  type AlertChannelStore,
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
  ClaimedDelivery,
  ClaimOptions,
  CreateMessageResult,
  Delivery,
  DeliveryFilter,
  DeliveryStatus,
  DeliveryWithAttempts,
  DisabledReason,
  Endpoint,
  EndpointFilter,
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

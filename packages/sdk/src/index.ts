// The public surface of @hookline/sdk: every name is re-exported explicitly.

export type {
  AlertChannels,
  AlertChannelsParams,
  Attempt,
  AttemptOutcome,
  AttemptSummary,
  AttemptTrigger,
  Delivery,
  DeliveryListParams,
  DeliveryStatus,
  DeliveryWithAttempts,
  Endpoint,
  EndpointCreateParams,
  EndpointDisabledReason,
  EndpointListParams,
  EndpointRecoverParams,
  EndpointRotateSecretParams,
  EndpointRotation,
  EndpointStats,
  EndpointStatsParams,
  EndpointStatus,
  EndpointTestParams,
  EndpointUpdateParams,
  EndpointWithSecret,
  ErrorDetail,
  EventType,
  EventTypeCreateParams,
  EventTypeListParams,
  EventTypeUpdateParams,
  Health,
  HealthStatus,
  Message,
  MessageAccepted,
  MessageCreateParams,
  MessageListParams,
  PortalLink,
  PortalLinkCreateParams,
  ReadinessStatus,
  RecoverResult,
  RotatedSecret,
  Signing,
  StatsWindow,
} from './api-types.gen';
export { Hookline, type HooklineOptions } from './client';
export {
  HooklineApiError,
  type HooklineApiErrorCode,
  HooklineConnectionError,
  HooklineError,
  HooklineTimeoutError,
} from './errors';
export {
  IMPORT_MARKER,
  type ImportEndpointEntry,
  type ImportEndpointResult,
  type ImportEndpointsOptions,
} from './import-endpoints';
export { type Page, Paginator } from './pagination';
// The resource classes, for their types (`hookline.endpoints` is an `Endpoints`).
export { Deliveries } from './resources/deliveries';
export { Endpoints } from './resources/endpoints';
export { EventTypes } from './resources/event-types';
export {
  type BroadcastOptions,
  type BroadcastParams,
  type BroadcastResult,
  type MessageCreateOptions,
  Messages,
} from './resources/messages';
export { Operations } from './resources/operations';
export { Portal } from './resources/portal';
export { Tenants } from './resources/tenants';
export type { FetchLike, RequestOptions, RetryDelayOptions } from './transport';
export { SDK_VERSION } from './version';

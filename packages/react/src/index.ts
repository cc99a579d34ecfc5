// The public surface of @hookline/react: every name is re-exported explicitly.

export {
  type ClientErrorCode,
  createHooklineClient,
  HooklineApiError,
  type HooklineClient,
  type HooklineClientOptions,
} from './client';
export { AlertChannels } from './components/alert-channels';
export { DeliveryDetail, type DeliveryDetailProps } from './components/delivery-detail';
export { DeliveryLog, type DeliveryLogProps } from './components/delivery-log';
export { EndpointDetail, type EndpointDetailProps } from './components/endpoint-detail';
export {
  EndpointForm,
  type EndpointFormProps,
  RETRY_PRESETS,
  type RetryPreset,
} from './components/endpoint-form';
export { EndpointList, type EndpointListProps } from './components/endpoint-list';
export {
  type RevealedSecret,
  SecretPanel,
  type SecretPanelProps,
  SecretReveal,
} from './components/secret-panel';
export { SendTestEvent, type SendTestEventProps } from './components/send-test-event';
export {
  type PortalView,
  WebhookPortal,
  type WebhookPortalProps,
} from './components/webhook-portal';
export {
  type HooklineContextValue,
  HooklineProvider,
  type HooklineProviderProps,
  type HooklineTheme,
  useHookline,
  useHooklineClient,
} from './context';
export {
  type CreateEndpointInput,
  type MutationResult,
  type SendTestEventInput,
  useCreateEndpoint,
  useDeleteEndpoint,
  usePauseEndpoint,
  useRecoverEndpoint,
  useReplayDelivery,
  useResumeEndpoint,
  useRotateSecret,
  useSendTestEvent,
  useUpdateAlertChannels,
  useUpdateEndpoint,
} from './hooks/mutations';
export {
  type TenantIdResult,
  useAlertChannels,
  useDeliveries,
  useDelivery,
  useEndpoint,
  useEndpointStats,
  useEndpoints,
  useEventTypes,
  useTenantId,
} from './hooks/queries';
export type { QueryOptions, QueryResult } from './hooks/use-query';
export type {
  AlertChannels as AlertChannelSettings,
  AlertChannelsPutRequest,
  Attempt,
  AttemptOutcome,
  AttemptSummary,
  AttemptTrigger,
  Delivery,
  DeliveryListQuery,
  DeliveryListResponse,
  DeliveryStatus,
  DeliveryWithAttempts,
  Endpoint,
  EndpointCreateRequest,
  EndpointDisabledReason,
  EndpointListQuery,
  EndpointListResponse,
  EndpointPatchRequest,
  EndpointRecoverRequest,
  EndpointRecoverResponse,
  EndpointRotateSecretRequest,
  EndpointRotateSecretResponse,
  EndpointStats,
  EndpointStatus,
  EndpointTestRequest,
  EndpointWithSecret,
  ErrorBody,
  ErrorDetail,
  EventType,
  EventTypeListQuery,
  EventTypeListResponse,
  Health,
  Signing,
  StatsWindow,
} from './wire.gen';

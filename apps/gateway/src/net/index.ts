export {
  customHeaderProblems,
  isReservedHeaderName,
  isSensitiveHeaderName,
  RESERVED_HEADER_NAMES,
  redactHeaders,
} from './headers';
export {
  classifyStatus,
  createHttpClient,
  type DeliveryOutcome,
  type DialOverride,
  type DialTarget,
  describeNetworkError,
  type HttpClient,
  type HttpClientOptions,
  type SendRequest,
  type SendResult,
  sendWebhook,
} from './http-client';
export {
  type AddressPolicy,
  type AddressPolicyOptions,
  createAddressPolicy,
  type IpFamily,
  observeRefusals,
  type PolicyDecision,
  parseIp,
  type ResolvedAddress,
  type UrlCheck,
} from './policy';
export { type Resolver, resolveTarget, systemResolver, type Target } from './resolve';

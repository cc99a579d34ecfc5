import type {
  AlertChannels,
  AlertChannelsPutRequest,
  Attempt,
  Delivery,
  DeliveryListQuery,
  DeliveryListResponse,
  DeliveryWithAttempts,
  Endpoint,
  EndpointCreateRequest,
  EndpointListQuery,
  EndpointListResponse,
  EndpointPatchRequest,
  EndpointRecoverRequest,
  EndpointRecoverResponse,
  EndpointRotateSecretRequest,
  EndpointRotateSecretResponse,
  EndpointStats,
  EndpointTestRequest,
  EndpointWithSecret,
  ErrorDetail,
  EventType,
  EventTypeListQuery,
  EventTypeListResponse,
  StatsWindow,
} from './wire.gen';

/** Codes the client itself gives an error when the gateway's answer carries none. */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response';

/** A failed call to the gateway: its error `code`, HTTP `status` (0 without one) and field `details`. */
export class HooklineApiError extends Error {
  override readonly name = 'HooklineApiError';
  /** The gateway's error code (`invalid_request`, `url_not_allowed`, `not_found`, …) or a `ClientErrorCode`. */
  readonly code: string;
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** Each bad field of a 400, with its wire path (`url`, `headers["Host"]`, `emails[1]`). */
  readonly details: readonly ErrorDetail[];
  /** The gateway's `x-request-id`, for support. */
  readonly requestId: string | null;

  constructor(
    code: string,
    message: string,
    options: {
      status?: number;
      details?: readonly ErrorDetail[];
      requestId?: string | null;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.details = options.details ?? [];
    this.requestId = options.requestId ?? null;
  }
}

/** How to reach the gateway. */
export interface HooklineClientOptions {
  /** The gateway's base URL, e.g. `https://hooks.example.com` (no `/v1`). */
  gatewayUrl: string;
  /** A portal token (`hl_pt_…`) minted by `POST /v1/portal/links`. */
  token: string;
  /** Injectable `fetch` (tests, proxies); default: the global one, read at call time. */
  fetch?: typeof fetch;
  /** Per-request time limit in milliseconds (a test event may take the endpoint's 15 s). Default 30 000. */
  timeoutMs?: number;
}

/** Every call the portal makes: the portal-token routes of API.md, typed from @hookline/api. */
export interface HooklineClient {
  readonly gatewayUrl: string;
  listEndpoints(query?: EndpointListQuery): Promise<EndpointListResponse>;
  getEndpoint(id: string): Promise<Endpoint>;
  createEndpoint(body: EndpointCreateRequest): Promise<EndpointWithSecret>;
  updateEndpoint(id: string, body: EndpointPatchRequest): Promise<Endpoint>;
  deleteEndpoint(id: string): Promise<void>;
  rotateSecret(
    id: string,
    body?: EndpointRotateSecretRequest,
  ): Promise<EndpointRotateSecretResponse>;
  sendTestEvent(id: string, body?: EndpointTestRequest): Promise<Attempt>;
  getEndpointStats(id: string, window?: StatsWindow): Promise<EndpointStats>;
  recoverEndpoint(id: string, body: EndpointRecoverRequest): Promise<EndpointRecoverResponse>;
  listDeliveries(query?: DeliveryListQuery): Promise<DeliveryListResponse>;
  getDelivery(id: string): Promise<DeliveryWithAttempts>;
  replayDelivery(id: string): Promise<Delivery>;
  listEventTypes(query?: EventTypeListQuery): Promise<EventTypeListResponse>;
  /** Every page of the event type catalog (at most `maxPages` pages of 250). */
  listAllEventTypes(maxPages?: number): Promise<EventType[]>;
  getAlertChannels(tenantId: string): Promise<AlertChannels>;
  putAlertChannels(tenantId: string, body: AlertChannelsPutRequest): Promise<AlertChannels>;
}

type Query = Record<string, string | number | undefined>;

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

const segment = encodeURIComponent;

/** A client for the gateway's `/v1` API with a portal token (or an API key). */
export function createHooklineClient(options: HooklineClientOptions): HooklineClient {
  const base = options.gatewayUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const doFetch = options.fetch ?? globalThis.fetch;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted) {
        throw new HooklineApiError(
          'timeout',
          `The gateway did not answer within ${timeoutMs / 1000} s.`,
          {
            cause: error,
          },
        );
      }
      throw new HooklineApiError('network_error', 'Could not reach the webhook gateway.', {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
    const requestId = response.headers.get('x-request-id');
    const text = await response.text();
    let json: unknown = null;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new HooklineApiError(
          'invalid_response',
          `The gateway answered ${response.status} with a body that is not JSON.`,
          { status: response.status, requestId, cause: error },
        );
      }
    }
    if (!response.ok) {
      const failure = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } })
        ?.error;
      const code = typeof failure?.code === 'string' ? failure.code : `http_${response.status}`;
      const message =
        typeof failure?.message === 'string'
          ? failure.message
          : `The gateway answered ${response.status}.`;
      const details = Array.isArray(failure?.details) ? (failure.details as ErrorDetail[]) : [];
      throw new HooklineApiError(code, message, { status: response.status, details, requestId });
    }
    return json as T;
  }

  return {
    gatewayUrl: base,
    listEndpoints: (query) => call('GET', `/v1/endpoints${queryString(query)}`),
    getEndpoint: (id) => call('GET', `/v1/endpoints/${segment(id)}`),
    createEndpoint: (body) => call('POST', '/v1/endpoints', body),
    updateEndpoint: (id, body) => call('PATCH', `/v1/endpoints/${segment(id)}`, body),
    deleteEndpoint: async (id) => {
      await call<null>('DELETE', `/v1/endpoints/${segment(id)}`);
    },
    rotateSecret: (id, body = {}) =>
      call('POST', `/v1/endpoints/${segment(id)}/rotate-secret`, body),
    sendTestEvent: (id, body = {}) => call('POST', `/v1/endpoints/${segment(id)}/test`, body),
    getEndpointStats: (id, window = '24h') =>
      call('GET', `/v1/endpoints/${segment(id)}/stats${queryString({ window })}`),
    recoverEndpoint: (id, body) => call('POST', `/v1/endpoints/${segment(id)}/recover`, body),
    listDeliveries: (query) => call('GET', `/v1/deliveries${queryString(query)}`),
    getDelivery: (id) => call('GET', `/v1/deliveries/${segment(id)}`),
    replayDelivery: (id) => call('POST', `/v1/deliveries/${segment(id)}/replay`),
    listEventTypes: (query) => call('GET', `/v1/event-types${queryString(query)}`),
    async listAllEventTypes(maxPages = 4) {
      const all: EventType[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const answer = await call<EventTypeListResponse>(
          'GET',
          `/v1/event-types${queryString({ limit: 250, cursor })}`,
        );
        all.push(...answer.data);
        if (!answer.next_cursor) break;
        cursor = answer.next_cursor;
      }
      return all.sort((a, b) => a.name.localeCompare(b.name));
    },
    getAlertChannels: (tenantId) => call('GET', `/v1/tenants/${segment(tenantId)}/alert-channels`),
    putAlertChannels: (tenantId, body) =>
      call('PUT', `/v1/tenants/${segment(tenantId)}/alert-channels`, body),
  };
}

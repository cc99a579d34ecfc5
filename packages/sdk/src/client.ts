import {
  type ImportEndpointEntry,
  type ImportEndpointResult,
  type ImportEndpointsOptions,
  importEndpoints,
} from './import-endpoints';
import { Deliveries } from './resources/deliveries';
import { Endpoints } from './resources/endpoints';
import { EventTypes } from './resources/event-types';
import { Messages } from './resources/messages';
import { Operations } from './resources/operations';
import { Portal } from './resources/portal';
import { Tenants } from './resources/tenants';
import {
  checkRetries,
  checkTimeout,
  DEFAULTS,
  type FetchLike,
  type RetryDelayOptions,
  Transport,
} from './transport';
import { describeValue } from './validate';

/** Options of `new Hookline(apiKey, options)`. */
export interface HooklineOptions {
  /** Where the gateway serves its API, e.g. `https://webhooks.example.com` (a path prefix is kept). */
  baseUrl: string | URL;
  /** The `fetch` to use. Default: the runtime's global `fetch`, looked up at each call. */
  fetch?: FetchLike;
  /** How long one attempt may take before it is abandoned, in ms. Default 30000. */
  timeoutMs?: number;
  /**
   * Retries after a failed attempt (network error, timeout, 429, 5xx). Default 2; 0 turns
   * retries off. Calls that could act twice are retried only on 429.
   */
  retries?: number;
  /** Backoff between retries (a `Retry-After` from the gateway takes precedence). */
  retryDelay?: RetryDelayOptions;
}

// An operator API key or a portal token, as a bearer token (RFC 6750 b64token characters).
const API_KEY = /^hl_(sk|pt)_[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The Hookline client: `new Hookline(process.env.HOOKLINE_API_KEY, { baseUrl })`.
 *
 * `apiKey` is an operator API key (`hl_sk_…`), or a portal token (`hl_pt_…`) for the calls a
 * portal may make. The key is kept private: it is sent only in the `Authorization` header and
 * never appears in errors, logs or `console.log(hookline)`.
 */
export class Hookline {
  /** A tenant's endpoints: create, list, update, delete, rotate secrets, test, stats, recover. */
  readonly endpoints: Endpoints;
  /** Events: send (with idempotency keys), broadcast to many tenants, list, get. */
  readonly messages: Messages;
  /** The delivery log: list, get with attempts, replay. */
  readonly deliveries: Deliveries;
  /** The event type catalog. */
  readonly eventTypes: EventTypes;
  /** Per-tenant settings (alert channels). */
  readonly tenants: Tenants;
  /** Portal links for tenants' self-service. */
  readonly portal: Portal;
  /** `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. */
  readonly operations: Operations;

  constructor(apiKey: string, options: HooklineOptions) {
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new TypeError(
        `Hookline: an API key (hl_sk_…) is required as the first argument, got ${describeValue(apiKey)}.`,
      );
    }
    if (!API_KEY.test(apiKey)) {
      // The value is never echoed: it may be some other secret passed by mistake.
      throw new TypeError(
        'Hookline: the API key must be an operator API key (hl_sk_…) or a portal token (hl_pt_…).',
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        'Hookline: options with a baseUrl are required: new Hookline(apiKey, { baseUrl }).',
      );
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new TypeError(
        `Hookline: fetch must be a function, got ${describeValue(options.fetch)}.`,
      );
    }
    const initialMs = options.retryDelay?.initialMs ?? DEFAULTS.retryDelay.initialMs;
    const maxMs = options.retryDelay?.maxMs ?? DEFAULTS.retryDelay.maxMs;
    for (const [name, value] of [
      ['retryDelay.initialMs', initialMs],
      ['retryDelay.maxMs', maxMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(`Hookline: ${name} must be a number of milliseconds ≥ 0.`);
      }
    }
    const transport = new Transport({
      apiKey,
      baseUrl: parseBaseUrl(options.baseUrl),
      fetch: options.fetch,
      timeoutMs: checkTimeout(options.timeoutMs, 'timeoutMs') ?? DEFAULTS.timeoutMs,
      retries: checkRetries(options.retries, 'retries') ?? DEFAULTS.retries,
      retryDelay: { initialMs, maxMs: Math.max(initialMs, maxMs) },
    });
    this.endpoints = new Endpoints(transport);
    this.messages = new Messages(transport);
    this.deliveries = new Deliveries(transport);
    this.eventTypes = new EventTypes(transport);
    this.tenants = new Tenants(transport);
    this.portal = new Portal(transport);
    this.operations = new Operations(transport);
  }

  /**
   * Migrates "one webhook URL per customer" to Hookline: for each `{ tenantId, url, secret? }`,
   * creates a `Default` endpoint receiving every event type (importing `secret`, so the customer
   * keeps verifying with it). Idempotent: a tenant that already has an endpoint made by an
   * earlier run, or any endpoint with the same URL, is left alone (`existing`), so re-running
   * creates nothing new. One tenant's failure does not stop the others (`failed`). Run one
   * import at a time.
   */
  importEndpoints(
    entries: readonly ImportEndpointEntry[],
    options?: ImportEndpointsOptions,
  ): Promise<ImportEndpointResult[]> {
    return importEndpoints(this.endpoints, entries, options);
  }
}

function parseBaseUrl(value: unknown): string {
  let url: URL;
  try {
    if (typeof value !== 'string' && !(value instanceof URL)) throw new Error('not a URL');
    url = new URL(value);
  } catch {
    throw new TypeError(
      `Hookline: baseUrl must be the gateway's absolute http(s) URL, e.g. https://webhooks.example.com, got ${
        typeof value === 'string' && value !== ''
          ? 'a string that is not one'
          : describeValue(value)
      }.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`Hookline: baseUrl must use https:// or http://, not ${url.protocol}//.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('Hookline: baseUrl must not contain a username or password.');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError('Hookline: baseUrl must not have a query string or a fragment.');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

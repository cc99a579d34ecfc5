// One HTTP call to the gateway: URL and headers, timeouts, retries with backoff, and the one
// mapping from an answer to a value or a typed error. Uses only `fetch`, `AbortController`,
// `setTimeout` and `URLSearchParams`, so it runs on every runtime.
import type { ErrorDetail } from './api-types.gen';
import { fromWire, toWire } from './case';
import { HooklineApiError, HooklineConnectionError, HooklineTimeoutError } from './errors';
import { type OperationId, ROUTES } from './routes';
import { describeValue } from './validate';
import { SDK_VERSION } from './version';

/** The subset of `fetch` the SDK calls: `(url, init)`, answering a WHATWG `Response`. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Per-call options every method takes as its last argument. */
export interface RequestOptions {
  /** Aborts the call (and any retry wait); the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Overrides the client's `retries` for this call. */
  retries?: number;
}

/** Backoff between retries. */
export interface RetryDelayOptions {
  /** Delay before the first retry, doubled for each further one (with jitter). Default 500 ms. */
  initialMs?: number;
  /** Longest backoff delay. Default 8000 ms. */
  maxMs?: number;
}

/** Defaults of the client options. */
export const DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  retries: 2,
  retryDelay: Object.freeze({ initialMs: 500, maxMs: 8_000 }),
  /** A `Retry-After` longer than this is not waited for: the 429 is thrown instead. */
  maxRetryAfterMs: 60_000,
});

const MAX_RETRIES = 10;

/** How a call's answer is read. */
type ResponseKind = 'json' | 'document' | 'text';

/** One call: the route, its path parameters, query, body and extra headers. */
export interface Call {
  operation: OperationId;
  path?: Readonly<Record<string, string>>;
  /** camelCase filters; converted to snake_case query parameters. */
  query?: object;
  /** camelCase body; converted to the wire's snake_case (free-form maps untouched). */
  body?: unknown;
  idempotencyKey?: string;
  /** `json` (default): converted to camelCase; `document`: JSON as sent; `text`: a string. */
  response?: ResponseKind;
}

interface TransportConfig {
  apiKey: string;
  baseUrl: string;
  fetch: FetchLike | undefined;
  timeoutMs: number;
  retries: number;
  retryDelay: Required<RetryDelayOptions>;
}

/** Sends calls to one gateway with one credential. The credential is never readable from it. */
export class Transport {
  readonly #apiKey: string;
  readonly #config: Omit<TransportConfig, 'apiKey'>;

  constructor(config: TransportConfig) {
    this.#apiKey = config.apiKey;
    const { apiKey: _, ...rest } = config;
    this.#config = Object.freeze(rest);
  }

  /** Sends a call, retrying as its route allows; resolves with the answer's value. */
  async call<T>(call: Call, options: RequestOptions = {}): Promise<T> {
    const route = ROUTES[call.operation];
    const timeoutMs = checkTimeout(options.timeoutMs, 'timeoutMs') ?? this.#config.timeoutMs;
    const retries = checkRetries(options.retries, 'retries') ?? this.#config.retries;
    const signal = options.signal;
    const kind = call.response ?? 'json';

    const pathname = fillPath(route.path, call.path ?? {});
    const url = `${this.#config.baseUrl}${pathname}${queryString(call.query)}`;
    const headers: Record<string, string> = {
      accept: kind === 'text' ? 'text/plain, */*' : 'application/json',
      'user-agent': `hookline-sdk-js/${SDK_VERSION}`,
    };
    if (route.auth) headers.authorization = `Bearer ${this.#apiKey}`;
    let body: string | undefined;
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(toWire(call.body));
    }
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    const label = `${route.method} ${pathname}`;

    // Whether an earlier try may have acted: a lost answer, or a 5xx.
    let mayHaveActed = false;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      let delayMs: number;
      try {
        const answer = await this.#send(url, { method: route.method, headers, body }, label, {
          timeoutMs,
          signal,
        });
        if (answer.response.ok) return readValue<T>(answer.response, answer.text, kind);
        const error = apiError(answer.response, answer.text);
        if (route.method === 'DELETE' && error.status === 404 && mayHaveActed) {
          // An earlier try deleted it and its answer was lost: the caller's wish holds.
          return undefined as T;
        }
        const retryable = error.status === 429 || (error.status >= 500 && route.repeatable);
        if (!retryable || attempt >= retries) throw error;
        if (error.status >= 500) mayHaveActed = true;
        if (error.retryAfter !== null) {
          delayMs = error.retryAfter * 1000;
          if (delayMs > DEFAULTS.maxRetryAfterMs) throw error;
        } else delayMs = this.#backoff(attempt);
      } catch (error) {
        if (!(error instanceof HooklineConnectionError)) throw error;
        if (!route.repeatable || attempt >= retries) throw error;
        mayHaveActed = true;
        delayMs = this.#backoff(attempt);
      }
      await sleep(delayMs, signal);
    }
  }

  // Exponential backoff with "equal jitter": half fixed, half random.
  #backoff(attempt: number): number {
    const { initialMs, maxMs } = this.#config.retryDelay;
    const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  async #send(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string | undefined },
    label: string,
    { timeoutMs, signal }: { timeoutMs: number; signal: AbortSignal | undefined },
  ): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    const fetchFn = this.#config.fetch;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const onAbort = () => {
        controller.abort(signal!.reason);
        finish(() => reject(signal!.reason));
      };
      // The deadline wins even over a `fetch` that ignores its signal.
      const timer = setTimeout(() => {
        controller.abort();
        finish(() =>
          reject(
            new HooklineTimeoutError(
              `No answer from the Hookline gateway within ${timeoutMs} ms (${label}).`,
              timeoutMs,
            ),
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      const requestInit: RequestInit = { ...init, signal: controller.signal };
      Promise.resolve()
        .then(() => (fetchFn ? fetchFn(url, requestInit) : globalThis.fetch(url, requestInit)))
        .then(async (response) => ({ response, text: await response.text() }))
        .then(
          (answer) => finish(() => resolve(answer)),
          (error: unknown) =>
            finish(() =>
              reject(
                new HooklineConnectionError(
                  `Could not reach the Hookline gateway at ${new URL(url).origin} (${label}): ${reasonOf(error)}.`,
                  { cause: error },
                ),
              ),
            ),
        );
    });
  }
}

function readValue<T>(response: Response, text: string, kind: ResponseKind): T {
  if (kind === 'text') return text as T;
  if (text === '') {
    if (response.status === 204) return undefined as T;
    throw unexpected(response, 'an empty body where JSON was expected');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unexpected(response, 'a body that is not JSON');
  }
  return (kind === 'document' ? parsed : fromWire(parsed)) as T;
}

function unexpected(response: Response, what: string): HooklineApiError {
  return new HooklineApiError({
    status: response.status,
    code: 'unexpected_response',
    message: `The gateway answered ${response.status} with ${what}.`,
    requestId: response.headers.get('x-request-id'),
  });
}

/** The typed error of an error answer: the gateway's `{error: {code, message, details}}`. */
function apiError(response: Response, text: string): HooklineApiError {
  const requestId = response.headers.get('x-request-id');
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: unknown } | undefined)?.error as
    | { code?: unknown; message?: unknown; details?: unknown }
    | undefined;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new HooklineApiError({
      status: response.status,
      code: error.code,
      message: error.message,
      details: Array.isArray(error.details) ? error.details.filter(isErrorDetail) : [],
      requestId,
      retryAfter,
    });
  }
  const statusText = response.statusText ? ` ${response.statusText}` : '';
  return new HooklineApiError({
    status: response.status,
    code: 'unexpected_response',
    message: `The gateway answered ${response.status}${statusText} without a Hookline error body.`,
    requestId,
    retryAfter,
  });
}

function isErrorDetail(value: unknown): value is ErrorDetail {
  const detail = value as ErrorDetail | null;
  return (
    typeof detail === 'object' &&
    detail !== null &&
    typeof detail.path === 'string' &&
    typeof detail.message === 'string'
  );
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici puts the system error (ECONNREFUSED, ENOTFOUND…) on `cause`.
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `/v1/endpoints/{id}` with `{id: 'ep_1'}` → `/v1/endpoints/ep_1` (each value URL-encoded). */
function fillPath(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`Hookline: the path parameter ${name} is missing.`);
    }
    return encodeURIComponent(value);
  });
}

function queryString(query: object | undefined): string {
  if (query === undefined) return '';
  const wire = toWire(query) as Record<string, unknown>;
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(wire)) {
    if (value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TypeError(
        `Hookline: the filter ${key} must be a string or a number, got ${describeValue(value)}.`,
      );
    }
    search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** A valid `timeoutMs`, or undefined when not given; throws on a bad one. */
export function checkTimeout(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Hookline: ${name} must be a positive number of milliseconds, got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** A valid `retries`, or undefined when not given; throws on a bad one. */
export function checkRetries(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RETRIES) {
    throw new RangeError(
      `Hookline: ${name} must be a whole number from 0 to ${MAX_RETRIES}, got ${describeValue(value)}.`,
    );
  }
  return value;
}

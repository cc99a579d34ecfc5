import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { buildConnector, Pool } from 'undici';
import type { AddressPolicy, ResolvedAddress } from './policy';
import { type Resolver, resolveTarget, systemResolver } from './resolve';

/** How one attempt ended (API.md `outcome`). */
export type DeliveryOutcome =
  | 'success'
  | 'timeout'
  | 'http_4xx'
  | 'http_5xx'
  | 'redirect'
  | 'network_error'
  | 'blocked';

/** One webhook POST. */
export interface SendRequest {
  url: string | URL;
  headers: Readonly<Record<string, string>>;
  /** The exact bytes to send (a string is sent as UTF-8). */
  body: string | Uint8Array;
  /** Deadline for the whole exchange: DNS, connect, TLS, headers and body. Default: the client's (15 s). */
  timeoutMs?: number;
  /** Response body bytes kept; the rest is never read. Default: the client's (4096). */
  maxResponseBytes?: number;
}

/** What happened, ready to record. Never carries request headers or the body sent. */
export interface SendResult {
  outcome: DeliveryOutcome;
  httpStatus?: number;
  /** From the start of `send` (including DNS) until the response body was read or dropped. */
  latencyMs: number;
  /** Lowercase names; repeated headers joined with ", ". */
  responseHeaders: Record<string, string>;
  /** At most `maxResponseBytes` bytes of the body, decoded as UTF-8. */
  responseBody: string;
  responseTruncated: boolean;
  /** A short human message for anything but success (no secrets, no URL query). */
  error?: string;
  /** The address the request was pinned to, when one was chosen. */
  remoteAddress?: string;
}

/** What is about to be dialled; given to `beforeConnect`. */
export interface DialTarget {
  hostname: string;
  address: string;
  port: number;
}

/** Where `beforeConnect` sends a connection instead (a test seam; see `beforeConnect`). */
export interface DialOverride {
  address: string;
  port: number;
}

/** Options of the long-lived client (create one per process). */
export interface HttpClientOptions {
  policy: AddressPolicy;
  /** Default: `dns.promises.lookup` with `all: true`. */
  resolve?: Resolver;
  /** Extra trusted CA certificates (PEM), added to Node's roots; for tests and private CAs. */
  ca?: string | readonly string[];
  /** Default 15 000. */
  timeoutMs?: number;
  /** Default 4096. */
  maxResponseBytes?: number;
  /** Concurrent connections per origin and pinned address. Default 32. */
  connectionsPerOrigin?: number;
  /** Connection pools kept (least recently used are closed beyond this). Default 1024. */
  maxPools?: number;
  /** How long an idle keep-alive connection is kept when the server gives no hint. Default 10 000. */
  keepAliveTimeoutMs?: number;
  /**
   * Called just before each new connection is dialled, with the checked address it is pinned to;
   * throwing refuses the connection. Returning an address and port dials that instead, keeping
   * the URL's hostname for TLS and `Host`: a seam for tests, which serve the public-looking
   * addresses their resolver hands out from a loopback receiver, so that nothing else is dialled.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that only records or refuses returns nothing.
  beforeConnect?: (target: DialTarget) => DialOverride | undefined | void;
  /** Called when the SSRF guard refuses a request's URL or resolved address (metrics). */
  onBlocked?: () => void;
}

/** The outbound webhook client: SSRF-checked, pinned, pooled, never follows redirects. */
export interface HttpClient {
  /** POSTs one webhook; resolves with the outcome and never rejects for endpoint-side failures. */
  send(request: SendRequest): Promise<SendResult>;
  /** Closes every pooled connection (waits for requests in flight). */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_RESPONSE_BYTES = 4096;
const MAX_ERROR_LENGTH = 300;

const UNDICI_TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const TLS_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The outcome of a final status: 2xx success, 3xx redirect (never followed), 4xx, 5xx.
 * Anything else (a 1xx that was not absorbed as informational, or ≥ 600) is not valid HTTP
 * for a webhook answer and counts as `network_error`.
 */
export function classifyStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return 'success';
  if (status >= 300 && status < 400) return 'redirect';
  if (status >= 400 && status < 500) return 'http_4xx';
  if (status >= 500 && status < 600) return 'http_5xx';
  return 'network_error';
}

function short(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_ERROR_LENGTH ? `${oneLine.slice(0, MAX_ERROR_LENGTH - 1)}…` : oneLine;
}

/** A short, secret-free sentence for a transport error. */
export function describeNetworkError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (
    code &&
    (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))
  ) {
    return short(`TLS certificate verification failed (${code}): ${message}`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'Connection refused by the endpoint.';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'The endpoint closed the connection before the response was complete.';
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'The response body was shorter than its Content-Length.';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'The endpoint is unreachable from this network.';
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'The response headers were too large.';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_VERSION':
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'The endpoint did not answer with valid HTTP.';
    default:
      if (e?.cause && e.cause !== error) {
        const inner = e.cause as { code?: unknown };
        if (typeof inner.code === 'string') return describeNetworkError(e.cause);
      }
      return short(code ? `${code}: ${message}` : message);
  }
}

function normaliseHeaders(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function failure(
  outcome: DeliveryOutcome,
  error: string,
  startedAt: number,
  extra: Partial<SendResult> = {},
): SendResult {
  return {
    outcome,
    latencyMs: Math.round(performance.now() - startedAt),
    responseHeaders: {},
    responseBody: '',
    responseTruncated: false,
    error,
    ...extra,
  };
}

/** A lookup that only ever answers the already-checked address, for the one hostname it was made for. */
function pinnedLookup(hostname: string, pin: ResolvedAddress): LookupFunction {
  return (host, options, callback) => {
    if (host !== hostname) {
      const error = Object.assign(
        new Error(`Refusing to resolve ${host}: the connection is pinned.`),
        {
          code: 'ERR_PINNED_HOST',
        },
      );
      callback(error, '', 4);
      return;
    }
    if (options.all) {
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [pin]);
    } else {
      callback(null, pin.address, pin.family);
    }
  };
}

class TimeoutSignal extends Error {
  override readonly name = 'TimeoutSignal';
}

/** Creates the long-lived outbound client; one pool per (origin, pinned address), reused across calls. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const resolve = options.resolve ?? systemResolver;
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultMaxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxPools = Math.max(1, options.maxPools ?? 1024);
  const extraCa =
    options.ca === undefined
      ? undefined
      : typeof options.ca === 'string'
        ? [options.ca]
        : options.ca;
  // A `ca` option replaces Node's roots, so the extra CA is added to them.
  const ca = extraCa ? [...rootCertificates, ...extraCa] : undefined;
  const pools = new Map<string, Pool>();
  let closed = false;

  function poolFor(url: URL, hostname: string, port: number, pin: ResolvedAddress): Pool {
    const key = `${url.origin}|${pin.address}`;
    const existing = pools.get(key);
    if (existing) {
      pools.delete(key);
      pools.set(key, existing);
      return existing;
    }
    const connector = buildConnector({
      ...(ca ? { ca } : {}),
      rejectUnauthorized: true,
      timeout: defaultTimeout,
      autoSelectFamily: false,
      lookup: pinnedLookup(hostname, pin),
    });
    const beforeConnect = options.beforeConnect;
    const pool = new Pool(url.origin, {
      connections: options.connectionsPerOrigin ?? 32,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
      connect(connectOptions, callback) {
        let override: DialOverride | undefined;
        try {
          override = beforeConnect?.({ hostname, address: pin.address, port }) || undefined;
        } catch (error) {
          callback(error as Error, null);
          return;
        }
        connector(
          override
            ? { ...connectOptions, hostname: override.address, port: String(override.port) }
            : connectOptions,
          callback,
        );
      },
    });
    pools.set(key, pool);
    if (pools.size > maxPools) {
      const [oldestKey, oldest] = pools.entries().next().value!;
      pools.delete(oldestKey);
      // Requests already dispatched on it finish first.
      oldest.close().catch(() => {});
    }
    return pool;
  }

  async function send(request: SendRequest): Promise<SendResult> {
    if (closed) throw new Error('The HTTP client is closed.');
    const startedAt = performance.now();
    const timeoutMs = request.timeoutMs ?? defaultTimeout;
    const maxBytes = request.maxResponseBytes ?? defaultMaxBytes;

    let url: URL;
    try {
      url = typeof request.url === 'string' ? new URL(request.url) : request.url;
    } catch {
      return failure('blocked', 'The endpoint URL is not a valid URL.', startedAt);
    }

    const controller = new AbortController();
    let phase: 'dns' | 'headers' | 'body' = 'dns';
    const timer = setTimeout(() => controller.abort(new TimeoutSignal()), timeoutMs);
    // undici's own connect/headers/body timers (same length, coarser clock) count as the deadline too.
    const timedOut = (error?: unknown) =>
      controller.signal.aborted ||
      UNDICI_TIMEOUT_CODES.has((error as { code?: string })?.code ?? '');
    const timeoutMessage = () =>
      phase === 'dns'
        ? `DNS lookup did not finish within ${timeoutMs} ms.`
        : phase === 'headers'
          ? `No response within ${timeoutMs} ms.`
          : `The response body did not finish within ${timeoutMs} ms.`;

    try {
      const deadline = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), {
          once: true,
        });
      });
      deadline.catch(() => {});
      let target: Awaited<ReturnType<typeof resolveTarget>>;
      try {
        target = await Promise.race([resolveTarget(url, options.policy, resolve), deadline]);
      } catch (error) {
        if (timedOut(error)) return failure('timeout', timeoutMessage(), startedAt);
        return failure('network_error', describeNetworkError(error), startedAt);
      }
      if (!target.ok) {
        if (target.outcome === 'blocked') options.onBlocked?.();
        return failure(target.outcome, target.reason, startedAt);
      }

      const remoteAddress = target.address.address;
      const pool = poolFor(url, target.hostname, target.port, target.address);
      phase = 'headers';
      let response: Awaited<ReturnType<Pool['request']>>;
      try {
        response = await pool.request({
          method: 'POST',
          path: `${url.pathname}${url.search}`,
          headers: request.headers as Record<string, string>,
          body: request.body,
          signal: controller.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (error) {
        if (timedOut(error))
          return failure('timeout', timeoutMessage(), startedAt, { remoteAddress });
        return failure('network_error', describeNetworkError(error), startedAt, { remoteAddress });
      }

      phase = 'body';
      const httpStatus = response.statusCode;
      const responseHeaders = normaliseHeaders(response.headers);
      const chunks: Buffer[] = [];
      let size = 0;
      let responseTruncated = false;
      let bodyError: unknown;
      try {
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          const room = maxBytes - size;
          if (chunk.length > room) {
            if (room > 0) chunks.push(chunk.subarray(0, room));
            size = maxBytes;
            responseTruncated = true;
            break;
          }
          chunks.push(chunk);
          size += chunk.length;
        }
      } catch (error) {
        bodyError = error;
      } finally {
        // Stop reading: an endless body must not be buffered (this drops the connection).
        if (!response.body.destroyed && (responseTruncated || bodyError)) response.body.destroy();
      }
      const partial = {
        httpStatus,
        responseHeaders,
        responseBody: Buffer.concat(chunks, size).toString('utf8'),
        responseTruncated,
        remoteAddress,
      };
      if (bodyError !== undefined) {
        if (timedOut(bodyError)) return failure('timeout', timeoutMessage(), startedAt, partial);
        return failure('network_error', describeNetworkError(bodyError), startedAt, partial);
      }
      const outcome = classifyStatus(httpStatus);
      return {
        outcome,
        latencyMs: Math.round(performance.now() - startedAt),
        ...partial,
        ...(outcome === 'success' ? {} : { error: statusMessage(httpStatus) }),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    send,
    async close() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.close()));
    },
  };
}

function statusMessage(status: number): string {
  if (status >= 300 && status < 400) {
    return `The endpoint answered ${status}; redirects are not followed.`;
  }
  if (status < 200 || status >= 600)
    return `The endpoint answered with an invalid status ${status}.`;
  return `The endpoint answered ${status}.`;
}

/** One-off send with its own short-lived client; the worker should use `createHttpClient` instead. */
export async function sendWebhook(
  request: SendRequest & Omit<HttpClientOptions, 'timeoutMs' | 'maxResponseBytes'>,
): Promise<SendResult> {
  const client = createHttpClient(request);
  try {
    return await client.send(request);
  } finally {
    await client.close();
  }
}

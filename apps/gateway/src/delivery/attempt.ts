import { customHeaderProblems, isReservedHeaderName, isSensitiveHeaderName } from '../net/headers';
import type { DeliveryOutcome, HttpClient } from '../net/http-client';
import { type EndpointKeys, type Signer, signWebhook } from '../signing/signer';
import { parseRetryAfter } from './schedule';

/** Request bodies are stored up to this many bytes (API.md `request_body`). */
export const MAX_STORED_REQUEST_BODY_BYTES = 64 * 1024;

/** The message fields the delivered body is made of. */
export interface DeliveryBodySource {
  eventType: string;
  /** The payload exactly as accepted: JSON text, inserted into the body byte for byte. */
  payloadJson: string;
  /** The message's creation time: the body's `timestamp`. */
  createdAt: Date;
}

/** One delivery to attempt. */
export interface DeliveryToSend extends DeliveryBodySource {
  /** `msg_…`: the `webhook-id` of every attempt. */
  messageId: string;
  /** The stored body from `buildDeliveryBody`, when the caller kept it; otherwise it is rebuilt. */
  body?: string;
}

/** The endpoint as the attempt needs it. */
export interface EndpointToSend {
  url: string;
  /** Custom headers; reserved names (content-type, user-agent, webhook-*, transport headers) are ignored. */
  headers?: Readonly<Record<string, string>> | null;
  keys: EndpointKeys;
}

/** The inputs of one attempt. */
export interface AttemptInput {
  delivery: DeliveryToSend;
  endpoint: EndpointToSend;
  /** This attempt's time: `webhook-timestamp`, rotation expiry and `attemptedAt` all use it. */
  now: Date;
  client: Pick<HttpClient, 'send'>;
  /** The gateway version for `user-agent: Hookline/<version>`. */
  userAgentVersion: string;
  /** Default: the process-wide cached signer. */
  signer?: Signer;
  /** Default: the client's (15 s). */
  timeoutMs?: number;
}

/** What the attempt asks the caller to do besides recording it. */
export interface AttemptEffects {
  /** True on `410 Gone`: disable the endpoint at once. */
  disableEndpoint: boolean;
  disableReason: string | null;
  /** The response's `Retry-After`, in ms from when it arrived (for `nextAttemptDelay`). */
  retryAfterMs: number | null;
}

/** One attempt, ready to store (API.md attempt fields). Safe to show; never log the headers. */
export interface AttemptRecord {
  attemptedAt: Date;
  outcome: DeliveryOutcome;
  httpStatus: number | null;
  latencyMs: number;
  /** As sent, lowercase names; custom headers that look like credentials are `[redacted]`. */
  requestHeaders: Record<string, string>;
  /** The first 64 KiB of the body sent. */
  requestBody: string;
  requestBodyTruncated: boolean;
  responseHeaders: Record<string, string>;
  responseBody: string;
  responseBodyTruncated: boolean;
  error: string | null;
  effects: AttemptEffects;
}

/**
 * The body every attempt of a message sends: `{"type":…,"timestamp":…,"data":<payload>}`, compact,
 * with the payload's JSON text inserted unchanged. Deterministic: the same message always gives the
 * same bytes, so a replay may rebuild it, provided `payloadJson` is stored as text (not jsonb, which
 * reorders keys) and `createdAt` to the millisecond. Storing the result is the simplest guarantee.
 */
export function buildDeliveryBody(message: DeliveryBodySource): string {
  return `{"type":${JSON.stringify(message.eventType)},"timestamp":${JSON.stringify(
    message.createdAt.toISOString(),
  )},"data":${message.payloadJson}}`;
}

/** The first `maxBytes` bytes of a string as UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/**
 * The request headers, in precedence order: the endpoint's valid custom headers first, then the
 * gateway's own (content-type, user-agent, webhook-*), which nothing can override.
 */
export function buildRequestHeaders(
  custom: Readonly<Record<string, string>> | null | undefined,
  own: Readonly<Record<string, string>>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(custom ?? {})) {
    // Invalid or reserved entries are refused when the endpoint is saved; here they are skipped so
    // that one bad header can never break or hijack a delivery.
    if (isReservedHeaderName(name) || customHeaderProblems({ [name]: value }).length > 0) continue;
    headers[name.toLowerCase()] = value;
  }
  for (const [name, value] of Object.entries(own)) headers[name.toLowerCase()] = value;
  return headers;
}

/** Sends one attempt of a delivery and returns the record to store and the effects to apply. */
export async function performAttempt(input: AttemptInput): Promise<AttemptRecord> {
  const { delivery, endpoint, now } = input;
  const bodyText = delivery.body ?? buildDeliveryBody(delivery);
  // Signed and sent from the same bytes.
  const body = Buffer.from(bodyText, 'utf8');
  const signer = input.signer ?? { sign: signWebhook };
  const signature = signer.sign({
    keys: endpoint.keys,
    messageId: delivery.messageId,
    timestamp: now,
    body,
  });
  const ownHeaders = {
    'content-type': 'application/json',
    'user-agent': `Hookline/${input.userAgentVersion}`,
    ...signature,
  };
  const headers = buildRequestHeaders(endpoint.headers, ownHeaders);

  const result = await input.client.send({
    url: endpoint.url,
    headers,
    body,
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
  });

  const storedHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    storedHeaders[name] = name in ownHeaders || !isSensitiveHeaderName(name) ? value : '[redacted]';
  }
  const storedBody = truncateUtf8(bodyText, MAX_STORED_REQUEST_BODY_BYTES);
  const gone = result.httpStatus === 410;
  const retryAfterMs = parseRetryAfter(
    result.responseHeaders['retry-after'],
    now.getTime() + result.latencyMs,
  );

  return {
    attemptedAt: now,
    outcome: result.outcome,
    httpStatus: result.httpStatus ?? null,
    latencyMs: result.latencyMs,
    requestHeaders: storedHeaders,
    requestBody: storedBody.text,
    requestBodyTruncated: storedBody.truncated,
    responseHeaders: result.responseHeaders,
    responseBody: result.responseBody,
    responseBodyTruncated: result.responseTruncated,
    error: result.error ?? null,
    effects: {
      disableEndpoint: gone,
      disableReason: gone ? 'The endpoint answered 410 Gone.' : null,
      retryAfterMs: retryAfterMs ?? null,
    },
  };
}

import type { ErrorDetail } from './api-types.gen';

/**
 * The error codes the gateway answers with (API.md). Other codes may appear as the API grows,
 * and `unexpected_response` is the SDK's own for an answer that is not a Hookline error body.
 */
export type HooklineApiErrorCode =
  | 'invalid_request'
  | 'url_not_allowed'
  | 'unauthorized'
  | 'not_found'
  | 'idempotency_conflict'
  | 'conflict'
  | 'endpoint_disabled'
  | 'payload_too_large'
  | 'rate_limited'
  | 'not_ready'
  | 'internal_error'
  | 'unexpected_response'
  | (string & {});

/** The base of every error the SDK throws about a request; `code` says what went wrong. */
export class HooklineError extends Error {
  override readonly name: string = 'HooklineError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // Keeps `instanceof` working when compiled to ES5-style classes by consumers' bundlers.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** The gateway answered with an error status (4xx or 5xx). */
export class HooklineApiError extends HooklineError {
  override readonly name = 'HooklineApiError';
  declare readonly code: HooklineApiErrorCode;
  /** The HTTP status. */
  readonly status: number;
  /** For a 400: each bad field, with its wire path (`retry_schedule[2]`). Empty otherwise. */
  readonly details: readonly ErrorDetail[];
  /** The gateway's `x-request-id` for this request: quote it when asking for help. */
  readonly requestId: string | null;
  /** Seconds the gateway asked to wait (`Retry-After`, on 429), or null. */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    code: HooklineApiErrorCode;
    message: string;
    details?: readonly ErrorDetail[];
    requestId?: string | null;
    retryAfter?: number | null;
  }) {
    super(init.code, init.message);
    this.status = init.status;
    this.details = Object.freeze([...(init.details ?? [])]);
    this.requestId = init.requestId ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }
}

/** The request did not get an answer: the gateway could not be reached or the connection broke. */
export class HooklineConnectionError extends HooklineError {
  override readonly name: string = 'HooklineConnectionError';
  declare readonly code: 'connection_error' | 'timeout';

  constructor(
    message: string,
    options?: { cause?: unknown; code?: 'connection_error' | 'timeout' },
  ) {
    super(options?.code ?? 'connection_error', message, options);
  }
}

/** No answer arrived within `timeoutMs` (per attempt). */
export class HooklineTimeoutError extends HooklineConnectionError {
  override readonly name = 'HooklineTimeoutError';
  declare readonly code: 'timeout';
  /** The per-attempt time limit that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super(message, { code: 'timeout' });
    this.timeoutMs = timeoutMs;
  }
}

import type {
  Message,
  MessageAccepted,
  MessageCreateParams,
  MessageListParams,
} from '../api-types.gen';
import { mapBounded } from '../concurrency';
import { checkIdempotencyKey, newIdempotencyKey } from '../idempotency';
import { type Page, Paginator } from '../pagination';
import type { RequestOptions, Transport } from '../transport';
import {
  optionalParams,
  positiveInteger,
  requireId,
  requireJsonObject,
  requireParams,
  requireString,
} from '../validate';

/** Options of `messages.create`. */
export interface MessageCreateOptions extends RequestOptions {
  /**
   * The `Idempotency-Key`: the same key with the same body within 24 h answers the first
   * response again and sends nothing new. Default: a fresh random key per call, reused by the
   * SDK's own retries of that call.
   */
  idempotencyKey?: string;
}

/** What `messages.broadcast` takes: one event for many tenants. */
export interface BroadcastParams {
  tenantIds: readonly string[];
  eventType: string;
  /** The event data, the same for every tenant: a JSON object. */
  payload: object;
}

/** Options of `messages.broadcast`. */
export interface BroadcastOptions extends RequestOptions {
  /** Messages in flight at once. Default 8. */
  concurrency?: number;
  /**
   * A key for the whole broadcast: each tenant's message gets `<key>:<tenantId>`, so running
   * the same broadcast again sends nothing twice. Default: a fresh key per tenant.
   */
  idempotencyKey?: string;
}

/** The outcome of a broadcast for one tenant. */
export type BroadcastResult =
  | { tenantId: string; ok: true; message: MessageAccepted }
  | { tenantId: string; ok: false; error: Error };

const DEFAULT_BROADCAST_CONCURRENCY = 8;

/** Events sent to tenants: `POST/GET /v1/messages…`. */
export class Messages {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Sends an event to every endpoint of the tenant subscribed to its type (or to `endpointId`
   * only). Resolves once the message and its deliveries are committed, never waiting for a
   * delivery. Always carries an idempotency key, so retries never send twice.
   */
  async create(
    params: MessageCreateParams,
    options: MessageCreateOptions = {},
  ): Promise<MessageAccepted> {
    requireParams(params, 'messages.create(params)');
    requireJsonObject(params.payload, 'payload', 'messages.create(params)');
    const idempotencyKey =
      options.idempotencyKey === undefined
        ? newIdempotencyKey()
        : checkIdempotencyKey(options.idempotencyKey);
    return this.#transport.call(
      { operation: 'createMessage', body: params, idempotencyKey },
      options,
    );
  }

  /** Lists messages, newest first: `for await` over it, or `.page()` for one page. */
  list(params?: MessageListParams, options?: RequestOptions): Paginator<Message> {
    const filters = optionalParams(params, 'messages.list(params)') ?? {};
    return new Paginator(
      (cursor) =>
        this.#transport.call<Page<Message>>(
          { operation: 'listMessages', query: { ...filters, cursor } },
          options,
        ),
      filters.cursor,
    );
  }

  /** Gets a message with its payload. */
  async get(id: string, options?: RequestOptions): Promise<Message> {
    const path = { id: requireId(id, 'message', 'messages.get(id)') };
    return this.#transport.call({ operation: 'getMessage', path }, options);
  }

  /**
   * Sends the same event to many tenants, one message each, `concurrency` at a time. One
   * tenant's failure does not stop the others: the answer lists each tenant's outcome, in the
   * order of `tenantIds`. Aborting `signal` stops it and rejects.
   */
  async broadcast(
    params: BroadcastParams,
    options: BroadcastOptions = {},
  ): Promise<BroadcastResult[]> {
    const method = 'messages.broadcast(params)';
    requireParams(params, method);
    if (!Array.isArray(params.tenantIds)) {
      throw new TypeError(`Hookline: ${method} needs tenantIds: an array of tenant ids.`);
    }
    const seen = new Set<string>();
    for (const tenantId of params.tenantIds) {
      requireString(tenantId, 'every tenant id to be a non-empty string', method);
      if (seen.has(tenantId)) {
        throw new TypeError(`Hookline: ${method} lists the tenant ${tenantId} twice.`);
      }
      seen.add(tenantId);
    }
    requireString(params.eventType, 'an eventType', method);
    requireJsonObject(params.payload, 'payload', method);
    const concurrency = positiveInteger(
      options.concurrency,
      DEFAULT_BROADCAST_CONCURRENCY,
      'concurrency',
    );
    const { concurrency: _, idempotencyKey: baseKey, ...requestOptions } = options;
    // Checked for every tenant before anything is sent: a key too long for one tenant id would
    // otherwise fail that tenant only, after the others were sent.
    const keys = new Map<string, string>();
    if (baseKey !== undefined) {
      checkIdempotencyKey(baseKey);
      for (const tenantId of params.tenantIds) {
        keys.set(
          tenantId,
          checkIdempotencyKey(`${baseKey}:${tenantId}`, 'idempotencyKey:tenantId'),
        );
      }
    }

    return mapBounded(
      params.tenantIds,
      concurrency,
      async (tenantId): Promise<BroadcastResult> => {
        try {
          const idempotencyKey = keys.get(tenantId);
          const message = await this.create(
            { tenantId, eventType: params.eventType, payload: params.payload },
            { ...requestOptions, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) },
          );
          return { tenantId, ok: true, message };
        } catch (error) {
          if (options.signal?.aborted) throw error;
          return { tenantId, ok: false, error: asError(error) };
        }
      },
      options.signal,
    );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}

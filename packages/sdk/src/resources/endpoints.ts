import type {
  Attempt,
  Endpoint,
  EndpointCreateParams,
  EndpointListParams,
  EndpointRecoverParams,
  EndpointRotateSecretParams,
  EndpointStats,
  EndpointStatsParams,
  EndpointTestParams,
  EndpointUpdateParams,
  EndpointWithSecret,
  RecoverResult,
  RotatedSecret,
} from '../api-types.gen';
import { type Page, Paginator } from '../pagination';
import type { RequestOptions, Transport } from '../transport';
import { optionalParams, requireId, requireJsonObject, requireParams } from '../validate';

/** A tenant's endpoints: `POST/GET/PATCH/DELETE /v1/endpoints…`. */
export class Endpoints {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Creates an endpoint. The answer holds its signing `secret`, shown only this once: hand it to
   * the tenant (or import theirs with `secret`).
   */
  async create(
    params: EndpointCreateParams,
    options?: RequestOptions,
  ): Promise<EndpointWithSecret> {
    requireParams(params, 'endpoints.create(params)');
    return this.#transport.call({ operation: 'createEndpoint', body: params }, options);
  }

  /** Lists endpoints, newest first: `for await` over it, or `.page()` for one page. */
  list(params?: EndpointListParams, options?: RequestOptions): Paginator<Endpoint> {
    const filters = optionalParams(params, 'endpoints.list(params)') ?? {};
    return new Paginator(
      (cursor) =>
        this.#transport.call<Page<Endpoint>>(
          { operation: 'listEndpoints', query: { ...filters, cursor } },
          options,
        ),
      filters.cursor,
    );
  }

  /** Gets an endpoint (without its secret; `secretHint` shows its first characters). */
  async get(id: string, options?: RequestOptions): Promise<Endpoint> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.get(id)') };
    return this.#transport.call({ operation: 'getEndpoint', path }, options);
  }

  /** Changes some fields; resuming a paused endpoint delivers what was held. */
  async update(
    id: string,
    params: EndpointUpdateParams,
    options?: RequestOptions,
  ): Promise<Endpoint> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.update(id)') };
    requireParams(params, 'endpoints.update(id, params)');
    return this.#transport.call({ operation: 'updateEndpoint', path, body: params }, options);
  }

  /** Deletes an endpoint with its deliveries and attempts, cancelling what is queued. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.delete(id)') };
    await this.#transport.call<undefined>({ operation: 'deleteEndpoint', path }, options);
  }

  /**
   * Replaces the signing secret. Until `previousSecretExpiresAt` (after `gracePeriodSeconds`,
   * default 86400) every delivery is signed with both secrets.
   */
  async rotateSecret(
    id: string,
    params?: EndpointRotateSecretParams,
    options?: RequestOptions,
  ): Promise<RotatedSecret> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.rotateSecret(id)') };
    const body = optionalParams(params, 'endpoints.rotateSecret(id, params)') ?? {};
    return this.#transport.call({ operation: 'rotateEndpointSecret', path, body }, options);
  }

  /**
   * Sends one test event now and answers the attempt, whatever the endpoint answered. Never
   * retried, never counted in the endpoint's health.
   */
  async sendTest(
    id: string,
    params?: EndpointTestParams,
    options?: RequestOptions,
  ): Promise<Attempt> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.sendTest(id)') };
    const body = optionalParams(params, 'endpoints.sendTest(id, params)') ?? {};
    if (body.payload !== undefined) {
      requireJsonObject(body.payload, 'payload', 'endpoints.sendTest(id, params)');
    }
    return this.#transport.call({ operation: 'testEndpoint', path, body }, options);
  }

  /** Delivery counts, success rate, latency and health over a window (default `24h`). */
  async stats(
    id: string,
    params?: EndpointStatsParams,
    options?: RequestOptions,
  ): Promise<EndpointStats> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.stats(id)') };
    const query = optionalParams(params, 'endpoints.stats(id, params)') ?? {};
    return this.#transport.call({ operation: 'getEndpointStats', path, query }, options);
  }

  /** Replays every failed or dead delivery of the endpoint created since `since`. */
  async recover(
    id: string,
    params: EndpointRecoverParams,
    options?: RequestOptions,
  ): Promise<RecoverResult> {
    const path = { id: requireId(id, 'endpoint', 'endpoints.recover(id)') };
    requireParams(params, 'endpoints.recover(id, params)');
    const since = params.since;
    if (since instanceof Date ? Number.isNaN(since.getTime()) : typeof since !== 'string') {
      throw new TypeError(
        'Hookline: endpoints.recover(id, params) needs since: a valid Date or an RFC 3339 string.',
      );
    }
    return this.#transport.call({ operation: 'recoverEndpoint', path, body: params }, options);
  }
}

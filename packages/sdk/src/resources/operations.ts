import type { HealthStatus, ReadinessStatus } from '../api-types.gen';
import type { RequestOptions, Transport } from '../transport';

/** The gateway's unauthenticated operations routes (no credentials are sent to them). */
export class Operations {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** `GET /healthz`: the gateway process is up. */
  async health(options?: RequestOptions): Promise<HealthStatus> {
    return this.#transport.call({ operation: 'getHealth' }, options);
  }

  /** `GET /readyz`: the database is reachable and migrated (a 503 throws `HooklineApiError`). */
  async readiness(options?: RequestOptions): Promise<ReadinessStatus> {
    return this.#transport.call({ operation: 'getReadiness' }, options);
  }

  /** `GET /metrics`: Prometheus text. */
  async metrics(options?: RequestOptions): Promise<string> {
    return this.#transport.call({ operation: 'getMetrics', response: 'text' }, options);
  }

  /** `GET /openapi.json`: the OpenAPI 3.1 document of the API, as served (not case-converted). */
  async openApi(options?: RequestOptions): Promise<Record<string, unknown>> {
    return this.#transport.call({ operation: 'getOpenApiDocument', response: 'document' }, options);
  }
}

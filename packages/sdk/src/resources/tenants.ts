import type { AlertChannels, AlertChannelsParams } from '../api-types.gen';
import type { RequestOptions, Transport } from '../transport';
import { requireParams, requireString } from '../validate';

/** Per-tenant settings: `/v1/tenants/{tenant_id}/…`. */
export class Tenants {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Where a tenant's `delivery.dead` and `endpoint.disabled` alerts go. */
  async getAlertChannels(tenantId: string, options?: RequestOptions): Promise<AlertChannels> {
    const path = {
      tenant_id: requireString(tenantId, 'a tenant id', 'tenants.getAlertChannels(tenantId)'),
    };
    return this.#transport.call({ operation: 'getAlertChannels', path }, options);
  }

  /** Replaces a tenant's alert channels: a channel left out (or null) is cleared. */
  async setAlertChannels(
    tenantId: string,
    params: AlertChannelsParams,
    options?: RequestOptions,
  ): Promise<AlertChannels> {
    const path = {
      tenant_id: requireString(tenantId, 'a tenant id', 'tenants.setAlertChannels(tenantId)'),
    };
    requireParams(params, 'tenants.setAlertChannels(tenantId, params)');
    return this.#transport.call({ operation: 'putAlertChannels', path, body: params }, options);
  }
}

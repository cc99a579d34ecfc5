import type { PortalLink, PortalLinkCreateParams } from '../api-types.gen';
import type { RequestOptions, Transport } from '../transport';
import { requireParams } from '../validate';

/** The hosted portal: `POST /v1/portal/links`. */
export class Portal {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Mints a portal token scoped to one tenant (optionally one endpoint) and the `url` that
   * opens the hosted portal with it. Expires after `expiresInSeconds` (default 3600).
   */
  async createLink(params: PortalLinkCreateParams, options?: RequestOptions): Promise<PortalLink> {
    requireParams(params, 'portal.createLink(params)');
    return this.#transport.call({ operation: 'createPortalLink', body: params }, options);
  }
}

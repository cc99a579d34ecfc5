import type { Delivery, DeliveryListParams, DeliveryWithAttempts } from '../api-types.gen';
import { type Page, Paginator } from '../pagination';
import type { RequestOptions, Transport } from '../transport';
import { optionalParams, requireId } from '../validate';

/** The delivery log: `GET /v1/deliveries…` and replays. */
export class Deliveries {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Lists deliveries, newest first, filtered by endpoint, tenant, message, status or event
   * type: `for await` over it, or `.page()` for one page.
   */
  list(params?: DeliveryListParams, options?: RequestOptions): Paginator<Delivery> {
    const filters = optionalParams(params, 'deliveries.list(params)') ?? {};
    return new Paginator(
      (cursor) =>
        this.#transport.call<Page<Delivery>>(
          { operation: 'listDeliveries', query: { ...filters, cursor } },
          options,
        ),
      filters.cursor,
    );
  }

  /** Gets a delivery with every attempt (request and response headers and bodies). */
  async get(id: string, options?: RequestOptions): Promise<DeliveryWithAttempts> {
    const path = { id: requireId(id, 'delivery', 'deliveries.get(id)') };
    return this.#transport.call({ operation: 'getDelivery', path }, options);
  }

  /**
   * Queues one more attempt now, with the same `webhook-id` and the same bytes as the original;
   * answers the delivery as it now stands.
   */
  async replay(id: string, options?: RequestOptions): Promise<Delivery> {
    const path = { id: requireId(id, 'delivery', 'deliveries.replay(id)') };
    return this.#transport.call({ operation: 'replayDelivery', path }, options);
  }
}

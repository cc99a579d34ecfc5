import type {
  EventType,
  EventTypeCreateParams,
  EventTypeListParams,
  EventTypeUpdateParams,
} from '../api-types.gen';
import { type Page, Paginator } from '../pagination';
import type { RequestOptions, Transport } from '../transport';
import { optionalParams, requireParams, requireString } from '../validate';

/** The event type catalog: `/v1/event-types…`. */
export class EventTypes {
  readonly #transport: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Adds an event type (name, description, JSON Schema, example) to the catalog. */
  async create(params: EventTypeCreateParams, options?: RequestOptions): Promise<EventType> {
    requireParams(params, 'eventTypes.create(params)');
    return this.#transport.call({ operation: 'createEventType', body: params }, options);
  }

  /** Lists the catalog, newest first: `for await` over it, or `.page()` for one page. */
  list(params?: EventTypeListParams, options?: RequestOptions): Paginator<EventType> {
    const filters = optionalParams(params, 'eventTypes.list(params)') ?? {};
    return new Paginator(
      (cursor) =>
        this.#transport.call<Page<EventType>>(
          { operation: 'listEventTypes', query: { ...filters, cursor } },
          options,
        ),
      filters.cursor,
    );
  }

  /** Gets an event type by name. */
  async get(name: string, options?: RequestOptions): Promise<EventType> {
    const path = { name: requireString(name, 'an event type name', 'eventTypes.get(name)') };
    return this.#transport.call({ operation: 'getEventType', path }, options);
  }

  /** Changes an event type; `null` clears `schema` or `example`. */
  async update(
    name: string,
    params: EventTypeUpdateParams,
    options?: RequestOptions,
  ): Promise<EventType> {
    const path = { name: requireString(name, 'an event type name', 'eventTypes.update(name)') };
    requireParams(params, 'eventTypes.update(name, params)');
    return this.#transport.call({ operation: 'updateEventType', path, body: params }, options);
  }

  /** Removes an event type from the catalog (messages of that type can still be sent). */
  async delete(name: string, options?: RequestOptions): Promise<void> {
    const path = { name: requireString(name, 'an event type name', 'eventTypes.delete(name)') };
    await this.#transport.call<undefined>({ operation: 'deleteEventType', path }, options);
  }
}

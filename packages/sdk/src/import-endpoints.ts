// Moving from "one webhook URL per customer" to Hookline endpoints: one "Default" endpoint per
// tenant, made once. A run that is repeated (after a crash, a partial failure, or on purpose)
// finds what the earlier run made and creates nothing new.
import type { Endpoint, EndpointWithSecret } from './api-types.gen';
import { mapBounded } from './concurrency';
import type { Endpoints } from './resources/endpoints';
import type { RequestOptions } from './transport';
import { positiveInteger, requireParams, requireString } from './validate';

/** One customer's existing webhook: where it went, and the secret it was signed with, if any. */
export interface ImportEndpointEntry {
  tenantId: string;
  url: string;
  /**
   * The `whsec_` secret the customer already verifies with, so nothing changes for them.
   * Absent: the gateway generates one (returned in the result, shown only this once).
   */
  secret?: string;
}

/** Options of `importEndpoints`. */
export interface ImportEndpointsOptions extends RequestOptions {
  /** Description of each endpoint made. Default `Default`. */
  description?: string;
  /** Event types each endpoint receives. Default: all. */
  eventTypes?: readonly string[];
  /** Extra metadata for each endpoint made (besides the import marker). */
  metadata?: Record<string, string>;
  /** Tenants handled at once. Default 4. */
  concurrency?: number;
}

/** What happened for one tenant. */
export type ImportEndpointResult =
  | { tenantId: string; status: 'created'; endpoint: EndpointWithSecret }
  | { tenantId: string; status: 'existing'; endpoint: Endpoint }
  | { tenantId: string; status: 'failed'; error: Error };

/**
 * The metadata key and value that mark an endpoint made by `importEndpoints`; a tenant that has
 * such an endpoint (or any endpoint with the same URL) is not imported again.
 */
export const IMPORT_MARKER = Object.freeze({ key: 'hookline_import', value: 'default' });

const DEFAULT_IMPORT_CONCURRENCY = 4;

/** See `Hookline.importEndpoints`. */
export async function importEndpoints(
  endpoints: Endpoints,
  entries: readonly ImportEndpointEntry[],
  options: ImportEndpointsOptions = {},
): Promise<ImportEndpointResult[]> {
  const method = 'importEndpoints(entries)';
  if (!Array.isArray(entries)) {
    throw new TypeError(`Hookline: ${method} needs an array of { tenantId, url, secret? }.`);
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    requireParams(entry, method);
    requireString(entry.tenantId, 'every entry to have a tenantId', method);
    requireString(entry.url, 'every entry to have a url', method);
    if (entry.secret !== undefined)
      requireString(entry.secret, 'secret, when given, to be a string', method);
    if (seen.has(entry.tenantId)) {
      throw new TypeError(
        `Hookline: ${method} lists the tenant ${entry.tenantId} twice; give one URL per tenant.`,
      );
    }
    seen.add(entry.tenantId);
  }
  const concurrency = positiveInteger(
    options.concurrency,
    DEFAULT_IMPORT_CONCURRENCY,
    'concurrency',
  );
  const { description, eventTypes, metadata, concurrency: _, ...requestOptions } = options;

  return mapBounded(
    entries,
    concurrency,
    async (entry): Promise<ImportEndpointResult> => {
      const { tenantId } = entry;
      try {
        for await (const endpoint of endpoints.list({ tenantId }, requestOptions)) {
          if (
            endpoint.metadata[IMPORT_MARKER.key] === IMPORT_MARKER.value ||
            endpoint.url === entry.url
          ) {
            return { tenantId, status: 'existing', endpoint };
          }
        }
        const endpoint = await endpoints.create(
          {
            tenantId,
            url: entry.url,
            description: description ?? 'Default',
            ...(eventTypes === undefined ? {} : { eventTypes }),
            metadata: { ...metadata, [IMPORT_MARKER.key]: IMPORT_MARKER.value },
            ...(entry.secret === undefined ? {} : { secret: entry.secret }),
          },
          requestOptions,
        );
        return { tenantId, status: 'created', endpoint };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        return {
          tenantId,
          status: 'failed',
          error: error instanceof Error ? error : new Error(String(error), { cause: error }),
        };
      }
    },
    options.signal,
  );
}

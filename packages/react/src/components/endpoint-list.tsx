import { type ReactNode, useState } from 'react';
import { endpointStatusInfo, eventFilterSummary } from '../format';
import { useEndpointStats, useEndpoints } from '../hooks/queries';
import type { Endpoint } from '../wire.gen';
import { Badge, Button, EmptyState, ErrorNotice, HealthDot, Loading, useRootProps } from './ui';

/** Props of `EndpointList`. */
export interface EndpointListProps {
  /** Called when a row's URL is chosen; without it URLs are plain text. */
  onSelect?(endpoint: Endpoint): void;
  /** Shows an "Add endpoint" button that calls this. */
  onCreate?(): void;
  /** Endpoints per page (default 50). */
  pageSize?: number;
  /** Heading text (default "Endpoints"). */
  title?: string;
}

/** The tenant's endpoints: status, URL, event filter, deliveries in the last 24 h and health. */
export function EndpointList({
  onSelect,
  onCreate,
  pageSize = 50,
  title = 'Endpoints',
}: EndpointListProps): ReactNode {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const list = useEndpoints({ limit: pageSize, ...(cursor ? { cursor } : {}) });
  const root = useRootProps('hl-endpoint-list');

  return (
    <section {...root} aria-labelledby="hl-endpoints-heading">
      <div className="hl-heading-row">
        <h2 id="hl-endpoints-heading" tabIndex={-1}>
          {title}
        </h2>
        {onCreate ? (
          <Button variant="primary" onClick={onCreate}>
            Add endpoint
          </Button>
        ) : null}
      </div>
      {list.error ? (
        <ErrorNotice
          error={list.error}
          title="Could not load the endpoints."
          onRetry={() => void list.refetch()}
        />
      ) : list.isLoading ? (
        <Loading label="Loading endpoints…" />
      ) : list.data && list.data.data.length === 0 && cursors.length === 0 ? (
        <EmptyState title="No endpoints yet.">
          <p>Add an endpoint to start receiving webhooks at your URL.</p>
        </EmptyState>
      ) : list.data ? (
        <>
          <div className="hl-table-wrap">
            <table className="hl-table hl-stack" aria-describedby="hl-endpoints-heading">
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Last 24 h</th>
                  <th scope="col">Health</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((endpoint) => (
                  <EndpointRow key={endpoint.id} endpoint={endpoint} onSelect={onSelect} />
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            hasPrevious={cursors.length > 0}
            nextCursor={list.data.next_cursor}
            onPrevious={() => setCursors((stack) => stack.slice(0, -1))}
            onNext={(next) => setCursors((stack) => [...stack, next])}
            label="Endpoint pages"
          />
        </>
      ) : null}
    </section>
  );
}

function EndpointRow({
  endpoint,
  onSelect,
}: {
  endpoint: Endpoint;
  onSelect: ((endpoint: Endpoint) => void) | undefined;
}): ReactNode {
  const stats = useEndpointStats(endpoint.id, '24h');
  const status = endpointStatusInfo(endpoint.status);
  const total = stats.data
    ? stats.data.succeeded + stats.data.failed + stats.data.pending + stats.data.dead
    : undefined;
  return (
    <tr>
      <td data-label="Status">
        <Badge tone={status.tone}>{status.label}</Badge>
      </td>
      <td data-label="URL" className="hl-url-cell">
        {onSelect ? (
          <button
            type="button"
            className="hl-link hl-truncate"
            title={endpoint.url}
            onClick={() => onSelect(endpoint)}
          >
            {endpoint.url}
          </button>
        ) : (
          <span className="hl-truncate" title={endpoint.url}>
            {endpoint.url}
          </span>
        )}
        {endpoint.description ? (
          <span className="hl-muted hl-truncate hl-block">{endpoint.description}</span>
        ) : null}
      </td>
      <td data-label="Events" title={endpoint.event_types.join(', ') || 'All events'}>
        {eventFilterSummary(endpoint.event_types)}
      </td>
      <td data-label="Last 24 h">
        {total === undefined ? (stats.error ? 'unavailable' : '…') : `${total} deliveries`}
      </td>
      <td data-label="Health">
        <HealthDot health={stats.data?.health} />
      </td>
    </tr>
  );
}

/** Older/newer page buttons over cursor pagination. */
export function Pager({
  hasPrevious,
  nextCursor,
  onPrevious,
  onNext,
  label,
}: {
  hasPrevious: boolean;
  nextCursor: string | null;
  onPrevious(): void;
  onNext(cursor: string): void;
  label: string;
}): ReactNode {
  if (!hasPrevious && !nextCursor) return null;
  return (
    <nav className="hl-pager" aria-label={label}>
      <Button onClick={onPrevious} disabled={!hasPrevious}>
        Newer
      </Button>
      <Button onClick={() => nextCursor && onNext(nextCursor)} disabled={!nextCursor}>
        Older
      </Button>
    </nav>
  );
}

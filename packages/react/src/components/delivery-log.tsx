import { type FormEvent, type ReactNode, useId, useMemo, useState } from 'react';
import { useHookline } from '../context';
import { deliveryStatusInfo, formatLatency, outcomeLabel } from '../format';
import { useRecoverEndpoint, useReplayDelivery } from '../hooks/mutations';
import { useDeliveries, useEventTypes } from '../hooks/queries';
import type { Delivery, DeliveryStatus } from '../wire.gen';
import { DeliveryDetail } from './delivery-detail';
import { Pager } from './endpoint-list';
import { Badge, Button, EmptyState, ErrorNotice, Loading, Time, useRootProps } from './ui';

const STATUSES: DeliveryStatus[] = ['succeeded', 'failed', 'dead', 'pending', 'held', 'cancelled'];

/** Props of `DeliveryLog`. */
export interface DeliveryLogProps {
  /** Only this endpoint's deliveries (and offer "Recover failed since…"); absent: the whole tenant's. */
  endpointId?: string;
  /** Called by "View details"; without it the details open in place of the log. */
  onViewDelivery?(deliveryId: string): void;
  /** Rows per page (default 25). */
  pageSize?: number;
  /** Milliseconds between automatic refreshes (default 5000; 0 turns auto-refresh off). */
  refreshInterval?: number;
  /** Heading text (default "Deliveries"). */
  title?: string;
}

function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * The delivery log: event type, attempt, HTTP status, outcome, latency and time of every
 * delivery, filters by status and event type, pages, auto-refresh, per-row replay and details,
 * and (for one endpoint) a bulk replay of failures since a time.
 */
export function DeliveryLog({
  endpointId,
  onViewDelivery,
  pageSize = 25,
  refreshInterval = 5000,
  title = 'Deliveries',
}: DeliveryLogProps): ReactNode {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [eventType, setEventType] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [autoRefresh, setAutoRefresh] = useState(refreshInterval > 0);
  const [selected, setSelected] = useState<string | undefined>();
  const cursor = cursors.at(-1);
  const query = {
    limit: pageSize,
    ...(endpointId ? { endpoint_id: endpointId } : {}),
    ...(status ? { status } : {}),
    ...(eventType ? { event_type: eventType } : {}),
    ...(cursor ? { cursor } : {}),
  };
  const log = useDeliveries(query, { refreshInterval: autoRefresh ? refreshInterval : 0 });
  const catalog = useEventTypes();
  const replay = useReplayDelivery();
  const [replaying, setReplaying] = useState<string | undefined>();
  const [replayed, setReplayed] = useState<Delivery | undefined>();
  const { announce } = useHookline();
  const root = useRootProps('hl-delivery-log');
  const id = useId();

  const eventTypeOptions = useMemo(() => {
    const names = new Set((catalog.data ?? []).map((type) => type.name));
    for (const delivery of log.data?.data ?? []) names.add(delivery.event_type);
    if (eventType) names.add(eventType);
    return [...names].sort();
  }, [catalog.data, log.data, eventType]);

  if (selected && !onViewDelivery) {
    return (
      <div {...root}>
        <DeliveryDetail deliveryId={selected} onBack={() => setSelected(undefined)} />
      </div>
    );
  }

  async function onReplay(delivery: Delivery): Promise<void> {
    setReplaying(delivery.id);
    setReplayed(undefined);
    try {
      const result = await replay.mutateAsync(delivery.id);
      setReplayed(result);
      announce(`Replay of ${delivery.event_type} queued.`);
    } catch {
      announce('The replay was not queued.');
    } finally {
      setReplaying(undefined);
    }
  }

  const filtersActive = status !== '' || eventType !== '';
  const rows = log.data?.data ?? [];

  return (
    <section {...root} aria-labelledby={`${id}-title`}>
      <div className="hl-heading-row">
        <h2 id={`${id}-title`} tabIndex={-1}>
          {title}
        </h2>
        <div className="hl-actions">
          <label className="hl-check">
            <input
              type="checkbox"
              checked={autoRefresh}
              disabled={refreshInterval <= 0}
              onChange={(event) => setAutoRefresh(event.target.checked)}
            />
            Auto-refresh
          </label>
          <Button onClick={() => void log.refetch()} disabled={log.isFetching}>
            {log.isFetching ? 'Refreshing…' : 'Refresh'}
          </Button>
        </div>
      </div>

      <fieldset className="hl-filters">
        <legend className="hl-sr-only">Filters</legend>
        <div className="hl-inline-field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select
            id={`${id}-status`}
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as DeliveryStatus | '');
              setCursors([]);
            }}
          >
            <option value="">All statuses</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {deliveryStatusInfo(value).label}
              </option>
            ))}
          </select>
        </div>
        <div className="hl-inline-field">
          <label htmlFor={`${id}-event`}>Event type</label>
          <select
            id={`${id}-event`}
            value={eventType}
            onChange={(event) => {
              setEventType(event.target.value);
              setCursors([]);
            }}
          >
            <option value="">All event types</option>
            {eventTypeOptions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
      </fieldset>

      {endpointId ? <RecoverFailed endpointId={endpointId} /> : null}

      <div role="status" className="hl-status-line">
        {replayed ? (
          <p className="hl-notice hl-notice-success">
            Replay queued: a new attempt of <code>{replayed.event_type}</code> goes out now with the
            same webhook-id.
          </p>
        ) : null}
      </div>
      {replay.error ? (
        <ErrorNotice error={replay.error} title="The replay was not queued." />
      ) : null}

      {log.error && !log.data ? (
        <ErrorNotice
          error={log.error}
          title="Could not load the deliveries."
          onRetry={() => void log.refetch()}
        />
      ) : log.isLoading ? (
        <Loading label="Loading deliveries…" />
      ) : rows.length === 0 && cursors.length === 0 ? (
        <EmptyState
          title={filtersActive ? 'No deliveries match these filters.' : 'No deliveries yet.'}
        >
          <p>
            {filtersActive
              ? 'Try another status or event type.'
              : 'Webhooks sent to this endpoint will show here, with every attempt.'}
          </p>
        </EmptyState>
      ) : (
        <>
          {log.error ? (
            <ErrorNotice error={log.error} title="Could not refresh the deliveries." />
          ) : null}
          <div className="hl-table-wrap">
            <table className="hl-table hl-stack">
              <caption className="hl-sr-only">
                {title}
                {filtersActive ? ' (filtered)' : ''}, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">HTTP</th>
                  <th scope="col">Status</th>
                  <th scope="col">Latency</th>
                  <th scope="col">Time</th>
                  <th scope="col">
                    <span className="hl-sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((delivery) => {
                  const info = deliveryStatusInfo(delivery.status);
                  const last = delivery.last_attempt;
                  return (
                    <tr key={delivery.id}>
                      <td data-label="Event">
                        <code>{delivery.event_type}</code>
                        {delivery.test ? (
                          <>
                            {' '}
                            <Badge tone="info">Test</Badge>
                          </>
                        ) : null}
                      </td>
                      <td data-label="Attempt">{delivery.attempt_count}</td>
                      <td data-label="HTTP">{last?.http_status ?? '—'}</td>
                      <td data-label="Status">
                        <Badge tone={info.tone}>{info.label}</Badge>
                        {last && last.outcome !== 'success' ? (
                          <span className="hl-muted hl-block">{outcomeLabel(last.outcome)}</span>
                        ) : null}
                      </td>
                      <td data-label="Latency">{formatLatency(last?.latency_ms)}</td>
                      <td data-label="Time">
                        <Time iso={last?.attempted_at ?? delivery.created_at} />
                      </td>
                      <td data-label="Actions" className="hl-row-actions">
                        <Button
                          variant="link"
                          onClick={() =>
                            onViewDelivery ? onViewDelivery(delivery.id) : setSelected(delivery.id)
                          }
                          aria-label={`View details of ${delivery.event_type} delivery ${delivery.id}`}
                        >
                          View details
                        </Button>
                        <Button
                          variant="primary"
                          onClick={() => void onReplay(delivery)}
                          disabled={replaying !== undefined}
                          aria-label={`Replay ${delivery.event_type} delivery ${delivery.id}`}
                        >
                          {replaying === delivery.id ? 'Replaying…' : 'Replay'}
                        </Button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager
            hasPrevious={cursors.length > 0}
            nextCursor={log.data?.next_cursor ?? null}
            onPrevious={() => setCursors((stack) => stack.slice(0, -1))}
            onNext={(next) => setCursors((stack) => [...stack, next])}
            label="Delivery pages"
          />
        </>
      )}
    </section>
  );
}

function RecoverFailed({ endpointId }: { endpointId: string }): ReactNode {
  const [open, setOpen] = useState(false);
  const [since, setSince] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const recover = useRecoverEndpoint();
  const { announce } = useHookline();
  const id = useId();

  async function onSubmit(event: FormEvent): Promise<void> {
    event.preventDefault();
    const date = new Date(since);
    if (since === '' || Number.isNaN(date.getTime())) {
      setProblem('Enter a date and time.');
      return;
    }
    if (date.getTime() > Date.now()) {
      setProblem('Choose a time in the past.');
      return;
    }
    setProblem(undefined);
    try {
      const result = await recover.mutateAsync({ id: endpointId, since: date });
      announce(`Queued ${result.count} failed deliveries for replay.`);
    } catch {
      announce('The failed deliveries were not queued.');
    }
  }

  return (
    <div className="hl-recover">
      <Button
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        onClick={() => {
          if (!open && since === '') setSince(localInputValue(new Date(Date.now() - 86_400_000)));
          setOpen(!open);
        }}
      >
        Recover failed since…
      </Button>
      {open ? (
        <form id={`${id}-panel`} className="hl-inline-form" onSubmit={onSubmit} noValidate>
          <label htmlFor={`${id}-since`}>Replay every failed delivery since</label>
          <input
            id={`${id}-since`}
            type="datetime-local"
            value={since}
            onChange={(event) => setSince(event.target.value)}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-problem` : undefined}
          />
          <Button type="submit" variant="primary" disabled={recover.isPending}>
            {recover.isPending ? 'Queuing…' : 'Replay failed deliveries'}
          </Button>
          {problem ? (
            <p className="hl-field-error" id={`${id}-problem`}>
              {problem}
            </p>
          ) : null}
        </form>
      ) : null}
      <div role="status">
        {recover.data && open ? (
          <p className="hl-notice hl-notice-success">
            {recover.data.count === 0
              ? 'No failed deliveries since then: nothing to replay.'
              : `Queued ${recover.data.count} failed ${recover.data.count === 1 ? 'delivery' : 'deliveries'} for replay.`}
          </p>
        ) : null}
      </div>
      {recover.error ? (
        <ErrorNotice error={recover.error} title="The failed deliveries were not queued." />
      ) : null}
    </div>
  );
}

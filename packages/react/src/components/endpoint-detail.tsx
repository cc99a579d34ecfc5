import { type ReactNode, useId, useState } from 'react';
import { useHookline } from '../context';
import { endpointStatusInfo, formatDelay, formatLatency, formatRate, healthLabel } from '../format';
import { useDeleteEndpoint, usePauseEndpoint, useResumeEndpoint } from '../hooks/mutations';
import { useEndpoint, useEndpointStats } from '../hooks/queries';
import type { Endpoint, EndpointDisabledReason } from '../wire.gen';
import { DeliveryLog } from './delivery-log';
import { EndpointForm } from './endpoint-form';
import { type RevealedSecret, SecretPanel } from './secret-panel';
import { SendTestEvent } from './send-test-event';
import { Badge, Button, ErrorNotice, Facts, HealthDot, Loading, useRootProps } from './ui';

/** Props of `EndpointDetail`. */
export interface EndpointDetailProps {
  endpointId: string;
  /** Shows a back button that calls this. */
  onBack?(): void;
  /** Called after the endpoint was deleted. */
  onDeleted?(): void;
  /** Passed to the delivery log's "View details"; without it details open in place. */
  onViewDelivery?(deliveryId: string): void;
  /** A secret to reveal once (the one returned at creation). */
  initialSecret?: RevealedSecret;
  /** Delivery log auto-refresh interval in ms (default 5000; 0: off). */
  refreshInterval?: number;
}

const DISABLED_REASON: Record<EndpointDisabledReason, string> = {
  manual: 'It was disabled by hand.',
  gone: 'It answered 410 Gone, which asks senders to stop.',
  failing: 'Every attempt failed for too long.',
};

/**
 * One endpoint: its settings and 24-hour stats, pause/resume, edit, delete, a test event, the
 * signing secret and its delivery log.
 */
export function EndpointDetail({
  endpointId,
  onBack,
  onDeleted,
  onViewDelivery,
  initialSecret,
  refreshInterval,
}: EndpointDetailProps): ReactNode {
  const endpoint = useEndpoint(endpointId);
  const root = useRootProps('hl-endpoint-detail');
  const [editing, setEditing] = useState(false);
  const [deleted, setDeleted] = useState(false);
  const id = useId();

  if (deleted) {
    return (
      <section {...root}>
        <p className="hl-notice hl-notice-success" role="status">
          The endpoint was deleted.
        </p>
        {onBack ? <Button onClick={onBack}>Back to endpoints</Button> : null}
      </section>
    );
  }

  const data = endpoint.data;
  return (
    <section {...root} aria-labelledby={`${id}-title`}>
      {onBack ? (
        <Button variant="link" onClick={onBack}>
          ← All endpoints
        </Button>
      ) : null}
      {endpoint.error && !data ? (
        <>
          <h2 id={`${id}-title`} tabIndex={-1}>
            Endpoint
          </h2>
          <ErrorNotice
            error={endpoint.error}
            title={
              endpoint.error.status === 404
                ? 'This endpoint does not exist.'
                : 'Could not load the endpoint.'
            }
            onRetry={endpoint.error.status === 404 ? undefined : () => void endpoint.refetch()}
          />
        </>
      ) : !data ? (
        <Loading label="Loading the endpoint…" />
      ) : editing ? (
        <EndpointForm
          endpoint={data}
          onSaved={() => setEditing(false)}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <>
          <div className="hl-heading-row">
            <h2 id={`${id}-title`} tabIndex={-1} className="hl-truncate" title={data.url}>
              {data.url}
            </h2>
            <Badge tone={endpointStatusInfo(data.status).tone}>
              {endpointStatusInfo(data.status).label}
            </Badge>
          </div>
          {data.description ? <p>{data.description}</p> : null}
          {data.status === 'disabled' ? (
            <p className="hl-notice hl-notice-error">
              This endpoint is disabled and receives nothing.{' '}
              {data.disabled_reason ? DISABLED_REASON[data.disabled_reason] : null} Enable it once
              it works again.
            </p>
          ) : data.status === 'paused' ? (
            <p className="hl-notice hl-notice-warning">
              This endpoint is paused: new webhooks are held and go out when you resume it.
            </p>
          ) : null}
          <EndpointActions
            endpoint={data}
            onEdit={() => setEditing(true)}
            onDeleted={() => {
              if (onDeleted) onDeleted();
              else setDeleted(true);
            }}
          />
          <Facts
            items={[
              [
                'Events',
                data.event_types.length === 0 ? (
                  'All events'
                ) : (
                  <span key="e" className="hl-code-list">
                    {data.event_types.map((name) => (
                      <code key={name}>{name}</code>
                    ))}
                  </span>
                ),
              ],
              [
                'Rate limit',
                data.rate_limit_per_minute === null
                  ? 'No limit'
                  : `${data.rate_limit_per_minute} per minute`,
              ],
              [
                'Retries',
                data.retry_schedule === null
                  ? 'Gateway default'
                  : data.retry_schedule.length === 0
                    ? 'No retries'
                    : data.retry_schedule.map(formatDelay).join(', '),
              ],
              [
                'Custom headers',
                Object.keys(data.headers).length === 0
                  ? 'None'
                  : Object.keys(data.headers).join(', '),
              ],
              ['Signing', data.signing === 'hmac' ? 'HMAC-SHA256 (v1)' : 'Ed25519 (v1a)'],
              ['Endpoint id', <code key="i">{data.id}</code>],
            ]}
          />
          <EndpointStatsPanel endpointId={data.id} />
          <SendTestEvent endpointId={data.id} eventTypes={data.event_types} />
          <SecretPanel endpointId={data.id} initialSecret={initialSecret} />
          <DeliveryLog
            endpointId={data.id}
            onViewDelivery={onViewDelivery}
            title="Recent deliveries"
            {...(refreshInterval === undefined ? {} : { refreshInterval })}
          />
        </>
      )}
    </section>
  );
}

function EndpointActions({
  endpoint,
  onEdit,
  onDeleted,
}: {
  endpoint: Endpoint;
  onEdit(): void;
  onDeleted(): void;
}): ReactNode {
  const pause = usePauseEndpoint();
  const resume = useResumeEndpoint();
  const remove = useDeleteEndpoint();
  const { announce } = useHookline();
  const [confirming, setConfirming] = useState(false);
  const busy = pause.isPending || resume.isPending || remove.isPending;
  const error = pause.error ?? resume.error ?? remove.error;

  async function onPause(): Promise<void> {
    try {
      await pause.mutateAsync(endpoint.id);
      announce('Endpoint paused: new webhooks are held until you resume it.');
    } catch {
      announce('The endpoint was not paused.');
    }
  }
  async function onResume(): Promise<void> {
    try {
      await resume.mutateAsync(endpoint.id);
      announce(
        endpoint.status === 'paused'
          ? 'Endpoint resumed: held webhooks are going out now.'
          : 'Endpoint enabled.',
      );
    } catch {
      announce('The endpoint was not resumed.');
    }
  }
  async function onDelete(): Promise<void> {
    try {
      await remove.mutateAsync(endpoint.id);
      announce('Endpoint deleted.');
      onDeleted();
    } catch {
      announce('The endpoint was not deleted.');
    }
  }

  return (
    <div className="hl-endpoint-actions">
      <div className="hl-actions">
        <Button onClick={onEdit} disabled={busy}>
          Edit
        </Button>
        {endpoint.status === 'active' ? (
          <Button onClick={onPause} disabled={busy}>
            {pause.isPending ? 'Pausing…' : 'Pause'}
          </Button>
        ) : (
          <Button onClick={onResume} disabled={busy} variant="primary">
            {resume.isPending ? 'Resuming…' : endpoint.status === 'paused' ? 'Resume' : 'Enable'}
          </Button>
        )}
        {!confirming ? (
          <Button variant="danger" onClick={() => setConfirming(true)} disabled={busy}>
            Delete…
          </Button>
        ) : null}
      </div>
      {confirming ? (
        <fieldset className="hl-confirm">
          <legend>Delete this endpoint?</legend>
          <p>
            Its whole delivery log goes with it, and webhooks still queued for it are cancelled.
            This cannot be undone.
          </p>
          <div className="hl-actions">
            <Button variant="danger" onClick={onDelete} disabled={busy}>
              {remove.isPending ? 'Deleting…' : 'Delete endpoint'}
            </Button>
            <Button onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </Button>
          </div>
        </fieldset>
      ) : null}
      {error ? <ErrorNotice error={error} title="That did not work." /> : null}
    </div>
  );
}

function EndpointStatsPanel({ endpointId }: { endpointId: string }): ReactNode {
  const stats = useEndpointStats(endpointId, '24h', { refreshInterval: 15_000 });
  const id = useId();
  return (
    <section aria-labelledby={`${id}-title`} className="hl-stats">
      <h3 id={`${id}-title`}>Last 24 hours</h3>
      {stats.error && !stats.data ? (
        <ErrorNotice
          error={stats.error}
          title="Could not load the stats."
          onRetry={() => void stats.refetch()}
        />
      ) : !stats.data ? (
        <Loading label="Loading the stats…" />
      ) : (
        <Facts
          items={[
            [
              'Health',
              <span key="h">
                <HealthDot health={stats.data.health} />{' '}
                <span aria-hidden="true">{healthLabel(stats.data.health)}</span>
              </span>,
            ],
            ['Success rate', formatRate(stats.data.success_rate)],
            ['Succeeded', stats.data.succeeded],
            ['Failing (will retry)', stats.data.failed],
            ['Failed for good', stats.data.dead],
            ['Pending', stats.data.pending],
            [
              'Latency p50 / p95',
              `${formatLatency(stats.data.latency_ms_p50)} / ${formatLatency(stats.data.latency_ms_p95)}`,
            ],
          ]}
        />
      )}
    </section>
  );
}

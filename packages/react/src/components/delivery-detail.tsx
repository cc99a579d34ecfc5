import { type ReactNode, useId, useState } from 'react';
import { useHookline } from '../context';
import { deliveryStatusInfo, formatLatency, outcomeLabel } from '../format';
import { useReplayDelivery } from '../hooks/mutations';
import { useDelivery } from '../hooks/queries';
import type { Attempt } from '../wire.gen';
import { Badge, Button, CodeBlock, ErrorNotice, Facts, Loading, Time, useRootProps } from './ui';

/** Props of `DeliveryDetail`. */
export interface DeliveryDetailProps {
  deliveryId: string;
  /** Shows a back button that calls this. */
  onBack?(): void;
}

// While a delivery is still going, look again this often.
const ACTIVE_REFRESH_MS = 2000;

/**
 * One delivery with every attempt: request headers and body, response headers and body, error,
 * latency; and a prominent Replay (same webhook-id, same bytes).
 */
export function DeliveryDetail({ deliveryId, onBack }: DeliveryDetailProps): ReactNode {
  const [watching, setWatching] = useState(false);
  const delivery = useDelivery(deliveryId, {
    refreshInterval: watching ? ACTIVE_REFRESH_MS : 0,
  });
  const active = delivery.data?.status === 'pending' || delivery.data?.status === 'failed';
  if (watching !== active && delivery.data) setWatching(active);
  const replay = useReplayDelivery();
  const { announce } = useHookline();
  const root = useRootProps('hl-delivery-detail');
  const id = useId();

  async function onReplay(): Promise<void> {
    try {
      await replay.mutateAsync(deliveryId);
      setWatching(true);
      announce('Replay queued: a new attempt goes out now.');
    } catch {
      announce('The replay was not queued.');
    }
  }

  const data = delivery.data;
  const attempts = data ? [...data.attempts].reverse() : [];
  return (
    <section {...root} aria-labelledby={`${id}-title`}>
      {onBack ? (
        <Button variant="link" onClick={onBack}>
          ← Back
        </Button>
      ) : null}
      <div className="hl-heading-row">
        <h2 id={`${id}-title`} tabIndex={-1}>
          Delivery {data ? <code>{data.event_type}</code> : null}
        </h2>
        {data ? (
          <Button
            variant="primary"
            className="hl-button-large"
            onClick={onReplay}
            disabled={replay.isPending}
          >
            {replay.isPending ? 'Replaying…' : 'Replay'}
          </Button>
        ) : null}
      </div>
      <div role="status">
        {replay.data && !replay.isPending ? (
          <p className="hl-notice hl-notice-success">
            Replay queued: a new attempt goes out now with the same webhook-id and body.
          </p>
        ) : null}
      </div>
      {replay.error ? (
        <ErrorNotice error={replay.error} title="The replay was not queued." />
      ) : null}
      {delivery.error && !data ? (
        <ErrorNotice
          error={delivery.error}
          title={
            delivery.error.status === 404
              ? 'This delivery does not exist.'
              : 'Could not load the delivery.'
          }
          onRetry={delivery.error.status === 404 ? undefined : () => void delivery.refetch()}
        />
      ) : !data ? (
        <Loading label="Loading the delivery…" />
      ) : (
        <>
          <Facts
            items={[
              [
                'Status',
                <Badge key="s" tone={deliveryStatusInfo(data.status).tone}>
                  {deliveryStatusInfo(data.status).label}
                </Badge>,
              ],
              ['Webhook id', <code key="w">{data.message_id}</code>],
              ['Delivery id', <code key="d">{data.id}</code>],
              ['Attempts', data.attempt_count],
              ['Created', <Time key="c" iso={data.created_at} />],
              [
                'Next attempt',
                data.next_attempt_at ? (
                  <Time key="n" iso={data.next_attempt_at} />
                ) : (
                  'None scheduled'
                ),
              ],
              ...(data.test ? ([['Kind', 'Test event']] as [ReactNode, ReactNode][]) : []),
            ]}
          />
          <h3>Attempts</h3>
          {attempts.length === 0 ? (
            <p className="hl-muted">No attempt yet.</p>
          ) : (
            <ol className="hl-attempts" reversed>
              {attempts.map((attempt, index) => (
                <AttemptView key={attempt.id} attempt={attempt} open={index === 0} />
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

function HeaderTable({ headers, caption }: { headers: Record<string, string>; caption: string }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return <p className="hl-muted">No headers.</p>;
  return (
    <div className="hl-table-wrap">
      <table className="hl-table hl-headers">
        <caption className="hl-sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Header</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">
                <code>{name}</code>
              </th>
              <td>
                <code className="hl-wrap">{value}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Body({ text, truncated, limit }: { text: string; truncated: boolean; limit: string }) {
  return (
    <>
      <CodeBlock text={text} />
      {truncated ? <p className="hl-muted">Cut at {limit}.</p> : null}
    </>
  );
}

function AttemptView({ attempt, open }: { attempt: Attempt; open: boolean }): ReactNode {
  const status = attempt.http_status === null ? 'No response' : `HTTP ${attempt.http_status}`;
  return (
    <li className="hl-attempt">
      <details open={open}>
        <summary>
          <span className="hl-attempt-summary">
            Attempt {attempt.attempt_number}
            {attempt.trigger !== 'scheduled' ? ` (${attempt.trigger})` : ''} · {status} ·{' '}
            {outcomeLabel(attempt.outcome)} · {formatLatency(attempt.latency_ms)} ·{' '}
            <Time iso={attempt.attempted_at} />
          </span>
        </summary>
        {attempt.error ? (
          <p className="hl-notice hl-notice-error">
            <strong>Error:</strong> {attempt.error}
          </p>
        ) : null}
        <div className="hl-exchange">
          <div>
            <h4>Request headers</h4>
            <HeaderTable headers={attempt.request_headers} caption="Request headers" />
            <h4>Request body</h4>
            <Body
              text={attempt.request_body}
              truncated={attempt.request_body_truncated}
              limit="64 KiB"
            />
          </div>
          <div>
            <h4>Response headers</h4>
            {attempt.response_headers === null ? (
              <p className="hl-muted">No response was received.</p>
            ) : (
              <HeaderTable headers={attempt.response_headers} caption="Response headers" />
            )}
            <h4>Response body</h4>
            {attempt.response_body === null ? (
              <p className="hl-muted">No response was received.</p>
            ) : (
              <Body
                text={attempt.response_body}
                truncated={attempt.response_body_truncated}
                limit="4 KiB"
              />
            )}
          </div>
        </div>
      </details>
    </li>
  );
}

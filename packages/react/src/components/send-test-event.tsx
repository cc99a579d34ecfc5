import { type ReactNode, useId, useState } from 'react';
import { useHookline } from '../context';
import { formatLatency, outcomeLabel } from '../format';
import { useSendTestEvent } from '../hooks/mutations';
import { useEventTypes } from '../hooks/queries';
import type { Attempt } from '../wire.gen';
import { Badge, Button, CodeBlock, ErrorNotice, useRootProps } from './ui';

/** Props of `SendTestEvent`. */
export interface SendTestEventProps {
  endpointId: string;
  /** Event types the endpoint accepts (empty: all), to offer only those. */
  eventTypes?: readonly string[];
}

/** One line about an attempt's result: status, outcome and latency. */
export function attemptHeadline(attempt: Attempt): string {
  const status = attempt.http_status === null ? 'No response' : `HTTP ${attempt.http_status}`;
  return `${status} · ${outcomeLabel(attempt.outcome)} · ${formatLatency(attempt.latency_ms)}`;
}

/**
 * Sends a test event to the endpoint now and shows what it answered, success or not: status,
 * latency and response body. Tests are never retried and do not count toward health.
 */
export function SendTestEvent({ endpointId, eventTypes }: SendTestEventProps): ReactNode {
  const catalog = useEventTypes();
  const send = useSendTestEvent();
  const { announce } = useHookline();
  const [eventType, setEventType] = useState('');
  const root = useRootProps('hl-test-event');
  const id = useId();

  const allowed = (catalog.data ?? []).filter(
    (type) => !eventTypes || eventTypes.length === 0 || eventTypes.includes(type.name),
  );

  async function onSend(): Promise<void> {
    const chosen = allowed.find((type) => type.name === eventType);
    try {
      const attempt = await send.mutateAsync({
        id: endpointId,
        ...(chosen ? { eventType: chosen.name } : {}),
        ...(chosen?.example ? { payload: chosen.example } : {}),
      });
      announce(`Test event sent: ${attemptHeadline(attempt)}.`);
    } catch {
      announce('The test event could not be sent.');
    }
  }

  const attempt = send.data;
  return (
    <section {...root} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Send a test event</h3>
      <div className="hl-inline-form">
        <label htmlFor={`${id}-type`}>Event type</label>
        <select id={`${id}-type`} value={eventType} onChange={(e) => setEventType(e.target.value)}>
          <option value="">Default test event (hookline.test)</option>
          {allowed.map((type) => (
            <option key={type.name} value={type.name}>
              {type.name}
            </option>
          ))}
        </select>
        <Button variant="primary" onClick={onSend} disabled={send.isPending}>
          {send.isPending ? 'Sending…' : 'Send test event'}
        </Button>
      </div>
      <div role="status" className="hl-test-result" aria-live="polite">
        {send.isPending ? <p>Sending a test event and waiting for the answer…</p> : null}
        {attempt && !send.isPending ? (
          <div className="hl-result-card">
            <p>
              <Badge tone={attempt.outcome === 'success' ? 'success' : 'danger'}>
                {attempt.outcome === 'success' ? 'Delivered' : 'Failed'}
              </Badge>{' '}
              <strong>{attemptHeadline(attempt)}</strong>
            </p>
            {attempt.error ? <p className="hl-muted">{attempt.error}</p> : null}
            {attempt.response_body !== null ? (
              <>
                <p className="hl-label">Response body</p>
                <CodeBlock text={attempt.response_body} />
                {attempt.response_body_truncated ? <p className="hl-muted">Cut at 4 KiB.</p> : null}
              </>
            ) : null}
          </div>
        ) : null}
      </div>
      {send.error ? <ErrorNotice error={send.error} title="The test event was not sent." /> : null}
    </section>
  );
}

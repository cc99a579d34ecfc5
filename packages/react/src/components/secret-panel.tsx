import { type ReactNode, useId, useState } from 'react';
import { useHookline } from '../context';
import { formatDateTime } from '../format';
import { useRotateSecret } from '../hooks/mutations';
import { useEndpoint } from '../hooks/queries';
import { Button, CopyButton, ErrorNotice, Loading, Time, useRootProps } from './ui';

/** A secret to show once: right after creation or rotation. */
export interface RevealedSecret {
  secret: string;
  reason: 'created' | 'rotated';
  /** The ed25519 public key receivers verify with (not secret). */
  publicKey?: string | null;
  /** Until when the previous secret still signs (rotation). */
  previousSecretExpiresAt?: string;
}

/** Shows a secret once, with a copy button; "Done" hides it for good. */
export function SecretReveal({
  revealed,
  onDone,
}: {
  revealed: RevealedSecret;
  onDone?(): void;
}): ReactNode {
  const id = useId();
  return (
    <section className="hl-reveal" aria-labelledby={`${id}-title`}>
      <p id={`${id}-title`} className="hl-reveal-title">
        {revealed.reason === 'created' ? 'Your signing secret' : 'Your new signing secret'}
      </p>
      <p className="hl-muted">
        Copy it now and store it with your receiver: it will not be shown again.
      </p>
      <div className="hl-secret-row">
        <code className="hl-secret" data-testid="hl-secret-value">
          {revealed.secret}
        </code>
        <CopyButton text={revealed.secret} label="Copy secret" />
      </div>
      {revealed.publicKey ? (
        <div className="hl-secret-row">
          <span className="hl-muted">Public key (verify with this): </span>
          <code className="hl-secret">{revealed.publicKey}</code>
          <CopyButton text={revealed.publicKey} label="Copy public key" />
        </div>
      ) : null}
      {revealed.previousSecretExpiresAt ? (
        <p>
          Both signatures are sent until{' '}
          <strong>
            <Time iso={revealed.previousSecretExpiresAt} />
          </strong>
          : switch your receiver to the new secret before then.
        </p>
      ) : null}
      {onDone ? (
        <Button variant="primary" onClick={onDone}>
          I have saved it
        </Button>
      ) : null}
    </section>
  );
}

const GRACE_PERIODS: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'None: the old secret stops at once' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours (recommended)' },
  { seconds: 172_800, label: '48 hours' },
];

/** Props of `SecretPanel`. */
export interface SecretPanelProps {
  endpointId: string;
  /** A secret to reveal once (e.g. the one returned when the endpoint was created). */
  initialSecret?: RevealedSecret;
}

/**
 * The endpoint's signing secret: only its hint, except once right after creation or rotation.
 * Rotation walks through the grace period during which both signatures are sent.
 */
export function SecretPanel({ endpointId, initialSecret }: SecretPanelProps): ReactNode {
  const endpoint = useEndpoint(endpointId);
  const rotate = useRotateSecret();
  const { announce } = useHookline();
  const [revealed, setRevealed] = useState<RevealedSecret | undefined>(initialSecret);
  const [step, setStep] = useState<'idle' | 'confirm'>('idle');
  const [grace, setGrace] = useState(86_400);
  const root = useRootProps('hl-secret-panel');
  const graceId = useId();
  const headingId = useId();

  async function onRotate(): Promise<void> {
    try {
      const result = await rotate.mutateAsync({ id: endpointId, gracePeriodSeconds: grace });
      setRevealed({
        secret: result.secret,
        reason: 'rotated',
        publicKey: result.public_key,
        previousSecretExpiresAt: grace > 0 ? result.previous_secret_expires_at : undefined,
      });
      setStep('idle');
      announce(
        grace > 0
          ? `Secret rotated. Both signatures are sent until ${formatDateTime(result.previous_secret_expires_at)}.`
          : 'Secret rotated. The old secret no longer signs.',
      );
    } catch {
      // The error shows below.
    }
  }

  return (
    <section {...root} aria-labelledby={headingId}>
      <h3 id={headingId}>Signing secret</h3>
      {endpoint.error ? (
        <ErrorNotice error={endpoint.error} onRetry={() => void endpoint.refetch()} />
      ) : endpoint.isLoading || !endpoint.data ? (
        <Loading label="Loading the secret…" />
      ) : (
        <>
          {revealed ? (
            <SecretReveal revealed={revealed} onDone={() => setRevealed(undefined)} />
          ) : (
            <p>
              <span className="hl-muted">Secret: </span>
              <code className="hl-secret-hint">
                {endpoint.data.secret_hint}
                <span aria-hidden="true">••••••••</span>
              </code>
              <span className="hl-sr-only"> (only the beginning is shown)</span>
            </p>
          )}
          {endpoint.data.signing === 'ed25519' && endpoint.data.public_key && !revealed ? (
            <p>
              Public key: <code className="hl-secret">{endpoint.data.public_key}</code>
            </p>
          ) : null}
          {endpoint.data.rotation && !revealed?.previousSecretExpiresAt ? (
            <p className="hl-notice hl-notice-info">
              A rotation is in progress: both signatures are sent until{' '}
              <Time iso={endpoint.data.rotation.previous_secret_expires_at} />.
            </p>
          ) : null}
          {step === 'idle' ? (
            <Button
              onClick={() => {
                rotate.reset();
                setStep('confirm');
              }}
            >
              Rotate secret…
            </Button>
          ) : (
            <fieldset className="hl-confirm">
              <legend>Rotate the secret</legend>
              <p>
                A new secret is made now. During the grace period every webhook carries two
                signatures, one with each secret, so your receiver keeps working while you switch it
                over.
              </p>
              <label htmlFor={graceId}>Grace period</label>
              <select
                id={graceId}
                value={grace}
                onChange={(event) => setGrace(Number(event.target.value))}
              >
                {GRACE_PERIODS.map((period) => (
                  <option key={period.seconds} value={period.seconds}>
                    {period.label}
                  </option>
                ))}
              </select>
              <div className="hl-actions">
                <Button variant="primary" onClick={onRotate} disabled={rotate.isPending}>
                  {rotate.isPending ? 'Rotating…' : 'Rotate now'}
                </Button>
                <Button onClick={() => setStep('idle')} disabled={rotate.isPending}>
                  Cancel
                </Button>
              </div>
            </fieldset>
          )}
          {rotate.error ? (
            <ErrorNotice error={rotate.error} title="The secret was not rotated." />
          ) : null}
        </>
      )}
    </section>
  );
}

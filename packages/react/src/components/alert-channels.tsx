import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import type { HooklineApiError } from '../client';
import { useHookline } from '../context';
import { detailsByField, endpointUrlProblem, sentence } from '../format';
import { useUpdateAlertChannels } from '../hooks/mutations';
import { useAlertChannels } from '../hooks/queries';
import { Button, ErrorNotice, Loading, useRootProps } from './ui';

function splitEmails(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

// `emails[2]` → "Address 3 (x@y.z) must be …".
function emailErrors(error: HooklineApiError, emails: string[]): string[] {
  return (detailsByField(error.details).get('emails') ?? []).map((detail) => {
    const index = /^emails\[(\d+)\]/.exec(detail.path)?.[1];
    if (index === undefined) return sentence(detail.message);
    const address = emails[Number(index)];
    const label = `Address ${Number(index) + 1}${address ? ` (${address})` : ''}`;
    return sentence(`${label} ${detail.message}`);
  });
}

/** Where the tenant's alerts go (a delivery failed for good, an endpoint was disabled). */
export function AlertChannels(): ReactNode {
  const channels = useAlertChannels();
  const save = useUpdateAlertChannels();
  const { announce, allowHttp } = useHookline();
  const root = useRootProps('hl-alert-channels');
  const id = useId();
  const [emails, setEmails] = useState('');
  const [slack, setSlack] = useState('');
  const [loadedFor, setLoadedFor] = useState<string | undefined>();
  const [errors, setErrors] = useState<{ emails?: string[]; slack?: string[] }>({});
  const [saved, setSaved] = useState(false);
  const emailsRef = useRef<HTMLTextAreaElement>(null);
  const slackRef = useRef<HTMLInputElement>(null);
  const [focusTick, setFocusTick] = useState(0);

  // Fill the form once the channels arrive (and again for another tenant), not on every refresh.
  const data = channels.data;
  if (data && loadedFor !== data.tenant_id) {
    setLoadedFor(data.tenant_id);
    setEmails(data.emails.join('\n'));
    setSlack(data.slack_webhook_url ?? '');
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per failed submit.
  useEffect(() => {
    if (focusTick === 0) return;
    if (errors.emails) emailsRef.current?.focus();
    else if (errors.slack) slackRef.current?.focus();
  }, [focusTick]);

  async function onSubmit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setSaved(false);
    const list = splitEmails(emails);
    const local: { emails?: string[]; slack?: string[] } = {};
    const bad = list.filter((address) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address));
    if (bad.length > 0) local.emails = [`Not an email address: ${bad.join(', ')}.`];
    const slackProblem = slack.trim() === '' ? null : endpointUrlProblem(slack, allowHttp);
    if (slackProblem) local.slack = [slackProblem];
    setErrors(local);
    if (local.emails || local.slack) {
      setFocusTick((n) => n + 1);
      return;
    }
    try {
      await save.mutateAsync({
        emails: list,
        slack_webhook_url: slack.trim() === '' ? null : slack.trim(),
      });
      setSaved(true);
      announce('Alert channels saved.');
    } catch (thrown) {
      const error = thrown as HooklineApiError;
      const byField = detailsByField(error.details);
      const mapped = {
        ...(byField.has('emails') ? { emails: emailErrors(error, list) } : {}),
        ...(byField.has('slack_webhook_url')
          ? { slack: byField.get('slack_webhook_url')!.map((d) => sentence(d.message)) }
          : {}),
      };
      setErrors(mapped);
      if (mapped.emails || mapped.slack) setFocusTick((n) => n + 1);
    }
  }

  const mappedServerError = save.error && (errors.emails || errors.slack);
  return (
    <section {...root} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} tabIndex={-1}>
        Alerts
      </h2>
      <p className="hl-muted">
        We tell you here when a webhook fails for good after every retry, or when an endpoint is
        disabled.
      </p>
      {channels.error && !data ? (
        <ErrorNotice
          error={channels.error}
          title="Could not load the alert settings."
          onRetry={() => void channels.refetch()}
        />
      ) : channels.isLoading ? (
        <Loading label="Loading the alert settings…" />
      ) : channels.tenantId === undefined ? (
        <p className="hl-notice hl-notice-error" role="alert">
          This portal does not know which account it manages, so alert settings are unavailable. Ask
          for a new portal link.
        </p>
      ) : (
        <form className="hl-form" onSubmit={onSubmit} noValidate>
          {save.error && !mappedServerError ? (
            <ErrorNotice error={save.error} title="The alert settings were not saved." />
          ) : null}
          <div className="hl-field">
            <label htmlFor={`${id}-emails`}>Email addresses</label>
            <p className="hl-hint" id={`${id}-emails-hint`}>
              One per line; up to 20.
            </p>
            <textarea
              id={`${id}-emails`}
              ref={emailsRef}
              rows={3}
              value={emails}
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => setEmails(event.target.value)}
              aria-invalid={errors.emails ? true : undefined}
              aria-describedby={`${id}-emails-hint${errors.emails ? ` ${id}-emails-error` : ''}`}
            />
            {errors.emails ? (
              <p className="hl-field-error" id={`${id}-emails-error`}>
                {errors.emails.join(' ')}
              </p>
            ) : null}
          </div>
          <div className="hl-field">
            <label htmlFor={`${id}-slack`}>Slack webhook URL (optional)</label>
            <p className="hl-hint" id={`${id}-slack-hint`}>
              A Slack-compatible incoming webhook; leave empty for none.
            </p>
            <input
              id={`${id}-slack`}
              ref={slackRef}
              type="url"
              inputMode="url"
              value={slack}
              onChange={(event) => setSlack(event.target.value)}
              aria-invalid={errors.slack ? true : undefined}
              aria-describedby={`${id}-slack-hint${errors.slack ? ` ${id}-slack-error` : ''}`}
            />
            {errors.slack ? (
              <p className="hl-field-error" id={`${id}-slack-error`}>
                {errors.slack.join(' ')}
              </p>
            ) : null}
          </div>
          <div className="hl-actions">
            <Button type="submit" variant="primary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : 'Save alert settings'}
            </Button>
          </div>
          <div role="status">
            {saved && !save.isPending ? (
              <p className="hl-notice hl-notice-success">Alert settings saved.</p>
            ) : null}
          </div>
        </form>
      )}
    </section>
  );
}

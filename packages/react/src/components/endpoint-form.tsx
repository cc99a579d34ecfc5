import { type FormEvent, type ReactNode, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { HooklineApiError } from '../client';
import { useHookline } from '../context';
import { detailsByField, endpointUrlProblem, formatDelay, sentence } from '../format';
import { useCreateEndpoint, useUpdateEndpoint } from '../hooks/mutations';
import { useEventTypes, useTenantId } from '../hooks/queries';
import type { Endpoint, EndpointWithSecret, ErrorDetail } from '../wire.gen';
import { type RevealedSecret, SecretReveal } from './secret-panel';
import { Button, ErrorNotice, Loading, useRootProps } from './ui';

/** A named retry schedule the form offers (`null` = the gateway's default). */
export interface RetryPreset {
  id: string;
  label: string;
  schedule: number[] | null;
}

function describeSchedule(schedule: readonly number[]): string {
  return schedule.length === 0 ? 'no retries' : schedule.map(formatDelay).join(', ');
}

/** The retry schedules offered by `EndpointForm`. */
export const RETRY_PRESETS: readonly RetryPreset[] = [
  { id: 'default', label: 'Gateway default', schedule: null },
  { id: 'quick', label: 'Quick', schedule: [5, 30, 120, 600] },
  { id: 'standard', label: 'Standard', schedule: [30, 300, 1800, 7200] },
  { id: 'extended', label: 'Extended', schedule: [60, 600, 3600, 21_600, 86_400] },
  { id: 'none', label: 'No retries', schedule: [] },
];

function presetLabel(preset: RetryPreset): string {
  return preset.schedule === null
    ? `${preset.label} (30 s, 5 min, 30 min, 2 h unless your provider changed it)`
    : `${preset.label}: ${describeSchedule(preset.schedule)}`;
}

function presetFor(schedule: readonly number[] | null): string {
  const found = RETRY_PRESETS.find(
    (preset) =>
      (preset.schedule === null && schedule === null) ||
      (preset.schedule !== null &&
        schedule !== null &&
        preset.schedule.length === schedule.length &&
        preset.schedule.every((delay, index) => delay === schedule[index])),
  );
  return found?.id ?? 'custom';
}

interface HeaderRow {
  key: number;
  name: string;
  value: string;
}

type FieldName =
  | 'url'
  | 'description'
  | 'event_types'
  | 'rate_limit_per_minute'
  | 'retry_schedule'
  | 'headers';

type FieldErrors = Partial<Record<FieldName, string[]>> & { headerRows?: Record<number, string[]> };

const FIELD_ORDER: FieldName[] = [
  'url',
  'description',
  'event_types',
  'headers',
  'rate_limit_per_minute',
  'retry_schedule',
];

// `headers["X-Token"]` or `headers.Authorization` → the header name.
function headerNameOf(path: string): string | null {
  const quoted = /^headers\[("(?:[^"\\]|\\.)*")\]/.exec(path);
  if (quoted) {
    try {
      return JSON.parse(quoted[1]!) as string;
    } catch {
      return null;
    }
  }
  return /^headers\.([A-Za-z_][A-Za-z0-9_]*)/.exec(path)?.[1] ?? null;
}

function serverFieldErrors(error: HooklineApiError, rows: HeaderRow[]): FieldErrors {
  const out: FieldErrors = {};
  for (const [field, details] of detailsByField(error.details)) {
    if (!FIELD_ORDER.includes(field as FieldName)) continue;
    if (field === 'headers') {
      for (const detail of details) {
        const name = headerNameOf(detail.path);
        const row = name === null ? undefined : rows.find((r) => r.name.trim() === name);
        if (row) {
          const rowErrors = out.headerRows ?? {};
          rowErrors[row.key] = [...(rowErrors[row.key] ?? []), sentence(detail.message)];
          out.headerRows = rowErrors;
        } else {
          out.headers = [...(out.headers ?? []), sentence(describeDetail(detail))];
        }
      }
      continue;
    }
    out[field as FieldName] = details.map((detail) =>
      field === 'url'
        ? sentence(`The URL ${detail.message}`)
        : field === 'event_types'
          ? sentence(describeDetail(detail))
          : sentence(detail.message),
    );
  }
  return out;
}

function describeDetail(detail: ErrorDetail): string {
  return /[[.]/.test(detail.path) ? `${detail.path} ${detail.message}` : detail.message;
}

/** Props of `EndpointForm`. */
export interface EndpointFormProps {
  /** The endpoint to edit; absent to create one. */
  endpoint?: Endpoint;
  /**
   * Called after a save. On creation `secret` holds the new secret (to show once); without this
   * callback the form shows it itself.
   */
  onSaved?(endpoint: Endpoint, secret?: RevealedSecret): void;
  /** Shows a Cancel button that calls this. */
  onCancel?(): void;
}

/**
 * Creates or edits an endpoint: URL (checked as the gateway does), event types from the
 * catalog, description, custom headers, rate limit and retry schedule. Errors the gateway finds
 * show on the field they concern.
 */
export function EndpointForm({ endpoint, onSaved, onCancel }: EndpointFormProps): ReactNode {
  const { allowHttp, announce } = useHookline();
  const editing = endpoint !== undefined;
  const catalog = useEventTypes();
  const tenant = useTenantId();
  const create = useCreateEndpoint();
  const update = useUpdateEndpoint();
  const root = useRootProps('hl-endpoint-form');
  const id = useId();

  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [eventTypes, setEventTypes] = useState<string[]>(endpoint?.event_types ?? []);
  const [rateLimit, setRateLimit] = useState(
    endpoint?.rate_limit_per_minute == null ? '' : String(endpoint.rate_limit_per_minute),
  );
  const [preset, setPreset] = useState(presetFor(endpoint?.retry_schedule ?? null));
  const nextKey = useRef(0);
  const [headers, setHeaders] = useState<HeaderRow[]>(() =>
    Object.entries(endpoint?.headers ?? {}).map(([name, value]) => ({
      key: nextKey.current++,
      name,
      value,
    })),
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<HooklineApiError | undefined>();
  const [created, setCreated] = useState<EndpointWithSecret | undefined>();
  const fieldRefs = useRef<Partial<Record<FieldName, HTMLElement | null>>>({});
  const [focusFirstError, setFocusFirstError] = useState(0);
  const pending = create.isPending || update.isPending;

  // Event types the endpoint names but the catalog lacks stay visible, so a save keeps them.
  const names = useMemo(() => {
    const all = new Set((catalog.data ?? []).map((type) => type.name));
    for (const name of endpoint?.event_types ?? []) all.add(name);
    return [...all].sort();
  }, [catalog.data, endpoint?.event_types]);
  const descriptions = useMemo(
    () => new Map((catalog.data ?? []).map((type) => [type.name, type.description])),
    [catalog.data],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per failed submit.
  useEffect(() => {
    if (focusFirstError === 0) return;
    for (const field of FIELD_ORDER) {
      if (errors[field]?.length || (field === 'headers' && errors.headerRows)) {
        fieldRefs.current[field]?.focus();
        return;
      }
    }
  }, [focusFirstError]);

  function localErrors(): FieldErrors {
    const out: FieldErrors = {};
    const urlProblem = endpointUrlProblem(url, allowHttp);
    if (urlProblem) out.url = [urlProblem];
    if (rateLimit.trim() !== '') {
      const n = Number(rateLimit);
      if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
        out.rate_limit_per_minute = [
          'Enter a whole number from 1 to 1,000,000, or leave it empty.',
        ];
      }
    }
    const seen = new Set<string>();
    for (const row of headers) {
      const name = row.name.trim();
      if (name === '' && row.value === '') continue;
      const rowErrors: string[] = [];
      if (name === '') rowErrors.push('Enter a header name.');
      else if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        rowErrors.push('A header name may use letters, digits and - only.');
      } else if (seen.has(name.toLowerCase())) rowErrors.push('This header is listed twice.');
      seen.add(name.toLowerCase());
      if (rowErrors.length > 0) {
        out.headerRows ??= {};
        out.headerRows[row.key] = rowErrors;
      }
    }
    return out;
  }

  async function onSubmit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setFailure(undefined);
    const found = localErrors();
    if (Object.keys(found).length > 0) {
      setErrors(found);
      setFocusFirstError((n) => n + 1);
      return;
    }
    setErrors({});
    const chosen = RETRY_PRESETS.find((p) => p.id === preset);
    const fields = {
      url: url.trim(),
      description: description.trim(),
      event_types: eventTypes,
      rate_limit_per_minute: rateLimit.trim() === '' ? null : Number(rateLimit),
      headers: Object.fromEntries(
        headers.filter((row) => row.name.trim() !== '').map((row) => [row.name.trim(), row.value]),
      ),
      // "custom" keeps the endpoint's own schedule untouched.
      ...(chosen ? { retry_schedule: chosen.schedule } : {}),
    };
    try {
      if (editing) {
        const saved = await update.mutateAsync({ id: endpoint.id, patch: fields });
        announce('Endpoint saved.');
        onSaved?.(saved);
      } else {
        const saved = await create.mutateAsync(fields);
        announce('Endpoint created. Copy its signing secret now: it is shown only once.');
        const revealed: RevealedSecret = {
          secret: saved.secret,
          reason: 'created',
          publicKey: saved.public_key,
        };
        if (onSaved) onSaved(withoutSecret(saved), revealed);
        else setCreated(saved);
      }
    } catch (thrown) {
      const error = thrown as HooklineApiError;
      const mapped = serverFieldErrors(error, headers);
      setErrors(mapped);
      const mappedAny = Object.keys(mapped).length > 0;
      setFailure(error);
      if (mappedAny) setFocusFirstError((n) => n + 1);
    }
  }

  if (created) {
    return (
      <section {...root} aria-labelledby={`${id}-done`}>
        <h2 id={`${id}-done`} tabIndex={-1}>
          Endpoint created
        </h2>
        <p className="hl-truncate" title={created.url}>
          {created.url}
        </p>
        <SecretReveal
          revealed={{ secret: created.secret, reason: 'created', publicKey: created.public_key }}
          onDone={() => {
            setCreated(undefined);
            setUrl('');
            setDescription('');
            setEventTypes([]);
            setHeaders([]);
            setRateLimit('');
            setPreset('default');
          }}
        />
      </section>
    );
  }

  const fieldError = (field: FieldName) =>
    errors[field]?.length ? (
      <p className="hl-field-error" id={`${id}-${field}-error`}>
        {errors[field]!.join(' ')}
      </p>
    ) : null;
  const describedBy = (field: FieldName, hint?: boolean) =>
    [hint ? `${id}-${field}-hint` : '', errors[field]?.length ? `${id}-${field}-error` : '']
      .filter(Boolean)
      .join(' ') || undefined;

  const allSelected = names.length > 0 && names.every((name) => eventTypes.includes(name));
  const someSelected = eventTypes.length > 0 && !allSelected;
  // A refusal tied to fields shows on them; any other shows whole.
  const unmappedFailure = failure && Object.keys(errors).length === 0 ? failure : undefined;
  const tenantMissing = !editing && !tenant.isLoading && tenant.tenantId === undefined;

  return (
    <section {...root} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} tabIndex={-1}>
        {editing ? 'Edit endpoint' : 'Add endpoint'}
      </h2>
      <form onSubmit={onSubmit} noValidate className="hl-form">
        {failure && !unmappedFailure ? (
          <p className="hl-notice hl-notice-error" role="alert">
            Please correct the fields marked below.
          </p>
        ) : null}
        {unmappedFailure ? (
          <ErrorNotice
            error={unmappedFailure}
            title={editing ? 'The endpoint was not saved.' : 'The endpoint was not created.'}
          />
        ) : null}
        {tenantMissing ? (
          <p className="hl-notice hl-notice-error" role="alert">
            This portal does not know which account it manages, so it cannot add endpoints. Ask for
            a new portal link.
          </p>
        ) : null}

        <div className="hl-field">
          <label htmlFor={`${id}-url`}>Endpoint URL</label>
          <p className="hl-hint" id={`${id}-url-hint`}>
            {allowHttp ? 'An https:// (or http://) URL' : 'An https:// URL'} on your server that
            accepts POST requests.
          </p>
          <input
            id={`${id}-url`}
            ref={(el) => {
              fieldRefs.current.url = el;
            }}
            type="url"
            inputMode="url"
            autoComplete="url"
            required
            aria-required="true"
            value={url}
            onChange={(event) => setUrl(event.target.value)}
            aria-invalid={errors.url?.length ? true : undefined}
            aria-describedby={describedBy('url', true)}
            placeholder="https://example.com/webhooks"
          />
          {fieldError('url')}
        </div>

        <div className="hl-field">
          <label htmlFor={`${id}-description`}>Description (optional)</label>
          <textarea
            id={`${id}-description`}
            ref={(el) => {
              fieldRefs.current.description = el;
            }}
            rows={2}
            maxLength={1024}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
            aria-invalid={errors.description?.length ? true : undefined}
            aria-describedby={describedBy('description')}
          />
          {fieldError('description')}
        </div>

        <fieldset
          className="hl-field hl-events"
          aria-describedby={describedBy('event_types', true)}
        >
          <legend>Events to send</legend>
          <p className="hl-hint" id={`${id}-event_types-hint`}>
            Leave every box empty to receive all events, including ones added later.
          </p>
          {catalog.isLoading ? (
            <Loading label="Loading event types…" />
          ) : catalog.error ? (
            <ErrorNotice
              error={catalog.error}
              title="Could not load the event types."
              onRetry={() => void catalog.refetch()}
            />
          ) : names.length === 0 ? (
            <p className="hl-muted">
              No event types are listed: this endpoint receives every event.
            </p>
          ) : (
            <>
              <label className="hl-check hl-check-all">
                <input
                  type="checkbox"
                  ref={(el) => {
                    fieldRefs.current.event_types = el;
                    if (el) el.indeterminate = someSelected;
                  }}
                  checked={allSelected}
                  onChange={(event) => setEventTypes(event.target.checked ? [...names] : [])}
                />
                Select all
              </label>
              <ul className="hl-check-list">
                {names.map((name) => {
                  const descriptionText = descriptions.get(name);
                  const descId = `${id}-event-${name}`;
                  return (
                    <li key={name}>
                      <label className="hl-check">
                        <input
                          type="checkbox"
                          checked={eventTypes.includes(name)}
                          aria-describedby={descriptionText ? descId : undefined}
                          onChange={(event) =>
                            setEventTypes((current) =>
                              event.target.checked
                                ? [...current, name].sort()
                                : current.filter((n) => n !== name),
                            )
                          }
                        />
                        <code>{name}</code>
                      </label>
                      {descriptionText ? (
                        <span className="hl-hint hl-check-hint" id={descId}>
                          {descriptionText}
                        </span>
                      ) : null}
                    </li>
                  );
                })}
              </ul>
            </>
          )}
          {fieldError('event_types')}
        </fieldset>

        <fieldset className="hl-field" aria-describedby={describedBy('headers', true)}>
          <legend>Custom headers (optional)</legend>
          <p className="hl-hint" id={`${id}-headers-hint`}>
            Sent with every webhook, e.g. a static token for a proxy.
          </p>
          {headers.map((row, index) => {
            const rowErrors = errors.headerRows?.[row.key];
            const errorId = `${id}-header-${row.key}-error`;
            return (
              <div className="hl-header-row" key={row.key}>
                <label className="hl-inline-field">
                  <span>Header {index + 1} name</span>
                  <input
                    ref={(el) => {
                      if (index === 0) fieldRefs.current.headers = el;
                    }}
                    value={row.name}
                    autoComplete="off"
                    spellCheck={false}
                    aria-invalid={rowErrors ? true : undefined}
                    aria-describedby={rowErrors ? errorId : undefined}
                    onChange={(event) =>
                      setHeaders((rows) =>
                        rows.map((r) =>
                          r.key === row.key ? { ...r, name: event.target.value } : r,
                        ),
                      )
                    }
                  />
                </label>
                <label className="hl-inline-field">
                  <span>Header {index + 1} value</span>
                  <input
                    value={row.value}
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(event) =>
                      setHeaders((rows) =>
                        rows.map((r) =>
                          r.key === row.key ? { ...r, value: event.target.value } : r,
                        ),
                      )
                    }
                  />
                </label>
                <Button
                  variant="link"
                  aria-label={`Remove header ${index + 1}`}
                  onClick={() => setHeaders((rows) => rows.filter((r) => r.key !== row.key))}
                >
                  Remove
                </Button>
                {rowErrors ? (
                  <p className="hl-field-error" id={errorId}>
                    {rowErrors.join(' ')}
                  </p>
                ) : null}
              </div>
            );
          })}
          <Button
            onClick={() =>
              setHeaders((rows) => [...rows, { key: nextKey.current++, name: '', value: '' }])
            }
          >
            Add header
          </Button>
          {fieldError('headers')}
        </fieldset>

        <div className="hl-field">
          <label htmlFor={`${id}-rate`}>Rate limit (deliveries per minute, optional)</label>
          <p className="hl-hint" id={`${id}-rate_limit_per_minute-hint`}>
            Leave empty for no limit.
          </p>
          <input
            id={`${id}-rate`}
            ref={(el) => {
              fieldRefs.current.rate_limit_per_minute = el;
            }}
            type="number"
            inputMode="numeric"
            min={1}
            max={1_000_000}
            step={1}
            value={rateLimit}
            onChange={(event) => setRateLimit(event.target.value)}
            aria-invalid={errors.rate_limit_per_minute?.length ? true : undefined}
            aria-describedby={describedBy('rate_limit_per_minute', true)}
          />
          {fieldError('rate_limit_per_minute')}
        </div>

        <div className="hl-field">
          <label htmlFor={`${id}-retry`}>Retry schedule</label>
          <p className="hl-hint" id={`${id}-retry_schedule-hint`}>
            Delays before each new attempt after a failure.
          </p>
          <select
            id={`${id}-retry`}
            ref={(el) => {
              fieldRefs.current.retry_schedule = el;
            }}
            value={preset}
            onChange={(event) => setPreset(event.target.value)}
            aria-invalid={errors.retry_schedule?.length ? true : undefined}
            aria-describedby={describedBy('retry_schedule', true)}
          >
            {RETRY_PRESETS.map((option) => (
              <option key={option.id} value={option.id}>
                {presetLabel(option)}
              </option>
            ))}
            {endpoint?.retry_schedule && presetFor(endpoint.retry_schedule) === 'custom' ? (
              <option value="custom">Current: {describeSchedule(endpoint.retry_schedule)}</option>
            ) : null}
          </select>
          {fieldError('retry_schedule')}
        </div>

        <div className="hl-actions">
          <Button type="submit" variant="primary" disabled={pending || tenantMissing}>
            {pending ? 'Saving…' : editing ? 'Save changes' : 'Create endpoint'}
          </Button>
          {onCancel ? (
            <Button onClick={onCancel} disabled={pending}>
              Cancel
            </Button>
          ) : null}
        </div>
      </form>
    </section>
  );
}

function withoutSecret(endpoint: EndpointWithSecret): Endpoint {
  const { secret: _secret, ...rest } = endpoint;
  return rest;
}

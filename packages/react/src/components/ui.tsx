import {
  type ButtonHTMLAttributes,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import type { HooklineApiError } from '../client';
import { useHookline } from '../context';
import { formatDateTime, healthLabel, prettyBody, type Tone } from '../format';
import type { Health } from '../wire.gen';

/** Props every component's outermost element gets: the theme hook for the stylesheet. */
export function useRootProps(extraClass?: string): { className: string; 'data-hl-theme': string } {
  const { theme } = useHookline();
  return {
    className: extraClass ? `hl-root ${extraClass}` : 'hl-root',
    'data-hl-theme': theme,
  };
}

/** Button variants. */
export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'link';

/** A button; `type="button"` unless told otherwise. */
export function Button({
  variant = 'secondary',
  className,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant }): ReactNode {
  return (
    <button
      type={type}
      className={`hl-button hl-button-${variant}${className ? ` ${className}` : ''}`}
      {...rest}
    />
  );
}

/** A coloured label. */
export function Badge({ tone, children }: { tone: Tone; children: ReactNode }): ReactNode {
  return <span className={`hl-badge hl-tone-${tone}`}>{children}</span>;
}

/** A health dot with its meaning in words for assistive technology and on hover. */
export function HealthDot({ health }: { health: Health | undefined }): ReactNode {
  if (health === undefined) {
    return (
      <span className="hl-dot hl-dot-unknown" title="Health unknown">
        <span className="hl-sr-only">Health unknown</span>
      </span>
    );
  }
  const label = healthLabel(health);
  return (
    <span className={`hl-dot hl-dot-${health}`} title={label}>
      <span className="hl-sr-only">{label}</span>
    </span>
  );
}

/** A failed request: its message, and a retry button when a retry can help. */
export function ErrorNotice({
  error,
  onRetry,
  title,
}: {
  error: HooklineApiError;
  onRetry?: () => void;
  title?: string;
}): ReactNode {
  return (
    <div className="hl-notice hl-notice-error" role="alert">
      <p>
        <strong>{title ?? 'Something went wrong.'}</strong> {error.message}
        {error.requestId ? <span className="hl-muted"> (request {error.requestId})</span> : null}
      </p>
      {onRetry ? (
        <Button onClick={onRetry} variant="secondary">
          Try again
        </Button>
      ) : null}
    </div>
  );
}

/** A loading line, announced politely. */
export function Loading({ label }: { label: string }): ReactNode {
  return (
    <p className="hl-loading" role="status">
      <span className="hl-spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** Nothing to show yet, and what to do about it. */
export function EmptyState({
  title,
  children,
}: {
  title: string;
  children?: ReactNode;
}): ReactNode {
  return (
    <div className="hl-empty">
      <p className="hl-empty-title">{title}</p>
      {children}
    </div>
  );
}

async function copyText(text: string): Promise<boolean> {
  try {
    if (typeof navigator !== 'undefined' && navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied (no permission, insecure context): fall back to a selection copy.
  }
  if (typeof document === 'undefined') return false;
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'hl-offscreen';
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** Copies `text` to the clipboard and says so (or says that it could not). */
export function CopyButton({ text, label }: { text: string; label: string }): ReactNode {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const onClick = useCallback(async () => {
    const copied = await copyText(text);
    setState(copied ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), 4000);
  }, [text]);
  return (
    <span className="hl-copy">
      <Button onClick={onClick} variant="secondary">
        {label}
      </Button>
      <span role="status" className="hl-copy-status">
        {state === 'copied'
          ? 'Copied'
          : state === 'failed'
            ? 'Copy failed: select the text and copy it'
            : ''}
      </span>
    </span>
  );
}

/** A `<dl>` row list. */
export function Facts({ items }: { items: [ReactNode, ReactNode][] }): ReactNode {
  return (
    <dl className="hl-facts">
      {items.map(([term, value], index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a static list, never reordered.
        <div className="hl-fact" key={index}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A `<time>` with the local date and time. */
export function Time({ iso }: { iso: string }): ReactNode {
  return (
    // The server's and the browser's time zones differ: the text may change on hydration.
    <time dateTime={iso} suppressHydrationWarning>
      {formatDateTime(iso)}
    </time>
  );
}

/** A body (request or response) in a scrollable, keyboard-reachable block. */
export function CodeBlock({ text }: { text: string }): ReactNode {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls, so keyboard users must reach it (WCAG 2.1.1).
    <pre className="hl-code" tabIndex={0}>
      {text === '' ? '(empty)' : prettyBody(text)}
    </pre>
  );
}

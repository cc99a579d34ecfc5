import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useEndpoints } from '../hooks/queries';
import { AlertChannels } from './alert-channels';
import { DeliveryDetail } from './delivery-detail';
import { DeliveryLog } from './delivery-log';
import { EndpointDetail } from './endpoint-detail';
import { EndpointForm } from './endpoint-form';
import { EndpointList } from './endpoint-list';
import type { RevealedSecret } from './secret-panel';
import { Loading, useRootProps } from './ui';

/** A screen of the portal. */
export type PortalView =
  | { name: 'endpoints' }
  | { name: 'new-endpoint' }
  | { name: 'endpoint'; endpointId: string }
  | { name: 'deliveries' }
  | { name: 'delivery'; deliveryId: string; from?: PortalView }
  | { name: 'alerts' };

/** Props of `WebhookPortal`. */
export interface WebhookPortalProps {
  /** The portal's title (default "Webhooks"). */
  title?: string;
  /** The first screen (default: the endpoint list). */
  initialView?: PortalView;
  /** Called on every screen change (to mirror it in your router, analytics, …). */
  onViewChange?(view: PortalView): void;
  /** Delivery log auto-refresh interval in ms (default 5000; 0: off). */
  refreshInterval?: number;
}

const SECTIONS: { name: 'endpoints' | 'deliveries' | 'alerts'; label: string }[] = [
  { name: 'endpoints', label: 'Endpoints' },
  { name: 'deliveries', label: 'Delivery log' },
  { name: 'alerts', label: 'Alerts' },
];

function sectionOf(view: PortalView): 'endpoints' | 'deliveries' | 'alerts' {
  if (view.name === 'delivery') return view.from ? sectionOf(view.from) : 'deliveries';
  if (view.name === 'deliveries' || view.name === 'alerts') return view.name;
  return 'endpoints';
}

/**
 * The whole self-service portal, routed internally: endpoints (list, create, detail with test
 * events, secret and delivery log), the tenant's delivery log, and alert channels.
 */
export function WebhookPortal({
  title = 'Webhooks',
  initialView = { name: 'endpoints' },
  onViewChange,
  refreshInterval,
}: WebhookPortalProps): ReactNode {
  const [view, setView] = useState<PortalView>(initialView);
  const [revealed, setRevealed] = useState<{ endpointId: string; secret: RevealedSecret }>();
  const main = useRef<HTMLDivElement>(null);
  const navigated = useRef(false);
  const root = useRootProps('hl-portal');
  // One cheap call tells whether the token still works before any screen renders.
  const probe = useEndpoints({ limit: 1 });

  // biome-ignore lint/correctness/useExhaustiveDependencies: reacts to screen changes only.
  useEffect(() => {
    if (!navigated.current) return;
    // Move focus to the new screen's heading, as a page load would for a screen reader user.
    main.current?.querySelector<HTMLElement>('h2')?.focus();
  }, [view]);

  function go(next: PortalView): void {
    navigated.current = true;
    setView(next);
    onViewChange?.(next);
  }

  const refresh = refreshInterval === undefined ? {} : { refreshInterval };
  const expired = probe.error?.status === 401;

  let screen: ReactNode;
  if (expired) {
    screen = (
      <div className="hl-notice hl-notice-error" role="alert">
        <h2>This link has expired</h2>
        <p>
          Portal links work for a limited time. Open the webhook settings again from your account to
          get a fresh link.
        </p>
      </div>
    );
  } else if (probe.isLoading) {
    screen = <Loading label="Opening the portal…" />;
  } else {
    switch (view.name) {
      case 'endpoints':
        screen = (
          <EndpointList
            onSelect={(endpoint) => go({ name: 'endpoint', endpointId: endpoint.id })}
            onCreate={() => go({ name: 'new-endpoint' })}
          />
        );
        break;
      case 'new-endpoint':
        screen = (
          <EndpointForm
            onCancel={() => go({ name: 'endpoints' })}
            onSaved={(endpoint, secret) => {
              if (secret) setRevealed({ endpointId: endpoint.id, secret });
              go({ name: 'endpoint', endpointId: endpoint.id });
            }}
          />
        );
        break;
      case 'endpoint':
        screen = (
          <EndpointDetail
            key={view.endpointId}
            endpointId={view.endpointId}
            initialSecret={revealed?.endpointId === view.endpointId ? revealed.secret : undefined}
            onBack={() => {
              setRevealed(undefined);
              go({ name: 'endpoints' });
            }}
            onDeleted={() => {
              setRevealed(undefined);
              go({ name: 'endpoints' });
            }}
            onViewDelivery={(deliveryId) => go({ name: 'delivery', deliveryId, from: view })}
            {...refresh}
          />
        );
        break;
      case 'deliveries':
        screen = (
          <DeliveryLog
            onViewDelivery={(deliveryId) => go({ name: 'delivery', deliveryId, from: view })}
            {...refresh}
          />
        );
        break;
      case 'delivery':
        screen = (
          <DeliveryDetail
            key={view.deliveryId}
            deliveryId={view.deliveryId}
            onBack={() => go(view.from ?? { name: 'deliveries' })}
          />
        );
        break;
      case 'alerts':
        screen = <AlertChannels />;
        break;
    }
  }

  const current = sectionOf(view);
  return (
    <div {...root}>
      <header className="hl-portal-header">
        <h1>{title}</h1>
        {expired ? null : (
          <nav aria-label="Webhook portal">
            <ul className="hl-tabs">
              {SECTIONS.map((section) => (
                <li key={section.name}>
                  <button
                    type="button"
                    className="hl-tab"
                    aria-current={current === section.name ? 'page' : undefined}
                    onClick={() => {
                      setRevealed(undefined);
                      go({ name: section.name });
                    }}
                  >
                    {section.label}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
        )}
      </header>
      <div className="hl-portal-main" ref={main}>
        {screen}
      </div>
    </div>
  );
}

import '@hookline/react/styles.css';
import './portal.css';
import { HooklineProvider, WebhookPortal } from '@hookline/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { readPortalSession } from './session';

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function MissingToken() {
  return (
    <div className="hl-root hl-portal" data-hl-theme="system">
      <h1>Webhooks</h1>
      <div className="hl-notice hl-notice-error" role="alert">
        <h2>This link is incomplete</h2>
        <p>
          The portal opens from a link that carries an access token. Open the webhook settings again
          from your account to get a fresh link.
        </p>
      </div>
    </div>
  );
}

const session = readPortalSession({
  location: window.location,
  history: window.history,
  storage: storage(),
});
const container = document.getElementById('root');
if (!container) throw new Error('The portal page has no #root element.');

createRoot(container).render(
  <StrictMode>
    {session ? (
      <HooklineProvider
        gatewayUrl={window.location.origin}
        token={session.token}
        {...(session.tenantId ? { tenantId: session.tenantId } : {})}
      >
        <WebhookPortal />
      </HooklineProvider>
    ) : (
      <MissingToken />
    )}
  </StrictMode>,
);

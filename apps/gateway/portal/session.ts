/**
 * The hosted portal's session: the portal token (and, when the link carries it, the tenant id)
 * read from the URL fragment, which browsers never send to servers nor put in Referer headers.
 * The fragment is then removed from the address bar and kept for this tab only, so a reload
 * still works but the token is not left in the address bar, the history or a copied URL.
 */

/** What the portal needs to call the gateway. */
export interface PortalSession {
  token: string;
  /** `tenant_id` from the fragment, when the link names it. */
  tenantId?: string;
}

/** sessionStorage key of the current tab's session. */
export const SESSION_KEY = 'hookline.portal.session';

const TOKEN = /^hl_pt_[A-Za-z0-9_-]{16,}$/;
const TENANT = /^[A-Za-z0-9._:-]{1,128}$/;

/** Parses `#token=hl_pt_…&tenant_id=…`; null without a well-formed token. */
export function parseFragment(hash: string): PortalSession | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token');
  if (!token || !TOKEN.test(token)) return null;
  const tenantId = params.get('tenant_id');
  return tenantId && TENANT.test(tenantId) ? { token, tenantId } : { token };
}

function parseStored(text: string | null): PortalSession | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<PortalSession>;
    if (typeof value.token !== 'string' || !TOKEN.test(value.token)) return null;
    return typeof value.tenantId === 'string' && TENANT.test(value.tenantId)
      ? { token: value.token, tenantId: value.tenantId }
      : { token: value.token };
  } catch {
    return null;
  }
}

/** The parts of `window` the session uses (injectable for tests). */
export interface SessionEnvironment {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/**
 * The session of this page: a token in the fragment wins (and replaces what the tab had), else
 * the one this tab stored earlier; null when there is neither.
 */
export function readPortalSession(env: SessionEnvironment): PortalSession | null {
  const fromLink = parseFragment(env.location.hash);
  if (fromLink) {
    try {
      env.storage?.setItem(SESSION_KEY, JSON.stringify(fromLink));
    } catch {
      // Storage may be disabled; the page still works until it is reloaded.
    }
    env.history.replaceState(null, '', `${env.location.pathname}${env.location.search}`);
    return fromLink;
  }
  try {
    return parseStored(env.storage?.getItem(SESSION_KEY) ?? null);
  } catch {
    return null;
  }
}

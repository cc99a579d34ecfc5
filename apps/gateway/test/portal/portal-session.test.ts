// The hosted portal's token handling (portal/session.ts), without a browser.
import { describe, expect, it, vi } from 'vitest';
import { parseFragment, readPortalSession, SESSION_KEY } from '../../portal/session';

const TOKEN = 'hl_pt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_';

function environment(hash: string, stored: Record<string, string> = {}) {
  const storage = new Map(Object.entries(stored));
  const replaceState = vi.fn();
  return {
    env: {
      location: { hash, pathname: '/portal', search: '' },
      history: { replaceState },
      storage: {
        getItem: (key: string) => storage.get(key) ?? null,
        setItem: (key: string, value: string) => void storage.set(key, value),
      },
    },
    storage,
    replaceState,
  };
}

describe('portal session', () => {
  it('reads the token of a portal link, and a tenant id when the link names one', () => {
    expect(parseFragment(`#token=${TOKEN}`)).toEqual({ token: TOKEN });
    expect(parseFragment(`#token=${TOKEN}&tenant_id=acme:eu-1`)).toEqual({
      token: TOKEN,
      tenantId: 'acme:eu-1',
    });
  });

  it('ignores fragments without a well-formed portal token', () => {
    expect(parseFragment('')).toBeNull();
    expect(parseFragment('#token=hl_sk_operatorkey0123456789')).toBeNull();
    expect(parseFragment('#token=hl_pt_short')).toBeNull();
    expect(parseFragment(`#token=${TOKEN}&tenant_id=${'x'.repeat(129)}`)).toEqual({ token: TOKEN });
  });

  it('takes the token off the address bar and keeps it for this tab', () => {
    const { env, storage, replaceState } = environment(`#token=${TOKEN}`);
    expect(readPortalSession(env)).toEqual({ token: TOKEN });
    expect(replaceState).toHaveBeenCalledWith(null, '', '/portal');
    expect(JSON.parse(storage.get(SESSION_KEY)!)).toEqual({ token: TOKEN });
  });

  it("reopens the tab's session after a reload, and a new link replaces it", () => {
    const stored = { [SESSION_KEY]: JSON.stringify({ token: TOKEN, tenantId: 'acme' }) };
    expect(readPortalSession(environment('', stored).env)).toEqual({
      token: TOKEN,
      tenantId: 'acme',
    });
    const other = `${TOKEN}other`;
    const next = environment(`#token=${other}`, stored);
    expect(readPortalSession(next.env)).toEqual({ token: other });
    expect(JSON.parse(next.storage.get(SESSION_KEY)!)).toEqual({ token: other });
  });

  it('has no session without a link or a stored one, or with a damaged one', () => {
    expect(readPortalSession(environment('').env)).toBeNull();
    expect(readPortalSession(environment('', { [SESSION_KEY]: '{oops' }).env)).toBeNull();
    expect(readPortalSession({ ...environment('').env, storage: null })).toBeNull();
  });
});

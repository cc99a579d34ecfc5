import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useMemo,
  useRef,
  useState,
} from 'react';
import { QueryCache } from './cache';
import { createHooklineClient, type HooklineClient } from './client';

/** Colour scheme of the components: follow the system, or force one. */
export type HooklineTheme = 'system' | 'light' | 'dark';

/** What every hook and component under a `HooklineProvider` shares. */
export interface HooklineContextValue {
  client: HooklineClient;
  cache: QueryCache;
  /** The tenant, when the provider was told it (otherwise learnt from the endpoints). */
  tenantId: string | undefined;
  theme: HooklineTheme;
  /** Whether endpoint URLs may use http:// (the gateway's HOOKLINE_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Says `message` through the provider's polite ARIA live region. */
  announce(message: string): void;
}

const HooklineContext = createContext<HooklineContextValue | null>(null);

/** Props of `HooklineProvider`. */
export interface HooklineProviderProps {
  /** The gateway's base URL, e.g. `https://hooks.example.com`. */
  gatewayUrl: string;
  /** A portal token (`hl_pt_…`) from `POST /v1/portal/links`, minted by your server. */
  token: string;
  /**
   * The token's tenant. Creating endpoints and managing alert channels need it; without it the
   * components learn it from the tenant's endpoints, which a brand-new tenant does not have yet.
   */
  tenantId?: string;
  /** Injectable `fetch`; default: the global one. */
  fetch?: typeof fetch;
  /** Colour scheme (default `system`: follows `prefers-color-scheme`). */
  theme?: HooklineTheme;
  /** Accept `http://` endpoint URLs in forms, for a gateway run with HOOKLINE_ALLOW_HTTP. */
  allowHttp?: boolean;
  children?: ReactNode;
}

/** Gives the components and hooks below it a gateway client, a request cache and a live region. */
export function HooklineProvider(props: HooklineProviderProps): ReactNode {
  const { gatewayUrl, token, fetch, tenantId, theme = 'system', allowHttp = false } = props;
  const client = useMemo(
    () => createHooklineClient({ gatewayUrl, token, ...(fetch ? { fetch } : {}) }),
    [gatewayUrl, token, fetch],
  );
  // A new token or gateway is a new session: nothing cached under the old one may show.
  const cache = useMemo(() => {
    void client;
    return new QueryCache();
  }, [client]);
  const [message, setMessage] = useState({ text: '', id: 0 });
  const counter = useRef(0);
  const announce = useCallback((text: string) => {
    counter.current += 1;
    setMessage({ text, id: counter.current });
  }, []);
  const value = useMemo<HooklineContextValue>(
    () => ({ client, cache, tenantId, theme, allowHttp, announce }),
    [client, cache, tenantId, theme, allowHttp, announce],
  );
  return (
    <HooklineContext.Provider value={value}>
      {props.children}
      <div className="hl-sr-only" role="status" aria-live="polite" aria-atomic="true">
        {message.text === '' ? null : <span key={message.id}>{message.text}</span>}
      </div>
    </HooklineContext.Provider>
  );
}

/** The provider's shared state; throws a clear error outside a `HooklineProvider`. */
export function useHookline(): HooklineContextValue {
  const value = useContext(HooklineContext);
  if (!value) {
    throw new Error('Hookline components and hooks must be rendered inside <HooklineProvider>.');
  }
  return value;
}

/** The gateway client of the nearest `HooklineProvider`. */
export function useHooklineClient(): HooklineClient {
  return useHookline().client;
}

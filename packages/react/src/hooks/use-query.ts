import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { QueryKey, QuerySnapshot } from '../cache';
import type { HooklineClient } from '../client';
import { useHookline } from '../context';

/** What every query hook returns. */
export interface QueryResult<T> extends QuerySnapshot<T> {
  /** Asks the gateway again now. */
  refetch(): Promise<void>;
}

/** Options of the query hooks. */
export interface QueryOptions {
  /** Refetch every this many milliseconds while mounted (0 or absent: never). */
  refreshInterval?: number;
}

// A mount refetches data older than this; newer data is shown as it is.
const STALE_MS = 2_000;

const IDLE: QuerySnapshot<never> = Object.freeze({
  data: undefined,
  error: undefined,
  isLoading: false,
  isFetching: false,
  updatedAt: 0,
});

/**
 * Reads `key` from the provider's cache and fetches it when missing or stale. A `null` key
 * disables the query (nothing is fetched; `isLoading` is false).
 */
export function useQuery<T>(
  key: QueryKey | null,
  fetcher: (client: HooklineClient) => Promise<T>,
  options: QueryOptions = {},
): QueryResult<T> {
  const { cache, client } = useHookline();
  // The key object changes every render; its JSON identifies the query, and parsing it back
  // gives a key that changes only when the query does.
  const hash = key === null ? null : JSON.stringify(key);
  const stableKey = useMemo(() => (hash === null ? null : (JSON.parse(hash) as QueryKey)), [hash]);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;

  const subscribe = useCallback(
    (listener: () => void) =>
      stableKey === null ? () => {} : cache.subscribe(stableKey, listener),
    [cache, stableKey],
  );
  const getSnapshot = useCallback(
    () => (stableKey === null ? IDLE : cache.read<T>(stableKey)),
    [cache, stableKey],
  );
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  const run = useCallback(
    (force: boolean) => {
      if (stableKey === null) return Promise.resolve();
      return cache.fetch(stableKey, () => fetcherRef.current(client), { force });
    },
    [cache, client, stableKey],
  );

  useEffect(() => {
    if (stableKey === null) return;
    const current = cache.read<T>(stableKey);
    const fresh = current.updatedAt > 0 && Date.now() - current.updatedAt < STALE_MS;
    if (!fresh) void run(false);
  }, [cache, stableKey, run]);

  const interval = options.refreshInterval ?? 0;
  useEffect(() => {
    if (interval <= 0) return;
    const timer = setInterval(() => void run(false), interval);
    return () => clearInterval(timer);
  }, [interval, run]);

  const refetch = useCallback(() => run(true), [run]);
  return { ...snapshot, refetch };
}

import { HooklineApiError } from './client';

/** A query's identity: the first element names the resource family that mutations invalidate. */
export type QueryKey = readonly [QueryFamily, ...unknown[]];

/** Resource families; a mutation invalidates whole families. */
export type QueryFamily = 'endpoints' | 'stats' | 'deliveries' | 'event-types' | 'alert-channels';

/** What a query hook reads: the last data, the last error, and whether a request is under way. */
export interface QuerySnapshot<T> {
  data: T | undefined;
  error: HooklineApiError | undefined;
  /** No data and no error yet: the first request is under way. */
  isLoading: boolean;
  /** Any request is under way (first load or refresh). */
  isFetching: boolean;
  /** When data last arrived (ms since epoch); 0 before. */
  updatedAt: number;
}

interface Entry {
  key: QueryKey;
  snapshot: QuerySnapshot<unknown>;
  fetcher: (() => Promise<unknown>) | undefined;
  listeners: Set<() => void>;
  // Bumped by every request: an answer from an older request never overwrites a newer one.
  generation: number;
  inFlight: Promise<void> | undefined;
}

const EMPTY: QuerySnapshot<never> = Object.freeze({
  data: undefined,
  error: undefined,
  isLoading: true,
  isFetching: false,
  updatedAt: 0,
});

function toApiError(error: unknown): HooklineApiError {
  if (error instanceof HooklineApiError) return error;
  return new HooklineApiError(
    'network_error',
    error instanceof Error ? error.message : 'The request failed.',
    { cause: error },
  );
}

/** Hashes a key; `undefined` members of objects drop out, as they would from a query string. */
export function hashKey(key: QueryKey): string {
  return JSON.stringify(key);
}

/**
 * A small request cache shared by every hook under one `HooklineProvider`: deduplicates
 * requests, keeps the last answer while refreshing, and refetches watched queries after a
 * mutation invalidates their family.
 */
export class QueryCache {
  private readonly entries = new Map<string, Entry>();

  private entry(key: QueryKey): Entry {
    const hash = hashKey(key);
    let found = this.entries.get(hash);
    if (!found) {
      found = {
        key,
        snapshot: EMPTY,
        fetcher: undefined,
        listeners: new Set(),
        generation: 0,
        inFlight: undefined,
      };
      this.entries.set(hash, found);
    }
    return found;
  }

  private update(entry: Entry, patch: Partial<QuerySnapshot<unknown>>): void {
    entry.snapshot = { ...entry.snapshot, ...patch };
    for (const listener of entry.listeners) listener();
  }

  /** The current snapshot of a key (a stable object until it changes). */
  read<T>(key: QueryKey): QuerySnapshot<T> {
    return (this.entries.get(hashKey(key))?.snapshot ?? EMPTY) as QuerySnapshot<T>;
  }

  /** Calls `listener` whenever the key's snapshot changes; returns the unsubscribe function. */
  subscribe(key: QueryKey, listener: () => void): () => void {
    const entry = this.entry(key);
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
    };
  }

  /**
   * Runs the request of a key unless one is under way (or always, with `force`); remembers the
   * fetcher so that invalidation can run it again.
   */
  fetch<T>(
    key: QueryKey,
    fetcher: () => Promise<T>,
    options: { force?: boolean } = {},
  ): Promise<void> {
    const entry = this.entry(key);
    entry.fetcher = fetcher;
    if (entry.inFlight && !options.force) return entry.inFlight;
    const generation = ++entry.generation;
    if (!entry.snapshot.isFetching) this.update(entry, { isFetching: true });
    const run = fetcher().then(
      (data) => {
        if (generation !== entry.generation) return;
        entry.inFlight = undefined;
        this.update(entry, {
          data,
          error: undefined,
          isLoading: false,
          isFetching: false,
          updatedAt: Date.now(),
        });
      },
      (error: unknown) => {
        if (generation !== entry.generation) return;
        entry.inFlight = undefined;
        this.update(entry, { error: toApiError(error), isLoading: false, isFetching: false });
      },
    );
    entry.inFlight = run;
    return run;
  }

  /** Marks families stale: watched queries refetch now, unwatched ones are dropped. */
  invalidate(families: readonly QueryFamily[]): Promise<void> {
    const runs: Promise<void>[] = [];
    for (const [hash, entry] of this.entries) {
      if (!families.includes(entry.key[0])) continue;
      if (entry.listeners.size > 0 && entry.fetcher) {
        runs.push(this.fetch(entry.key, entry.fetcher, { force: true }));
      } else {
        this.entries.delete(hash);
      }
    }
    return Promise.all(runs).then(() => undefined);
  }
}

import { describe, expect, it } from 'vitest';
import { QueryCache } from './cache';
import { HooklineApiError } from './client';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('QueryCache', () => {
  it('runs one request for concurrent fetches of the same key', async () => {
    const cache = new QueryCache();
    let calls = 0;
    const fetcher = async () => {
      calls++;
      return 'x';
    };
    await Promise.all([cache.fetch(['endpoints'], fetcher), cache.fetch(['endpoints'], fetcher)]);
    expect(calls).toBe(1);
    expect(cache.read(['endpoints']).data).toBe('x');
  });

  it('starts loading, then keeps the last data while a refresh runs', async () => {
    const cache = new QueryCache();
    expect(cache.read(['stats', 'ep_1'])).toMatchObject({ isLoading: true, isFetching: false });
    await cache.fetch(['stats', 'ep_1'], async () => 1);
    const slow = deferred<number>();
    const refresh = cache.fetch(['stats', 'ep_1'], () => slow.promise, { force: true });
    expect(cache.read(['stats', 'ep_1'])).toMatchObject({
      data: 1,
      isLoading: false,
      isFetching: true,
    });
    slow.resolve(2);
    await refresh;
    expect(cache.read(['stats', 'ep_1'])).toMatchObject({ data: 2, isFetching: false });
  });

  it('never lets an older answer overwrite a newer one', async () => {
    const cache = new QueryCache();
    const first = deferred<string>();
    const second = deferred<string>();
    const a = cache.fetch(['deliveries'], () => first.promise);
    const b = cache.fetch(['deliveries'], () => second.promise, { force: true });
    second.resolve('new');
    await b;
    first.resolve('old');
    await a;
    expect(cache.read(['deliveries']).data).toBe('new');
  });

  it('wraps unexpected failures into a HooklineApiError and keeps earlier data', async () => {
    const cache = new QueryCache();
    await cache.fetch(['endpoints'], async () => 'kept');
    await cache.fetch(['endpoints'], async () => Promise.reject(new TypeError('boom')), {
      force: true,
    });
    const snapshot = cache.read(['endpoints']);
    expect(snapshot.data).toBe('kept');
    expect(snapshot.error).toBeInstanceOf(HooklineApiError);
    expect(snapshot.error?.message).toBe('boom');
  });

  it('refetches watched queries of an invalidated family and drops unwatched ones', async () => {
    const cache = new QueryCache();
    let version = 0;
    const fetcher = async () => ++version;
    await cache.fetch(['endpoints', 'list'], fetcher);
    await cache.fetch(['endpoints', 'one', 'ep_1'], fetcher);
    await cache.fetch(['deliveries'], fetcher);
    const seen: number[] = [];
    const stop = cache.subscribe(['endpoints', 'list'], () => {
      const data = cache.read<number>(['endpoints', 'list']).data;
      if (data !== undefined) seen.push(data);
    });

    await cache.invalidate(['endpoints']);
    expect(cache.read(['endpoints', 'list']).data).toBe(4);
    expect(seen.at(-1)).toBe(4);
    // Unwatched: forgotten, so the next reader loads it afresh.
    expect(cache.read(['endpoints', 'one', 'ep_1'])).toMatchObject({
      data: undefined,
      isLoading: true,
    });
    // Other families are untouched.
    expect(cache.read(['deliveries']).data).toBe(3);
    stop();
  });
});

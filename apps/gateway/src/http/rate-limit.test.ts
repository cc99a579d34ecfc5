import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit';

function clock(start = 1000) {
  let at = start;
  return {
    now: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}

describe('createRateLimiter', () => {
  it('lets a burst through, then refuses with the seconds until the next token', () => {
    const c = clock();
    const limiter = createRateLimiter({ perSecond: 2, burst: 3, now: c.now });
    expect([1, 2, 3].map(() => limiter.take('k').allowed)).toEqual([true, true, true]);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(499);
    expect(limiter.take('k').allowed).toBe(false);
    c.advance(1);
    expect(limiter.take('k')).toEqual({ allowed: true });
    expect(limiter.take('k').allowed).toBe(false);
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const c = clock();
    const limiter = createRateLimiter({ perSecond: 0.1, burst: 1, now: c.now });
    expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    c.advance(9_500);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('keeps one bucket per key', () => {
    const c = clock();
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, now: c.now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('never refills past the burst, however long a key was idle', () => {
    const c = clock();
    const limiter = createRateLimiter({ perSecond: 10, burst: 2, now: c.now });
    limiter.take('k');
    c.advance(3_600_000);
    expect([1, 2, 3].map(() => limiter.take('k').allowed)).toEqual([true, true, false]);
  });

  it('is off at 0 requests per second', () => {
    const limiter = createRateLimiter({ perSecond: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) expect(limiter.take('k').allowed).toBe(true);
  });

  it('forgets idle buckets beyond maxKeys without granting a busy key a fresh burst', () => {
    const c = clock();
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, now: c.now, maxKeys: 3 });
    expect(limiter.take('busy').allowed).toBe(true);
    // Three more keys: the bound forces an eviction; only full (idle) buckets or the least
    // recently used go, and "busy" is used again in between.
    limiter.take('x');
    expect(limiter.take('busy').allowed).toBe(false);
    limiter.take('y');
    limiter.take('z');
    expect(limiter.take('busy').allowed).toBe(false);
  });

  it('refuses a negative rate or a burst below 1', () => {
    expect(() => createRateLimiter({ perSecond: -1, burst: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

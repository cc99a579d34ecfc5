import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_SCHEDULE,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelay,
  parseRetryAfter,
  parseRetrySchedule,
} from './schedule';

const middle = () => 0.5; // no jitter
const lowest = () => 0; // -10 %
const highest = () => 0.999999; // just under +10 %
const schedule = DEFAULT_RETRY_SCHEDULE;
const now = Date.parse('2025-03-01T12:00:00Z');

describe('nextAttemptDelay', () => {
  it('follows the schedule after each failed attempt and is dead after the last', () => {
    const delays = [1, 2, 3, 4].map((attemptNumber) =>
      nextAttemptDelay({ schedule, attemptNumber, outcome: 'http_5xx', random: middle }),
    );
    expect(delays).toEqual([
      { kind: 'retry', delayMs: 30_000 },
      { kind: 'retry', delayMs: 300_000 },
      { kind: 'retry', delayMs: 1_800_000 },
      { kind: 'retry', delayMs: 7_200_000 },
    ]);
    expect(nextAttemptDelay({ schedule, attemptNumber: 5, outcome: 'timeout' })).toEqual({
      kind: 'dead',
    });
  });

  it('jitters every delay by at most ten percent either way', () => {
    expect(
      nextAttemptDelay({ schedule, attemptNumber: 1, outcome: 'timeout', random: lowest }),
    ).toEqual({ kind: 'retry', delayMs: 27_000 });
    const high = nextAttemptDelay({
      schedule,
      attemptNumber: 1,
      outcome: 'timeout',
      random: highest,
    });
    expect(high).toEqual({ kind: 'retry', delayMs: 33_000 });
    for (let i = 0; i < 200; i++) {
      const d = nextAttemptDelay({ schedule, attemptNumber: 2, outcome: 'network_error' });
      expect(d.kind === 'retry' && d.delayMs >= 270_000 && d.delayMs <= 330_000).toBe(true);
    }
  });

  it('is dead at once with an empty schedule', () => {
    expect(nextAttemptDelay({ schedule: [], attemptNumber: 1, outcome: 'http_4xx' })).toEqual({
      kind: 'dead',
    });
  });

  it('honours a longer Retry-After in seconds on a 429', () => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 1,
      outcome: 'http_4xx',
      httpStatus: 429,
      retryAfterHeader: '120',
      random: middle,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: 120_000 });
  });

  it.each([502, 503, 504])('honours an HTTP-date Retry-After on a %i', (httpStatus) => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 1,
      outcome: 'http_5xx',
      httpStatus,
      retryAfterHeader: new Date(now + 600_000).toUTCString(),
      random: middle,
      now: () => now,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: 600_000 });
  });

  it('takes an already parsed Retry-After in milliseconds', () => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 1,
      outcome: 'http_5xx',
      httpStatus: 503,
      retryAfterMs: 90_000,
      random: middle,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: 90_000 });
  });

  it('never lets Retry-After shorten the scheduled delay', () => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 2,
      outcome: 'http_5xx',
      httpStatus: 503,
      retryAfterHeader: '1',
      random: middle,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: 300_000 });
  });

  it('caps Retry-After at 24 hours', () => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 1,
      outcome: 'http_4xx',
      httpStatus: 429,
      retryAfterHeader: String(7 * 24 * 3600),
      random: middle,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: MAX_RETRY_AFTER_MS });
  });

  it('keeps a scheduled delay longer than 24 hours even with a Retry-After', () => {
    const d = nextAttemptDelay({
      schedule: [172_800],
      attemptNumber: 1,
      outcome: 'http_4xx',
      httpStatus: 429,
      retryAfterHeader: '999999',
      random: middle,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: 172_800_000 });
  });

  it.each([500, 404, 410])('ignores Retry-After on a %i', (httpStatus) => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 1,
      outcome: httpStatus >= 500 ? 'http_5xx' : 'http_4xx',
      httpStatus,
      retryAfterHeader: '3600',
      random: middle,
    });
    expect(d).toEqual({ kind: 'retry', delayMs: 30_000 });
  });

  it('does not resurrect a dead delivery because of Retry-After', () => {
    const d = nextAttemptDelay({
      schedule,
      attemptNumber: 5,
      outcome: 'http_4xx',
      httpStatus: 429,
      retryAfterHeader: '60',
    });
    expect(d).toEqual({ kind: 'dead' });
  });

  it('rejects an attempt number below one', () => {
    expect(() => nextAttemptDelay({ schedule, attemptNumber: 0, outcome: 'timeout' })).toThrow(
      RangeError,
    );
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and ignores junk', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 45 ', now)).toBe(45_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('parseRetrySchedule', () => {
  it('parses a comma-separated list of seconds', () => {
    expect(parseRetrySchedule('30,300,1800,7200')).toEqual([30, 300, 1800, 7200]);
    expect(parseRetrySchedule(' 5 , 10 ')).toEqual([5, 10]);
    expect(parseRetrySchedule('0')).toEqual([0]);
  });

  it('treats an empty string as no retries', () => {
    expect(parseRetrySchedule('')).toEqual([]);
  });

  it.each(['30,,300', '30,-1', '1.5', '30s', 'abc'])('rejects %s naming the bad entry', (text) => {
    expect(() => parseRetrySchedule(text)).toThrow(/Retry schedule entry/);
  });
});

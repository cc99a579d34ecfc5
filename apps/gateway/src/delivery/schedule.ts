import type { DeliveryOutcome } from '../net/http-client';

/** Delays in seconds after each failed attempt: immediate first try, then 30 s, 5 min, 30 min, 2 h. */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = Object.freeze([30, 300, 1800, 7200]);

/** Every scheduled delay is moved by up to this fraction either way. */
export const RETRY_JITTER = 0.1;

/** Statuses whose `Retry-After` header is honoured. */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Upper bound for a `Retry-After` wait. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** What to do after a failed attempt. */
export type RetryDecision = { kind: 'retry'; delayMs: number } | { kind: 'dead' };

/** The inputs of `nextAttemptDelay`. */
export interface NextAttemptInput {
  /** Delays in seconds after each failed attempt (the endpoint's, or the gateway default). */
  schedule: readonly number[];
  /** Attempts made so far, this failed one included (1 after the first attempt). */
  attemptNumber: number;
  outcome: Exclude<DeliveryOutcome, 'success'>;
  /** The response status, when there was one: `Retry-After` counts only for 429, 502, 503, 504. */
  httpStatus?: number | null;
  /** The raw `Retry-After` header of the response (seconds or an HTTP date). */
  retryAfterHeader?: string | null;
  /** The same already parsed (`AttemptRecord.effects.retryAfterMs`); wins over the header. */
  retryAfterMs?: number | null;
  /** Uniform in [0, 1); default `Math.random`. */
  random?: () => number;
  /** Milliseconds since the epoch, to read HTTP-date `Retry-After` values; default `Date.now`. */
  now?: () => number;
}

/**
 * Parses a `HOOKLINE_RETRY_SCHEDULE`-style list ("30,300,1800,7200") into seconds.
 * An empty string means no retries. Throws `RangeError` naming the bad entry.
 */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const entry = part.trim();
    if (!/^\d{1,9}$/.test(entry)) {
      throw new RangeError(
        `Retry schedule entry "${entry}" is not a whole number of seconds; expected e.g. "30,300,1800,7200".`,
      );
    }
    return Number(entry);
  });
}

/**
 * A `Retry-After` header in milliseconds from `nowMs`: delta-seconds or an HTTP date
 * (a date in the past gives 0). Returns undefined when absent or unparseable.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (header == null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates always name the weekday or month in letters; this keeps numbers like "1.5" out.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * When to try again after a failed attempt, or `dead` once the schedule is used up. Every delay
 * gets ±10 % jitter; a `Retry-After` on 429/502/503/504 can lengthen it, up to 24 h, never shorten it.
 */
export function nextAttemptDelay(input: NextAttemptInput): RetryDecision {
  const { schedule, attemptNumber } = input;
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError('attemptNumber counts the attempts made so far and starts at 1.');
  }
  const scheduledSeconds = schedule[attemptNumber - 1];
  if (scheduledSeconds === undefined) return { kind: 'dead' };

  const random = input.random ?? Math.random;
  const factor = 1 + (random() * 2 - 1) * RETRY_JITTER;
  const scheduledMs = Math.round(scheduledSeconds * 1000 * factor);

  if (input.httpStatus != null && RETRY_AFTER_STATUSES.has(input.httpStatus)) {
    const retryAfterMs =
      input.retryAfterMs ?? parseRetryAfter(input.retryAfterHeader, (input.now ?? Date.now)());
    if (retryAfterMs !== undefined) {
      return {
        kind: 'retry',
        delayMs: Math.max(scheduledMs, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)),
      };
    }
  }
  return { kind: 'retry', delayMs: scheduledMs };
}

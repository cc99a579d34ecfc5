/**
 * Token buckets for the API request rate of each credential (API key or portal token). Held in
 * this process's memory: with several gateway processes behind a load balancer, each enforces
 * the limit on its own share of the traffic.
 */

/** How fast each credential may call the API. */
export interface RateLimitOptions {
  /** Sustained requests per second; 0 turns the limit off. */
  perSecond: number;
  /** Requests a credential may make at once after being idle (the bucket's size, ≥ 1). */
  burst: number;
  /** Monotonic milliseconds; default `performance.now`. */
  now?: () => number;
  /** Buckets kept before idle ones are dropped (memory bound). Default 100 000. */
  maxKeys?: number;
}

/** The verdict on one request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Per-credential token buckets. */
export interface RateLimiter {
  /** Takes one token from `key`'s bucket, or says how many whole seconds until one is there. */
  take(key: string): RateDecision;
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Creates the limiter; throws `RangeError` for a negative rate or a burst below 1. */
export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const { perSecond, burst } = options;
  if (!(perSecond >= 0) || !Number.isFinite(perSecond)) {
    throw new RangeError(`The API rate limit must be 0 or more requests per second.`);
  }
  if (!(burst >= 1) || !Number.isFinite(burst)) {
    throw new RangeError(`The API rate limit burst must be at least 1.`);
  }
  const now = options.now ?? (() => performance.now());
  const maxKeys = Math.max(1, options.maxKeys ?? 100_000);
  const buckets = new Map<string, Bucket>();
  const perMs = perSecond / 1000;

  function refilled(bucket: Bucket, at: number): number {
    return Math.min(burst, bucket.tokens + Math.max(0, at - bucket.at) * perMs);
  }

  function evict(at: number): void {
    // A full bucket is the same as no bucket: drop those first, then the least recently used.
    for (const [key, bucket] of buckets) {
      if (refilled(bucket, at) >= burst) buckets.delete(key);
    }
    while (buckets.size >= maxKeys) {
      const oldest = buckets.keys().next().value as string;
      buckets.delete(oldest);
    }
  }

  return {
    perSecond,
    burst,
    take(key) {
      if (perSecond === 0) return { allowed: true };
      const at = now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        bucket.tokens = refilled(bucket, at);
        bucket.at = at;
      } else {
        if (buckets.size >= maxKeys) evict(at);
        bucket = { tokens: burst, at };
      }
      // Map order is recency order: re-inserted on every use.
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)),
      };
    },
  };
}

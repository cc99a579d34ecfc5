import { Webhook } from '@hookline/verify/ed25519';

/** An endpoint's signing keys (`whsec_…` HMAC or `whsk_…` ed25519) as stored, with rotation state. */
export interface EndpointKeys {
  current: string;
  /** The key replaced by the last rotation; signs too while it is live. */
  previous?: string | null;
  /** When `previous` stops signing. A `previous` without an expiry stays live until cleared. */
  previousExpiresAt?: Date | null;
}

/** What to sign: the message id, this attempt's time and the exact body bytes. */
export interface SignInput {
  keys: EndpointKeys;
  messageId: string;
  timestamp: Date;
  body: string | Uint8Array;
}

/** The three Standard Webhooks headers of one attempt (a type alias, so it fits `Record<string, string>`). */
export type SignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** Signs deliveries, keeping parsed keys in a small LRU so the hot path never re-parses them. */
export interface Signer {
  /** The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers for one attempt. */
  sign(input: SignInput): SignatureHeaders;
}

/** The keys that sign at `at`: the current one, then the previous one while it has not expired. */
export function liveKeys(keys: EndpointKeys, at: Date): string[] {
  const live = [keys.current];
  if (keys.previous && (keys.previousExpiresAt == null || at < keys.previousExpiresAt)) {
    live.push(keys.previous);
  }
  return live;
}

/** A signer with its own cache of `Webhook` instances (default 512 key sets). */
export function createSigner(options: { cacheSize?: number } = {}): Signer {
  const capacity = Math.max(1, options.cacheSize ?? 512);
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU.
  const cache = new Map<string, Webhook>();

  function webhookFor(secrets: string[]): Webhook {
    // Keys are base64 with a prefix, so a space cannot occur inside one.
    const cacheKey = secrets.join(' ');
    const hit = cache.get(cacheKey);
    if (hit) {
      cache.delete(cacheKey);
      cache.set(cacheKey, hit);
      return hit;
    }
    const created = new Webhook(secrets);
    cache.set(cacheKey, created);
    if (cache.size > capacity) cache.delete(cache.keys().next().value!);
    return created;
  }

  return {
    sign({ keys, messageId, timestamp, body }) {
      return webhookFor(liveKeys(keys, timestamp)).headers(messageId, body, timestamp);
    },
  };
}

const defaultSigner = /* @__PURE__ */ createSigner();

/** Signs one attempt with the process-wide signer (see `createSigner`). */
export function signWebhook(input: SignInput): SignatureHeaders {
  return defaultSigner.sign(input);
}

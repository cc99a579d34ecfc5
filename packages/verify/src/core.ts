import { WebhookVerificationError } from './errors';

/** A request body as a receiver gets it. Verify the raw bytes, never re-serialised JSON. */
export type WebhookPayload = string | Uint8Array | ArrayBuffer;

/** Header shapes accepted by `verify`: WHATWG `Headers`, Node's `IncomingHttpHeaders`, or a plain record. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The three Standard Webhooks headers. */
export type WebhookUnbrandedRequiredHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** A secret as accepted by the constructor: `whsec_…` (or raw bytes with `format: "raw"`). */
export type WebhookSecret = string | Uint8Array;

export interface WebhookOptions {
  /** `"raw"`: the secret is the key itself (bytes, or a string of byte values), not base64. */
  format?: 'raw';
  /** How far a timestamp may be from now, in either direction. Default 300 seconds. */
  toleranceInSeconds?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

export interface VerifyOptions {
  /** `false` returns the verified body as a string instead of parsed JSON. */
  parse?: boolean;
  /** `standardwebhooks` compatibility: `false` returns `undefined` after verifying. */
  jsonParse?: boolean;
}

/** What is signed: `{id}.{timestamp}.{body}`. */
export interface SignedContent {
  readonly id: string;
  readonly timestamp: number;
  readonly payload: string | Uint8Array;
}

/** One live key: signs and/or checks the signatures of one version (`v1`, `v1a`). */
export interface WebhookKey {
  readonly version: string;
  /** The base64 signature, or throws if the key can only verify. */
  sign(content: SignedContent): string;
  /** True when any `<version>,<base64>` entry of the signature header is valid for this key. */
  matches(content: SignedContent, entries: readonly string[]): boolean;
}

const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const MAX_SIGNATURES = 32;
const TIMESTAMP = /^[0-9]{1,15}$/;

/**
 * True when `entry` is exactly `prefix` followed by `expected`, compared without
 * an early exit over the secret-dependent part (lengths are public).
 */
export function constantTimeEqual(entry: string, prefix: string, expected: string): boolean {
  const p = prefix.length;
  if (entry.length !== p + expected.length || !entry.startsWith(prefix)) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++)
    diff |= entry.charCodeAt(p + i) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** A `v1` key from a digest function: signs with it, and matches by constant-time comparison. */
export function symmetricKey(digest: (content: SignedContent) => string): WebhookKey {
  return {
    version: 'v1',
    sign: digest,
    matches(content, entries) {
      const expected = digest(content);
      let ok = false;
      for (let i = 0; i < entries.length; i++)
        ok = constantTimeEqual(entries[i]!, 'v1,', expected) || ok;
      return ok;
    },
  };
}

function toBytesOrString(payload: unknown): string | Uint8Array {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) {
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  throw new TypeError('payload must be the raw body: string, Uint8Array, Buffer or ArrayBuffer.');
}

function readHeaders(headers: WebhookHeaders): {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
} {
  const direct = headers as Record<string, unknown>;
  const id = direct['webhook-id'];
  const timestamp = direct['webhook-timestamp'];
  const signature = direct['webhook-signature'];
  // Fast path: Node's IncomingHttpHeaders and most plain objects use lowercase names.
  if (typeof id === 'string' && typeof timestamp === 'string' && typeof signature === 'string') {
    return { id, timestamp, signature };
  }
  if (typeof direct.get === 'function') {
    const h = headers as { get(name: string): string | null };
    return {
      id: h.get('webhook-id') ?? h.get('svix-id') ?? undefined,
      timestamp: h.get('webhook-timestamp') ?? h.get('svix-timestamp') ?? undefined,
      signature: h.get('webhook-signature') ?? h.get('svix-signature') ?? undefined,
    };
  }
  const found: Record<string, string | readonly string[] | undefined> = {};
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('webhook-') || lower.startsWith('svix-')) {
      found[lower] = (headers as Record<string, string | readonly string[] | undefined>)[key];
    }
  }
  const one = (v: string | readonly string[] | undefined): string | undefined =>
    typeof v === 'string' ? v : v?.[0];
  const signatures = found['webhook-signature'] ?? found['svix-signature'];
  return {
    id: one(found['webhook-id'] ?? found['svix-id']),
    timestamp: one(found['webhook-timestamp'] ?? found['svix-timestamp']),
    // A repeated signature header is the same list split in two.
    signature: typeof signatures === 'string' ? signatures : signatures?.join(' '),
  };
}

// Keeps a leading BOM: the text returned by `{ parse: false }` must verify again as a string.
const decoder = /* @__PURE__ */ new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The shared verifier. Entry points subclass it with the key types (and crypto)
 * they support, so HMAC-only users never load ed25519 code.
 */
export abstract class BaseWebhook {
  protected readonly keys: readonly WebhookKey[];
  private readonly toleranceMs: number;
  private readonly now: () => number;

  constructor(secret: WebhookSecret | readonly WebhookSecret[], options: WebhookOptions = {}) {
    const secrets = Array.isArray(secret)
      ? (secret as readonly WebhookSecret[])
      : [secret as WebhookSecret];
    if (secrets.length === 0) {
      throw new WebhookVerificationError('invalid_secret', 'At least one secret is required.');
    }
    this.keys = secrets.map((s) => {
      if (s === undefined || s === null || (typeof s === 'string' && s.trim() === '')) {
        throw new WebhookVerificationError('invalid_secret', "Secret can't be empty.");
      }
      return this.createKey(s, options);
    });
    const tolerance = options.toleranceInSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    if (!(tolerance >= 0)) throw new RangeError('toleranceInSeconds must be a number ≥ 0.');
    this.toleranceMs = tolerance * 1000;
    this.now = options.now ?? Date.now;
  }

  /** Turns one secret into a key; subclasses decide which prefixes they understand. */
  protected abstract createKey(secret: WebhookSecret, options: WebhookOptions): WebhookKey;

  /**
   * Checks the headers and signature of a webhook and returns its parsed JSON body
   * (or the raw body with `{ parse: false }`). Throws `WebhookVerificationError`.
   */
  verify(payload: WebhookPayload, headers: WebhookHeaders, options: { parse: false }): string;
  verify(payload: WebhookPayload, headers: WebhookHeaders, options?: VerifyOptions): unknown;
  verify(payload: WebhookPayload, headers: WebhookHeaders, options?: VerifyOptions): unknown {
    const body = toBytesOrString(payload);
    const { id, timestamp, signature } = readHeaders(headers);
    if (!id || !timestamp || !signature) {
      const missing = [
        !id && 'webhook-id',
        !timestamp && 'webhook-timestamp',
        !signature && 'webhook-signature',
      ].filter(Boolean);
      throw new WebhookVerificationError(
        'missing_headers',
        `Missing ${missing.join(', ')}: pass the request's headers unchanged.`,
      );
    }
    const seconds = this.checkTimestamp(timestamp);
    const content: SignedContent = { id, timestamp: seconds, payload: body };
    if (!this.checkSignatures(content, signature)) {
      throw new WebhookVerificationError(
        'no_matching_signature',
        'No matching signature: check the endpoint secret, and pass the raw body as received (not re-serialised JSON).',
      );
    }
    if (options?.jsonParse === false) return undefined;
    const text = typeof body === 'string' ? body : decoder.decode(body);
    if (options?.parse === false) return text;
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new WebhookVerificationError(
        'invalid_payload',
        'Signature valid, but the body is not JSON: use { parse: false } to get it as a string.',
        { cause },
      );
    }
  }

  /** `v1,<base64>` (or `v1a,…`) for the first secret, like `standardwebhooks`. */
  sign(msgId: string, timestamp: Date | number, payload: WebhookPayload): string {
    const key = this.keys[0]!;
    return `${key.version},${key.sign(this.content(msgId, timestamp, payload))}`;
  }

  /** The `webhook-signature` value with one signature per secret (for rotation). */
  signAll(msgId: string, timestamp: Date | number, payload: WebhookPayload): string {
    return this.signatures(this.content(msgId, timestamp, payload));
  }

  /** The three Standard Webhooks headers for a message, signed with every secret. */
  headers(
    msgId: string,
    payload: WebhookPayload,
    timestamp: Date | number = new Date(this.now()),
  ): WebhookUnbrandedRequiredHeaders {
    const content = this.content(msgId, timestamp, payload);
    return {
      'webhook-id': msgId,
      'webhook-timestamp': String(content.timestamp),
      'webhook-signature': this.signatures(content),
    };
  }

  private signatures(content: SignedContent): string {
    return this.keys.map((k) => `${k.version},${k.sign(content)}`).join(' ');
  }

  private content(msgId: string, timestamp: Date | number, payload: WebhookPayload): SignedContent {
    if (typeof msgId !== 'string' || msgId === '') {
      throw new TypeError('msgId must be a non-empty string.');
    }
    const seconds =
      typeof timestamp === 'number'
        ? Math.floor(timestamp)
        : Math.floor(timestamp.getTime() / 1000);
    if (!Number.isFinite(seconds)) throw new TypeError('timestamp must be a valid Date.');
    return { id: msgId, timestamp: seconds, payload: toBytesOrString(payload) };
  }

  private checkTimestamp(header: string): number {
    let text = header;
    if (!TIMESTAMP.test(text)) {
      text = header.trim();
      if (!TIMESTAMP.test(text)) {
        throw new WebhookVerificationError(
          'invalid_timestamp',
          'webhook-timestamp must be whole seconds since the Unix epoch.',
        );
      }
    }
    const seconds = Number(text);
    const skew = this.now() - seconds * 1000;
    if (skew > this.toleranceMs) {
      throw new WebhookVerificationError(
        'timestamp_too_old',
        `Timestamp too old (over ${this.toleranceMs / 1000} s ago): check this server's clock; it may be a replay.`,
      );
    }
    if (-skew > this.toleranceMs) {
      throw new WebhookVerificationError(
        'timestamp_too_new',
        `Timestamp too new (over ${this.toleranceMs / 1000} s ahead): check this server's clock.`,
      );
    }
    return seconds;
  }

  private checkSignatures(content: SignedContent, header: string): boolean {
    // A repeated header arrives joined with ", " (fetch's Headers, Node's req.headers).
    const list = header.indexOf(', ') < 0 ? header : header.replace(/, +/g, ' ');
    const entries = list.indexOf(' ') < 0 ? [list] : list.split(' ');
    if (entries.length > MAX_SIGNATURES) {
      throw new WebhookVerificationError(
        'invalid_signature_header',
        `webhook-signature has over ${MAX_SIGNATURES} entries.`,
      );
    }
    for (const key of this.keys) if (key.matches(content, entries)) return true;
    // Only on failure: say whether the header was usable at all.
    if (!entries.some((e) => e.indexOf(',') > 0)) {
      throw new WebhookVerificationError(
        'invalid_signature_header',
        'webhook-signature has no "v1,<base64>" entries.',
      );
    }
    return false;
  }
}

import { describeValue } from './validate';

/** Longest `Idempotency-Key` the gateway accepts. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const KEY = /^[\x21-\x7e]+$/;

/** A fresh idempotency key: a random UUID from Web Crypto (every runtime the SDK supports has it). */
export function newIdempotencyKey(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  if (typeof crypto?.getRandomValues === 'function') {
    // randomUUID is missing outside secure contexts in browsers; build a v4 UUID by hand.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  throw new Error(
    'Hookline: globalThis.crypto is not available to make an idempotency key; pass idempotencyKey yourself.',
  );
}

/** Checks a caller's idempotency key: 1–255 visible ASCII characters, as the gateway requires. */
export function checkIdempotencyKey(value: unknown, name = 'idempotencyKey'): string {
  if (typeof value === 'string' && value.length <= MAX_IDEMPOTENCY_KEY_LENGTH && KEY.test(value)) {
    return value;
  }
  const got =
    typeof value !== 'string'
      ? describeValue(value)
      : value === ''
        ? 'an empty string'
        : value.length > MAX_IDEMPOTENCY_KEY_LENGTH
          ? `${value.length} characters`
          : 'a string with spaces or characters outside visible ASCII';
  throw new TypeError(
    `Hookline: ${name} must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters without spaces, got ${got}.`,
  );
}

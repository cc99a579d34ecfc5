import { WebhookVerificationError } from './errors';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | (i + 1 < n ? bytes[i + 1]! << 8 : 0);
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]!;
    out += i + 1 < n ? `${ALPHABET[(v >> 6) & 63]!}=` : '==';
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard or URL-safe base64, padded or not. Returns `undefined` for
 * anything that is not base64, so callers decide which error to raise.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  // URL-safe input decodes too: secrets are copied around by people.
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!BASE64.test(std)) return undefined;
  let binary: string;
  try {
    binary = atob(std);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Decodes the base64 body of a prefixed key (`whsec_…`), or throws `invalid_secret`. */
export function decodeKey(text: string, prefix: string, what: string): Uint8Array {
  const body = text.startsWith(prefix) ? text.slice(prefix.length) : text;
  const bytes = decodeBase64(body.trim());
  if (!bytes || bytes.length === 0) {
    throw new WebhookVerificationError(
      'invalid_secret',
      `Invalid ${what}: expected "${prefix}" and base64.`,
    );
  }
  return bytes;
}

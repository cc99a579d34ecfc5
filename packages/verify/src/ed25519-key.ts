import { decodeBase64, decodeKey, encodeBase64 } from './base64';
import type { SignedContent, WebhookKey } from './core';
import { WebhookVerificationError } from './errors';
import { PUBLIC_KEY_PREFIX, SECRET_KEY_PREFIX } from './secret';

/** The primitive operations an ed25519 backend provides. */
export interface Ed25519Backend {
  publicFromSeed(seed: Uint8Array): Uint8Array;
  /** Prepares a key for repeated use (e.g. a native KeyObject). */
  signer(seed: Uint8Array, publicKey: Uint8Array): (message: Uint8Array) => Uint8Array;
  verifier(publicKey: Uint8Array): (signature: Uint8Array, message: Uint8Array) => boolean;
}

const encoder = /* @__PURE__ */ new TextEncoder();

function message(c: SignedContent): Uint8Array {
  if (typeof c.payload === 'string') return encoder.encode(`${c.id}.${c.timestamp}.${c.payload}`);
  const head = encoder.encode(`${c.id}.${c.timestamp}.`);
  const out = new Uint8Array(head.length + c.payload.length);
  out.set(head);
  out.set(c.payload, head.length);
  return out;
}

/** True for the prefixes of Standard Webhooks' asymmetric keys. */
export function isEd25519Key(secret: unknown): secret is string {
  return (
    typeof secret === 'string' &&
    (secret.startsWith(PUBLIC_KEY_PREFIX) || secret.startsWith(SECRET_KEY_PREFIX))
  );
}

/**
 * A `v1a` key from `whpk_<base64 32-byte public key>` (verify only) or
 * `whsk_<base64 32-byte seed>` (sign and verify; a 64-byte seed‖public key is accepted too).
 */
export function createEd25519Key(secret: string, backend: Ed25519Backend): WebhookKey {
  let publicKey: Uint8Array;
  let sign: ((m: Uint8Array) => Uint8Array) | undefined;
  if (secret.startsWith(SECRET_KEY_PREFIX)) {
    const bytes = decodeKey(secret, SECRET_KEY_PREFIX, 'ed25519 secret key');
    if (bytes.length !== 32 && bytes.length !== 64) {
      throw new WebhookVerificationError(
        'invalid_secret',
        'The ed25519 secret key (whsk_) must hold 32 bytes (or 64: seed and public key).',
      );
    }
    const seed = bytes.subarray(0, 32);
    publicKey = backend.publicFromSeed(seed);
    sign = backend.signer(seed, publicKey);
  } else {
    publicKey = decodeKey(secret, PUBLIC_KEY_PREFIX, 'ed25519 public key');
    if (publicKey.length !== 32) {
      throw new WebhookVerificationError(
        'invalid_secret',
        'The ed25519 public key (whpk_) must hold 32 bytes.',
      );
    }
  }
  const verify = backend.verifier(publicKey);
  return {
    version: 'v1a',
    sign(content) {
      if (!sign) {
        throw new WebhookVerificationError(
          'invalid_secret',
          'A public key (whpk_) can only verify; signing needs the secret key (whsk_).',
        );
      }
      return encodeBase64(sign(message(content)));
    },
    matches(content, entries) {
      let m: Uint8Array | undefined;
      for (const entry of entries) {
        if (!entry.startsWith('v1a,')) continue;
        m ??= message(content);
        const sig = decodeBase64(entry.slice(4));
        if (sig && sig.length === 64 && verify(sig, m)) return true;
      }
      return false;
    },
  };
}

/** A new ed25519 key pair as `whsk_`/`whpk_` strings. */
export function generateKeyPairWith(backend: Ed25519Backend): {
  secretKey: string;
  publicKey: string;
} {
  const seed = globalThis.crypto.getRandomValues(new Uint8Array(32));
  return {
    secretKey: SECRET_KEY_PREFIX + encodeBase64(seed),
    publicKey: PUBLIC_KEY_PREFIX + encodeBase64(backend.publicFromSeed(seed)),
  };
}

import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { encodeBase64 } from './base64';
import { type SignedContent, symmetricKey, type WebhookKey } from './core';

const encoder = /* @__PURE__ */ new TextEncoder();

/** HMAC-SHA256 (`v1`) with @noble/hashes: no `node:` imports, runs anywhere. */
export function createHmacKey(secret: Uint8Array): WebhookKey {
  // The keyed inner/outer state is computed once per secret and cloned per message.
  const keyed = hmac.create(sha256, secret);
  let scratch: typeof keyed | undefined;
  const digest = (c: SignedContent): string => {
    const h = keyed._cloneInto(scratch);
    scratch = h;
    if (typeof c.payload === 'string') {
      h.update(encoder.encode(`${c.id}.${c.timestamp}.${c.payload}`));
    } else {
      h.update(encoder.encode(`${c.id}.${c.timestamp}.`));
      h.update(c.payload);
    }
    return encodeBase64(h.digest());
  };
  return symmetricKey(digest);
}

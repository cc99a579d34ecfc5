import { sha256 } from '@noble/hashes/sha2';
import { encodeBase64 } from './base64';
import { type SignedContent, symmetricKey, type WebhookKey } from './core';

const encoder = /* @__PURE__ */ new TextEncoder();
type Sha256 = ReturnType<typeof sha256.create>;

/**
 * HMAC-SHA256 (`v1`) over @noble/hashes' SHA-256: no `node:` imports, runs anywhere.
 * HMAC (RFC 2104) is written out here rather than taken from `@noble/hashes/hmac`
 * to keep the browser bundle small; the keyed inner and outer states are computed
 * once per secret and copied into reused scratch objects per message.
 */
export function createHmacKey(secret: Uint8Array): WebhookKey {
  const key = secret.length > 64 ? sha256(secret) : secret;
  const pad = new Uint8Array(64);
  const keyed = (byte: number): Sha256 => {
    for (let i = 0; i < 64; i++) pad[i] = (key[i] ?? 0) ^ byte;
    return sha256.create().update(pad);
  };
  const inner = keyed(0x36);
  const outer = keyed(0x5c);
  pad.fill(0);
  let innerScratch: Sha256 | undefined;
  let outerScratch: Sha256 | undefined;
  const digest = (c: SignedContent): string => {
    const h = inner._cloneInto(innerScratch);
    innerScratch = h;
    if (typeof c.payload === 'string') {
      h.update(encoder.encode(`${c.id}.${c.timestamp}.${c.payload}`));
    } else {
      h.update(encoder.encode(`${c.id}.${c.timestamp}.`));
      h.update(c.payload);
    }
    const o = outer._cloneInto(outerScratch);
    outerScratch = o;
    return encodeBase64(o.update(h.digest()).digest());
  };
  return symmetricKey(digest);
}

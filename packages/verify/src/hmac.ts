import { encodeBase64 } from './base64';
import { type SignedContent, symmetricKey, type WebhookKey } from './core';
import { compress, finish, SHA256_IV, SHA256_PADDING, sha256, writeDigest } from './sha256';

const encoder = /* @__PURE__ */ new TextEncoder();

/** Scratch buffers up to this size are kept for the next message; larger ones are not. */
const KEEP_SCRATCH_BYTES = 1024 * 1024;
let scratch: Uint8Array | undefined;

/** A buffer of at least `size` bytes for one message (not kept when large). */
function room(size: number): Uint8Array {
  if (scratch && scratch.length >= size) return scratch;
  const buffer = new Uint8Array(Math.max(size, 2048));
  if (buffer.length <= KEEP_SCRATCH_BYTES) scratch = buffer;
  return buffer;
}

/**
 * HMAC-SHA256 (`v1`, RFC 2104) with no `node:` imports: runs anywhere. The SHA-256 is
 * `./sha256`; the keyed inner and outer states are computed once per secret, and each
 * message is encoded as UTF-8 straight into a reused buffer with room for its padding (and
 * wiped after hashing).
 */
export function createHmacKey(secret: Uint8Array): WebhookKey {
  const key = secret.length > 64 ? sha256(secret) : secret;
  const pad = new Uint8Array(64);
  const keyed = (byte: number): Int32Array => {
    for (let i = 0; i < 64; i++) pad[i] = (key[i] ?? 0) ^ byte;
    const state = SHA256_IV.slice();
    compress(state, pad, 0, 64);
    return state;
  };
  const inner = keyed(0x36);
  const outer = keyed(0x5c);
  pad.fill(0);
  const state = new Int32Array(8);
  // The inner digest and its padding: 32 bytes after the 64-byte key block, 768 bits.
  const outerBlock = new Uint8Array(64);
  outerBlock[32] = 0x80;
  outerBlock[62] = 0x03;
  const mac = new Uint8Array(32);

  const digest = (c: SignedContent): string => {
    const head = `${c.id}.${c.timestamp}.`;
    let buffer: Uint8Array;
    let n: number;
    if (typeof c.payload === 'string') {
      const text = head + c.payload;
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      buffer = room(text.length * 3 + SHA256_PADDING);
      n = encoder.encodeInto(text, buffer).written;
    } else {
      buffer = room(head.length * 3 + c.payload.length + SHA256_PADDING);
      n = encoder.encodeInto(head, buffer).written;
      buffer.set(c.payload, n);
      n += c.payload.length;
    }
    state.set(inner);
    finish(state, buffer, n, 64);
    // Keep nothing of the message between calls.
    buffer.fill(0, 0, n + SHA256_PADDING);
    writeDigest(state, outerBlock, 0);
    state.set(outer);
    compress(state, outerBlock, 0, 64);
    writeDigest(state, mac, 0);
    return encodeBase64(mac);
  };
  return symmetricKey(digest);
}

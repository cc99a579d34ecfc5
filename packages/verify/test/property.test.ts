// Property-based: the Node build (node:crypto) and the portable build (plain JS) must
// agree with each other, with a reference HMAC over the exact bytes, and with
// standardwebhooks wherever it is defined (valid UTF-8).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { WebhookPayload } from '../src/core';
import * as ed25519Portable from '../src/ed25519';
import * as ed25519Node from '../src/ed25519-node';
import * as portable from '../src/index';
import * as node from '../src/node';
import {
  ed25519Reference,
  expectVerificationError,
  hmacReference,
  propertyOptions,
  sensitiveStrings,
  webhookHeaders,
} from './helpers';
import type { VerifyModule } from './types';

const RUNS = 200;
const IMPLS = [
  ['node', node],
  ['portable', portable],
] as const satisfies readonly (readonly [string, VerifyModule])[];

const whsec = (key: Uint8Array) => `whsec_${Buffer.from(key).toString('base64')}`;
const clock = (seconds: number) => () => seconds * 1000;

const secretArb = fc.uint8Array({ minLength: 24, maxLength: 64 });
const idArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
);
const timestampArb = fc.integer({ min: 0, max: 4_102_444_800 });
/** Strings of any UTF-16 code units, lone surrogates included. */
const utf16Arb = fc.string({
  maxLength: 100,
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});
const unicodeArb = fc.oneof(
  fc.string({ maxLength: 200, unit: 'grapheme' }),
  fc.string({ maxLength: 200, unit: 'binary' }),
  utf16Arb,
);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const isUtf8 = (bytes: Uint8Array) => {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
};
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.string({ maxLength: 100, unit: 'binary' }).map((s) => new TextEncoder().encode(s)),
);

/** Signs with both builds, expects the reference, and has each build verify the other's headers. */
function agree(
  secret: string | Uint8Array,
  id: string,
  timestamp: number,
  payload: WebhookPayload,
  expected: string,
  options: { format?: 'raw' } = {},
): void {
  const n = new node.Webhook(secret, { ...options, now: clock(timestamp) });
  const p = new portable.Webhook(secret, { ...options, now: clock(timestamp) });
  expect({
    node: n.sign(id, timestamp, payload),
    portable: p.sign(id, timestamp, payload),
  }).toEqual({ node: expected, portable: expected });
  const headers = webhookHeaders(id, timestamp, expected);
  expect(
    n.verify(payload, p.headers(id, payload, timestamp), { jsonParse: false }),
  ).toBeUndefined();
  expect(
    p.verify(payload, n.headers(id, payload, timestamp), { jsonParse: false }),
  ).toBeUndefined();
  expect(n.verify(payload, headers, { parse: false })).toBe(
    p.verify(payload, headers, { parse: false }),
  );
}

describe('node and portable builds agree', () => {
  it('on any secret, id, timestamp and unicode string body, with the reference HMAC and standardwebhooks', () => {
    fc.assert(
      fc.property(secretArb, idArb, timestampArb, unicodeArb, (key, id, timestamp, body) => {
        const expected = hmacReference(key, id, timestamp, body);
        agree(whsec(key), id, timestamp, body, expected);
        // The same text as UTF-8 bytes signs the same.
        agree(whsec(key), id, timestamp, Buffer.from(body), expected);
        const reference = new StandardWebhook(whsec(key));
        expect(reference.sign(id, new Date(timestamp * 1000), body)).toBe(expected);
      }),
      propertyOptions(RUNS),
    );
  });

  it('on arbitrary bytes, signing exactly the id, timestamp and dots followed by the body bytes', () => {
    fc.assert(
      fc.property(secretArb, idArb, timestampArb, bytesArb, (key, id, timestamp, body) => {
        const expected = hmacReference(key, id, timestamp, body);
        agree(whsec(key), id, timestamp, body, expected);
        agree(whsec(key), id, timestamp, body.slice().buffer, expected);
        // standardwebhooks decodes bytes as UTF-8 first: only comparable on valid UTF-8.
        if (isUtf8(body)) {
          const reference = new StandardWebhook(whsec(key));
          expect(reference.sign(id, new Date(timestamp * 1000), Buffer.from(body))).toBe(expected);
        }
      }),
      propertyOptions(RUNS),
    );
  });

  it('on raw keys of 1 to 200 bytes, including keys longer than the 64-byte HMAC block', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        idArb,
        timestampArb,
        unicodeArb,
        (key, id, timestamp, body) => {
          agree(key, id, timestamp, body, hmacReference(key, id, timestamp, body), {
            format: 'raw',
          });
        },
      ),
      propertyOptions(RUNS),
    );
  });

  it('on rejecting a body changed in any single byte', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (key, body, at, delta) => {
          const headers = webhookHeaders(
            'msg_1',
            1_700_000_000,
            hmacReference(key, 'msg_1', 1_700_000_000, body),
          );
          const changed = body.slice();
          const i = at % body.length;
          changed[i] = (changed[i]! + delta) & 0xff;
          for (const [, impl] of IMPLS) {
            const wh = new impl.Webhook(whsec(key), { now: clock(1_700_000_000) });
            expectVerificationError(
              impl,
              () => wh.verify(changed, headers),
              'no_matching_signature',
              sensitiveStrings([whsec(key)], [headers['webhook-signature']!]),
            );
          }
        },
      ),
      propertyOptions(RUNS),
    );
  });

  it('on bodies of 2–3 KiB, where the node build grows its scratch buffer, and smaller ones after', () => {
    // Shrinking kilobytes character by character would take minutes and show nothing more.
    const ascii = fc.noShrink(
      fc.string({ minLength: 1900, maxLength: 3300, unit: 'grapheme-ascii' }),
    );
    const accented = fc.noShrink(
      fc.string({ minLength: 600, maxLength: 1200, unit: fc.constantFrom('é', 'ж', '€', '😀') }),
    );
    const bytes = fc.noShrink(fc.uint8Array({ minLength: 1900, maxLength: 3300 }));
    fc.assert(
      fc.property(
        secretArb,
        idArb,
        timestampArb,
        fc.array(fc.oneof(ascii, accented, bytes, unicodeArb), { minLength: 2, maxLength: 5 }),
        (key, id, timestamp, bodies) => {
          // One instance per build for the whole sequence: each body reuses (or grows) the scratch.
          const n = new node.Webhook(whsec(key));
          const p = new portable.Webhook(whsec(key));
          for (const body of [...bodies, 'small {}', ...[...bodies].reverse()]) {
            const expected = hmacReference(key, id, timestamp, body);
            expect(n.sign(id, timestamp, body)).toBe(expected);
            expect(p.sign(id, timestamp, body)).toBe(expected);
          }
        },
      ),
      propertyOptions(RUNS),
    );
  });
});

describe('node and portable builds agree on sizes the node build treats specially', () => {
  const key = randomBytes(32);
  const id = 'msg_boundary';
  const timestamp = 1_700_000_000;
  const head = `${id}.${timestamp}.`.length;

  it('signs bodies on either side of the initial 2 KiB scratch size, growing in the middle', () => {
    const n = new node.Webhook(whsec(key));
    const p = new portable.Webhook(whsec(key));
    const fits = 2048 - head;
    for (let size = fits - 40; size <= fits + 40; size++) {
      for (const body of ['x'.repeat(size), new Uint8Array(size).fill(size & 0xff)]) {
        const expected = hmacReference(key, id, timestamp, body);
        expect(n.sign(id, timestamp, body)).toBe(expected);
        expect(p.sign(id, timestamp, body)).toBe(expected);
      }
    }
  });

  it('signs bodies on either side of the 256 KiB streaming threshold, then small ones again', () => {
    const n = new node.Webhook(whsec(key));
    const threshold = 256 * 1024 - 64 - head;
    const bodies: (string | Uint8Array)[] = [
      'a'.repeat(threshold),
      'a'.repeat(threshold + 1),
      randomBytes(threshold),
      randomBytes(threshold + 1),
      '{"small":true}',
    ];
    for (const body of bodies) {
      const expected = hmacReference(key, id, timestamp, body);
      agree(whsec(key), id, timestamp, body, expected);
      expect(n.sign(id, timestamp, body)).toBe(expected);
    }
  });

  it('signs and verifies bodies larger than 256 KiB, as bytes, ASCII and multi-byte text', () => {
    const json = JSON.stringify({ data: 'ü€😀'.repeat(40_000) });
    const bodies: (string | Uint8Array)[] = [
      randomBytes(300 * 1024),
      'z'.repeat(300 * 1024),
      // Under 256 Ki UTF-16 units but over 256 KiB of UTF-8.
      'é'.repeat(140_000),
      // Over the 3-bytes-per-unit estimate but under the threshold once measured.
      'é'.repeat(100_000),
      json,
    ];
    for (const body of bodies) {
      agree(whsec(key), id, timestamp, body, hmacReference(key, id, timestamp, body));
    }
    const wh = new node.Webhook(whsec(key), { now: clock(timestamp) });
    expect(wh.verify(json, wh.headers(id, json, timestamp))).toEqual(JSON.parse(json));
    const reference = new StandardWebhook(whsec(key));
    expect(reference.sign(id, new Date(timestamp * 1000), json)).toBe(
      hmacReference(key, id, timestamp, json),
    );
  });
});

describe('ed25519 node and portable builds agree', () => {
  it('on the v1a signature of any seed, id, timestamp and body, and verify each other', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        idArb,
        timestampArb,
        fc.oneof(unicodeArb, bytesArb),
        (seed, id, timestamp, body) => {
          const secretKey = `whsk_${Buffer.from(seed).toString('base64')}`;
          const expected = ed25519Reference(secretKey, id, timestamp, body);
          const n = new ed25519Node.Webhook(secretKey, { now: clock(timestamp) });
          const p = new ed25519Portable.Webhook(secretKey, { now: clock(timestamp) });
          expect(n.sign(id, timestamp, body)).toBe(expected);
          expect(p.sign(id, timestamp, body)).toBe(expected);
          const headers = webhookHeaders(id, timestamp, expected);
          expect(n.verify(body, headers, { jsonParse: false })).toBeUndefined();
          expect(p.verify(body, headers, { jsonParse: false })).toBeUndefined();
        },
      ),
      propertyOptions(50),
    );
  });

  it('on the public key of generated key pairs', () => {
    for (const [mine, theirs] of [
      [ed25519Node, ed25519Portable],
      [ed25519Portable, ed25519Node],
    ] as const) {
      const { secretKey, publicKey } = mine.generateKeyPair();
      const signature = new theirs.Webhook(secretKey).sign('msg_1', 1_700_000_000, '{}');
      const wh = new theirs.Webhook(publicKey, { now: clock(1_700_000_000) });
      expect(wh.verify('{}', webhookHeaders('msg_1', 1_700_000_000, signature))).toEqual({});
    }
  });
});

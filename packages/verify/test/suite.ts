import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebhookHeaders, WebhookOptions, WebhookSecret } from '../src/core';
import type { WebhookVerificationErrorCode } from '../src/errors';
import {
  ed25519Reference,
  expectNoLeak,
  expectVerificationError,
  hmacReference,
  propertyOptions,
  secretBytes,
  sensitiveStrings,
  webhookHeaders,
} from './helpers';
import type { Ed25519Module, VerifyModule, WebhookInstance } from './types';
import { ED25519_KEYS, VECTORS } from './vectors';

const [V1, V2] = VECTORS;
const SECRET = V1.secret;
const OTHER_SECRET = V2.secret;
const MSG_ID = V1.id;
const PAYLOAD = V1.payload;
const PARSED = V1.parsed;
/** The injected clock of every test, in seconds: far from the vectors' timestamps on purpose. */
const NOW = 1_700_000_000;

const clock = (seconds: number) => () => seconds * 1000;

interface Message {
  secret: string;
  id: string;
  timestamp: number;
  payload: string | Uint8Array;
  signature: string;
  headers: Record<string, string>;
}

/** A message signed with the reference HMAC (never with the code under test). */
function message(over: Partial<Pick<Message, 'secret' | 'id' | 'timestamp' | 'payload'>> = {}) {
  const m = { secret: SECRET, id: MSG_ID, timestamp: NOW, payload: PAYLOAD, ...over };
  const signature = hmacReference(secretBytes(m.secret), m.id, m.timestamp, m.payload);
  return { ...m, signature, headers: webhookHeaders(m.id, m.timestamp, signature) } as Message;
}

/** Flips one base64 character of a `v1,` / `v1a,` signature, keeping it well formed. */
function tamper(signature: string): string {
  const i = signature.indexOf(',') + 1;
  const c = signature[i] === 'A' ? 'B' : 'A';
  return signature.slice(0, i) + c + signature.slice(i + 1);
}

function signatureValues(headers: WebhookHeaders): string[] {
  if (headers instanceof Headers) {
    return [headers.get('webhook-signature') ?? '', headers.get('svix-signature') ?? ''];
  }
  return Object.entries(headers)
    .filter(([name]) => name.toLowerCase().endsWith('signature'))
    .flatMap(([, v]) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : []));
}

/**
 * The shared conformance suite: the same tests for every build of the main
 * entry point (and of `./ed25519`, whose `Webhook` must behave identically for HMAC).
 */
export function defineVerifySuite(
  name: string,
  impl: VerifyModule,
  options: { entry?: 'main' | 'ed25519' } = {},
): void {
  const entry = options.entry ?? 'main';

  const webhook = (
    secret: WebhookSecret | readonly WebhookSecret[] = SECRET,
    opts: WebhookOptions = {},
  ): WebhookInstance => new impl.Webhook(secret, { now: clock(NOW), ...opts });

  /** Expects `verify` to fail with `code`, revealing neither the secrets nor the signatures sent. */
  const verifyRejects = (
    code: WebhookVerificationErrorCode,
    wh: WebhookInstance,
    payload: string | Uint8Array,
    headers: WebhookHeaders,
    secrets: readonly string[] = [SECRET],
  ) =>
    expectVerificationError(
      impl,
      () => wh.verify(payload, headers),
      code,
      sensitiveStrings(secrets, signatureValues(headers)),
    );

  const constructorRejects = (secret: unknown, sensitive: readonly string[] = []) =>
    expectVerificationError(
      impl,
      () => new impl.Webhook(secret as WebhookSecret),
      'invalid_secret',
      sensitiveStrings(sensitive, []),
    );

  describe(name, () => {
    describe('Standard Webhooks test vectors', () => {
      VECTORS.forEach((v, i) => {
        it(`agrees with the reference HMAC the other tests sign with (vector ${i + 1})`, () => {
          expect(hmacReference(secretBytes(v.secret), v.id, v.timestamp, v.payload)).toBe(
            v.signature,
          );
        });

        it(`signs vector ${i + 1} exactly as the specification does`, () => {
          const wh = new impl.Webhook(v.secret);
          expect(wh.sign(v.id, new Date(v.timestamp * 1000), v.payload)).toBe(v.signature);
          expect(wh.sign(v.id, v.timestamp, v.payload)).toBe(v.signature);
          expect(wh.sign(v.id, v.timestamp, new TextEncoder().encode(v.payload))).toBe(v.signature);
        });

        it(`verifies vector ${i + 1} and returns its parsed JSON`, () => {
          const wh = new impl.Webhook(v.secret, { now: clock(v.timestamp) });
          expect(wh.verify(v.payload, webhookHeaders(v.id, v.timestamp, v.signature))).toEqual(
            v.parsed,
          );
        });

        it(`verifies vector ${i + 1} with the secret given without its whsec_ prefix`, () => {
          const wh = new impl.Webhook(v.secret.slice('whsec_'.length), {
            now: clock(v.timestamp),
          });
          expect(wh.verify(v.payload, webhookHeaders(v.id, v.timestamp, v.signature))).toEqual(
            v.parsed,
          );
        });
      });
    });

    describe('verify, breaking exactly one thing per test', () => {
      it('accepts the unmodified message (the control for the tests below)', () => {
        const m = message();
        expect(webhook().verify(m.payload, m.headers)).toEqual(PARSED);
      });

      it('rejects a timestamp older than five minutes', () => {
        const m = message({ timestamp: NOW - 301 });
        verifyRejects('timestamp_too_old', webhook(), m.payload, m.headers);
      });

      it('rejects a timestamp more than five minutes in the future', () => {
        const m = message({ timestamp: NOW + 301 });
        verifyRejects('timestamp_too_new', webhook(), m.payload, m.headers);
      });

      it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
        'rejects a message without the %s header, naming it',
        (header) => {
          const m = message();
          delete m.headers[header];
          const error = verifyRejects('missing_headers', webhook(), m.payload, m.headers);
          expect(error.message).toContain(header);
        },
      );

      it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
        'rejects an empty %s header as missing',
        (header) => {
          const m = message();
          m.headers[header] = '';
          verifyRejects('missing_headers', webhook(), m.payload, m.headers);
        },
      );

      it('rejects a signature cut short after eight characters', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-signature': m.signature.slice(0, 8) };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });

      it('rejects a bare "v1," signature', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-signature': 'v1,' };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });

      it('rejects a well-formed signature with one character changed', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-signature': tamper(m.signature) };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });

      it.each([0, 1, 2, 3])(
        'accepts a multi-signature header with the valid signature at position %i',
        (position) => {
          const m = message();
          const entries = [
            'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
            'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
            tamper(m.signature),
          ];
          entries.splice(position, 0, m.signature);
          const headers = { ...m.headers, 'webhook-signature': entries.join(' ') };
          expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
        },
      );

      it('rejects a multi-signature header in which no signature matches', () => {
        const m = message();
        const signature = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${tamper(m.signature)}`;
        const headers = { ...m.headers, 'webhook-signature': signature };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });

      it('rejects a message signed with another secret', () => {
        const m = message({ secret: OTHER_SECRET });
        verifyRejects('no_matching_signature', webhook(SECRET), m.payload, m.headers, [
          SECRET,
          OTHER_SECRET,
        ]);
      });

      it('rejects a body changed after signing', () => {
        const m = message();
        verifyRejects('no_matching_signature', webhook(), '{"test": 2432232315}', m.headers);
      });

      it('rejects a body with a newline appended after signing', () => {
        const m = message();
        verifyRejects('no_matching_signature', webhook(), `${PAYLOAD}\n`, m.headers);
      });

      it('rejects a webhook-id changed after signing', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJeK' };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });

      it('rejects a webhook-timestamp moved by one second after signing', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-timestamp': String(NOW + 1) };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });

      it.each(['hello', `${NOW}abc`, `-${NOW}`, `${NOW}.5`, '1e9', '0x6553f100', ' '])(
        'rejects the non-numeric timestamp %j',
        (timestamp) => {
          const m = message();
          const headers = { ...m.headers, 'webhook-timestamp': timestamp };
          verifyRejects('invalid_timestamp', webhook(), m.payload, headers);
        },
      );

      it.each([' ', '   ', 'not-a-signature', 'v1', ',abc'])(
        'rejects the signature header %j, which holds no "version,signature" entry',
        (signature) => {
          const m = message();
          const headers = { ...m.headers, 'webhook-signature': signature };
          verifyRejects('invalid_signature_header', webhook(), m.payload, headers);
        },
      );

      it('rejects a signature header listing more than 32 signatures', () => {
        const m = message();
        const junk = Array.from({ length: 32 }, () => tamper(m.signature));
        const headers = { ...m.headers, 'webhook-signature': [...junk, m.signature].join(' ') };
        verifyRejects('invalid_signature_header', webhook(), m.payload, headers);
      });

      it('accepts 32 signatures with the valid one last', () => {
        const m = message();
        const junk = Array.from({ length: 31 }, () => tamper(m.signature));
        const headers = { ...m.headers, 'webhook-signature': [...junk, m.signature].join(' ') };
        expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
      });

      it('reports a correctly signed body that is not JSON as invalid_payload, not a SyntaxError', () => {
        const m = message({ payload: 'not json {' });
        const error = verifyRejects('invalid_payload', webhook(), m.payload, m.headers);
        expect(error).not.toBeInstanceOf(SyntaxError);
        expect(error.cause).toBeInstanceOf(SyntaxError);
      });
    });

    describe('verify results', () => {
      it('returns the raw body string with { parse: false }', () => {
        const m = message();
        expect(webhook().verify(m.payload, m.headers, { parse: false })).toBe(PAYLOAD);
      });

      it('returns a correctly signed body that is not JSON unchanged with { parse: false }', () => {
        const m = message({ payload: 'a=1&b=2' });
        expect(webhook().verify(m.payload, m.headers, { parse: false })).toBe('a=1&b=2');
      });

      it('returns undefined with { jsonParse: false } after verifying, like standardwebhooks', () => {
        const m = message();
        expect(webhook().verify(m.payload, m.headers, { jsonParse: false })).toBeUndefined();
      });

      it('still rejects a bad signature with { jsonParse: false }', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-signature': tamper(m.signature) };
        expectVerificationError(
          impl,
          () => webhook().verify(m.payload, headers, { jsonParse: false }),
          'no_matching_signature',
          sensitiveStrings([SECRET], [m.signature, headers['webhook-signature']!]),
        );
      });

      it('returns undefined for a correctly signed empty body', () => {
        const m = message({ payload: '' });
        expect(webhook().verify('', m.headers)).toBeUndefined();
        expect(webhook().verify(new Uint8Array(0), m.headers)).toBeUndefined();
      });

      it('returns an empty string for an empty body with { parse: false }', () => {
        const m = message({ payload: '' });
        expect(webhook().verify('', m.headers, { parse: false })).toBe('');
      });

      it('rejects an empty body when a non-empty one was signed', () => {
        const m = message();
        verifyRejects('no_matching_signature', webhook(), '', m.headers);
      });
    });

    describe('payload types', () => {
      const bytes = () => new TextEncoder().encode(PAYLOAD);
      it.each<[string, () => string | Uint8Array | ArrayBuffer]>([
        ['a string', () => PAYLOAD],
        ['a Uint8Array', bytes],
        ['an ArrayBuffer', () => bytes().slice().buffer],
        ['a Buffer', () => Buffer.from(PAYLOAD)],
        [
          'a Uint8Array view into a larger buffer',
          () => {
            const big = new Uint8Array(PAYLOAD.length + 20).fill(0x41);
            big.set(bytes(), 7);
            return big.subarray(7, 7 + PAYLOAD.length);
          },
        ],
      ])('verifies a body given as %s', (_, body) => {
        const m = message();
        expect(webhook().verify(body(), m.headers)).toEqual(PARSED);
        expect(webhook().sign(MSG_ID, NOW, body())).toBe(m.signature);
      });

      it('signs a non-ASCII body identically as a string and as its UTF-8 bytes', () => {
        const payload = '{"name":"Zoë 🚀 日本語"}';
        const m = message({ payload });
        const wh = webhook();
        expect(wh.sign(MSG_ID, NOW, payload)).toBe(m.signature);
        expect(wh.sign(MSG_ID, NOW, Buffer.from(payload))).toBe(m.signature);
        expect(wh.verify(Buffer.from(payload), m.headers)).toEqual({ name: 'Zoë 🚀 日本語' });
      });

      it('signs a string with a lone surrogate as its UTF-8 encoding (U+FFFD)', () => {
        const payload = '"\uD800 and \uDFFF"';
        expect(webhook().sign(MSG_ID, NOW, payload)).toBe(message({ payload }).signature);
      });

      it('signs and verifies bytes that are not UTF-8 over their exact bytes', () => {
        const payload = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
        const m = message({ payload });
        expect(webhook().sign(MSG_ID, NOW, payload)).toBe(m.signature);
        expect(typeof webhook().verify(payload, m.headers, { parse: false })).toBe('string');
        verifyRejects('invalid_payload', webhook(), payload, m.headers);
      });

      it('returns a byte body with a leading byte-order mark unchanged, so it verifies again as a string', () => {
        const payload = Buffer.from('\uFEFF{"a":1}');
        const m = message({ payload });
        const text = webhook().verify(payload, m.headers, { parse: false });
        expect(text).toBe('\uFEFF{"a":1}');
        expect(webhook().verify(text, m.headers, { parse: false })).toBe(text);
      });
    });

    describe('headers', () => {
      it('reads a WHATWG Headers object', () => {
        const m = message();
        expect(webhook().verify(m.payload, new Headers(m.headers))).toEqual(PARSED);
      });

      it('reads plain-object header names in any letter case', () => {
        const m = message();
        const headers = {
          'Webhook-Id': m.id,
          'WEBHOOK-TIMESTAMP': String(m.timestamp),
          'webhook-Signature': m.signature,
        };
        expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
      });

      it('reads Node-style array values, taking the first id and timestamp', () => {
        const m = message();
        const headers = {
          'webhook-id': [m.id, 'msg_other'],
          'webhook-timestamp': [String(m.timestamp)],
          'webhook-signature': [m.signature],
        };
        expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
      });

      it.each([0, 1])(
        'joins an array of signature headers with a space, matching element %i',
        (position) => {
          const m = message();
          const signatures = [tamper(m.signature)];
          signatures.splice(position, 0, m.signature);
          const headers = { ...m.headers, 'webhook-signature': signatures };
          expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
        },
      );

      it('rejects an empty array of signature headers as missing', () => {
        const m = message();
        const headers = { ...m.headers, 'webhook-signature': [] as string[] };
        verifyRejects('missing_headers', webhook(), m.payload, headers);
      });

      it.each([0, 1])(
        'accepts a repeated signature header joined with ", " (as Node and fetch do), matching element %i',
        (position) => {
          const m = message();
          const signatures = [tamper(m.signature)];
          signatures.splice(position, 0, m.signature);
          const joined = { ...m.headers, 'webhook-signature': signatures.join(', ') };
          expect(webhook().verify(m.payload, joined)).toEqual(PARSED);
          const headers = new Headers({ 'webhook-id': m.id, 'webhook-timestamp': `${NOW}` });
          for (const s of signatures) headers.append('webhook-signature', s);
          expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
        },
      );

      it('reads the svix-id, svix-timestamp and svix-signature aliases from a plain object', () => {
        const m = message();
        const headers = {
          'svix-id': m.id,
          'Svix-Timestamp': String(m.timestamp),
          'SVIX-SIGNATURE': m.signature,
        };
        expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
      });

      it('reads the svix-* aliases from a WHATWG Headers object', () => {
        const m = message();
        const headers = new Headers({
          'svix-id': m.id,
          'svix-timestamp': String(m.timestamp),
          'svix-signature': m.signature,
        });
        expect(webhook().verify(m.payload, headers)).toEqual(PARSED);
      });

      it('still checks the signature when it arrives under a svix-* name', () => {
        const m = message();
        const headers = {
          'svix-id': m.id,
          'svix-timestamp': String(m.timestamp),
          'svix-signature': tamper(m.signature),
        };
        verifyRejects('no_matching_signature', webhook(), m.payload, headers);
      });
    });

    describe('clock and tolerance', () => {
      it('checks the timestamp against the injected clock, not the system clock', () => {
        const m = message();
        expect(webhook().verify(m.payload, m.headers)).toEqual(PARSED);
        verifyRejects('timestamp_too_old', new impl.Webhook(SECRET), m.payload, m.headers);
      });

      it('verifies a message signed just now with the default clock', () => {
        const wh = new impl.Webhook(SECRET);
        expect(wh.verify(PAYLOAD, wh.headers(MSG_ID, PAYLOAD))).toEqual(PARSED);
        const now = Math.floor(Date.now() / 1000);
        expect(wh.verify(PAYLOAD, message({ timestamp: now }).headers)).toEqual(PARSED);
      });

      it('accepts a timestamp exactly five minutes old', () => {
        const m = message({ timestamp: NOW - 300 });
        expect(webhook().verify(m.payload, m.headers)).toEqual(PARSED);
      });

      it('rejects a timestamp five minutes and one millisecond old', () => {
        const m = message({ timestamp: NOW - 300 });
        const wh = webhook(SECRET, { now: () => NOW * 1000 + 1 });
        verifyRejects('timestamp_too_old', wh, m.payload, m.headers);
      });

      it('accepts a timestamp exactly five minutes ahead', () => {
        const m = message({ timestamp: NOW + 300 });
        expect(webhook().verify(m.payload, m.headers)).toEqual(PARSED);
      });

      it('rejects a timestamp five minutes and one millisecond ahead', () => {
        const m = message({ timestamp: NOW + 300 });
        const wh = webhook(SECRET, { now: () => NOW * 1000 - 1 });
        verifyRejects('timestamp_too_new', wh, m.payload, m.headers);
      });

      it.each([
        [-10, 'ok'],
        [10, 'ok'],
        [-11, 'timestamp_too_old'],
        [11, 'timestamp_too_new'],
      ] as const)(
        'with toleranceInSeconds: 10, treats a timestamp %i s away as %s',
        (offset, outcome) => {
          const m = message({ timestamp: NOW + offset });
          const wh = webhook(SECRET, { toleranceInSeconds: 10 });
          if (outcome === 'ok') expect(wh.verify(m.payload, m.headers)).toEqual(PARSED);
          else verifyRejects(outcome, wh, m.payload, m.headers);
        },
      );

      it('accepts an older message when the tolerance is widened', () => {
        const m = message({ timestamp: NOW - 3000 });
        expect(webhook(SECRET, { toleranceInSeconds: 3600 }).verify(m.payload, m.headers)).toEqual(
          PARSED,
        );
      });

      it('stamps headers() with the injected clock, in whole seconds, when no timestamp is given', () => {
        const wh = webhook(SECRET, { now: () => NOW * 1000 + 999 });
        expect(wh.headers(MSG_ID, PAYLOAD)).toEqual(message().headers);
      });
    });

    describe('signing', () => {
      it('signs with a Date or with whole seconds, truncating to the second', () => {
        const wh = webhook();
        const expected = message().signature;
        expect(wh.sign(MSG_ID, new Date(NOW * 1000 + 999), PAYLOAD)).toBe(expected);
        expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(expected);
      });

      it('signs with the first secret only', () => {
        const wh = webhook([OTHER_SECRET, SECRET]);
        expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(message({ secret: OTHER_SECRET }).signature);
      });

      it('lists one signature per secret, in order, space-separated, in signAll', () => {
        const wh = webhook([OTHER_SECRET, SECRET]);
        const expected = `${message({ secret: OTHER_SECRET }).signature} ${message().signature}`;
        expect(wh.signAll(MSG_ID, NOW, PAYLOAD)).toBe(expected);
      });

      it('returns the three webhook-* headers signed with every secret from headers()', () => {
        const wh = webhook([OTHER_SECRET, SECRET]);
        expect(wh.headers(MSG_ID, PAYLOAD, NOW)).toEqual({
          'webhook-id': MSG_ID,
          'webhook-timestamp': String(NOW),
          'webhook-signature': wh.signAll(MSG_ID, NOW, PAYLOAD),
        });
        expect(wh.headers(MSG_ID, PAYLOAD, new Date(NOW * 1000))).toEqual(
          wh.headers(MSG_ID, PAYLOAD, NOW),
        );
      });

      it('verifies what it signs, for string and byte bodies', () => {
        const wh = webhook();
        expect(wh.verify(PAYLOAD, wh.headers(MSG_ID, PAYLOAD))).toEqual(PARSED);
        const bytes = new TextEncoder().encode(PAYLOAD);
        expect(wh.verify(bytes, wh.headers(MSG_ID, bytes))).toEqual(PARSED);
      });
    });

    describe('key rotation', () => {
      const rotated = () => {
        const m = message();
        const both = `${message({ secret: OTHER_SECRET }).signature} ${m.signature}`;
        return { m, headers: { ...m.headers, 'webhook-signature': both } };
      };

      it('verifies a header with new and old signatures using the new secret alone', () => {
        const { m, headers } = rotated();
        expect(webhook(OTHER_SECRET).verify(m.payload, headers)).toEqual(PARSED);
      });

      it('verifies a header with new and old signatures using the old secret alone', () => {
        const { m, headers } = rotated();
        expect(webhook(SECRET).verify(m.payload, headers)).toEqual(PARSED);
      });

      it('verifies a header with new and old signatures using both secrets', () => {
        const { m, headers } = rotated();
        expect(webhook([OTHER_SECRET, SECRET]).verify(m.payload, headers)).toEqual(PARSED);
        expect(webhook([SECRET, OTHER_SECRET]).verify(m.payload, headers)).toEqual(PARSED);
      });

      it('accepts a message signed only by the old secret while both secrets are live', () => {
        const m = message();
        expect(webhook([OTHER_SECRET, SECRET]).verify(m.payload, m.headers)).toEqual(PARSED);
      });

      it('rejects a message signed only by a retired secret with no_matching_signature', () => {
        const m = message();
        verifyRejects('no_matching_signature', webhook(OTHER_SECRET), m.payload, m.headers, [
          SECRET,
          OTHER_SECRET,
        ]);
      });

      it('skips signatures of unknown versions, even when their bytes are right', () => {
        const m = message();
        const forged = m.signature.replace(/^v1,/, 'v2,');
        const mixed = {
          ...m.headers,
          'webhook-signature': `${forged} v1a,${'A'.repeat(86)}== ${m.signature}`,
        };
        expect(webhook().verify(m.payload, mixed)).toEqual(PARSED);
        const onlyUnknown = { ...m.headers, 'webhook-signature': forged };
        verifyRejects('no_matching_signature', webhook(), m.payload, onlyUnknown);
      });
    });

    describe('constructor', () => {
      it.each([
        ['an empty string', ''],
        ['whitespace', ' \t  '],
        ['a bare prefix', 'whsec_'],
        ['a prefix followed by whitespace', 'whsec_   '],
        ['text that is not base64', 'whsec_th1s*1s~n0t/b64!'],
        ['base64 of an impossible length', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA'],
      ])('rejects %s as a secret with invalid_secret', (_, secret) => {
        constructorRejects(secret, [secret]);
      });

      it('rejects an empty list of secrets', () => {
        constructorRejects([]);
      });

      it('rejects a list of secrets that contains an empty one', () => {
        constructorRejects([SECRET, ''], [SECRET]);
      });

      it.each([undefined, null, 42, {}])('rejects %j as a secret', (secret) => {
        constructorRejects(secret);
      });

      it('rejects an empty Uint8Array as a raw secret', () => {
        expectVerificationError(
          impl,
          () => new impl.Webhook(new Uint8Array(0), { format: 'raw' }),
          'invalid_secret',
        );
      });

      it('accepts a secret without base64 padding', () => {
        const key = Buffer.from('twenty-five bytes of key!');
        const padded = `whsec_${key.toString('base64')}`;
        expect(padded.endsWith('=')).toBe(true);
        const unpadded = padded.replace(/=+$/, '');
        const expected = hmacReference(key, MSG_ID, NOW, PAYLOAD);
        expect(webhook(padded).sign(MSG_ID, NOW, PAYLOAD)).toBe(expected);
        expect(webhook(unpadded).sign(MSG_ID, NOW, PAYLOAD)).toBe(expected);
        const headers = webhookHeaders(MSG_ID, NOW, expected);
        expect(webhook(unpadded).verify(PAYLOAD, headers)).toEqual(PARSED);
      });

      it("uses a raw string's characters as the key with format: 'raw'", () => {
        const raw = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
        const wh = webhook(raw, { format: 'raw' });
        const expected = hmacReference(Buffer.from(raw, 'latin1'), MSG_ID, NOW, PAYLOAD);
        expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(expected);
        expect(expected).not.toBe(message().signature);
        expect(wh.verify(PAYLOAD, webhookHeaders(MSG_ID, NOW, expected))).toEqual(PARSED);
      });

      it("uses Uint8Array bytes as the key with format: 'raw'", () => {
        const key = new Uint8Array(secretBytes(SECRET));
        const wh = webhook(key, { format: 'raw' });
        expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(message().signature);
        expect(wh.verify(PAYLOAD, message().headers)).toEqual(PARSED);
      });

      it.each([1, 63, 64, 65, 100, 200])(
        'signs with a raw key of %i bytes as HMAC does (hashing keys over 64 bytes)',
        (length) => {
          const key = new Uint8Array(length).map((_, i) => (i * 37 + 11) & 0xff);
          const wh = webhook(key, { format: 'raw' });
          expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(hmacReference(key, MSG_ID, NOW, PAYLOAD));
        },
      );

      if (entry === 'main') {
        it.each([
          ['public', ED25519_KEYS.publicKey],
          ['secret', ED25519_KEYS.secretKey],
        ])(
          'refuses an ed25519 %s key with invalid_secret, naming the @hookline/verify/ed25519 import',
          (_, key) => {
            const error = constructorRejects(key, [key]);
            expect(error.message).toContain('@hookline/verify/ed25519');
          },
        );
      }
    });

    describe('generateSecret', () => {
      it('generates a whsec_ secret of 32 random bytes by default that signs and verifies', () => {
        const secret = impl.generateSecret();
        expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
        expect(secretBytes(secret)).toHaveLength(32);
        const wh = webhook(secret);
        expect(wh.verify(PAYLOAD, wh.headers(MSG_ID, PAYLOAD))).toEqual(PARSED);
        expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(message({ secret }).signature);
      });

      it.each([24, 64])('generates a secret of %i bytes on request', (bytes) => {
        expect(secretBytes(impl.generateSecret(bytes))).toHaveLength(bytes);
      });

      it.each([23, 65, 32.5, 0])('refuses to generate a secret of %s bytes', (bytes) => {
        expect(() => impl.generateSecret(bytes)).toThrow(RangeError);
      });

      it('generates a different secret every time', () => {
        const secrets = new Set(Array.from({ length: 20 }, () => impl.generateSecret()));
        expect(secrets.size).toBe(20);
      });
    });

    describe('error hygiene', () => {
      const m = message();
      const wrong = message({ secret: OTHER_SECRET });
      const cases: [WebhookVerificationErrorCode, () => unknown, string[]][] = [
        [
          'missing_headers',
          () => webhook().verify(PAYLOAD, { 'webhook-signature': m.signature }),
          [m.signature],
        ],
        [
          'invalid_timestamp',
          () => webhook().verify(PAYLOAD, { ...m.headers, 'webhook-timestamp': 'soon' }),
          [m.signature],
        ],
        [
          'timestamp_too_old',
          () => webhook(SECRET, { now: clock(NOW + 3600) }).verify(PAYLOAD, m.headers),
          [m.signature],
        ],
        [
          'timestamp_too_new',
          () => webhook(SECRET, { now: clock(NOW - 3600) }).verify(PAYLOAD, m.headers),
          [m.signature],
        ],
        [
          'no_matching_signature',
          () => webhook(SECRET).verify(PAYLOAD, wrong.headers),
          [m.signature, wrong.signature],
        ],
        [
          'invalid_signature_header',
          () => webhook().verify(PAYLOAD, { ...m.headers, 'webhook-signature': 'sig3ntry' }),
          ['sig3ntry'],
        ],
        ['invalid_secret', () => new impl.Webhook('whsec_sup3r/secret!value'), ['sup3r/secret']],
        [
          'invalid_payload',
          () => webhook().verify('<xml/>', message({ payload: '<xml/>' }).headers),
          [message({ payload: '<xml/>' }).signature],
        ],
      ];

      it.each(cases)(
        'raises %s as a WebhookVerificationError that reveals no secret or signature',
        (code, fn, extra) => {
          const error = expectVerificationError(
            impl,
            fn,
            code,
            sensitiveStrings([SECRET, OTHER_SECRET], extra),
          );
          expectNoLeak(error, extra);
          expect(error.message.length).toBeGreaterThan(10);
        },
      );

      it('covers every error code in the table above', () => {
        expect(new Set(cases.map(([code]) => code)).size).toBe(8);
      });
    });

    describe('properties', () => {
      const secretArb = fc
        .uint8Array({ minLength: 24, maxLength: 64 })
        .map((b) => `whsec_${Buffer.from(b).toString('base64')}`);
      const idArb = fc.string({ minLength: 1, maxLength: 40 });
      const timestampArb = fc.integer({ min: 0, max: 4_102_444_800 });

      it('signs any secret, id, timestamp and unicode body like the reference HMAC, and verifies it', () => {
        fc.assert(
          fc.property(
            secretArb,
            idArb,
            timestampArb,
            fc.string({ unit: 'binary', maxLength: 300 }),
            (secret, id, timestamp, payload) => {
              const wh = new impl.Webhook(secret, { now: clock(timestamp) });
              const expected = hmacReference(secretBytes(secret), id, timestamp, payload);
              expect(wh.sign(id, timestamp, payload)).toBe(expected);
              const headers = webhookHeaders(id, timestamp, expected);
              expect(wh.verify(payload, headers, { parse: false })).toBe(payload);
            },
          ),
          propertyOptions(100),
        );
      });

      it('signs arbitrary bytes like the reference HMAC over the exact bytes, and verifies them', () => {
        fc.assert(
          fc.property(
            secretArb,
            idArb,
            timestampArb,
            fc.uint8Array({ maxLength: 300 }),
            (secret, id, timestamp, payload) => {
              const wh = new impl.Webhook(secret, { now: clock(timestamp) });
              const expected = hmacReference(secretBytes(secret), id, timestamp, payload);
              expect(wh.sign(id, timestamp, payload)).toBe(expected);
              const headers = webhookHeaders(id, timestamp, expected);
              expect(wh.verify(payload, headers, { jsonParse: false })).toBeUndefined();
            },
          ),
          propertyOptions(100),
        );
      });
    });
  });
}

/** The ed25519 (`v1a`) behaviour of the `./ed25519` entry point, for every build of it. */
export function defineEd25519Suite(name: string, impl: Ed25519Module): void {
  const { secretKey: SK, publicKey: PK } = ED25519_KEYS;
  const webhook = (secret: string | readonly string[]) =>
    new impl.Webhook(secret, { now: clock(NOW) });
  const v1a = (payload: string | Uint8Array = PAYLOAD, key: string = SK) =>
    ed25519Reference(key, MSG_ID, NOW, payload);

  const verifyRejects = (
    code: WebhookVerificationErrorCode,
    wh: WebhookInstance,
    payload: string | Uint8Array,
    headers: Record<string, string>,
    secrets: readonly string[],
  ) =>
    expectVerificationError(
      impl,
      () => wh.verify(payload, headers),
      code,
      sensitiveStrings(secrets, [headers['webhook-signature'] ?? '']),
    );

  describe(`${name}: ed25519 (v1a)`, () => {
    it('signs v1a exactly as node:crypto does for the RFC 8032 key', () => {
      const wh = webhook(SK);
      expect(wh.sign(MSG_ID, NOW, PAYLOAD)).toBe(v1a());
      expect(wh.sign(MSG_ID, NOW, Buffer.from(PAYLOAD))).toBe(v1a());
      expect(v1a()).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    });

    it('verifies a v1a signature made with whsk_ using only the whpk_ public key', () => {
      const headers = webhookHeaders(MSG_ID, NOW, webhook(SK).sign(MSG_ID, NOW, PAYLOAD));
      expect(webhook(PK).verify(PAYLOAD, headers)).toEqual(PARSED);
      expect(webhook(PK).verify(Buffer.from(PAYLOAD), headers)).toEqual(PARSED);
    });

    it('verifies a v1a signature with the whsk_ secret key as well', () => {
      expect(webhook(SK).verify(PAYLOAD, webhookHeaders(MSG_ID, NOW, v1a()))).toEqual(PARSED);
    });

    it('accepts a 64-byte whsk_ key (seed then public key) and signs as with the seed alone', () => {
      const seed = Buffer.from(SK.slice(5), 'base64');
      const pub = Buffer.from(PK.slice(5), 'base64');
      const long = `whsk_${Buffer.concat([seed, pub]).toString('base64')}`;
      expect(webhook(long).sign(MSG_ID, NOW, PAYLOAD)).toBe(v1a());
    });

    it('generates key pairs whose whsk_ signatures verify with their whpk_', () => {
      const { secretKey, publicKey } = impl.generateKeyPair();
      expect(secretKey).toMatch(/^whsk_[A-Za-z0-9+/]{43}=$/);
      expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
      const signature = webhook(secretKey).sign(MSG_ID, NOW, PAYLOAD);
      expect(signature).toBe(v1a(PAYLOAD, secretKey));
      expect(webhook(publicKey).verify(PAYLOAD, webhookHeaders(MSG_ID, NOW, signature))).toEqual(
        PARSED,
      );
      expect(impl.generateKeyPair().secretKey).not.toBe(secretKey);
    });

    describe('a mixed "v1,… v1a,…" header', () => {
      const mixed = () => webhookHeaders(MSG_ID, NOW, `${message().signature} ${v1a()}`);

      it.each([
        ['the whsec_ secret', SECRET],
        ['the whpk_ public key', PK],
        ['the whsk_ secret key', SK],
      ])('verifies with %s alone', (_, key) => {
        expect(webhook(key).verify(PAYLOAD, mixed())).toEqual(PARSED);
      });

      it('verifies with a whpk_ key and a whsec_ secret together (rotating between kinds)', () => {
        expect(webhook([PK, OTHER_SECRET]).verify(PAYLOAD, mixed())).toEqual(PARSED);
        expect(webhook([OTHER_SECRET, PK]).verify(PAYLOAD, mixed())).toEqual(PARSED);
      });

      it('lists v1a and v1 signatures in key order from signAll', () => {
        expect(webhook([SK, SECRET]).signAll(MSG_ID, NOW, PAYLOAD)).toBe(
          `${v1a()} ${message().signature}`,
        );
      });
    });

    it('rejects a v1a signature with one character changed', () => {
      const headers = webhookHeaders(MSG_ID, NOW, tamper(v1a()));
      verifyRejects('no_matching_signature', webhook(PK), PAYLOAD, headers, [PK, SK]);
    });

    it('rejects a v1a signature over a changed body', () => {
      const headers = webhookHeaders(MSG_ID, NOW, v1a());
      verifyRejects('no_matching_signature', webhook(PK), `${PAYLOAD} `, headers, [PK, SK]);
    });

    it('rejects a v1a signature from another key pair', () => {
      const other = impl.generateKeyPair();
      const headers = webhookHeaders(MSG_ID, NOW, v1a(PAYLOAD, other.secretKey));
      verifyRejects('no_matching_signature', webhook(PK), PAYLOAD, headers, [PK, SK]);
    });

    it('skips v1a entries that are not base64 or not 64 bytes long', () => {
      const junk = 'v1a,!!!notbase64 v1a,AAAA v1a,';
      expect(webhook(PK).verify(PAYLOAD, webhookHeaders(MSG_ID, NOW, `${junk} ${v1a()}`))).toEqual(
        PARSED,
      );
      verifyRejects(
        'no_matching_signature',
        webhook(PK),
        PAYLOAD,
        webhookHeaders(MSG_ID, NOW, junk),
        [PK],
      );
    });

    it('never takes a v1a signature for v1, or a v1 signature for v1a', () => {
      const asV1 = webhookHeaders(MSG_ID, NOW, v1a().replace(/^v1a,/, 'v1,'));
      verifyRejects('no_matching_signature', webhook(PK), PAYLOAD, asV1, [PK]);
      const hmacAsV1a = webhookHeaders(MSG_ID, NOW, message().signature.replace(/^v1,/, 'v1a,'));
      verifyRejects('no_matching_signature', webhook(PK), PAYLOAD, hmacAsV1a, [PK]);
      const v1aOnly = webhookHeaders(MSG_ID, NOW, v1a());
      verifyRejects('no_matching_signature', webhook(SECRET), PAYLOAD, v1aOnly, [SECRET]);
    });

    it('skips a valid ed25519 signature sent under another version tag', () => {
      for (const version of ['v1b', 'v2a', 'V1A']) {
        const headers = webhookHeaders(MSG_ID, NOW, v1a().replace(/^v1a/, version));
        verifyRejects('no_matching_signature', webhook(PK), PAYLOAD, headers, [PK]);
      }
    });

    it.each([
      ['sign', (wh: WebhookInstance) => wh.sign(MSG_ID, NOW, PAYLOAD)],
      ['signAll', (wh: WebhookInstance) => wh.signAll(MSG_ID, NOW, PAYLOAD)],
      ['headers', (wh: WebhookInstance) => wh.headers(MSG_ID, PAYLOAD)],
    ])('refuses to %s with a whpk_ public key (invalid_secret)', (_, fn) => {
      expectVerificationError(
        impl,
        () => fn(webhook(PK)),
        'invalid_secret',
        sensitiveStrings([PK], []),
      );
    });

    it.each([
      ['a whpk_ key of 31 bytes', `whpk_${Buffer.alloc(31, 7).toString('base64')}`],
      ['a whpk_ key of 33 bytes', `whpk_${Buffer.alloc(33, 7).toString('base64')}`],
      ['a whsk_ key of 16 bytes', `whsk_${Buffer.alloc(16, 7).toString('base64')}`],
      ['a whpk_ key that is not base64', 'whpk_th1s-1s n0t*b64'],
      ['a whsk_ key that is not base64', 'whsk_th1s-1s n0t*b64'],
      ['a bare whpk_ prefix', 'whpk_'],
      ['a bare whsk_ prefix', 'whsk_'],
    ])('rejects %s with invalid_secret', (_, key) => {
      expectVerificationError(
        impl,
        () => new impl.Webhook(key),
        'invalid_secret',
        sensitiveStrings([key], []),
      );
    });
  });
}

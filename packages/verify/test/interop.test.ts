// Interoperability both ways with the libraries receivers migrate from:
// `standardwebhooks` (the reference implementation) and `svix`.
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import * as ed25519Portable from '../src/ed25519';
import * as ed25519Node from '../src/ed25519-node';
import * as portable from '../src/index';
import * as node from '../src/node';
import type { VerifyModule } from './types';
import { VECTORS } from './vectors';

const [V1, V2] = VECTORS;
const SECRET = V1.secret;
const OTHER_SECRET = V2.secret;
const ID = 'msg_2LJoQYAgrUHDWxoSbPoRi7CA9cv';
const BODY = '{"type":"invoice.paid","data":{"id":"in_1","amount":4200,"note":"Grüße ✓"}}';
const PARSED = JSON.parse(BODY);

const svixHeaders = (id: string, timestamp: number, signature: string) => ({
  'svix-id': id,
  'svix-timestamp': String(timestamp),
  'svix-signature': signature,
});

describe.each<[string, VerifyModule]>([
  ['src/node.ts', node],
  ['src/index.ts', portable],
  ['src/ed25519-node.ts', ed25519Node],
  ['src/ed25519.ts', ed25519Portable],
])('%s', (_, impl) => {
  // The libraries check timestamps against the real clock, so these tests sign "now".
  const now = () => Math.floor(Date.now() / 1000);

  describe('with standardwebhooks', () => {
    it('verifies what standardwebhooks signs', () => {
      const timestamp = now();
      const signature = new StandardWebhook(SECRET).sign(ID, new Date(timestamp * 1000), BODY);
      const headers = {
        'webhook-id': ID,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      };
      expect(new impl.Webhook(SECRET).verify(BODY, headers)).toEqual(PARSED);
      expect(new impl.Webhook(SECRET).verify(Buffer.from(BODY), headers)).toEqual(PARSED);
    });

    it('produces the signature standardwebhooks produces, for strings and Buffers', () => {
      const date = new Date(1_700_000_000_500);
      const reference = new StandardWebhook(SECRET);
      const wh = new impl.Webhook(SECRET);
      expect(wh.sign(ID, date, BODY)).toBe(reference.sign(ID, date, BODY));
      expect(wh.sign(ID, date, Buffer.from(BODY))).toBe(
        reference.sign(ID, date, Buffer.from(BODY)),
      );
    });

    it('signs what standardwebhooks verifies', () => {
      const headers = new impl.Webhook(SECRET).headers(ID, BODY, new Date());
      expect(new StandardWebhook(SECRET).verify(BODY, headers)).toEqual(PARSED);
    });

    it('signs, with several secrets, what standardwebhooks verifies with any one of them', () => {
      const headers = new impl.Webhook([OTHER_SECRET, SECRET]).headers(ID, BODY, new Date());
      expect(new StandardWebhook(SECRET).verify(BODY, headers)).toEqual(PARSED);
      expect(new StandardWebhook(OTHER_SECRET).verify(BODY, headers)).toEqual(PARSED);
    });

    it('agrees with standardwebhooks on raw-format secrets', () => {
      const raw = 'a raw secret, not base64';
      const headers = new impl.Webhook(raw, { format: 'raw' }).headers(ID, BODY, new Date());
      expect(new StandardWebhook(raw, { format: 'raw' }).verify(BODY, headers)).toEqual(PARSED);
      const bytes = new TextEncoder().encode(raw);
      const date = new Date();
      expect(new impl.Webhook(bytes, { format: 'raw' }).sign(ID, date, BODY)).toBe(
        new StandardWebhook(bytes, { format: 'raw' }).sign(ID, date, BODY),
      );
    });

    it('returns undefined for { jsonParse: false } as standardwebhooks does', () => {
      const headers = new impl.Webhook(SECRET).headers(ID, BODY, new Date());
      const theirs = new StandardWebhook(SECRET).verify(BODY, headers, { jsonParse: false });
      expect(theirs).toBeUndefined();
      expect(new impl.Webhook(SECRET).verify(BODY, headers, { jsonParse: false })).toBe(theirs);
    });

    it('rejects, as standardwebhooks does, a message signed with another secret', () => {
      const timestamp = now();
      const signature = new StandardWebhook(OTHER_SECRET).sign(
        ID,
        new Date(timestamp * 1000),
        BODY,
      );
      const headers = {
        'webhook-id': ID,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      };
      expect(() => new StandardWebhook(SECRET).verify(BODY, headers)).toThrow(
        'No matching signature found',
      );
      expect(() => new impl.Webhook(SECRET).verify(BODY, headers)).toThrow(
        impl.WebhookVerificationError,
      );
    });
  });

  describe('with svix', () => {
    it('verifies what svix signs, sent with svix-* headers', () => {
      const timestamp = now();
      const signature = new SvixWebhook(SECRET).sign(ID, new Date(timestamp * 1000), BODY);
      const headers = svixHeaders(ID, timestamp, signature);
      expect(new impl.Webhook(SECRET).verify(BODY, headers)).toEqual(PARSED);
      expect(new impl.Webhook(SECRET).verify(BODY, new Headers(headers))).toEqual(PARSED);
    });

    it('signs what svix verifies under webhook-* header names', () => {
      const headers = new impl.Webhook(SECRET).headers(ID, BODY, new Date());
      expect(new SvixWebhook(SECRET).verify(BODY, headers)).toEqual(PARSED);
    });

    it('signs what svix verifies under svix-* header names', () => {
      const timestamp = now();
      const signature = new impl.Webhook(SECRET).sign(ID, timestamp, BODY);
      expect(new SvixWebhook(SECRET).verify(BODY, svixHeaders(ID, timestamp, signature))).toEqual(
        PARSED,
      );
    });

    it('signs, with several secrets, what svix verifies with any one of them', () => {
      const timestamp = now();
      const signature = new impl.Webhook([SECRET, OTHER_SECRET]).signAll(ID, timestamp, BODY);
      for (const secret of [SECRET, OTHER_SECRET]) {
        const headers = svixHeaders(ID, timestamp, signature);
        expect(new SvixWebhook(secret).verify(Buffer.from(BODY), headers)).toEqual(PARSED);
      }
    });
  });
});

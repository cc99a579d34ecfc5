import { Webhook as HooklineWebhook } from '@hookline/verify';
import { Webhook as HooklineEd25519Webhook } from '@hookline/verify/ed25519';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateEndpointSecret, secretHint, signingAlgorithmOf } from './secrets';
import { createSigner, liveKeys, signWebhook } from './signer';

const body = '{"type":"invoice.paid","timestamp":"2025-01-01T00:00:00.000Z","data":{"amount":42}}';

function now(): Date {
  return new Date();
}

describe('signing', () => {
  it('produces headers that @hookline/verify and standardwebhooks both accept', () => {
    const { secret } = generateEndpointSecret('hmac');
    const at = now();
    const headers = signWebhook({
      keys: { current: secret },
      messageId: 'msg_1',
      timestamp: at,
      body,
    });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new HooklineWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs byte bodies exactly like the same text', () => {
    const { secret } = generateEndpointSecret();
    const at = now();
    const keys = { current: secret };
    const fromText = signWebhook({ keys, messageId: 'msg_b', timestamp: at, body: 'héllo' });
    const fromBytes = signWebhook({
      keys,
      messageId: 'msg_b',
      timestamp: at,
      body: new TextEncoder().encode('héllo'),
    });
    expect(fromBytes).toEqual(fromText);
  });

  it('signs with both secrets while the previous one is live, and with one after it expires', () => {
    const current = generateEndpointSecret().secret;
    const previous = generateEndpointSecret().secret;
    const at = now();
    const keys = { current, previous, previousExpiresAt: new Date(at.getTime() + 60_000) };
    const during = signWebhook({ keys, messageId: 'msg_r', timestamp: at, body });
    expect(during['webhook-signature'].split(' ')).toHaveLength(2);
    // A receiver still holding either secret accepts the message.
    expect(() => new StandardWebhook(current).verify(body, during)).not.toThrow();
    expect(() => new StandardWebhook(previous).verify(body, during)).not.toThrow();
    expect(() => new HooklineWebhook([previous]).verify(body, during)).not.toThrow();

    const expired = { ...keys, previousExpiresAt: at };
    const after = signWebhook({ keys: expired, messageId: 'msg_r', timestamp: at, body });
    expect(after['webhook-signature'].split(' ')).toHaveLength(1);
    expect(() => new StandardWebhook(current).verify(body, after)).not.toThrow();
    expect(() => new StandardWebhook(previous).verify(body, after)).toThrow();
  });

  it('treats the previous key as live exactly until its expiry instant', () => {
    const t = new Date('2025-06-01T12:00:00Z');
    const keys = { current: 'a', previous: 'b', previousExpiresAt: t };
    expect(liveKeys(keys, new Date(t.getTime() - 1))).toEqual(['a', 'b']);
    expect(liveKeys(keys, t)).toEqual(['a']);
    expect(liveKeys({ current: 'a', previous: null }, t)).toEqual(['a']);
    expect(liveKeys({ current: 'a', previous: 'b', previousExpiresAt: null }, t)).toEqual([
      'a',
      'b',
    ]);
  });

  it('gives ed25519 endpoints a v1a signature that verifies with their whpk_ public key', () => {
    const { secret, publicKey } = generateEndpointSecret('ed25519');
    expect(secret).toMatch(/^whsk_/);
    expect(publicKey).toMatch(/^whpk_/);
    const headers = signWebhook({
      keys: { current: secret },
      messageId: 'msg_ed',
      timestamp: now(),
      body,
    });
    expect(headers['webhook-signature']).toMatch(/^v1a,/);
    expect(new HooklineEd25519Webhook(publicKey!).verify(body, headers)).toEqual(JSON.parse(body));
    const other = generateEndpointSecret('ed25519').publicKey!;
    expect(() => new HooklineEd25519Webhook(other).verify(body, headers)).toThrow();
  });

  it('signs an ed25519 rotation with both key pairs', () => {
    const next = generateEndpointSecret('ed25519');
    const old = generateEndpointSecret('ed25519');
    const at = now();
    const headers = signWebhook({
      keys: {
        current: next.secret,
        previous: old.secret,
        previousExpiresAt: new Date(Date.now() + 1e6),
      },
      messageId: 'msg_edr',
      timestamp: at,
      body,
    });
    expect(headers['webhook-signature'].split(' ').map((s) => s.split(',')[0])).toEqual([
      'v1a',
      'v1a',
    ]);
    expect(() => new HooklineEd25519Webhook(old.publicKey!).verify(body, headers)).not.toThrow();
    expect(() => new HooklineEd25519Webhook(next.publicKey!).verify(body, headers)).not.toThrow();
  });

  it('keeps signing correctly when the key cache evicts entries', () => {
    const signer = createSigner({ cacheSize: 2 });
    const secrets = Array.from({ length: 5 }, () => generateEndpointSecret().secret);
    const at = now();
    for (let round = 0; round < 2; round++) {
      for (const secret of secrets) {
        const headers = signer.sign({
          keys: { current: secret },
          messageId: 'msg_c',
          timestamp: at,
          body,
        });
        expect(() => new StandardWebhook(secret).verify(body, headers)).not.toThrow();
      }
    }
  });

  it('generates 32-byte whsec_ secrets that differ every time', () => {
    const a = generateEndpointSecret('hmac');
    const b = generateEndpointSecret('hmac');
    expect(a.publicKey).toBeUndefined();
    expect(a.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.secret.slice(6), 'base64')).toHaveLength(32);
    expect(a.secret).not.toBe(b.secret);
  });

  it('hints at a secret with its first ten characters only', () => {
    const { secret } = generateEndpointSecret();
    expect(secretHint(secret)).toBe(secret.slice(0, 10));
    expect(secretHint(secret)).toMatch(/^whsec_.{4}$/);
  });

  it('tells the signing algorithm from the key prefix', () => {
    expect(signingAlgorithmOf(generateEndpointSecret('hmac').secret)).toBe('hmac');
    expect(signingAlgorithmOf(generateEndpointSecret('ed25519').secret)).toBe('ed25519');
  });
});

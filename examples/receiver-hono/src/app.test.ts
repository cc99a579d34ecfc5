import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { generateSecret, Webhook } from '@hookline/verify';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from './app';

const secret = generateSecret();
// Signed by the reference implementation, as any Standard Webhooks sender would.
const sender = new StandardWebhook(secret);

function signedHeaders(id: string, body: string): Record<string, string> {
  const now = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': sender.sign(id, now, body),
  };
}

const event = { type: 'invoice.paid', data: { id: 'in_123', amount: 4200, currency: 'eur' } };
const body = JSON.stringify(event);

describe('Hono receiver', () => {
  const received: { event: unknown; id: string }[] = [];
  const app = createApp(secret, (e, id) => void received.push({ event: e, id }));
  beforeEach(() => {
    received.length = 0;
  });

  it('accepts a signed webhook and hands the parsed event to the handler', async () => {
    const res = await app.request('/webhooks', {
      method: 'POST',
      headers: signedHeaders('msg_1', body),
      body,
    });
    expect(res.status).toBe(204);
    expect(received).toEqual([{ event, id: 'msg_1' }]);
  });

  it('rejects a webhook whose body was changed after signing, without calling the handler', async () => {
    const res = await app.request('/webhooks', {
      method: 'POST',
      headers: signedHeaders('msg_2', body),
      body: body.replace('4200', '1'),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'no_matching_signature' });
    expect(received).toEqual([]);
  });

  it('rejects a webhook signed with another secret', async () => {
    const other = new Webhook(generateSecret()).headers('msg_3', body);
    const res = await app.request('/webhooks', { method: 'POST', headers: { ...other }, body });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'no_matching_signature' });
  });

  it('rejects a webhook whose timestamp is outside the five-minute tolerance', async () => {
    const old = new Date(Date.now() - 10 * 60 * 1000);
    const res = await app.request('/webhooks', {
      method: 'POST',
      headers: {
        'webhook-id': 'msg_4',
        'webhook-timestamp': String(Math.floor(old.getTime() / 1000)),
        'webhook-signature': sender.sign('msg_4', old, body),
      },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'timestamp_too_old' });
  });

  describe('served over HTTP by @hono/node-server', () => {
    let server: ServerType | undefined;
    let url = '';

    afterAll(
      () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    );

    it('accepts a signed webhook and rejects a tampered one on a real socket', async () => {
      await new Promise<void>((resolve) => {
        server = serve(
          { fetch: app.fetch, port: 0, hostname: '127.0.0.1' },
          (info: AddressInfo) => {
            url = `http://127.0.0.1:${info.port}/webhooks`;
            resolve();
          },
        );
      });

      const headers = signedHeaders('msg_5', body);
      const ok = await fetch(url, { method: 'POST', headers, body });
      expect(ok.status).toBe(204);
      const bad = await fetch(url, { method: 'POST', headers, body: body.replace('eur', 'usd') });
      expect(bad.status).toBe(400);
      expect(received).toEqual([{ event, id: 'msg_5' }]);
    });
  });
});

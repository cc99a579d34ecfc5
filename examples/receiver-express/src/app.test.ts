import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSecret, Webhook } from '@hookline/verify';
import express from 'express';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error?: Error) => {
      if (error) return reject(error);
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/webhooks` });
    });
  });
}

function close(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

const event = { type: 'invoice.paid', data: { id: 'in_123', amount: 4200, currency: 'eur' } };
const body = JSON.stringify(event);

describe('Express receiver', () => {
  const received: { event: unknown; id: string }[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await listen(
      createApp(secret, (e, id) => void received.push({ event: e, id })),
    ));
  });
  afterAll(() => close(server));
  beforeEach(() => {
    received.length = 0;
  });

  it('accepts a signed webhook and hands the parsed event to the handler', async () => {
    const res = await fetch(url, { method: 'POST', headers: signedHeaders('msg_1', body), body });
    expect(res.status).toBe(204);
    expect(received).toEqual([{ event, id: 'msg_1' }]);
  });

  it('accepts a body whose bytes are not what JSON.stringify would produce', async () => {
    const pretty = JSON.stringify(event, null, 2);
    const res = await fetch(url, {
      method: 'POST',
      headers: signedHeaders('msg_2', pretty),
      body: pretty,
    });
    expect(res.status).toBe(204);
    expect(received).toEqual([{ event, id: 'msg_2' }]);
  });

  it('rejects a webhook whose body was changed after signing, without calling the handler', async () => {
    const headers = signedHeaders('msg_3', body);
    const tampered = body.replace('4200', '1');
    const res = await fetch(url, { method: 'POST', headers, body: tampered });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'no_matching_signature' });
    expect(received).toEqual([]);
  });

  it('rejects a webhook signed with another secret', async () => {
    const other = new Webhook(generateSecret()).headers('msg_4', body);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...other },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'no_matching_signature' });
    expect(received).toEqual([]);
  });

  it('rejects a request without the webhook headers', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'missing_headers' });
  });
});

describe('why the webhook route needs the raw body', () => {
  let server: Server | undefined;
  afterAll(() => close(server));

  it('fails to verify a body that was parsed by express.json() and serialised again', async () => {
    // The classic mistake: an app-wide JSON parser runs first, and the receiver signs
    // what JSON.stringify gives back, which is not the bytes the sender signed.
    const webhook = new Webhook(secret);
    const outcomes: string[] = [];
    const app = express();
    app.use(express.json());
    app.post('/webhooks', (req, res) => {
      try {
        webhook.verify(JSON.stringify(req.body), req.headers);
        outcomes.push('verified');
      } catch (error) {
        outcomes.push((error as { code?: string }).code ?? String(error));
      }
      res.status(204).end();
    });
    let url: string;
    ({ server, url } = await listen(app));

    // As many senders serialise (Python's json.dumps, pretty printers): spaces, "10.50", "\u00e9".
    const sent = '{"type": "invoice.paid", "data": {"amount": 10.50, "customer": "Ren\\u00e9e"}}';
    await fetch(url, { method: 'POST', headers: signedHeaders('msg_5', sent), body: sent });
    expect(outcomes).toEqual(['no_matching_signature']);
  });
});

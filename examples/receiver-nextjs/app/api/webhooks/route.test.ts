import { generateSecret, Webhook } from '@hookline/verify';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { handledEvents } from '../../../lib/handle-event';
import { POST } from './route';

// Set before the first request, as .env.local would in the app (the route reads it lazily).
const secret = generateSecret();
process.env.WEBHOOK_SECRET = secret;
// Signed by the reference implementation, as any Standard Webhooks sender would.
const sender = new StandardWebhook(secret);

function signedRequest(id: string, signedBody: string, sentBody = signedBody): Request {
  const now = new Date();
  return new Request('http://localhost:3000/api/webhooks', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': sender.sign(id, now, signedBody),
    },
    body: sentBody,
  });
}

const event = { type: 'invoice.paid', data: { id: 'in_123', amount: 4200, currency: 'eur' } };
const body = JSON.stringify(event);

describe('Next.js route handler POST /api/webhooks', () => {
  beforeEach(() => handledEvents.clear());

  it('accepts a signed webhook and hands the parsed event to handleEvent', async () => {
    const res = await POST(signedRequest('msg_1', body));
    expect(res.status).toBe(204);
    expect([...handledEvents]).toEqual([['msg_1', event]]);
  });

  it('handles a redelivered webhook only once', async () => {
    expect((await POST(signedRequest('msg_2', body))).status).toBe(204);
    expect((await POST(signedRequest('msg_2', body))).status).toBe(204);
    expect(handledEvents.size).toBe(1);
  });

  it('rejects a webhook whose body was changed after signing, without handling it', async () => {
    const res = await POST(signedRequest('msg_3', body, body.replace('4200', '1')));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'no_matching_signature' });
    expect(handledEvents.size).toBe(0);
  });

  it('rejects a webhook signed with another secret', async () => {
    const headers = new Webhook(generateSecret()).headers('msg_4', body);
    const res = await POST(
      new Request('http://localhost:3000/api/webhooks', {
        method: 'POST',
        headers: { ...headers },
        body,
      }),
    );
    expect(res.status).toBe(400);
    expect(handledEvents.size).toBe(0);
  });
});

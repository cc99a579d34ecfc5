import { Webhook as Ed25519Webhook } from '@hookline/verify/ed25519';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../test/receivers';
import { createHttpClient, type DialTarget, type HttpClient } from '../net/http-client';
import { createAddressPolicy } from '../net/policy';
import { generateEndpointSecret } from '../signing/secrets';
import { buildDeliveryBody, performAttempt, truncateUtf8 } from './attempt';

const createdAt = new Date('2025-05-04T03:02:01.123Z');
const payloadJson = '{"b":1, "a":[1,2],"note":"héllo ✓"}';
const delivery = { messageId: 'msg_2x', eventType: 'invoice.paid', payloadJson, createdAt };

function guard(dialled: DialTarget[]) {
  return (target: DialTarget) => {
    dialled.push(target);
    if (!target.address.startsWith('127.')) throw new Error('The test refuses to dial this.');
  };
}

describe('performAttempt', () => {
  const dialled: DialTarget[] = [];
  let client: HttpClient;
  let secret: string;
  let verifying: Receiver;
  let answer: { status: number; headers?: Record<string, string> } = { status: 204 };
  const verdicts: string[] = [];

  beforeAll(async () => {
    client = createHttpClient({
      policy: createAddressPolicy({ allowHttp: true, allowNetworks: ['127.0.0.0/8'] }),
      timeoutMs: 1500,
      beforeConnect: guard(dialled),
    });
    secret = generateEndpointSecret('hmac').secret;
    verifying = await startReceiver((req, res, body) => {
      try {
        new StandardWebhook(secret).verify(
          body.toString('utf8'),
          req.headers as Record<string, string>,
        );
        verdicts.push('valid');
      } catch (error) {
        verdicts.push(`invalid: ${(error as Error).message}`);
      }
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  afterAll(async () => {
    await client.close();
    await verifying.close();
    expect(dialled.every((d) => d.address.startsWith('127.'))).toBe(true);
  });

  function send(overrides: Partial<Parameters<typeof performAttempt>[0]> = {}) {
    return performAttempt({
      delivery,
      endpoint: { url: `${verifying.url}/hooks`, keys: { current: secret } },
      now: new Date(),
      client,
      userAgentVersion: '1.2.3',
      ...overrides,
    });
  }

  it('delivers a body the receiver verifies with standardwebhooks, and records it', async () => {
    answer = { status: 204 };
    const now = new Date();
    const record = await send({ now });
    expect(verdicts.at(-1)).toBe('valid');
    const received = verifying.requests.at(-1)!;
    const expectedBody =
      '{"type":"invoice.paid","timestamp":"2025-05-04T03:02:01.123Z","data":{"b":1, "a":[1,2],"note":"héllo ✓"}}';
    expect(received.body.toString('utf8')).toBe(expectedBody);
    expect(received.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Hookline/1.2.3',
      'webhook-id': 'msg_2x',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    });
    expect(record).toMatchObject({
      attemptedAt: now,
      outcome: 'success',
      httpStatus: 204,
      requestBody: expectedBody,
      requestBodyTruncated: false,
      responseBody: '',
      responseBodyTruncated: false,
      error: null,
      effects: { disableEndpoint: false, disableReason: null, retryAfterMs: null },
    });
    expect(record.requestHeaders['webhook-signature']).toBe(received.headers['webhook-signature']);
    expect(record.requestHeaders['webhook-id']).toBe('msg_2x');
  });

  it('sends identical bytes and the same webhook-id on a later attempt, signed for its own time', async () => {
    answer = { status: 204 };
    const first = await send({ now: new Date(Date.now() - 30_000) });
    const second = await send({ now: new Date() });
    const [a, b] = verifying.requests.slice(-2);
    expect(a!.body.equals(b!.body)).toBe(true);
    expect(a!.headers['webhook-id']).toBe(b!.headers['webhook-id']);
    expect(a!.headers['webhook-timestamp']).not.toBe(b!.headers['webhook-timestamp']);
    expect(verdicts.slice(-2)).toEqual(['valid', 'valid']);
    expect(first.requestBody).toBe(second.requestBody);
  });

  it('sends a stored body as given instead of rebuilding it', async () => {
    answer = { status: 204 };
    const stored = buildDeliveryBody(delivery);
    await send({ delivery: { ...delivery, payloadJson: '{"ignored":true}', body: stored } });
    expect(verifying.requests.at(-1)!.body.toString('utf8')).toBe(stored);
    expect(verdicts.at(-1)).toBe('valid');
  });

  it('adds custom headers but never lets them override the gateway headers', async () => {
    answer = { status: 204 };
    const record = await send({
      endpoint: {
        url: verifying.url,
        keys: { current: secret },
        headers: {
          'X-Tenant': 'acme',
          Authorization: 'Bearer tenant-secret',
          'Webhook-Id': 'msg_forged',
          'webhook-signature': 'v1,forged',
          'Content-Type': 'text/plain',
          'User-Agent': 'evil',
          Host: 'elsewhere.example',
          'bad header': 'x',
          'x-newline': 'a\r\nx-injected: 1',
        },
      },
    });
    const received = verifying.requests.at(-1)!;
    expect(verdicts.at(-1)).toBe('valid');
    expect(received.headers).toMatchObject({
      'x-tenant': 'acme',
      authorization: 'Bearer tenant-secret',
      'webhook-id': 'msg_2x',
      'content-type': 'application/json',
      'user-agent': 'Hookline/1.2.3',
      host: `127.0.0.1:${verifying.port}`,
    });
    expect(received.headers['webhook-signature']).not.toContain('forged');
    expect(received.headers['x-injected']).toBeUndefined();
    expect(received.headers['x-newline']).toBeUndefined();
    // The stored copy keeps no credential of the tenant's.
    expect(record.requestHeaders['x-tenant']).toBe('acme');
    expect(record.requestHeaders.authorization).toBe('[redacted]');
    expect(JSON.stringify(record)).not.toContain('tenant-secret');
  });

  it('signs with both secrets during a rotation', async () => {
    answer = { status: 204 };
    const next = generateEndpointSecret('hmac').secret;
    const now = new Date();
    const record = await send({
      now,
      endpoint: {
        url: verifying.url,
        keys: {
          current: next,
          previous: secret,
          previousExpiresAt: new Date(now.getTime() + 60_000),
        },
      },
    });
    // The receiver still only knows the previous secret, and accepts the message.
    expect(verdicts.at(-1)).toBe('valid');
    expect(record.requestHeaders['webhook-signature']!.split(' ')).toHaveLength(2);
    const body = verifying.requests.at(-1)!.body.toString('utf8');
    expect(() =>
      new StandardWebhook(next).verify(
        body,
        verifying.requests.at(-1)!.headers as Record<string, string>,
      ),
    ).not.toThrow();
  });

  it('signs ed25519 endpoints with a v1a signature that verifies with the public key', async () => {
    answer = { status: 200 };
    const pair = generateEndpointSecret('ed25519');
    const record = await send({
      endpoint: { url: verifying.url, keys: { current: pair.secret } },
    });
    const received = verifying.requests.at(-1)!;
    expect(record.outcome).toBe('success');
    expect(received.headers['webhook-signature']).toMatch(/^v1a,/);
    expect(() =>
      new Ed25519Webhook(pair.publicKey!).verify(
        received.body,
        received.headers as Record<string, string>,
      ),
    ).not.toThrow();
  });

  it('asks to disable the endpoint on 410 Gone', async () => {
    answer = { status: 410 };
    const record = await send();
    expect(record).toMatchObject({
      outcome: 'http_4xx',
      httpStatus: 410,
      effects: { disableEndpoint: true, disableReason: 'The endpoint answered 410 Gone.' },
    });
  });

  it('parses Retry-After for the scheduler', async () => {
    answer = { status: 503, headers: { 'Retry-After': '120' } };
    const record = await send();
    expect(record).toMatchObject({
      outcome: 'http_5xx',
      httpStatus: 503,
      effects: { disableEndpoint: false, retryAfterMs: 120_000 },
    });
    expect(record.responseHeaders['retry-after']).toBe('120');
  });

  it('stores at most 64 KiB of a large body and flags it, while sending all of it', async () => {
    answer = { status: 204 };
    const big = { ...delivery, payloadJson: JSON.stringify({ blob: 'é'.repeat(40_000) }) };
    const record = await send({ delivery: big });
    const received = verifying.requests.at(-1)!;
    expect(received.body.toString('utf8')).toBe(buildDeliveryBody(big));
    expect(verdicts.at(-1)).toBe('valid');
    expect(record.requestBodyTruncated).toBe(true);
    expect(Buffer.byteLength(record.requestBody)).toBeLessThanOrEqual(64 * 1024);
    expect(buildDeliveryBody(big).startsWith(record.requestBody)).toBe(true);
  });

  it('records a blocked attempt without dialling anything', async () => {
    const strictClient = createHttpClient({
      policy: createAddressPolicy({ allowHttp: true, allowNetworks: [] }),
      timeoutMs: 1500,
      beforeConnect: guard(dialled),
    });
    try {
      const before = { dials: dialled.length, connections: verifying.connections };
      const record = await send({ client: strictClient });
      expect(record).toMatchObject({ outcome: 'blocked', httpStatus: null });
      expect(record.error).toMatch(/loopback/);
      expect(dialled.length).toBe(before.dials);
      expect(verifying.connections).toBe(before.connections);
    } finally {
      await strictClient.close();
    }
  });
});

describe('buildDeliveryBody', () => {
  it('inserts the payload JSON text unchanged and is deterministic', () => {
    const a = buildDeliveryBody(delivery);
    expect(a).toBe(
      '{"type":"invoice.paid","timestamp":"2025-05-04T03:02:01.123Z","data":{"b":1, "a":[1,2],"note":"héllo ✓"}}',
    );
    expect(buildDeliveryBody({ ...delivery })).toBe(a);
    expect(JSON.parse(a).data).toEqual(JSON.parse(payloadJson));
  });

  it('escapes the event type as a JSON string', () => {
    const body = buildDeliveryBody({ ...delivery, eventType: 'a"b' });
    expect(JSON.parse(body).type).toBe('a"b');
  });
});

describe('truncateUtf8', () => {
  it('cuts at a byte limit without splitting a character', () => {
    expect(truncateUtf8('abc', 3)).toEqual({ text: 'abc', truncated: false });
    expect(truncateUtf8('abcd', 3)).toEqual({ text: 'abc', truncated: true });
    expect(truncateUtf8('aé', 2)).toEqual({ text: 'a', truncated: true });
    expect(truncateUtf8('a✓b', 3)).toEqual({ text: 'a', truncated: true });
    expect(truncateUtf8('a✓b', 4)).toEqual({ text: 'a✓', truncated: true });
  });
});

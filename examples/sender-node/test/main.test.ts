// Runs the example's main() against a real embedded gateway and a loopback receiver, so the
// example (and docs/sending.md, which quotes it) cannot rot.
import { generateSecret, Webhook } from '@hookline/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, main } from '../src/main';
import { startReceiver, startTestGateway } from './gateway';

let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  [gateway, receiver] = await Promise.all([startTestGateway(), startReceiver()]);
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await gateway?.stop();
});

describe('examples/sender-node', () => {
  const secret = generateSecret();
  const lines: string[] = [];
  const config = () => ({
    baseUrl: gateway.url,
    apiKey: gateway.apiKey,
    webhookUrl: `${receiver.url}/webhooks`,
    webhookSecret: secret,
    log: (line: string) => lines.push(line),
  });

  it('creates the endpoint, sends invoice.paid, sees it delivered and mints a portal link', async () => {
    const summary = await main(config());
    expect(summary).toMatchObject({
      endpointCreated: true,
      secret,
      deliveryStatus: 'succeeded',
      attempts: 1,
    });
    expect(summary.portalUrl).toBe(
      `${gateway.url}/portal#token=${summary.portalUrl.split('#token=')[1]}`,
    );

    // The customer's receiver verifies the webhook with the secret it already had.
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.url).toBe('/webhooks');
    const event = new Webhook(secret).verify(request!.body, {
      'webhook-id': String(request!.headers['webhook-id']),
      'webhook-timestamp': String(request!.headers['webhook-timestamp']),
      'webhook-signature': String(request!.headers['webhook-signature']),
    });
    expect(event).toMatchObject({
      type: 'invoice.paid',
      data: { invoice_id: 'in_1001', amount_due: 4200, currency: 'eur' },
    });
    expect(request!.headers['webhook-id']).toBe(summary.messageId);

    expect(lines).toContain('event type invoice.paid added to the catalog');
    expect(lines.at(-1)).toMatch(/^portal link minted for acme, valid until /);
  });

  it('runs again without a second endpoint or a second webhook', async () => {
    const first = receiver.requests.length;
    const firstLines = lines.length;
    const summary = await main(config());
    expect(summary.endpointCreated).toBe(false);
    expect(summary.secret).toBeUndefined();
    expect(summary.deliveryStatus).toBe('succeeded');
    expect(receiver.requests).toHaveLength(first);
    const secondRun = lines.slice(firstLines);
    expect(secondRun).toContain('event type invoice.paid is in the catalog already');
    expect(secondRun.some((line) => line.includes('exists already'))).toBe(true);
  });

  it('logs neither the API key, the secret nor the portal token, in any run', async () => {
    const summary = await main(config());
    expect(lines.length).toBeGreaterThan(15);
    const token = summary.portalUrl.split('#token=')[1]!;
    expect(token).toMatch(/^hl_pt_/);
    for (const line of lines) {
      expect(line).not.toContain(gateway.apiKey);
      expect(line).not.toContain(secret);
      expect(line).not.toContain(token);
    }
  });

  it('names the missing settings when the environment is incomplete', () => {
    expect(() => configFromEnv({ HOOKLINE_URL: 'http://127.0.0.1:8787' })).toThrow(
      /^Set HOOKLINE_API_KEY, WEBHOOK_URL: /,
    );
    expect(
      configFromEnv({
        HOOKLINE_URL: 'http://127.0.0.1:8787',
        HOOKLINE_API_KEY: 'hl_sk_x',
        WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks',
        TENANT_ID: 'globex',
      }),
    ).toEqual({
      baseUrl: 'http://127.0.0.1:8787',
      apiKey: 'hl_sk_x',
      webhookUrl: 'http://127.0.0.1:3000/webhooks',
      tenantId: 'globex',
    });
  });
});

/**
 * Alerts end to end with the gateway binary: a delivery dies at a real failing receiver, the
 * worker records `delivery.dead`, and the dispatcher of the same process sends it to the signed
 * operational webhook, to the tenant's email through a real SMTP server (with a portal link that
 * works against this gateway's API) and to the tenant's Slack-style webhook; a second death
 * within the hour is held back by the rate limit. A start without the webhook secret fails.
 */
import { generateSecret, Webhook } from '@hookline/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import { type Receiver, startReceiver } from '../receivers';
import { startSmtpServer, type TestSmtpServer } from '../smtp';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  sleep,
  testDrivers,
  waitFor,
} from './harness';

const SLACK_PATH = '/services/T0E2E/B0E2E/e2e-slack-secret';

describe.each(testDrivers)('alerts from a running gateway (%s)', (driver) => {
  let storage: GatewayStorage | undefined;
  let gateway: GatewayProcess | undefined;
  const receivers: Receiver[] = [];
  let mail: TestSmtpServer | undefined;

  afterAll(async () => {
    await stopGateway(gateway, 5_000);
    await Promise.all(receivers.map((r) => r.close()));
    await mail?.close();
    await storage?.dispose();
  });

  it('sends a dead delivery to the operational webhook, by email with a working portal link and to Slack, once per hour', {
    timeout: 120_000,
  }, async () => {
    storage = await gatewayStorage(driver);
    const ops = await startReceiver();
    const slack = await startReceiver((_req, res) => res.writeHead(200).end('ok'));
    const failing = await startReceiver((_req, res) => res.writeHead(500).end('down'));
    receivers.push(ops, slack, failing);
    mail = await startSmtpServer();
    const secret = generateSecret();

    gateway = await spawnGateway({
      env: {
        ...LOCAL_ENV,
        ...storage.env,
        HOOKLINE_OPERATIONAL_WEBHOOK_URL: `${ops.url}/operational`,
        HOOKLINE_OPERATIONAL_WEBHOOK_SECRET: secret,
        HOOKLINE_SMTP_URL: mail.url,
        HOOKLINE_SMTP_FROM: 'Hookline Alerts <alerts@hooks.example.com>',
        HOOKLINE_LOG_LEVEL: 'debug',
      },
      startTimeoutMs: 60_000,
    });
    const api = apiClient(gateway.url, storage.env.HOOKLINE_API_KEY ?? gateway.apiKey!);

    const channels = await api('PUT', '/v1/tenants/shop/alert-channels', {
      emails: ['oncall@shop.example'],
      slack_webhook_url: `${slack.url}${SLACK_PATH}`,
    });
    expect(channels.status).toBe(200);
    // The stored URL is encrypted, the API shape unchanged.
    expect(channels.body).toEqual({
      tenant_id: 'shop',
      emails: ['oncall@shop.example'],
      slack_webhook_url: `${slack.url}${SLACK_PATH}`,
    });
    expect((await api('GET', '/v1/tenants/shop/alert-channels')).body).toEqual(channels.body);

    const endpoint = await api('POST', '/v1/endpoints', {
      tenant_id: 'shop',
      url: `${failing.url}/hook`,
      retry_schedule: [],
    });
    expect(endpoint.status).toBe(201);
    const sent = await api('POST', '/v1/messages', {
      tenant_id: 'shop',
      event_type: 'order.created',
      payload: { n: 1 },
    });
    expect(sent.status).toBe(202);

    await waitFor(
      () => ops.requests.length >= 1 && slack.requests.length >= 1 && mail!.messages.length >= 1,
      {
        what: 'the alerts of the dead delivery',
        timeoutMs: 30_000,
      },
    );

    const request = ops.requests[0]!;
    expect(request.url).toBe('/operational');
    const body = new Webhook(secret).verify(
      request.body,
      request.headers as Record<string, string>,
    ) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(body.type).toBe('delivery.dead');
    expect(body.data).toMatchObject({
      tenant_id: 'shop',
      endpoint_id: endpoint.body.id,
      message_id: sent.body.id,
      http_status: 500,
      attempt_count: 1,
      event_type: 'order.created',
      event_count: 1,
    });
    expect(String(request.headers['webhook-id'])).toMatch(/^evt_/);

    const email = mail.messages[0]!;
    expect(email.envelopeTo).toEqual(['oncall@shop.example']);
    expect(email.envelopeFrom).toBe('alerts@hooks.example.com');
    expect(email.mail.text).toContain('HTTP 500');
    expect(email.mail.text).toContain('order.created');
    const link = new RegExp(`${gateway.url.replace(/[.]/g, '\\.')}/portal#(\\S+)`).exec(
      email.mail.text ?? '',
    );
    expect(link, email.mail.text).not.toBeNull();
    const token = new URLSearchParams(link![1]).get('token')!;
    const asPortal = apiClient(gateway.url, token);
    const read = await asPortal('GET', `/v1/endpoints/${endpoint.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(endpoint.body.id);

    expect(slack.requests[0]!.url).toBe(SLACK_PATH);
    expect(JSON.parse(slack.requests[0]!.body.toString('utf8')).text).toContain(
      'Webhook delivery failed permanently',
    );

    // A second death within the hour: no new alert now (it waits, folded, for the next slot).
    const again = await api('POST', '/v1/messages', {
      tenant_id: 'shop',
      event_type: 'order.created',
      payload: { n: 2 },
    });
    expect(again.status).toBe(202);
    await waitFor(() => failing.requests.length >= 2, { what: 'the second attempt' });
    await sleep(2_000);
    expect(ops.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);
    expect(mail.messages).toHaveLength(1);

    const logs = gateway.logs();
    const alertLines = logs.filter((line) => line.msg === 'alert sent');
    expect(alertLines.map((line) => line.channel).sort()).toEqual([
      'email',
      'operational_webhook',
      'slack',
    ]);
    const text = gateway.lines.join('\n');
    expect(text).not.toContain(SLACK_PATH);
    expect(text).not.toContain(token);
    expect(text).not.toContain(secret);

    await stopGateway(gateway, 10_000);
    expect((await gateway.exited).code).toBe(0);
    gateway = undefined;
  });

  it('refuses to start with an operational webhook URL but no secret', {
    timeout: 60_000,
  }, async () => {
    const own = await gatewayStorage(driver);
    try {
      const start = spawnGateway({
        env: {
          ...LOCAL_ENV,
          ...own.env,
          HOOKLINE_OPERATIONAL_WEBHOOK_URL: 'https://ops.example.com/hook',
        },
        startTimeoutMs: 60_000,
      });
      await expect(start).rejects.toThrow(
        /HOOKLINE_OPERATIONAL_WEBHOOK_SECRET: is required with HOOKLINE_OPERATIONAL_WEBHOOK_URL/,
      );
    } finally {
      await own.dispose();
    }
  });
});

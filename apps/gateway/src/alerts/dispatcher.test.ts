/**
 * The alert dispatcher end to end on both drivers: operational events in the database → the
 * operator's webhook (verified with @hookline/verify), a real SMTP server and a Slack-style
 * receiver on loopback; retries, restarts, the rate limit and tenant isolation.
 */
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { generateSecret, Webhook } from '@hookline/verify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import { type Receiver, type ReceiverHandler, startReceiver } from '../../test/receivers';
import { type SmtpRefusal, startSmtpServer, type TestSmtpServer } from '../../test/smtp';
import { createApp } from '../http/app';
import { createLogger } from '../logger';
import { createAddressPolicy, createHttpClient, type HttpClient, systemResolver } from '../net';
import type { Endpoint } from '../storage';
import { type NewOperationalEvent, recordOperationalEvent } from '../storage/alerts';
import { sql } from '../storage/sql';
import {
  type AlertDispatcher,
  type AlertDispatcherOptions,
  createAlertDispatcher,
} from './dispatcher';
import { createEmailTransport, type EmailTransport } from './email';

const HOUR = 60 * 60 * 1000;
const PUBLIC_URL = 'https://hooks.example.com';
const SLACK_PATH = '/services/T0001/B0001/slack-secret-7c2e9';

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(20);
  }
}

describe.each(testDrivers)('alert dispatcher (%s)', (driver) => {
  const t = useTestDatabase(driver);
  const secret = generateSecret();
  const verifier = new Webhook(secret);
  // The operator's webhook: operator configuration, not SSRF-guarded.
  let opsClient: HttpClient;
  // Tenant URLs (Slack): SSRF-guarded, with loopback allowed for the local receivers.
  let guardedClient: HttpClient;
  // The same guard without the loopback exemption, as in production.
  let strictClient: HttpClient;
  const started: { stop(): Promise<void> }[] = [];
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, callback) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        callback();
      },
    }),
  });

  beforeAll(() => {
    opsClient = createHttpClient({
      policy: createAddressPolicy({ allowHttp: true, allowNetworks: ['0.0.0.0/0', '::/0'] }),
      resolve: systemResolver,
      timeoutMs: 3_000,
    });
    guardedClient = createHttpClient({
      policy: createAddressPolicy({ allowHttp: true, allowNetworks: ['127.0.0.0/8'] }),
      resolve: systemResolver,
      timeoutMs: 3_000,
    });
    strictClient = createHttpClient({
      policy: createAddressPolicy({ allowHttp: true, allowNetworks: [] }),
      resolve: systemResolver,
      timeoutMs: 3_000,
    });
  });

  afterAll(async () => {
    await Promise.all([opsClient.close(), guardedClient.close(), strictClient.close()]);
  });

  beforeEach(async () => {
    logLines.length = 0;
    await t.database.sql.exec(
      'delete from alert_notifications; delete from alert_rate_limits; delete from operational_events;',
    );
  });

  afterEach(async () => {
    // Reverse order: dispatchers stop before the servers and transports they use.
    for (const item of started.splice(0).reverse()) await item.stop();
  });

  function track<T extends { stop(): Promise<void> }>(item: T): T {
    started.push(item);
    return item;
  }

  async function receiver(handler?: ReceiverHandler): Promise<Receiver> {
    const r = await startReceiver(handler);
    track({ stop: () => r.close() });
    return r;
  }

  async function smtp(
    options: { port?: number; refuse?: SmtpRefusal } = {},
  ): Promise<TestSmtpServer> {
    const server = await startSmtpServer(options);
    track({ stop: () => server.close() });
    return server;
  }

  function transport(url: string): EmailTransport {
    const created = createEmailTransport(url, {
      connectionTimeoutMs: 2_000,
      greetingTimeoutMs: 2_000,
      socketTimeoutMs: 5_000,
    });
    track({ stop: async () => created.close() });
    return created;
  }

  async function dispatcher(
    options: Partial<AlertDispatcherOptions> & Pick<AlertDispatcherOptions, 'channels'>,
  ): Promise<AlertDispatcher> {
    const created = createAlertDispatcher({
      store: t.store,
      logger,
      publicUrl: PUBLIC_URL,
      userAgentVersion: '0.0.0-test',
      intervalMs: HOUR,
      retrySchedule: [0.2, 0.4, 0.4],
      leaseMs: 5_000,
      pollIntervalMs: 100,
      timeoutMs: 3_000,
      ...options,
    });
    await created.start();
    return track({ ...created, stop: () => created.stop({ graceMs: 5_000 }) });
  }

  function ops(url: string) {
    return { url: `${url}/ops`, secret, client: opsClient };
  }

  function record(
    endpoint: Pick<Endpoint, 'id' | 'tenantId'>,
    extra: Partial<NewOperationalEvent> = {},
  ) {
    return t.store.alerts.recordEvent({
      type: 'delivery.dead',
      tenantId: endpoint.tenantId,
      endpointId: endpoint.id,
      deliveryId: 'dlv_01testdelivery0000000000000',
      messageId: 'msg_01testmessage00000000000000',
      data: {
        attempt_count: 5,
        outcome: 'http_5xx',
        http_status: 503,
        error: 'The endpoint answered 503.',
        event_type: 'invoice.paid',
      },
      ...extra,
    });
  }

  function verified(r: Receiver) {
    return r.requests.map((request) => ({
      id: String(request.headers['webhook-id']),
      body: verifier.verify(request.body, request.headers as Record<string, string>) as {
        type: string;
        timestamp: string;
        data: Record<string, unknown>;
      },
    }));
  }

  const infoLines = () =>
    logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l.level === 30);

  it('sends an event to the signed operational webhook, by email with the last status and a working portal link, and to Slack', async () => {
    const endpoint = await t.store.endpoints.create(
      endpointInput({
        tenantId: 'acme',
        url: 'https://receiver.example/hooks/acme?token=query-secret',
      }),
    );
    const sibling = await t.store.endpoints.create(endpointInput({ tenantId: 'acme' }));
    const opsReceiver = await receiver();
    const slack = await receiver((_req, res) => res.writeHead(200).end('ok'));
    const mail = await smtp();
    await t.store.alertChannels.put('acme', {
      emails: ['ops@acme.example', 'cto@acme.example'],
      slackWebhookUrl: `${slack.url}${SLACK_PATH}`,
    });
    await dispatcher({
      channels: {
        operationalWebhook: ops(opsReceiver.url),
        email: { transport: transport(mail.url), from: 'Hookline <alerts@hooks.example.com>' },
        slack: { client: guardedClient },
      },
    });
    const event = await record(endpoint);

    await waitFor(
      () =>
        opsReceiver.requests.length >= 1 && slack.requests.length >= 1 && mail.messages.length >= 1,
      'all three channels',
    );

    // Operational webhook: Standard Webhooks signature, webhook-id = the event id.
    const [delivered] = verified(opsReceiver);
    expect(delivered!.id).toBe(event.id);
    expect(opsReceiver.requests[0]!.url).toBe('/ops');
    expect(opsReceiver.requests[0]!.headers['user-agent']).toBe('Hookline/0.0.0-test');
    expect(delivered!.body).toEqual({
      type: 'delivery.dead',
      timestamp: event.createdAt.toISOString(),
      data: {
        attempt_count: 5,
        outcome: 'http_5xx',
        http_status: 503,
        error: 'The endpoint answered 503.',
        event_type: 'invoice.paid',
        tenant_id: 'acme',
        endpoint_id: endpoint.id,
        endpoint_url: 'https://receiver.example/hooks/acme?…',
        delivery_id: 'dlv_01testdelivery0000000000000',
        message_id: 'msg_01testmessage00000000000000',
        event_count: 1,
        first_event_at: event.createdAt.toISOString(),
      },
    });

    // Email: both addresses, the status, the attempts and a portal link that works.
    const [received] = mail.messages;
    expect(received!.envelopeTo.sort()).toEqual(['cto@acme.example', 'ops@acme.example']);
    expect(received!.envelopeFrom).toBe('alerts@hooks.example.com');
    expect(received!.mail.subject).toBe(
      '[Hookline] Webhook delivery failed permanently to receiver.example',
    );
    const text = received!.mail.text ?? '';
    expect(text).toContain('HTTP 503');
    expect(text).toMatch(/Attempts:\s+5/);
    expect(text).toContain('The endpoint answered 503.');
    expect(text).toContain('invoice.paid');
    expect(text).toContain('https://receiver.example/hooks/acme?…');
    expect(text).not.toContain('query-secret');
    expect(received!.mail.html).toContain('HTTP 503');
    expect(received!.mail.headers.get('x-hookline-event-id')).toBe(event.id);
    const link = /https:\/\/hooks\.example\.com\/portal#(\S+)/.exec(text);
    expect(link).not.toBeNull();
    const fragment = new URLSearchParams(link![1]);
    expect(fragment.get('tenant_id')).toBe('acme');
    expect(fragment.get('endpoint_id')).toBe(endpoint.id);
    const token = fragment.get('token')!;
    expect(token).toMatch(/^hl_pt_/);
    expect(received!.mail.html).toContain(token);

    const app = createApp({
      store: t.store,
      database: t.database,
      logger,
      httpClient: guardedClient,
      policy: createAddressPolicy({ allowHttp: false, allowNetworks: [] }),
      resolve: systemResolver,
      allowHttp: false,
      publicUrl: PUBLIC_URL,
      version: '0.0.0-test',
      retrySchedule: [30],
    });
    const asPortal = (path: string) =>
      app.request(path, { headers: { authorization: `Bearer ${token}` } });
    const read = await asPortal(`/v1/endpoints/${endpoint.id}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(endpoint.id);
    // Bound to the endpoint of the alert: not the tenant's other endpoints.
    expect((await asPortal(`/v1/endpoints/${sibling.id}`)).status).toBe(404);
    // Bounded lifetime: seven days.
    const [tokenRow] = await t.database.sql.query<{ expires_at: Date }>(
      sql`select expires_at from portal_tokens where endpoint_id = ${endpoint.id}`,
    );
    const lifetime = new Date(tokenRow!.expires_at).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(7 * 24 * HOUR - 60_000);
    expect(lifetime).toBeLessThanOrEqual(7 * 24 * HOUR);

    // Slack: incoming-webhook format, to the tenant's URL through the guarded client.
    expect(slack.requests[0]!.url).toBe(SLACK_PATH);
    const message = JSON.parse(slack.requests[0]!.body.toString('utf8'));
    expect(message.text).toContain('Webhook delivery failed permanently to receiver.example');
    expect(Array.isArray(message.blocks)).toBe(true);
    expect(JSON.stringify(message.blocks)).toContain('HTTP 503');
    expect(JSON.stringify(message)).not.toContain('hl_pt_');

    // Everything recorded as sent, once.
    await waitFor(async () => {
      const rows = await t.store.alerts.list();
      return rows.length === 3 && rows.every((n) => n.status === 'sent');
    }, 'the notifications to be recorded as sent');
    expect(opsReceiver.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);
    expect(mail.messages).toHaveLength(1);

    // One info line per notification sent, naming type, channel kind and event; never a
    // credential, and the addresses only at debug.
    const sent = infoLines().filter((line) => line.msg === 'alert sent');
    expect(sent.map((line) => line.channel).sort()).toEqual([
      'email',
      'operational_webhook',
      'slack',
    ]);
    for (const line of sent)
      expect(line).toMatchObject({ type: 'delivery.dead', event_id: event.id });
    const logs = logLines.join('\n');
    expect(logs).not.toContain(SLACK_PATH);
    expect(logs).not.toContain('slack-secret');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain('query-secret');
    const infoText = infoLines()
      .map((line) => JSON.stringify(line))
      .join('\n');
    expect(infoText).not.toContain('ops@acme.example');
  });

  it('is woken by the NOTIFY of a new event, not only by its poll', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    const opsReceiver = await receiver();
    await dispatcher({
      channels: { operationalWebhook: ops(opsReceiver.url) },
      pollIntervalMs: 60_000,
    });
    // Let the first round finish and the dispatcher fall asleep for a minute.
    await sleep(300);
    const recordedAt = Date.now();
    await record(endpoint);
    await waitFor(() => opsReceiver.requests.length >= 1, 'the alert', 5_000);
    expect(Date.now() - recordedAt).toBeLessThan(5_000);
  });

  it('retries a failing receiver with backoff and sends the same alert once it answers', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    const arrivals: number[] = [];
    const opsReceiver = await receiver((_req, res) => {
      arrivals.push(Date.now());
      res.writeHead(arrivals.length <= 2 ? 503 : 204).end();
    });
    let slackCalls = 0;
    const slack = await receiver((req, res) => {
      slackCalls++;
      // The first connection is dropped without an answer, then a success.
      if (slackCalls === 1) return void req.socket.destroy();
      res.writeHead(200).end('ok');
    });
    await t.store.alertChannels.put(endpoint.tenantId, {
      slackWebhookUrl: `${slack.url}${SLACK_PATH}`,
    });
    await dispatcher({
      channels: { operationalWebhook: ops(opsReceiver.url), slack: { client: guardedClient } },
    });
    const event = await record(endpoint);
    await waitFor(async () => {
      const rows = await t.store.alerts.list();
      return rows.length === 2 && rows.every((n) => n.status === 'sent');
    }, 'both notifications to be sent');
    expect(opsReceiver.requests).toHaveLength(3);
    expect(new Set(verified(opsReceiver).map((r) => r.id))).toEqual(new Set([event.id]));
    expect(slack.requests).toHaveLength(2);
    const rows = await t.store.alerts.list();
    expect(rows.find((n) => n.channel === 'operational_webhook')).toMatchObject({
      attemptCount: 3,
    });
    expect(rows.find((n) => n.channel === 'slack')).toMatchObject({ attemptCount: 2 });
    const warnings = logLines.filter((line) => line.includes('alert not sent: will retry'));
    expect(warnings).toHaveLength(3);
    expect(warnings.join('\n')).toContain('HTTP 503');
    expect(warnings.join('\n')).not.toContain(SLACK_PATH);
    // Backoff: 0.2 s then 0.4 s (±10 % jitter) between the tries.
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(170);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(350);
  });

  it('retries email while the SMTP server is down and sends it once the server is up', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput({ tenantId: 'mailco' }));
    // Learn a free port, then leave it closed: the server is down.
    const probe = await startSmtpServer();
    const port = probe.port;
    await probe.close();
    await t.store.alertChannels.put('mailco', { emails: ['oncall@mailco.example'] });
    await dispatcher({
      channels: {
        email: { transport: transport(`smtp://127.0.0.1:${port}`), from: 'alerts@x.example' },
      },
      retrySchedule: [0.3, 0.3, 0.3, 0.3, 0.3],
    });
    await record(endpoint);
    await waitFor(async () => {
      const [row] = await t.store.alerts.list();
      return row !== undefined && row.attemptCount >= 2 && row.status === 'pending';
    }, 'two failed tries');
    const [failing] = await t.store.alerts.list();
    expect(failing!.lastError).toMatch(/^email not sent/);
    expect(failing!.lastError).not.toContain('oncall@');
    // A failed try's portal link is revoked: it was never delivered.
    await waitFor(async () => {
      const revoked = await t.database.sql.query(
        sql`select id from portal_tokens where tenant_id = 'mailco' and revoked_at is not null`,
      );
      return revoked.length >= 2;
    }, 'the failed tries to revoke their links');

    const mail = await smtp({ port });
    await waitFor(() => mail.messages.length >= 1, 'the email once the server is up');
    await waitFor(async () => (await t.store.alerts.list())[0]?.status === 'sent', 'sent');
    await sleep(400);
    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]!.envelopeTo).toEqual(['oncall@mailco.example']);
    // Exactly one live token: the mailed one.
    const live = await t.database.sql.query(
      sql`select id from portal_tokens where tenant_id = 'mailco' and revoked_at is null`,
    );
    expect(live).toHaveLength(1);
  });

  it('gives up after the last retry, marks the alert failed and logs it', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    const opsReceiver = await receiver((_req, res) => res.writeHead(500).end());
    await dispatcher({
      channels: { operationalWebhook: ops(opsReceiver.url) },
      retrySchedule: [0.1, 0.1],
    });
    await record(endpoint);
    await waitFor(async () => (await t.store.alerts.list())[0]?.status === 'failed', 'failed');
    await sleep(300);
    expect(opsReceiver.requests).toHaveLength(3);
    const [row] = await t.store.alerts.list();
    expect(row).toMatchObject({ attemptCount: 3, status: 'failed' });
    expect(row!.lastError).toContain('HTTP 500');
    const failed = logLines
      .map((line) => JSON.parse(line))
      .filter((l) => l.msg === 'alert failed: giving up');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 50, channel: 'operational_webhook', attempt: 3 });
  });

  it('a refused SMTP message (5xx) is not retried', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput({ tenantId: 'refused' }));
    const mail = await smtp({ refuse: () => ({ code: 554, message: 'Message rejected' }) });
    await t.store.alertChannels.put('refused', { emails: ['nobody@refused.example'] });
    await dispatcher({
      channels: { email: { transport: transport(mail.url), from: 'alerts@x.example' } },
    });
    await record(endpoint);
    await waitFor(async () => (await t.store.alerts.list())[0]?.status === 'failed', 'failed');
    const [row] = await t.store.alerts.list();
    expect(row).toMatchObject({ attemptCount: 1 });
    expect(row!.lastError).toContain('SMTP 554');
  });

  it('a dispatcher stopped mid-way leaves the rest to the next one, and nothing is sent twice', async () => {
    const endpoints: Endpoint[] = [];
    for (let i = 0; i < 12; i++) endpoints.push(await t.store.endpoints.create(endpointInput()));
    const opsReceiver = await receiver((_req, res) => {
      setTimeout(() => res.writeHead(204).end(), 60);
    });
    const first = createAlertDispatcher({
      store: t.store,
      logger,
      channels: { operationalWebhook: ops(opsReceiver.url) },
      publicUrl: PUBLIC_URL,
      userAgentVersion: '0.0.0-test',
      concurrency: 2,
      pollIntervalMs: 100,
    });
    await first.start();
    const events = [];
    for (const endpoint of endpoints) events.push(await record(endpoint));
    await waitFor(() => opsReceiver.requests.length >= 3, 'a few sends');
    await first.stop({ graceMs: 5_000 });
    const sentByFirst = opsReceiver.requests.length;
    expect(sentByFirst).toBeLessThan(12);

    // More events while no dispatcher runs: the database keeps them.
    const late = await record(endpoints[0]!, {
      type: 'endpoint.disabled',
      data: { reason: 'gone' },
    });
    await dispatcher({ channels: { operationalWebhook: ops(opsReceiver.url) }, concurrency: 4 });
    await waitFor(() => opsReceiver.requests.length >= 13, 'every alert');
    await sleep(500);
    const ids = verified(opsReceiver).map((r) => r.id);
    expect(ids).toHaveLength(13);
    expect(new Set(ids)).toEqual(new Set([...events.map((e) => e.id), late.id]));
  });

  it('sends again an alert whose outcome was never recorded (at least once)', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    const held: ServerResponse[] = [];
    let answer = false;
    const opsReceiver = await receiver((_req, res) => {
      if (answer) res.writeHead(204).end();
      else held.push(res);
    });
    const options = {
      store: t.store,
      logger,
      channels: { operationalWebhook: ops(opsReceiver.url) },
      publicUrl: PUBLIC_URL,
      userAgentVersion: '0.0.0-test',
      pollIntervalMs: 100,
      leaseMs: 1_000,
      timeoutMs: 3_000,
    };
    const first = createAlertDispatcher(options);
    await first.start();
    const event = await record(endpoint);
    await waitFor(() => held.length === 1, 'the first send to hang');
    // The process "dies": nothing waits for the send in flight, nothing is recorded.
    await first.stop({ graceMs: 0 });
    answer = true;
    await dispatcher({ ...options });
    await waitFor(async () => (await t.store.alerts.list())[0]?.status === 'sent', 'sent');
    for (const res of held) res.writeHead(204).end();
    const ids = opsReceiver.requests.map((r) => r.headers['webhook-id']);
    expect(ids).toEqual([event.id, event.id]);
    const [row] = await t.store.alerts.list();
    expect(row).toMatchObject({ attemptCount: 2, status: 'sent' });
  });

  it('folds a burst of 100 dead deliveries to one endpoint into one alert per channel, other endpoints unaffected', async () => {
    const noisy = await t.store.endpoints.create(
      endpointInput({ tenantId: 'burst', url: 'https://noisy.example/hook' }),
    );
    const quiet = await t.store.endpoints.create(
      endpointInput({ tenantId: 'burst', url: 'https://quiet.example/hook' }),
    );
    const opsReceiver = await receiver();
    const slack = await receiver((_req, res) => res.writeHead(200).end('ok'));
    const mail = await smtp();
    await t.store.alertChannels.put('burst', {
      emails: ['ops@burst.example'],
      slackWebhookUrl: `${slack.url}${SLACK_PATH}`,
    });
    // The burst lands before a dispatcher looks (e.g. while it was restarting).
    for (let i = 0; i < 100; i++) await record(noisy);
    const quietEvent = await record(quiet);
    await dispatcher({
      channels: {
        operationalWebhook: ops(opsReceiver.url),
        email: { transport: transport(mail.url), from: 'alerts@x.example' },
        slack: { client: guardedClient },
      },
    });
    await waitFor(
      () =>
        opsReceiver.requests.length >= 2 && slack.requests.length >= 2 && mail.messages.length >= 2,
      'one alert per endpoint and channel',
      20_000,
    );
    await sleep(1_000);
    expect(opsReceiver.requests).toHaveLength(2);
    expect(slack.requests).toHaveLength(2);
    expect(mail.messages).toHaveLength(2);

    const byEndpoint = Object.fromEntries(
      verified(opsReceiver).map((r) => [r.body.data.endpoint_id, r.body.data.event_count]),
    );
    expect(byEndpoint).toEqual({ [noisy.id]: 100, [quiet.id]: 1 });
    const quietWebhook = verified(opsReceiver).find((r) => r.body.data.endpoint_id === quiet.id)!;
    expect(quietWebhook.id).toBe(quietEvent.id);

    const noisyMail = mail.messages.find((m) => m.mail.text?.includes('noisy.example'))!;
    expect(noisyMail.mail.subject).toBe(
      '[Hookline] 100 webhook deliveries failed permanently to noisy.example',
    );
    expect(noisyMail.mail.text).toMatch(
      /99 more deliveries to https:\/\/noisy\.example\/hook died in the last/,
    );
    const quietMail = mail.messages.find((m) => m.mail.text?.includes('quiet.example'))!;
    expect(quietMail.mail.text).not.toContain('more deliveries');
    const slackTexts = slack.requests.map(
      (r) => JSON.parse(r.body.toString('utf8')).text as string,
    );
    expect(slackTexts.filter((text) => text.includes('99 more deliveries'))).toHaveLength(1);
  });

  it('while it runs, sends the first of a burst at once and the rest folded into one alert an interval later', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    const opsReceiver = await receiver();
    await dispatcher({ channels: { operationalWebhook: ops(opsReceiver.url) }, intervalMs: 2_000 });
    const firstEvent = await record(endpoint);
    await waitFor(() => opsReceiver.requests.length >= 1, 'the first alert', 5_000);
    const startedAt = Date.now();
    // One commit, as the worker writes a batch of outcomes.
    await t.database.sql.transaction(async (tx) => {
      for (let i = 0; i < 99; i++) {
        await recordOperationalEvent(
          { sql: tx },
          { type: 'delivery.dead', tenantId: endpoint.tenantId, endpointId: endpoint.id },
        );
      }
    });
    await waitFor(() => opsReceiver.requests.length >= 2, 'the folded alert', 10_000);
    const gap = Date.now() - startedAt;
    await sleep(500);
    const all = verified(opsReceiver);
    expect(all).toHaveLength(2);
    expect(all[0]!.id).toBe(firstEvent.id);
    expect(all[0]!.body.data.event_count).toBe(1);
    expect(all[1]!.body.data.event_count).toBe(99);
    // Not before the interval since the first (less the time the first took to go out).
    expect(gap).toBeGreaterThan(1_000);
  });

  it("never sends tenant A's alerts to tenant B's channels", async () => {
    const a = await t.store.endpoints.create(endpointInput({ tenantId: 'tenant-a' }));
    const b = await t.store.endpoints.create(endpointInput({ tenantId: 'tenant-b' }));
    const slackA = await receiver((_req, res) => res.writeHead(200).end('ok'));
    const slackB = await receiver((_req, res) => res.writeHead(200).end('ok'));
    const mail = await smtp();
    await t.store.alertChannels.put('tenant-a', {
      emails: ['a@a.example'],
      slackWebhookUrl: `${slackA.url}/a`,
    });
    await t.store.alertChannels.put('tenant-b', {
      emails: ['b@b.example'],
      slackWebhookUrl: `${slackB.url}/b`,
    });
    await dispatcher({
      channels: {
        email: { transport: transport(mail.url), from: 'alerts@x.example' },
        slack: { client: guardedClient },
      },
    });
    await record(a);
    await waitFor(() => mail.messages.length >= 1 && slackA.requests.length >= 1, "A's alerts");
    await sleep(500);
    expect(slackB.requests).toHaveLength(0);
    expect(mail.messages.map((m) => m.envelopeTo)).toEqual([['a@a.example']]);
    expect(mail.messages[0]!.mail.text).toContain(a.id);
    expect(mail.messages[0]!.mail.text).not.toContain(b.id);

    await record(b, { type: 'endpoint.disabled', data: { reason: 'failing', http_status: 500 } });
    await waitFor(() => mail.messages.length >= 2 && slackB.requests.length >= 1, "B's alerts");
    await sleep(300);
    expect(slackA.requests).toHaveLength(1);
    expect(mail.messages[1]!.envelopeTo).toEqual(['b@b.example']);
    expect(mail.messages[1]!.mail.subject).toContain('Webhook endpoint disabled');
    // B's portal link is for B.
    const fragment = new URLSearchParams(/\/portal#(\S+)/.exec(mail.messages[1]!.mail.text!)![1]);
    expect(fragment.get('tenant_id')).toBe('tenant-b');
    expect(fragment.get('endpoint_id')).toBe(b.id);
  });

  it('dispatches events with no channel configured and sends nothing', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput({ tenantId: 'silent' }));
    const mail = await smtp();
    await dispatcher({
      channels: {
        email: { transport: transport(mail.url), from: 'alerts@x.example' },
        slack: { client: guardedClient },
      },
    });
    const event = await record(endpoint);
    await waitFor(
      async () => (await t.store.alerts.getEvent(event.id))?.dispatchedAt,
      'dispatched',
    );
    await sleep(300);
    expect(await t.store.alerts.list()).toEqual([]);
    expect(mail.messages).toHaveLength(0);
  });

  it('sends Slack alerts through the SSRF guard: a tenant URL on a private address is never dialled', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput({ tenantId: 'sneaky' }));
    const internal = await receiver((_req, res) => res.writeHead(200).end('ok'));
    await t.store.alertChannels.put('sneaky', { slackWebhookUrl: `${internal.url}/admin` });
    await dispatcher({ channels: { slack: { client: strictClient } }, retrySchedule: [0.1] });
    await record(endpoint);
    await waitFor(async () => (await t.store.alerts.list())[0]?.status === 'failed', 'failed');
    expect(internal.requests).toHaveLength(0);
    expect(internal.connections).toBe(0);
    expect((await t.store.alerts.list())[0]!.lastError).toContain('blocked');
  });

  it('cancels an alert whose tenant removed the channel before it went out', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput({ tenantId: 'fickle' }));
    const slack = await receiver((_req, res) => res.writeHead(200).end('ok'));
    await t.store.alertChannels.put('fickle', { slackWebhookUrl: `${slack.url}/x` });
    await record(endpoint);
    // Expanded (as a dispatcher would) while the channel existed, then the channel is removed.
    await t.store.alerts.expandEvents({
      operationalWebhook: false,
      email: false,
      slack: true,
      intervalMs: HOUR,
    });
    await t.store.alertChannels.put('fickle', {});
    await dispatcher({ channels: { slack: { client: guardedClient } } });
    await waitFor(
      async () => (await t.store.alerts.list())[0]?.status === 'cancelled',
      'cancelled',
    );
    expect(slack.requests).toHaveLength(0);
  });
});

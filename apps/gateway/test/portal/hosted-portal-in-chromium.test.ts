/**
 * The hosted portal end to end, in real Chromium: the real gateway in-process (embedded PGlite),
 * a real HTTPS receiver on loopback, portal links from `POST /v1/portal/links`. Each main screen
 * is checked with axe-core inside the page and written as a screenshot to a folder printed below.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`) and the built
 * portal (dist/portal, made by the gateway's build; built here when missing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from '@hookline/verify';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { type RunningGateway, startGateway } from '../../src/main';
import { apiClient, type GatewayStorage, gatewayStorage, LOCAL_ENV, waitFor } from '../e2e/harness';
import { type ReceivedRequest, type Receiver, startReceiver } from '../receivers';
import { createTestCertificates } from '../tls';

const CHROMIUM = '/usr/bin/chromium';
const PORTAL_DIR = fileURLToPath(new URL('../../dist/portal/', import.meta.url));
const PORTAL_VITE_CONFIG = fileURLToPath(new URL('../../portal/vite.config.ts', import.meta.url));
const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

let storage: GatewayStorage;
let gateway: RunningGateway;
let receiver: Receiver;
let browser: Browser;
let api: ReturnType<typeof apiClient>;
let screenshots: string;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
let receiverMode: 'ok' | 'fail' = 'ok';

/** A fresh browser context and page, watched for CSP violations and uncaught errors. */
async function newPage(options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  contexts.push(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url! });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return page;
}

/** Runs axe-core in the page; fails on any violation, listing each with its nodes. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected as a global script.
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return (result.violations as { id: string; help: string; nodes: { target: string[] }[] }[]).map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
    );
  });
  expect(violations, `axe violations on "${screen}"`).toEqual([]);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

function signatureHeaders(request: ReceivedRequest) {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}

async function link(tenantId: string): Promise<{ url: string; token: string }> {
  const answer = await api('POST', '/v1/portal/links', { tenant_id: tenantId });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  expect(answer.body.url).toBe(
    `${gateway.url}/portal#token=${answer.body.token}&tenant_id=${encodeURIComponent(tenantId)}`,
  );
  return answer.body;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium).`,
    );
  }
  if (!existsSync(join(PORTAL_DIR, 'index.html'))) {
    // Normally made by the gateway's build (turbo build runs before the tests).
    const { build } = await import('vite');
    await build({ configFile: PORTAL_VITE_CONFIG, logLevel: 'warn' });
  }
  screenshots = await mkdtemp(join(tmpdir(), 'hookline-portal-screenshots-'));
  console.log(`hosted portal screenshots: ${screenshots}`);

  const certs = await createTestCertificates();
  receiver = await startReceiver(
    (_req, res) => {
      if (receiverMode === 'fail')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('not today');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    },
    { tls: certs },
  );
  storage = await gatewayStorage('pglite');
  gateway = await startGateway({
    env: { ...LOCAL_ENV, ...storage.env, HOOKLINE_LOG_LEVEL: 'silent' },
    ca: certs.ca,
    logger: createLogger({ level: 'silent' }),
    printBanner: false,
  });
  api = apiClient(gateway.url!, gateway.apiKey!);
  for (const [name, description] of [
    ['invoice.paid', 'An invoice was paid in full.'],
    ['invoice.failed', 'A payment attempt failed.'],
    ['customer.created', 'A new customer signed up.'],
  ] as const) {
    expect((await api('POST', '/v1/event-types', { name, description })).status).toBe(201);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await gateway?.stop({ graceMs: 1_000 });
  await receiver?.close();
  await storage?.dispose();
  if (screenshots) console.log(`hosted portal screenshots written to ${screenshots}`);
}, 30_000);

describe('hosted portal in Chromium', () => {
  // Shared by the steps below, which run in order on one page.
  let page: Page;
  let endpointId: string;
  let secret: string;
  let messageId: string;

  it('opens from a portal link, adds an endpoint (gateway errors on the field) and reveals its secret once', async () => {
    const a = await link('tenant-a');
    page = await newPage();
    // The link as minted: its fragment names the tenant, which creating an endpoint needs.
    await page.goto(a.url);
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByText('No endpoints yet.').waitFor();
    expect(page.url()).toBe(`${gateway.url}/portal`);
    await expectAccessible(page, 'endpoints (empty)');
    await screenshot(page, '01-endpoints-empty');

    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const url = page.getByLabel('Endpoint URL');
    await url.fill('https://10.20.30.40/hooks');
    await page.getByLabel('Description (optional)').fill('Billing events');
    await page.getByRole('checkbox', { name: 'invoice.paid' }).check();
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Tenant');
    await page.getByLabel('Header 1 value').fill('a');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    // The gateway's SSRF policy refuses the private address: its words show on the URL field.
    await expect.poll(() => url.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await url.getAttribute('aria-describedby'))!.split(' ').at(-1)!;
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/is not allowed/);
    await expectAccessible(page, 'add endpoint (with a field error)');
    await screenshot(page, '02-add-endpoint-error');

    await url.fill(`${receiver.url}/hooks`);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const reveal = page.getByRole('region', { name: 'Your signing secret' });
    await reveal.waitFor();
    secret = (await page.getByTestId('hl-secret-value').textContent())!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{30,}$/);
    await reveal.getByRole('button', { name: 'Copy secret' }).click();
    await reveal.getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await expectAccessible(page, 'endpoint with its new secret');
    await screenshot(page, '03-endpoint-created-secret');

    const listed = await api('GET', '/v1/endpoints?tenant_id=tenant-a');
    expect(listed.body.data).toHaveLength(1);
    endpointId = listed.body.data[0].id;
    expect(listed.body.data[0]).toMatchObject({
      url: `${receiver.url}/hooks`,
      description: 'Billing events',
      event_types: ['invoice.paid'],
      headers: { 'X-Tenant': 'a' },
    });
    expect(secret.startsWith(listed.body.data[0].secret_hint)).toBe(true);

    await reveal.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByText('(only the beginning is shown)').waitFor({ state: 'attached' });
    expect(await page.getByText(secret).count()).toBe(0);
  }, 60_000);

  it('sends a test event and shows the answer inline; the receiver verifies it with the copied secret', async () => {
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText(/^HTTP 200 · Success · \d+ ms$/).waitFor();
    await page.getByText('"received": true').first().waitFor();
    expect(receiver.requests).toHaveLength(1);
    const [test] = receiver.requests;
    expect(test!.headers['x-tenant']).toBe('a');
    const verified = new Webhook(secret).verify(
      test!.body.toString('utf8'),
      signatureHeaders(test!),
    );
    expect(verified).toMatchObject({ type: 'hookline.test' });
    await expectAccessible(page, 'endpoint with a test result');
    await screenshot(page, '04-test-event-result');
  }, 30_000);

  it('shows a delivery arriving in the log on its own, with request and response details', async () => {
    const sent = await api('POST', '/v1/messages', {
      tenant_id: 'tenant-a',
      event_type: 'invoice.paid',
      payload: { invoice: 'in_1', amount: 4200 },
    });
    expect(sent.status).toBe(202);
    messageId = sent.body.id;
    // Auto-refresh brings it in: nothing is clicked.
    const row = page
      .getByRole('row')
      .filter({ hasText: 'invoice.paid' })
      .filter({ hasText: 'Succeeded' });
    await row.waitFor({ timeout: 20_000 });
    await expectAccessible(page, 'endpoint with deliveries');
    await screenshot(page, '05-endpoint-with-deliveries');

    await row.getByRole('button', { name: /^View details of invoice\.paid delivery/ }).click();
    await page.getByRole('heading', { name: 'Delivery invoice.paid' }).waitFor();
    await page.getByText(messageId).first().waitFor();
    const requestHeaders = page.getByRole('table', { name: 'Request headers' }).first();
    await requestHeaders.getByText('webhook-signature').waitFor();
    expect(await requestHeaders.textContent()).not.toContain(secret);
    await page.getByText('"invoice": "in_1"').first().waitFor();
    await page.getByRole('table', { name: 'Response headers' }).first().waitFor();
    await expectAccessible(page, 'delivery details');
    await screenshot(page, '06-delivery-detail');
  }, 40_000);

  it('replays the delivery: same webhook-id, same bytes, and the new attempt shows', async () => {
    const before = receiver.requests.length;
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.getByText(/^Replay queued: a new attempt goes out now with/).waitFor();
    await waitFor(() => receiver.requests.length > before, { what: 'the replayed delivery' });
    const original = receiver.requests.find((r) => r.headers['webhook-id'] === messageId)!;
    const replayed = receiver.requests.at(-1)!;
    expect(replayed.headers['webhook-id']).toBe(messageId);
    expect(replayed.body.equals(original.body)).toBe(true);
    await page.getByText(/Attempt 2 \(manual\) · HTTP 200/).waitFor({ timeout: 20_000 });
    await screenshot(page, '07-delivery-replayed');
    await page.getByRole('button', { name: '← Back' }).click();
    await page.getByRole('heading', { name: `${receiver.url}/hooks` }).waitFor();
  }, 40_000);

  it('rotates the secret through its grace period: both signatures are sent', async () => {
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page.getByLabel('Grace period').selectOption('3600');
    await page.getByRole('button', { name: 'Rotate now' }).click();
    const reveal = page.getByRole('region', { name: 'Your new signing secret' });
    await reveal.waitFor();
    await reveal.getByText(/Both signatures are sent until/).waitFor();
    const rotated = (await page.getByTestId('hl-secret-value').textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await expectAccessible(page, 'secret rotation');
    await screenshot(page, '08-secret-rotated');

    const before = receiver.requests.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await waitFor(() => receiver.requests.length > before, { what: 'the test after rotation' });
    const request = receiver.requests.at(-1)!;
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const key of [rotated, secret]) {
      expect(() =>
        new Webhook(key).verify(request.body.toString('utf8'), signatureHeaders(request)),
      ).not.toThrow();
    }
    await reveal.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByText(/A rotation is in progress: both signatures are sent until/).waitFor();
    secret = rotated;
  }, 40_000);

  it('pauses (deliveries are held) and resumes (held deliveries go out)', async () => {
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByText(/This endpoint is paused/).waitFor();
    const before = receiver.requests.length;
    const sent = await api('POST', '/v1/messages', {
      tenant_id: 'tenant-a',
      event_type: 'invoice.paid',
      payload: { invoice: 'in_held' },
    });
    expect(sent.status).toBe(202);
    await page.getByRole('row').filter({ hasText: 'Held (paused)' }).waitFor({ timeout: 20_000 });
    expect(receiver.requests.length).toBe(before);
    await expectAccessible(page, 'paused endpoint');
    await screenshot(page, '09-endpoint-paused');

    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await waitFor(() => receiver.requests.some((r) => r.headers['webhook-id'] === sent.body.id), {
      what: 'the held delivery after resuming',
      timeoutMs: 15_000,
    });
    await page.locator('.hl-badge', { hasText: 'Active' }).first().waitFor();
  }, 60_000);

  it('edits the retry schedule, then recovers a failed delivery with "Recover failed since…"', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByLabel('Retry schedule').selectOption('none');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('No retries', { exact: true }).waitFor();

    receiverMode = 'fail';
    const sent = await api('POST', '/v1/messages', {
      tenant_id: 'tenant-a',
      event_type: 'invoice.paid',
      payload: { invoice: 'in_dead' },
    });
    await waitFor(
      async () =>
        (await api('GET', `/v1/deliveries?message_id=${sent.body.id}`)).body.data[0]?.status ===
        'dead',
      { what: 'the delivery to fail for good', timeoutMs: 15_000 },
    );
    receiverMode = 'ok';
    await page
      .getByRole('row')
      .filter({ hasText: 'Failed' })
      .filter({ hasText: '500' })
      .waitFor({ timeout: 20_000 });

    const before = receiver.requests.length;
    await page.getByRole('button', { name: 'Recover failed since…' }).click();
    await page.getByRole('button', { name: 'Replay failed deliveries' }).click();
    await page.getByText('Queued 1 failed delivery for replay.').waitFor();
    await waitFor(
      () => receiver.requests.slice(before).some((r) => r.headers['webhook-id'] === sent.body.id),
      {
        what: 'the recovered delivery',
      },
    );
    await screenshot(page, '10-recovered');
  }, 60_000);

  it("shows the tenant's whole delivery log with filters, and saves alert channels", async () => {
    await page.getByRole('button', { name: 'Delivery log' }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await page.getByLabel('Status').selectOption('succeeded');
    await expect
      .poll(async () => {
        const statuses = await page
          .locator('tbody td[data-label="Status"] .hl-badge')
          .allTextContents();
        return statuses.length > 0 && statuses.every((s) => s === 'Succeeded');
      })
      .toBe(true);
    await expectAccessible(page, 'delivery log');
    await screenshot(page, '11-delivery-log');

    await page.getByRole('button', { name: 'Alerts' }).click();
    await page.getByLabel('Email addresses').fill('ops@tenant-a.test');
    await page.getByRole('button', { name: 'Save alert settings' }).click();
    await page.locator('p', { hasText: 'Alert settings saved.' }).waitFor();
    const channels = await api('GET', '/v1/tenants/tenant-a/alert-channels');
    expect(channels.body.emails).toEqual(['ops@tenant-a.test']);
    await expectAccessible(page, 'alerts');
    await screenshot(page, '12-alerts');
  }, 40_000);

  it('stays readable at 320 px wide and in the dark scheme', async () => {
    await page.setViewportSize({ width: 320, height: 760 });
    await page.getByRole('button', { name: 'Endpoints' }).click();
    await page.getByRole('button', { name: `${receiver.url}/hooks` }).waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth);
    expect(await overflow()).toBeLessThanOrEqual(320);
    await expectAccessible(page, 'endpoints at 320 px');
    await screenshot(page, '13-endpoints-320px');
    await page.getByRole('button', { name: `${receiver.url}/hooks` }).click();
    await page.getByRole('heading', { name: 'Recent deliveries' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'invoice.paid' }).first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(320);
    await expectAccessible(page, 'endpoint at 320 px');
    await screenshot(page, '14-endpoint-320px');

    const dark = await newPage({ colorScheme: 'dark' });
    await dark.goto((await link('tenant-a')).url);
    await dark.getByRole('button', { name: `${receiver.url}/hooks` }).waitFor();
    const background = await dark.evaluate(
      () => getComputedStyle(document.querySelector('.hl-portal')!).backgroundColor,
    );
    expect(background).toBe('rgb(13, 17, 23)');
    await expectAccessible(dark, 'endpoints, dark');
    await screenshot(dark, '15-endpoints-dark');
    await dark.getByRole('button', { name: `${receiver.url}/hooks` }).click();
    await dark.getByRole('heading', { name: 'Recent deliveries' }).waitFor();
    await dark.getByRole('row').filter({ hasText: 'invoice.paid' }).first().waitFor();
    await expectAccessible(dark, 'endpoint, dark');
    await screenshot(dark, '16-endpoint-dark');
  }, 60_000);

  it("gives a second tenant's link none of the first tenant's data", async () => {
    const created = await api('POST', '/v1/endpoints', {
      tenant_id: 'tenant-b',
      url: `${receiver.url}/tenant-b`,
    });
    expect(created.status).toBe(201);
    const b = await link('tenant-b');
    const other = await newPage();
    await other.goto(b.url);
    await other.getByRole('button', { name: `${receiver.url}/tenant-b` }).waitFor();
    expect(await other.getByRole('row').count()).toBe(2);
    expect(await other.getByText(`${receiver.url}/hooks`).count()).toBe(0);
    await screenshot(other, '17-second-tenant');

    await other.getByRole('button', { name: 'Delivery log' }).click();
    await other.getByText('No deliveries yet.').waitFor();
    await other.getByRole('button', { name: 'Alerts' }).click();
    // The tenant is learnt from its endpoint; its channels are its own (empty), not tenant-a's.
    await expect.poll(() => other.getByLabel('Email addresses').inputValue()).toBe('');
    const probe = await other.evaluate(
      async ([id, token]) =>
        (await fetch(`/v1/endpoints/${id}`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      [endpointId, b.token] as const,
    );
    expect(probe).toBe(404);
  }, 40_000);

  it("explains links it cannot use (expired, incomplete, no tenant_id) and lets a new tenant's minted link add endpoints", async () => {
    const expired = await newPage();
    await expired.goto(`${gateway.url}/portal#token=hl_pt_${'x'.repeat(43)}`);
    await expired.getByRole('heading', { name: 'This link has expired' }).waitFor();
    await expectAccessible(expired, 'expired link');
    await screenshot(expired, '18-expired-link');

    const bare = await newPage();
    await bare.goto(`${gateway.url}/portal`);
    await bare.getByRole('heading', { name: 'This link is incomplete' }).waitFor();
    await expectAccessible(bare, 'incomplete link');

    // A link whose fragment lacks tenant_id (hand-made or trimmed): the portal shows the
    // endpoints (none) but says it cannot add one, instead of failing on submit.
    const fresh = await newPage();
    const minted = await link('tenant-new');
    await fresh.goto(minted.url.replace(/&tenant_id=[^&]*/, ''));
    await fresh.getByText('No endpoints yet.').waitFor();
    await fresh.getByRole('button', { name: 'Add endpoint' }).click();
    await fresh.getByText(/does not know which account it manages/).waitFor();
    expect(await fresh.getByRole('button', { name: 'Create endpoint' }).isDisabled()).toBe(true);

    // The link as minted names its tenant: a brand-new tenant can add its first endpoint.
    const named = await newPage();
    await named.goto((await link('tenant-newer')).url);
    await named.getByText('No endpoints yet.').waitFor();
    await named.getByRole('button', { name: 'Add endpoint' }).click();
    expect(await named.getByRole('button', { name: 'Create endpoint' }).isDisabled()).toBe(false);
  }, 40_000);

  it('ran without CSP violations or uncaught page errors', () => {
    expect(problems).toEqual([]);
  });
});

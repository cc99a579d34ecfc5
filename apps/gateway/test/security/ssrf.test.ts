/**
 * The SSRF guard, end to end through the HTTP API and the delivery worker: every hostile URL is
 * refused when it is registered, or blocked when it is delivered to, and nothing is ever
 * dialled for it. The dial recorder refuses every connection but the loopback receivers a test
 * names, so even a broken guard could not reach a private or public address from here.
 */
import { type Attempt, apiRoutes, type EndpointWithSecret } from '@hookline/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createWorker } from '../../src/delivery/worker';
import {
  call,
  expectError,
  expectResponse,
  openTestGateway,
  type TestAppOptions,
  type TestGateway,
} from '../../src/http/test-helpers';
import { createLogger } from '../../src/logger';
import { createHttpClient, type HttpClient } from '../../src/net/http-client';
import { type AddressPolicyOptions, createAddressPolicy } from '../../src/net/policy';
import { type Receiver, startReceiver } from '../receivers';
import {
  type DialRecorder,
  dialRecorder,
  PUBLIC_V4,
  PUBLIC_V6,
  type ScriptedResolver,
  scriptedResolver,
} from './support';

type App = ReturnType<TestGateway['app']>;

let gw: TestGateway;
let rec: DialRecorder;
let dns: ScriptedResolver;
const receivers: Receiver[] = [];
const clients: HttpClient[] = [];

/** Names the hostile hostnames resolve to (through the injected resolver only). */
const HOSTILE_NAMES: Record<string, string[]> = {
  'private.test': ['10.0.0.1'],
  'loopback.test': ['127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'v6-loopback.test': ['::1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'nat64-metadata.test': ['64:ff9b::a9fe:a9fe'],
  'sixtofour.test': ['2002:a9fe:a9fe::1'],
  'ula.test': ['fd00::1'],
  'cgnat.test': ['100.64.1.2'],
  'zero.test': ['0.0.0.0'],
  'broadcast.test': ['255.255.255.255'],
  'mixed.test': [PUBLIC_V4, '10.0.0.1'],
  'mixed-v6.test': [PUBLIC_V6, 'fe80::1'],
  'decimal-answer.test': ['2130706433'],
};

function app(options: TestAppOptions = {}): App {
  return gw.app({ resolve: dns, beforeConnect: rec.hook, ...options });
}

async function register(on: App, url: string, tenant = 'tenant-a'): Promise<Response> {
  return call(on, 'POST', '/v1/endpoints', {
    token: gw.apiKey,
    body: { tenant_id: tenant, url },
  });
}

async function registered(on: App, url: string): Promise<EndpointWithSecret> {
  return expectResponse<EndpointWithSecret>(await register(on, url), apiRoutes.createEndpoint, 201);
}

async function testSend(on: App, endpointId: string): Promise<Attempt> {
  const response = await call(on, 'POST', `/v1/endpoints/${endpointId}/test`, {
    token: gw.apiKey,
  });
  return expectResponse<Attempt>(response, apiRoutes.testEndpoint, 200);
}

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  gw = await openTestGateway();
  rec = dialRecorder();
  dns = scriptedResolver({ ...HOSTILE_NAMES, 'public.test': [PUBLIC_V4] });
});

afterEach(() => {
  rec.clear();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(receivers.map((r) => r.close()));
  await gw?.close();
});

// [url, the 400's code]. The request schema refuses what is not an http(s) URL at all, and URLs
// with credentials, as `invalid_request`; every policy refusal is `url_not_allowed`.
const HOSTILE_URLS: [string, 'url_not_allowed' | 'invalid_request'][] = [
  // Loopback in every spelling.
  ['https://localhost/', 'url_not_allowed'],
  ['https://localhost./', 'url_not_allowed'],
  ['https://LocalHost:8443/', 'url_not_allowed'],
  ['https://api.localhost/', 'url_not_allowed'],
  ['https://127.0.0.1/', 'url_not_allowed'],
  ['https://127.255.255.254/', 'url_not_allowed'],
  ['https://[::1]/', 'url_not_allowed'],
  ['https://[0:0:0:0:0:0:0:1]/', 'url_not_allowed'],
  ['https://[::ffff:127.0.0.1]/', 'url_not_allowed'],
  ['https://0x7f.1/', 'url_not_allowed'],
  ['https://2130706433/', 'url_not_allowed'],
  ['https://017700000001/', 'url_not_allowed'],
  ['https://127.1/', 'url_not_allowed'],
  ['https://0177.0.0.1/', 'url_not_allowed'],
  ['https://0x7f000001/', 'url_not_allowed'],
  ['https://0x7f.0x0.0x0.0x1/', 'url_not_allowed'],
  ['https://%31%32%37.0.0.1/', 'url_not_allowed'],
  ['https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/', 'url_not_allowed'],
  // Cloud metadata, 169.254.169.254, in all its spellings (and the IPv6 ones).
  ['https://169.254.169.254/latest/meta-data/', 'url_not_allowed'],
  ['https://169.254.169.254./', 'url_not_allowed'],
  ['https://0xa9fea9fe/', 'url_not_allowed'],
  ['https://2852039166/', 'url_not_allowed'],
  ['https://0251.0376.0251.0376/', 'url_not_allowed'],
  ['https://0xa9.0xfe.0xa9.0xfe/', 'url_not_allowed'],
  ['https://169.254.43518/', 'url_not_allowed'],
  ['https://[::ffff:169.254.169.254]/', 'url_not_allowed'],
  ['https://[::ffff:a9fe:a9fe]/', 'url_not_allowed'],
  ['https://[64:ff9b::169.254.169.254]/', 'url_not_allowed'],
  ['https://[fd00:ec2::254]/', 'url_not_allowed'],
  // Private networks, CGNAT, this network, broadcast.
  ['https://10.0.0.1/', 'url_not_allowed'],
  ['https://10.255.255.255/', 'url_not_allowed'],
  ['https://172.16.0.1/', 'url_not_allowed'],
  ['https://172.31.255.254/', 'url_not_allowed'],
  ['https://192.168.0.1/', 'url_not_allowed'],
  ['https://192.168.255.254/', 'url_not_allowed'],
  ['https://100.64.0.1/', 'url_not_allowed'],
  ['https://100.127.255.254/', 'url_not_allowed'],
  ['https://0.0.0.0/', 'url_not_allowed'],
  ['https://0/', 'url_not_allowed'],
  ['https://0.1.2.3/', 'url_not_allowed'],
  ['https://[::]/', 'url_not_allowed'],
  ['https://255.255.255.255/', 'url_not_allowed'],
  // Multicast.
  ['https://224.0.0.1/', 'url_not_allowed'],
  ['https://239.255.255.250/', 'url_not_allowed'],
  ['https://[ff02::1]/', 'url_not_allowed'],
  ['https://[ff05::1:3]/', 'url_not_allowed'],
  // Documentation, benchmarking, IETF protocol assignments, reserved (240/4).
  ['https://192.0.2.1/', 'url_not_allowed'],
  ['https://198.51.100.7/', 'url_not_allowed'],
  ['https://203.0.113.9/', 'url_not_allowed'],
  ['https://[2001:db8::1]/', 'url_not_allowed'],
  ['https://192.0.0.8/', 'url_not_allowed'],
  ['https://198.18.0.1/', 'url_not_allowed'],
  ['https://198.19.255.254/', 'url_not_allowed'],
  ['https://240.0.0.1/', 'url_not_allowed'],
  ['https://250.1.2.3/', 'url_not_allowed'],
  // IPv6 unique local, site-local, link-local, Teredo, discard.
  ['https://[fc00::1]/', 'url_not_allowed'],
  ['https://[fd12:3456:789a::1]/', 'url_not_allowed'],
  ['https://[fec0::1]/', 'url_not_allowed'],
  ['https://[fe80::1]/', 'url_not_allowed'],
  ['https://[fe80::a9fe:a9fe]/', 'url_not_allowed'],
  ['https://[2001::1]/', 'url_not_allowed'],
  ['https://[100::1]/', 'url_not_allowed'],
  // IPv4-compatible, 6to4 and NAT64 embeddings of private IPv4.
  ['https://[::127.0.0.1]/', 'url_not_allowed'],
  ['https://[::10.0.0.1]/', 'url_not_allowed'],
  ['https://[2002:7f00:1::]/', 'url_not_allowed'],
  ['https://[2002:a9fe:a9fe::]/', 'url_not_allowed'],
  ['https://[2002:c0a8:101::1]/', 'url_not_allowed'],
  ['https://[64:ff9b::7f00:1]/', 'url_not_allowed'],
  ['https://[64:ff9b::10.0.0.1]/', 'url_not_allowed'],
  ['https://[64:ff9b:1::a00:1]/', 'url_not_allowed'],
  ['https://[::ffff:0:7f00:1]/', 'url_not_allowed'],
  // Hostnames that resolve (through the test's resolver) to forbidden addresses.
  ...Object.keys(HOSTILE_NAMES).map(
    (name) => [`https://${name}/hook`, 'url_not_allowed'] as [string, 'url_not_allowed'],
  ),
  ['https://nxdomain.test/', 'url_not_allowed'],
  // Zone ids, credentials, schemes.
  ['https://[fe80::1%25eth0]/', 'invalid_request'],
  ['https://[::1%25lo]:8443/', 'invalid_request'],
  ['https://good.example@127.0.0.1/', 'invalid_request'],
  ['https://good.example:pw@public.test/', 'invalid_request'],
  ['http://public.test/', 'url_not_allowed'],
  ['http://127.0.0.1/', 'url_not_allowed'],
  ['file:///etc/passwd', 'invalid_request'],
  ['gopher://public.test:70/_GET', 'invalid_request'],
  ['ftp://public.test/', 'invalid_request'],
  ['data:text/plain,hello', 'invalid_request'],
  ['ws://public.test/', 'invalid_request'],
  ['//169.254.169.254/', 'invalid_request'],
];

describe('registration refuses every hostile URL, dialling nothing', () => {
  let strict: App;
  beforeAll(() => {
    strict = app();
  });

  it('covers at least 60 hostile URLs', () => {
    expect(HOSTILE_URLS.length).toBeGreaterThanOrEqual(60);
  });

  it.each(HOSTILE_URLS)(
    'POST /v1/endpoints refuses %s with 400 %s naming url',
    async (url, code) => {
      const body = await expectError(await register(strict, url), 400, code);
      expect(body.error.details?.map((d) => d.path)).toEqual(['url']);
      expect(body.error.message).toContain('url');
      expect(rec.dialled).toEqual([]);
    },
  );

  it.each(HOSTILE_URLS.filter(([, code]) => code === 'url_not_allowed').map(([url]) => url))(
    'PATCH /v1/endpoints/{id} refuses %s too',
    async (url) => {
      const endpoint = await registered(strict, 'https://public.test/ok');
      const response = await call(strict, 'PATCH', `/v1/endpoints/${endpoint.id}`, {
        token: gw.apiKey,
        body: { url },
      });
      const body = await expectError(response, 400, 'url_not_allowed');
      expect(body.error.details?.map((d) => d.path)).toEqual(['url']);
      expect(rec.dialled).toEqual([]);
    },
  );

  it('refuses a hostile Slack alert URL naming slack_webhook_url', async () => {
    const response = await call(strict, 'PUT', '/v1/tenants/tenant-a/alert-channels', {
      token: gw.apiKey,
      body: { slack_webhook_url: 'https://[::ffff:a9fe:a9fe]/services/x' },
    });
    const body = await expectError(response, 400, 'url_not_allowed');
    expect(body.error.details?.map((d) => d.path)).toEqual(['slack_webhook_url']);
  });

  it('does not tell a name that resolves to a private address from one that does not resolve', async () => {
    const privateName = await expectError(
      await register(strict, 'https://private.test/'),
      400,
      'url_not_allowed',
    );
    const missing = await expectError(
      await register(strict, 'https://nxdomain.test/'),
      400,
      'url_not_allowed',
    );
    expect(privateName).toEqual(missing);
    expect(JSON.stringify(privateName)).not.toContain('10.0.0.1');
  });

  it('never resolves a literal address or a refused scheme', async () => {
    const before = dns.calls.length;
    await register(strict, 'https://[::ffff:127.0.0.1]/');
    await register(strict, 'http://public.test/');
    await register(strict, 'https://localhost/');
    expect(dns.calls.length).toBe(before);
  });
});

describe('delivery blocks what registration would refuse, dialling nothing', () => {
  let strict: App;
  beforeAll(() => {
    strict = app();
  });

  // Rows that bypassed today's policy (stored under an older, looser configuration, or written
  // by hand): the delivery-time guard must stand on its own.
  // (A name that does not resolve is refused at registration but is no SSRF at delivery: it
  // fails there as network_error.)
  const LITERALS = HOSTILE_URLS.filter(
    ([url, code]) =>
      code === 'url_not_allowed' && url.startsWith('https://') && !url.includes('nxdomain'),
  ).map(([url]) => url);

  it.each(LITERALS)('a test send to a stored %s is recorded blocked', async (url) => {
    const endpoint = await gw.store.endpoints.create({
      tenantId: 'tenant-stored',
      url,
      secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
    });
    const attempt = await testSend(strict, endpoint.id);
    expect(attempt).toMatchObject({ outcome: 'blocked', http_status: null, trigger: 'test' });
    expect(attempt.error).toMatch(/not allowed|forbidden|loopback name|resolve/);
    expect(rec.dialled).toEqual([]);
  });

  it('blocks a name that turned private between registration and delivery (DNS rebinding)', async () => {
    dns.table['rebind.test'] = (n) => (n === 1 ? [PUBLIC_V4] : ['127.0.0.1']);
    const endpoint = await registered(strict, 'https://rebind.test/hook');
    const attempt = await testSend(strict, endpoint.id);
    expect(attempt).toMatchObject({ outcome: 'blocked', http_status: null });
    expect(attempt.error).toMatch(
      /rebind\.test resolves to a forbidden address: 127\.0\.0\.1 is a loopback/,
    );
    expect(rec.dialled).toEqual([]);
  });

  it('blocks a rebinding answer that mixes the public address with a private one', async () => {
    dns.table['rebind-mixed.test'] = (n) =>
      n === 1 ? [PUBLIC_V4] : [PUBLIC_V4, '169.254.169.254'];
    const endpoint = await registered(strict, 'https://rebind-mixed.test/hook');
    const attempt = await testSend(strict, endpoint.id);
    expect(attempt.outcome).toBe('blocked');
    expect(attempt.error).toMatch(/169\.254\.169\.254/);
    expect(rec.dialled).toEqual([]);
  });

  it('records a blocked attempt from the worker when a name rebinds to the metadata address', async () => {
    dns.table['rebind-worker.test'] = (n) => (n === 1 ? [PUBLIC_V4] : ['169.254.169.254']);
    const policyOptions: AddressPolicyOptions = { allowHttp: false, allowNetworks: [] };
    const client = createHttpClient({
      policy: createAddressPolicy(policyOptions),
      resolve: dns,
      beforeConnect: rec.hook,
      timeoutMs: 2_000,
    });
    clients.push(client);
    const endpoint = await registered(strict, 'https://rebind-worker.test/hook');
    const sent = await call(strict, 'POST', '/v1/messages', {
      token: gw.apiKey,
      body: {
        tenant_id: 'tenant-a',
        event_type: 'ssrf.probe',
        payload: { n: 1 },
        endpoint_id: endpoint.id,
      },
    });
    const message = await expectResponse<{ id: string }>(sent, apiRoutes.createMessage, 202);
    const worker = createWorker({
      store: gw.store,
      httpClient: client,
      logger: createLogger({ level: 'silent' }),
      userAgentVersion: '0.0.0-test',
      retrySchedule: [3600],
      random: () => 0.5,
    });
    await worker.start();
    try {
      const deadline = Date.now() + 5_000;
      let attempt: { outcome: string; error: string | null } | null = null;
      while (!attempt && Date.now() < deadline) {
        const [delivery] = (await gw.store.deliveries.list({ messageId: message.id })).data;
        attempt = delivery?.lastAttempt ?? null;
        if (!attempt) await new Promise((done) => setTimeout(done, 20));
      }
      expect(attempt).toMatchObject({ outcome: 'blocked' });
      expect(attempt?.error).toMatch(/169\.254\.169\.254 is a link-local address/);
    } finally {
      await worker.stop({ graceMs: 1_000 });
    }
    expect(rec.dialled).toEqual([]);
  });

  it('blocks an endpoint whose network was allowed at registration but is not any more', async () => {
    const dev = app({ policy: { allowHttp: true, allowNetworks: ['127.0.0.0/8'] } });
    const endpoint = await registered(dev, 'http://127.0.0.1:9/hook');
    const tightened = app({ policy: { allowHttp: true, allowNetworks: [] } });
    const attempt = await testSend(tightened, endpoint.id);
    expect(attempt).toMatchObject({ outcome: 'blocked' });
    expect(attempt.error).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(rec.dialled).toEqual([]);
  });
});

describe('what is allowed goes exactly where it was checked', () => {
  it('delivers to a public name through the pinned address only', async () => {
    const r = await receiver();
    rec.serve(PUBLIC_V4, r.port);
    const open = app({ policy: { allowHttp: true } });
    const endpoint = await registered(open, `http://public.test:8080/in`);
    const attempt = await testSend(open, endpoint.id);
    expect(attempt).toMatchObject({ outcome: 'success', http_status: 204 });
    expect(rec.dialled).toEqual([{ hostname: 'public.test', address: PUBLIC_V4, port: 8080 }]);
    expect(r.requests.at(-1)?.headers.host).toBe('public.test:8080');
  });

  it('records a redirect to a private address as redirect and never follows it', async () => {
    const inside = await receiver();
    const outside = await receiver((_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/admin` }).end(),
    );
    rec.serve(PUBLIC_V4, outside.port);
    const open = app({ policy: { allowHttp: true } });
    const endpoint = await registered(open, 'http://public.test/in');
    const attempt = await testSend(open, endpoint.id);
    expect(attempt).toMatchObject({ outcome: 'redirect', http_status: 302 });
    expect(attempt.response_headers?.location).toBe(`http://127.0.0.1:${inside.port}/admin`);
    expect(inside.connections).toBe(0);
    expect(rec.dialled).toEqual([{ hostname: 'public.test', address: PUBLIC_V4, port: 80 }]);
  });

  it.each([301, 303, 307, 308])(
    'does not follow a %i to the metadata address either',
    async (status) => {
      const outside = await receiver((_req, res) =>
        res.writeHead(status, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      );
      rec.serve(PUBLIC_V4, outside.port);
      const open = app({ policy: { allowHttp: true } });
      const endpoint = await registered(open, 'http://public.test/in');
      const attempt = await testSend(open, endpoint.id);
      expect(attempt).toMatchObject({ outcome: 'redirect', http_status: status });
      expect(rec.dialled.map((d) => d.address)).toEqual([PUBLIC_V4]);
    },
  );

  it('exempts HOOKLINE_ALLOW_NETWORKS ranges, and only those', async () => {
    const r = await receiver();
    rec.serve('127.0.0.1', r.port);
    const dev = app({ policy: { allowHttp: true, allowNetworks: ['127.0.0.0/8'] } });
    const endpoint = await registered(dev, `http://127.0.0.1:${r.port}/local`);
    const attempt = await testSend(dev, endpoint.id);
    expect(attempt).toMatchObject({ outcome: 'success' });
    expect(r.requests.at(-1)?.url).toBe('/local');
    for (const url of [
      'http://10.0.0.1/',
      'http://169.254.169.254/',
      'http://[::1]/',
      'http://private.test/',
    ]) {
      await expectError(await register(dev, url), 400, 'url_not_allowed');
    }
    expect(rec.dialled.map((d) => d.address)).toEqual(['127.0.0.1']);
  });

  it('restricts ports to HOOKLINE_ALLOWED_PORTS at registration and at delivery', async () => {
    const config = loadConfig({ HOOKLINE_ALLOWED_PORTS: '443,8443' });
    const ports = app({ policy: { allowedPorts: config.allowedPorts ?? undefined } });
    await registered(ports, 'https://public.test/in');
    await registered(ports, 'https://public.test:8443/in');
    for (const url of [
      'https://public.test:8080/',
      'https://public.test:22/',
      'https://public.test:6379/',
      'https://public.test:1/',
    ]) {
      const body = await expectError(await register(ports, url), 400, 'url_not_allowed');
      expect(body.error.details?.map((d) => d.path)).toEqual(['url']);
      expect(body.error.message).toMatch(/Port \d+ is not allowed/);
    }
    const anyPort = app();
    const stored = await registered(anyPort, 'https://public.test:6379/');
    const attempt = await testSend(ports, stored.id);
    expect(attempt).toMatchObject({ outcome: 'blocked' });
    expect(attempt.error).toMatch(/Port 6379 is not allowed/);
    expect(rec.dialled).toEqual([]);
  });

  it('allows any port when HOOKLINE_ALLOWED_PORTS is unset', async () => {
    expect(loadConfig({}).allowedPorts).toBeNull();
    await registered(app(), 'https://public.test:6379/');
  });
});

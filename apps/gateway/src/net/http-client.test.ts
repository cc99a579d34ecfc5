import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Receiver, startReceiver } from '../../test/receivers';
import { createTestCertificates, type TestCertificates } from '../../test/tls';
import { createHttpClient, type DialTarget, type HttpClient, sendWebhook } from './http-client';
import { createAddressPolicy } from './policy';
import type { Resolver } from './resolve';

const loopbackOnly = createAddressPolicy({ allowHttp: true, allowNetworks: ['127.0.0.0/8'] });
const strict = createAddressPolicy({ allowHttp: true, allowNetworks: [] });

/** Even if the guard were broken, these tests never dial anything but loopback. */
function loopbackGuard(dialled: DialTarget[] = []) {
  return (target: DialTarget) => {
    dialled.push(target);
    if (!target.address.startsWith('127.')) throw new Error('The test refuses to dial this.');
  };
}

/** A resolver that answers fixed addresses for any name, counting its calls. */
function fixedResolver(...addresses: string[]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    return addresses.map(
      (address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const,
    );
  };
  return Object.assign(resolve, { calls });
}

const body = '{"type":"ping","data":{}}';
const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1' };

describe('sendWebhook over HTTP', () => {
  let client: HttpClient;
  let dialled: DialTarget[];
  const receivers: Receiver[] = [];
  async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  }

  beforeAll(() => {
    dialled = [];
    client = createHttpClient({
      policy: loopbackOnly,
      timeoutMs: 1500,
      beforeConnect: loopbackGuard(dialled),
    });
  });
  afterAll(async () => {
    await client.close();
    await Promise.all(receivers.map((r) => r.close()));
    expect(dialled.every((d) => d.address.startsWith('127.'))).toBe(true);
  });

  it('POSTs the exact body and headers and reports a 200 as success', async () => {
    const r = await receiver((_req, res) =>
      res.writeHead(200, { 'x-receiver': 'yes' }).end('thanks'),
    );
    const result = await client.send({ url: `${r.url}/hooks?a=1`, headers, body });
    expect(result).toMatchObject({
      outcome: 'success',
      httpStatus: 200,
      responseBody: 'thanks',
      responseTruncated: false,
      remoteAddress: '127.0.0.1',
    });
    expect(result.error).toBeUndefined();
    expect(result.responseHeaders['x-receiver']).toBe('yes');
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]).toMatchObject({ method: 'POST', url: '/hooks?a=1' });
    expect(r.requests[0]!.body.toString()).toBe(body);
    expect(r.requests[0]!.headers['webhook-id']).toBe('msg_1');
    expect(r.requests[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('reports a 204 as success with an empty body', async () => {
    const r = await receiver();
    const result = await client.send({ url: r.url, headers, body: new TextEncoder().encode(body) });
    expect(result).toMatchObject({ outcome: 'success', httpStatus: 204, responseBody: '' });
    expect(r.requests[0]!.body.toString()).toBe(body);
  });

  it('reports a 410 as http_4xx', async () => {
    const r = await receiver((_req, res) => res.writeHead(410).end('gone'));
    const result = await client.send({ url: r.url, headers, body });
    expect(result).toMatchObject({ outcome: 'http_4xx', httpStatus: 410, responseBody: 'gone' });
    expect(result.error).toMatch(/410/);
  });

  it('captures the Retry-After header of a 429', async () => {
    const r = await receiver((_req, res) => res.writeHead(429, { 'Retry-After': '120' }).end());
    const result = await client.send({ url: r.url, headers, body });
    expect(result).toMatchObject({ outcome: 'http_4xx', httpStatus: 429 });
    expect(result.responseHeaders['retry-after']).toBe('120');
  });

  it('reports a 500 as http_5xx with its body', async () => {
    const r = await receiver((_req, res) => res.writeHead(500).end('boom'));
    const result = await client.send({ url: r.url, headers, body });
    expect(result).toMatchObject({ outcome: 'http_5xx', httpStatus: 500, responseBody: 'boom' });
  });

  it('does not follow a 302 and reports it as redirect', async () => {
    const target = await receiver();
    const r = await receiver((_req, res) => res.writeHead(302, { Location: target.url }).end());
    const result = await client.send({ url: r.url, headers, body });
    expect(result).toMatchObject({ outcome: 'redirect', httpStatus: 302 });
    expect(result.responseHeaders.location).toBe(target.url);
    expect(target.requests).toHaveLength(0);
    expect(target.connections).toBe(0);
  });

  it('times out when the headers do not arrive in time', async () => {
    const r = await receiver(() => {});
    const started = Date.now();
    const result = await client.send({ url: r.url, headers, body, timeoutMs: 300 });
    expect(result.outcome).toBe('timeout');
    expect(result.httpStatus).toBeUndefined();
    expect(result.error).toMatch(/300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('times out when the body dribbles past the deadline', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const tick = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(tick));
    });
    const started = Date.now();
    const result = await client.send({ url: r.url, headers, body, timeoutMs: 400 });
    expect(result).toMatchObject({ outcome: 'timeout', httpStatus: 200 });
    expect(result.responseBody.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops reading an endless body at the cap and flags it truncated', async () => {
    let written = 0;
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const started = Date.now();
    const result = await client.send({ url: r.url, headers, body, timeoutMs: 800 });
    expect(result).toMatchObject({ outcome: 'success', httpStatus: 200, responseTruncated: true });
    expect(result.responseBody).toBe('x'.repeat(4096));
    expect(Date.now() - started).toBeLessThan(800);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('honours a per-request maxResponseBytes', async () => {
    const r = await receiver((_req, res) => res.writeHead(500).end('0123456789'));
    const result = await client.send({ url: r.url, headers, body, maxResponseBytes: 4 });
    expect(result).toMatchObject({ responseBody: '0123', responseTruncated: true });
    const exact = await client.send({ url: r.url, headers, body, maxResponseBytes: 10 });
    expect(exact).toMatchObject({ responseBody: '0123456789', responseTruncated: false });
  });

  it('reports a connection closed mid-response as network_error', async () => {
    const r = await receiver((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => setTimeout(() => req.socket.destroy(), 20));
    });
    const result = await client.send({ url: r.url, headers, body, timeoutMs: 800 });
    expect(result).toMatchObject({ outcome: 'network_error', httpStatus: 200 });
    expect(result.error).toMatch(/closed the connection|Content-Length/);
  });

  it('reports a connection closed before any response as network_error', async () => {
    const r = await receiver((req) => req.socket.destroy());
    const result = await client.send({ url: r.url, headers, body, timeoutMs: 800 });
    expect(result.outcome).toBe('network_error');
    expect(result.httpStatus).toBeUndefined();
  });

  it('reports a refused connection as network_error', async () => {
    const r = await startReceiver();
    await r.close();
    const result = await client.send({ url: r.url, headers, body, timeoutMs: 800 });
    expect(result).toMatchObject({
      outcome: 'network_error',
      error: 'Connection refused by the endpoint.',
    });
  });

  it('reuses one keep-alive connection across sequential deliveries', async () => {
    const r = await receiver();
    for (let i = 0; i < 5; i++) {
      const result = await client.send({ url: r.url, headers, body });
      expect(result.outcome).toBe('success');
      // undici marks the connection idle on the next turn; a worker does other work in between.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(r.requests).toHaveLength(5);
    expect(r.connections).toBe(1);
  });
});

describe('connection pooling', () => {
  it('spreads concurrent deliveries over at most connectionsPerOrigin connections', async () => {
    const r = await startReceiver((_req, res) => {
      setTimeout(() => res.writeHead(200).end('ok'), 30);
    });
    const client = createHttpClient({
      policy: loopbackOnly,
      timeoutMs: 1500,
      connectionsPerOrigin: 4,
      beforeConnect: loopbackGuard(),
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, () => client.send({ url: r.url, headers, body })),
      );
      expect(results.every((x) => x.outcome === 'success')).toBe(true);
      expect(r.requests).toHaveLength(40);
      expect(r.connections).toBeGreaterThan(1);
      expect(r.connections).toBeLessThanOrEqual(4);
    } finally {
      await client.close();
      await r.close();
    }
  });
});

describe('sendWebhook pinning and the SSRF guard', () => {
  const receivers: Receiver[] = [];
  const clients: HttpClient[] = [];
  let r: Receiver;

  function clientWith(policy = loopbackOnly, resolve?: Resolver) {
    const dialled: DialTarget[] = [];
    const client = createHttpClient({
      policy,
      timeoutMs: 1500,
      ...(resolve ? { resolve } : {}),
      beforeConnect: loopbackGuard(dialled),
    });
    clients.push(client);
    return { client, dialled };
  }

  beforeAll(async () => {
    r = await startReceiver();
    receivers.push(r);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(receivers.map((x) => x.close()));
  });

  it('connects to the checked address while keeping the original Host', async () => {
    const resolve = fixedResolver('127.0.0.1');
    const { client, dialled } = clientWith(loopbackOnly, resolve);
    const before = r.requests.length;
    const result = await client.send({ url: `http://hooks.test:${r.port}/in`, headers, body });
    expect(result).toMatchObject({ outcome: 'success', remoteAddress: '127.0.0.1' });
    expect(r.requests.length).toBe(before + 1);
    expect(r.requests.at(-1)!.headers.host).toBe(`hooks.test:${r.port}`);
    expect(resolve.calls).toEqual(['hooks.test']);
    expect(dialled).toEqual([{ hostname: 'hooks.test', address: '127.0.0.1', port: r.port }]);
  });

  it('dials the address beforeConnect substitutes, reporting the pinned one', async () => {
    const resolve = fixedResolver('93.184.216.34');
    const seen: DialTarget[] = [];
    const client = createHttpClient({
      policy: strict,
      resolve,
      timeoutMs: 1500,
      beforeConnect: (target) => {
        seen.push(target);
        return { address: '127.0.0.1', port: r.port };
      },
    });
    clients.push(client);
    const before = r.requests.length;
    const result = await client.send({ url: 'http://public.test:8080/in', headers, body });
    expect(result).toMatchObject({ outcome: 'success', remoteAddress: '93.184.216.34' });
    expect(seen).toEqual([{ hostname: 'public.test', address: '93.184.216.34', port: 8080 }]);
    expect(r.requests.length).toBe(before + 1);
    expect(r.requests.at(-1)!.headers.host).toBe('public.test:8080');
  });

  it('blocks a loopback literal when no network is allowed, dialling nothing', async () => {
    const { client, dialled } = clientWith(strict);
    const before = r.connections;
    const result = await client.send({ url: r.url, headers, body });
    expect(result).toMatchObject({ outcome: 'blocked' });
    expect(result.error).toMatch(/loopback/);
    expect(result.httpStatus).toBeUndefined();
    expect(dialled).toHaveLength(0);
    expect(r.connections).toBe(before);
  });

  it.each([
    ['127.0.0.1'],
    ['::1'],
    ['::ffff:127.0.0.1'],
    ['169.254.169.254'],
    ['10.0.0.5'],
    ['100.64.1.1'],
    ['0.0.0.0'],
    ['fd00::1'],
    ['2002:7f00:1::'],
    ['64:ff9b::7f00:1'],
  ])('blocks a hostname that resolves to %s without dialling', async (address) => {
    const resolve = fixedResolver(address);
    const { client, dialled } = clientWith(strict, resolve);
    const before = r.connections;
    const result = await client.send({ url: `http://evil.test:${r.port}/`, headers, body });
    expect(result.outcome).toBe('blocked');
    expect(result.error).toMatch(/evil\.test resolves to a forbidden address/);
    expect(resolve.calls).toEqual(['evil.test']);
    expect(dialled).toHaveLength(0);
    expect(r.connections).toBe(before);
  });

  it('blocks localhost by name, resolving and dialling nothing', async () => {
    const resolve = fixedResolver('93.184.216.34');
    const { client, dialled } = clientWith(strict, resolve);
    const before = r.connections;
    const result = await client.send({ url: `http://localhost:${r.port}/`, headers, body });
    expect(result.outcome).toBe('blocked');
    expect(result.error).toMatch(/localhost is a loopback name/);
    expect(resolve.calls).toHaveLength(0);
    expect(dialled).toHaveLength(0);
    expect(r.connections).toBe(before);
  });

  it('blocks a hostname when any one of its addresses is forbidden', async () => {
    const resolve = fixedResolver('127.0.0.1', '10.0.0.1');
    const { client, dialled } = clientWith(loopbackOnly, resolve);
    const before = r.connections;
    const result = await client.send({ url: `http://mixed.test:${r.port}/`, headers, body });
    expect(result.outcome).toBe('blocked');
    expect(result.error).toMatch(/10\.0\.0\.1/);
    expect(dialled).toHaveLength(0);
    expect(r.connections).toBe(before);
  });

  it('blocks http:// when the policy requires https, before resolving', async () => {
    const resolve = fixedResolver('127.0.0.1');
    const httpsOnly = createAddressPolicy({ allowHttp: false, allowNetworks: ['127.0.0.0/8'] });
    const { client, dialled } = clientWith(httpsOnly, resolve);
    const result = await client.send({ url: `http://hooks.test:${r.port}/`, headers, body });
    expect(result.outcome).toBe('blocked');
    expect(resolve.calls).toHaveLength(0);
    expect(dialled).toHaveLength(0);
  });

  it('blocks a string that is not a URL', async () => {
    const { client } = clientWith();
    const result = await client.send({ url: 'not a url', headers, body });
    expect(result).toMatchObject({
      outcome: 'blocked',
      error: 'The endpoint URL is not a valid URL.',
    });
  });

  it('reports a failed DNS lookup as network_error', async () => {
    const resolve: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const { client, dialled } = clientWith(loopbackOnly, resolve);
    const result = await client.send({ url: 'https://nowhere.test/', headers, body });
    expect(result).toMatchObject({
      outcome: 'network_error',
      error: 'DNS lookup of nowhere.test failed (ENOTFOUND).',
    });
    expect(dialled).toHaveLength(0);
  });

  it('counts a DNS lookup that never answers against the deadline', async () => {
    const resolve: Resolver = () => new Promise(() => {});
    const { client } = clientWith(loopbackOnly, resolve);
    const started = Date.now();
    const result = await client.send({
      url: 'https://slow-dns.test/',
      headers,
      body,
      timeoutMs: 300,
    });
    expect(result.outcome).toBe('timeout');
    expect(result.error).toMatch(/DNS/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('sends once with a short-lived client through sendWebhook', async () => {
    const result = await sendWebhook({
      url: r.url,
      headers,
      body,
      policy: loopbackOnly,
      timeoutMs: 1500,
      beforeConnect: loopbackGuard(),
    });
    expect(result.outcome).toBe('success');
  });
});

describe('sendWebhook over HTTPS', () => {
  let certs: TestCertificates;
  let r: Receiver;
  let trusting: HttpClient;
  let untrusting: HttpClient;
  const localhost = vi.fn(fixedResolver('127.0.0.1'));

  beforeAll(async () => {
    certs = await createTestCertificates();
    r = await startReceiver(undefined, { tls: certs });
    trusting = createHttpClient({
      policy: loopbackOnly,
      resolve: localhost,
      timeoutMs: 1500,
      ca: certs.ca,
      beforeConnect: loopbackGuard(),
    });
    untrusting = createHttpClient({
      policy: loopbackOnly,
      timeoutMs: 1500,
      resolve: localhost,
      beforeConnect: loopbackGuard(),
    });
  });
  afterAll(async () => {
    await trusting?.close();
    await untrusting?.close();
    await r?.close();
  });

  it('delivers to a receiver whose certificate chains to the trusted test CA', async () => {
    const result = await trusting.send({ url: `https://localhost:${r.port}/`, headers, body });
    expect(result).toMatchObject({ outcome: 'success', httpStatus: 204 });
    const byIp = await trusting.send({ url: r.url, headers, body });
    expect(byIp).toMatchObject({ outcome: 'success', httpStatus: 204 });
  });

  it('refuses a certificate from an untrusted CA with a clear message', async () => {
    const result = await untrusting.send({
      url: `https://localhost:${r.port}/`,
      headers,
      body,
      timeoutMs: 800,
    });
    expect(result.outcome).toBe('network_error');
    expect(result.error).toMatch(
      /^TLS certificate verification failed \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    );
  });

  it('checks the certificate against the URL hostname, not the pinned address', async () => {
    const result = await trusting.send({
      url: `https://hooks.test:${r.port}/`,
      headers,
      body,
      timeoutMs: 800,
    });
    expect(result.outcome).toBe('network_error');
    expect(result.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(result.error).toMatch(/hooks\.test/);
  });
});

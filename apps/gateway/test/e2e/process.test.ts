/**
 * The `hookline-gateway` binary as a child process on an embedded data directory: first start,
 * HTTPS delivery trusting a private CA (NODE_EXTRA_CA_CERTS), latency, signals, restart.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from '@hookline/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import { type Receiver, startReceiver } from '../receivers';
import { createTestCertificates } from '../tls';
import { apiClient, LOCAL_ENV, percentile, sleep, waitFor } from './harness';

describe('the gateway binary (child process, embedded)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let https: Receiver;
  let gateway: GatewayProcess | undefined;
  let apiKey: string;
  let endpoint: { id: string; secret: string };
  const tenant = 'proc-t1';

  beforeAll(async () => {
    const certs = await createTestCertificates();
    dataDir = await mkdtemp(join(tmpdir(), 'hookline-proc-'));
    const caFile = join(dataDir, 'test-ca.pem');
    await writeFile(caFile, certs.ca);
    env = { ...LOCAL_ENV, HOOKLINE_DATA_DIR: join(dataDir, 'data'), NODE_EXTRA_CA_CERTS: caFile };
    https = await startReceiver(undefined, { tls: certs });
  });

  afterAll(async () => {
    await stopGateway(gateway, 2_000);
    await https?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a generated admin key once, delivers over HTTPS to a privately signed receiver, and stops on SIGTERM', async () => {
    gateway = await spawnGateway({ env });
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    apiKey = gateway.apiKey!;
    expect(apiKey).toMatch(/^hl_sk_/);
    // Once, in the banner; never in a log line.
    expect(gateway.lines.filter((line) => line.includes(apiKey))).toHaveLength(1);
    expect(gateway.logs().some((entry) => JSON.stringify(entry).includes(apiKey))).toBe(false);

    const api = apiClient(gateway.url, apiKey);
    const created = await api('POST', '/v1/endpoints', { tenant_id: tenant, url: https.url });
    expect(created.status).toBe(201);
    endpoint = created.body;
    const sent = await api('POST', '/v1/messages', {
      tenant_id: tenant,
      event_type: 'user.created',
      payload: { id: 'u_1' },
    });
    expect(sent.status).toBe(202);
    await waitFor(() => https.requests.length === 1, { what: 'the HTTPS delivery' });
    const request = https.requests[0]!;
    expect(request.headers['webhook-id']).toBe(sent.body.id);
    new Webhook(endpoint.secret).verify(request.body.toString(), request.headers as never);
    // The secret never reaches the logs either.
    expect(gateway.lines.some((line) => line.includes(endpoint.secret))).toBe(false);

    gateway.kill('SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(gateway.logs().map((entry) => entry.msg)).toContain('stopped');
  });

  it('restarts on the same data directory without a new key, and still decrypts the secrets', async () => {
    gateway = await spawnGateway({ env });
    expect(gateway.apiKey).toBeUndefined();
    expect(gateway.lines.some((line) => line.includes('hl_sk_'))).toBe(false);
    const api = apiClient(gateway.url, apiKey);
    const sent = await api('POST', '/v1/messages', {
      tenant_id: tenant,
      event_type: 'user.created',
      payload: { id: 'u_2' },
    });
    expect(sent.status).toBe(202);
    await waitFor(() => https.requests.length === 2, { what: 'the delivery after restart' });
    new Webhook(endpoint.secret).verify(
      https.requests[1]!.body.toString(),
      https.requests[1]!.headers as never,
    );
  });

  it('delivers within milliseconds of acceptance at 200 messages/s (NOTIFY-driven, not polled)', async () => {
    const arrivals = new Map<string, number>();
    const fast = await startReceiver((req, res) => {
      arrivals.set(String(req.headers['webhook-id']), performance.now());
      res.writeHead(204).end();
    });
    try {
      const api = apiClient(gateway!.url, apiKey);
      const created = await api('POST', '/v1/endpoints', { tenant_id: 'proc-lat', url: fast.url });
      expect(created.status).toBe(201);
      const run = async (count: number, perSecond: number) => {
        const accepted: [string, number][] = [];
        const sends: Promise<void>[] = [];
        const started = performance.now();
        for (let i = 0; i < count; i++) {
          const wait = started + (i * 1000) / perSecond - performance.now();
          if (wait > 0) await sleep(wait);
          sends.push(
            (async () => {
              const sentAt = performance.now();
              const sent = await api('POST', '/v1/messages', {
                tenant_id: 'proc-lat',
                event_type: 'tick',
                payload: { i },
              });
              expect(sent.status).toBe(202);
              accepted.push([sent.body.id, sentAt]);
            })(),
          );
        }
        await Promise.all(sends);
        await waitFor(() => accepted.every(([id]) => arrivals.has(id)), {
          timeoutMs: 40_000,
          what: `${count} deliveries`,
        });
        const latencies = accepted.map(([id, sentAt]) => arrivals.get(id)! - sentAt);
        const p50 = percentile(latencies, 50);
        console.info(
          `[e2e binary, embedded] POST /v1/messages → receipt at ${perSecond} msg/s, ${count} messages: ` +
            `p50 ${p50.toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, ` +
            `max ${Math.max(...latencies).toFixed(1)} ms`,
        );
        return p50;
      };
      await run(100, 200); // warm-up: JIT (PGlite's WebAssembly too), connection pools
      // The target (p50 < 50 ms at 200 msg/s) is a figure to read, not asserted: other suites
      // share the CPU here, and on a slower machine (24 November, morning) embedded PGlite accepted
      // only 25–50 messages/s (its commits were slow), so 200/s queued up. A burst of 100 keeps the
      // queue, and each request's wait, within the client's 15 s timeout.
      await run(100, 200);
      // What is asserted: a wake-up per message, not a poll (a 1 s poll gives a p50 near 500 ms,
      // the 5 s safety timer near 2.5 s). Other suites' processes can hold both cores for a
      // while (a p50 of 134 ms was seen so in CI), so up to three rounds are measured and the
      // best one counts: a poll would put every round's p50 far above the bound.
      const rounds: number[] = [];
      for (let round = 0; round < 3 && !(Math.min(...rounds) < 100); round++) {
        rounds.push(await run(40, 20));
      }
      expect(Math.min(...rounds)).toBeLessThan(100);
    } finally {
      await fast.close();
    }
  }, 90_000);

  it('stops gracefully on the first signal and exits at once on a second', async () => {
    const held: ServerResponse[] = [];
    const hanging = await startReceiver((_req, res) => held.push(res));
    try {
      const api = apiClient(gateway!.url, apiKey);
      await api('POST', '/v1/endpoints', { tenant_id: 'proc-hang', url: hanging.url });
      await api('POST', '/v1/messages', { tenant_id: 'proc-hang', event_type: 'x', payload: {} });
      await waitFor(() => held.length === 1, { what: 'the hanging attempt' });
      gateway!.kill('SIGTERM');
      // The first signal waits for the attempt in flight (up to the grace period)…
      await waitFor(() => gateway!.logs().some((entry) => entry.msg === 'stopping'));
      await sleep(200);
      expect(gateway!.child.exitCode).toBeNull();
      // …the second does not.
      const before = performance.now();
      gateway!.kill('SIGTERM');
      const exit = await gateway!.exited;
      expect(performance.now() - before).toBeLessThan(2_000);
      expect(exit.code).toBe(143);
    } finally {
      for (const res of held) res.destroy();
      await hanging.close();
    }
  });
});

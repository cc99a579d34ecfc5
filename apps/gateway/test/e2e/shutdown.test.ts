/**
 * Graceful shutdown of the gateway binary (child processes, real database, loopback receivers):
 * SIGTERM lets attempts in flight finish and records them, starts nothing new, refuses new
 * connections, and exits 0; attempts still unfinished after HOOKLINE_SHUTDOWN_GRACE_SECONDS have
 * their leases released, so the next worker delivers them at once; a second signal exits at once.
 */

import type { ServerResponse } from 'node:http';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/storage/database';
import { sql } from '../../src/storage/sql';
import { type GatewayProcess, spawnGateway } from '../gateway-process';
import { type Receiver, startReceiver } from '../receivers';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  sleep,
  testDrivers,
  waitFor,
} from './harness';

type DeliveryRow = {
  id: string;
  message_id: string;
  status: string;
  attempt_count: number;
  locked_until: Date | null;
};

/** Opens the stopped gateway's database (the embedded lock is free once it exited). */
async function openStored(storage: GatewayStorage): Promise<Database> {
  const url = storage.env.HOOKLINE_DATABASE_URL;
  return url
    ? openDatabase({ kind: 'postgres', url, poolSize: 1 }, { migrate: false })
    : openDatabase({ kind: 'embedded', dataDir: storage.dataDir }, { migrate: false });
}

async function deliveries(storage: GatewayStorage): Promise<DeliveryRow[]> {
  const database = await openStored(storage);
  try {
    return await database.sql.query<DeliveryRow>(
      sql`select id, message_id, status, attempt_count, locked_until from deliveries order by id`,
    );
  } finally {
    await database.close();
  }
}

/** A fresh TCP connection (no keep-alive pool): resolves with the status or the error code. */
function freshConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.end();
  });
}

describe.each(testDrivers)('graceful shutdown of the gateway binary (%s)', (driver) => {
  let storage: GatewayStorage | undefined;
  const gateways: GatewayProcess[] = [];
  const receivers: Receiver[] = [];
  const hanging: ServerResponse[] = [];

  afterEach(async () => {
    for (const gateway of gateways.splice(0)) {
      gateway.kill('SIGKILL');
      await gateway.exited;
    }
    for (const res of hanging.splice(0)) res.destroy();
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await storage?.dispose();
    storage = undefined;
  });

  async function start(env: Record<string, string>): Promise<GatewayProcess> {
    const gateway = await spawnGateway({ env: { ...LOCAL_ENV, ...storage!.env, ...env } });
    gateways.push(gateway);
    return gateway;
  }

  async function sendMessages(gateway: GatewayProcess, receiver: Receiver, count: number) {
    const api = apiClient(gateway.url, gateway.apiKey ?? storage!.env.HOOKLINE_API_KEY!);
    const endpoint = await api('POST', '/v1/endpoints', {
      tenant_id: 'shutdown-t',
      url: `${receiver.url}/hook`,
    });
    expect(endpoint.status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const sent = await api('POST', '/v1/messages', {
        tenant_id: 'shutdown-t',
        event_type: 'order.created',
        payload: { i },
      });
      expect(sent.status).toBe(202);
      ids.push(sent.body.id);
    }
    return ids;
  }

  it('finishes and records the attempts in flight, starts none after SIGTERM, refuses new connections, exits 0', async () => {
    storage = await gatewayStorage(driver);
    // Each answer takes 2 s.
    const receiver = await startReceiver((_req, res) => {
      setTimeout(() => res.writeHead(204).end(), 2_000);
    });
    receivers.push(receiver);
    const gateway = await start({
      // Three in flight; the other three wait behind the endpoint's cap.
      HOOKLINE_ENDPOINT_CONCURRENCY: '3',
      HOOKLINE_SHUTDOWN_GRACE_SECONDS: '10',
    });
    await sendMessages(gateway, receiver, 6);
    await waitFor(() => receiver.requests.length === 3, { what: 'three attempts in flight' });

    const signalledAt = performance.now();
    gateway.kill('SIGTERM');
    // The listener closes at once, while the process still finishes its attempts.
    const refused = await waitFor(
      async () => ((await freshConnection(gateway.url)) === 'ECONNREFUSED' ? true : null),
      { timeoutMs: 1_500, what: 'new connections refused' },
    );
    expect(refused).toBe(true);
    expect(gateway.child.exitCode).toBeNull();

    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    const tookMs = performance.now() - signalledAt;
    // It waited for the answers (~2 s after they were sent), well within the grace period.
    expect(tookMs).toBeGreaterThan(1_000);
    expect(tookMs).toBeLessThan(10_000);
    expect(receiver.requests).toHaveLength(3);
    expect(gateway.logs().map((entry) => entry.msg)).toContain('stopped');

    const rows = await deliveries(storage);
    const succeeded = rows.filter((row) => row.status === 'succeeded');
    const waiting = rows.filter((row) => row.status === 'pending');
    expect(succeeded).toHaveLength(3);
    expect(succeeded.every((row) => row.attempt_count === 1)).toBe(true);
    expect(new Set(succeeded.map((row) => row.message_id))).toEqual(
      new Set(receiver.requests.map((r) => String(r.headers['webhook-id']))),
    );
    // Never attempted, and not leased: the next worker takes them at once.
    expect(waiting).toHaveLength(3);
    expect(waiting.every((row) => row.attempt_count === 0 && row.locked_until === null)).toBe(true);
  }, 60_000);

  it('releases the leases of attempts unfinished after the grace period; the next worker delivers them at once with the same webhook-id', async () => {
    storage = await gatewayStorage(driver);
    let answering = false;
    const receiver = await startReceiver((_req, res) => {
      if (answering) res.writeHead(204).end();
      else hanging.push(res);
    });
    receivers.push(receiver);
    // Leases far longer than the test: only a release lets the second process have them.
    const env = { HOOKLINE_SHUTDOWN_GRACE_SECONDS: '2', HOOKLINE_LEASE_SECONDS: '600' };
    const first = await start(env);
    const ids = await sendMessages(first, receiver, 2);
    await waitFor(() => receiver.requests.length === 2, { what: 'two hanging attempts' });

    const signalledAt = performance.now();
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const tookMs = performance.now() - signalledAt;
    expect(tookMs).toBeGreaterThan(1_800);
    expect(tookMs).toBeLessThan(8_000);
    expect(
      first.logs().some((entry) => entry.msg === 'released the leases of unfinished deliveries'),
    ).toBe(true);

    const rows = await deliveries(storage);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'pending', attempt_count: 0, locked_until: null });
    }

    // A second process (a worker-only one on PostgreSQL) delivers both at once.
    answering = true;
    const restartedAt = performance.now();
    const second = await start(driver === 'postgres' ? { ...env, HOOKLINE_ROLE: 'worker' } : env);
    await waitFor(() => receiver.requests.length === 4, {
      timeoutMs: 15_000,
      what: 'the released deliveries delivered again',
    });
    expect(performance.now() - restartedAt).toBeLessThan(30_000);
    const redelivered = receiver.requests.slice(2).map((r) => String(r.headers['webhook-id']));
    expect(new Set(redelivered)).toEqual(new Set(ids));
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 60_000);

  it('exits at once, non-zero, on a second signal', async () => {
    storage = await gatewayStorage(driver);
    const receiver = await startReceiver((_req, res) => {
      hanging.push(res);
    });
    receivers.push(receiver);
    const gateway = await start({ HOOKLINE_SHUTDOWN_GRACE_SECONDS: '30' });
    await sendMessages(gateway, receiver, 1);
    await waitFor(() => receiver.requests.length === 1, { what: 'a hanging attempt' });

    gateway.kill('SIGTERM');
    await waitFor(() => gateway.logs().some((entry) => entry.msg === 'stopping'), {
      what: 'the graceful stop under way',
    });
    await sleep(200);
    expect(gateway.child.exitCode).toBeNull();
    const secondAt = performance.now();
    gateway.kill('SIGTERM');
    expect(await gateway.exited).toEqual({ code: 143, signal: null });
    expect(performance.now() - secondAt).toBeLessThan(3_000);
  }, 60_000);
});

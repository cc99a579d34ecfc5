/**
 * The gateway binary behind PgBouncer in session mode (docs/operations.md, Sizing): it migrates,
 * accepts and delivers through the bouncer, with NOTIFY waking the worker (not its poll), and its
 * sessions carry the gateway's settings although PgBouncer refuses unknown startup parameters.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { testDrivers } from '../databases';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import { findPgBouncer, type PgBouncer, startPgBouncer } from '../pgbouncer';
import { type Receiver, startReceiver } from '../receivers';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  percentile,
  waitFor,
} from './harness';

describe.runIf(testDrivers.includes('postgres') && findPgBouncer() !== null)(
  'the gateway behind PgBouncer (session mode)',
  () => {
    let storage: GatewayStorage | undefined;
    let pgbouncer: PgBouncer | undefined;
    let gateway: GatewayProcess | undefined;
    let receiver: Receiver | undefined;

    afterAll(async () => {
      await stopGateway(gateway, 5_000);
      await pgbouncer?.close();
      await receiver?.close();
      await storage?.dispose();
    });

    it('migrates, accepts and delivers every message through it, woken by NOTIFY', {
      timeout: 90_000,
    }, async () => {
      storage = await gatewayStorage('postgres');
      const direct = storage.env.HOOKLINE_DATABASE_URL!;
      pgbouncer = await startPgBouncer(direct);
      const receivedAt = new Map<string, number>();
      receiver = await startReceiver((req, res) => {
        const id = String(req.headers['webhook-id']);
        if (!receivedAt.has(id)) receivedAt.set(id, performance.now());
        res.writeHead(204).end();
      });
      gateway = await spawnGateway({
        env: {
          ...LOCAL_ENV,
          ...storage.env,
          HOOKLINE_DATABASE_URL: pgbouncer.url(direct),
          HOOKLINE_DATABASE_TIMEOUT_SECONDS: '20',
        },
      });
      const api = apiClient(gateway.url, storage.env.HOOKLINE_API_KEY!);
      expect((await api('GET', '/readyz')).status).toBe(200);
      const created = await api('POST', '/v1/endpoints', {
        tenant_id: 'bouncer-t1',
        url: receiver.url,
      });
      expect(created.status).toBe(201);

      const sentAt = new Map<string, number>();
      for (let i = 0; i < 50; i++) {
        const at = performance.now();
        const sent = await api('POST', '/v1/messages', {
          tenant_id: 'bouncer-t1',
          event_type: 'order.created',
          payload: { n: i },
        });
        expect(sent.status).toBe(202);
        sentAt.set(sent.body.id, at);
        await new Promise((done) => setTimeout(done, 20));
      }
      await waitFor(() => receivedAt.size === 50, {
        what: '50 deliveries through PgBouncer',
        timeoutMs: 30_000,
      });
      expect(new Set(receivedAt.keys())).toEqual(new Set(sentAt.keys()));
      // Woken by NOTIFY through the bouncer, not by the worker's poll (seconds).
      const latencies = [...receivedAt].map(([id, at]) => at - sentAt.get(id)!);
      const p50 = percentile(latencies, 50);
      console.log(
        `[pgbouncer] ${pgbouncer.version}: 50 of 50 delivered; accept→receipt p50 ${p50.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      );
      expect(p50).toBeLessThan(500);

      // Its server sessions, seen directly: PgBouncer passed its application_name on.
      const admin = postgres(direct, { max: 1, onnotice: () => {} });
      try {
        const sessions = await admin<{ application_name: string }[]>`
          select application_name from pg_stat_activity
          where datname = current_database() and application_name like 'hookline%'`;
        expect(sessions.length).toBeGreaterThan(0);
      } finally {
        await admin.end({ timeout: 1 });
      }
      const logs = gateway.logs();
      expect(logs.filter((entry) => (entry.level as number) >= 50)).toEqual([]);
    });
  },
);

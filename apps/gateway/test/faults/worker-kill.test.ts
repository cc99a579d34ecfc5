/**
 * Fault 1: one API process and three `HOOKLINE_ROLE=worker` processes of the built gateway on a
 * scratch PostgreSQL database, under a steady 40 messages/s for 24 s, while a random worker is
 * SIGKILLed every 2–3 s (from the last kill) and started again at once. Leases are the shortest allowed (20 s), so
 * what a killed worker held comes back within the test. (Several processes need PostgreSQL:
 * this runs when HOOKLINE_TEST_DATABASE_URL is set, as in CI.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  testDrivers,
} from '../e2e/harness';
import { type GatewayProcess, spawnGateway } from '../gateway-process';
import type { Receiver } from '../receivers';
import {
  type Behaviour,
  Ledger,
  requireBuiltGateway,
  sendMessage,
  sleep,
  steadyLoad,
  waitAllSucceeded,
} from './harness';

const RATE = 40;
const LOAD_MS = 24_000;
const WORKERS = 3;

describe.runIf(testDrivers.includes('postgres'))('fault: SIGKILL of worker processes', () => {
  let storage: GatewayStorage | undefined;
  const processes = new Set<GatewayProcess>();
  const receivers: Receiver[] = [];

  afterAll(async () => {
    for (const gateway of processes) gateway.kill('SIGKILL');
    await Promise.all([...processes].map((gateway) => gateway.exited));
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await storage?.dispose();
  });

  it('delivers every accepted message to every subscribed endpoint while one of three workers is SIGKILLed and restarted every few seconds', {
    timeout: 130_000,
  }, async () => {
    requireBuiltGateway();
    const startedAt = performance.now();
    storage = await gatewayStorage('postgres');
    const env = {
      ...LOCAL_ENV,
      ...storage.env,
      // The shortest lease allowed: rows leased by a killed worker come back 20 s later.
      HOOKLINE_LEASE_SECONDS: '20',
      HOOKLINE_POLL_INTERVAL_MS: '1000',
    };
    const spawn = async (role: 'api' | 'worker') => {
      const gateway = await spawnGateway({
        built: true,
        env: {
          ...env,
          HOOKLINE_ROLE: role,
          // The test server is shared: few connections per process.
          HOOKLINE_DATABASE_POOL_SIZE: role === 'api' ? '5' : '3',
        },
        startTimeoutMs: 30_000,
      });
      processes.add(gateway);
      void gateway.exited.then(() => processes.delete(gateway));
      return gateway;
    };
    const apiProcess = await spawn('api');
    const workers: GatewayProcess[] = [];
    for (let i = 0; i < WORKERS; i++) workers.push(await spawn('worker'));

    const ledger = new Ledger('worker-kill');
    const slow: Behaviour = (_req, res) => {
      setTimeout(() => res.writeHead(200).end('ok'), 20 + Math.random() * 100);
    };
    const flaky: Behaviour = (_req, res) => {
      res.writeHead(Math.random() < 0.05 ? 503 : 204).end();
    };
    const api = apiClient(apiProcess.url, storage.env.HOOKLINE_API_KEY!);
    const setup = [
      ['a-all', 'kill-A', undefined, undefined],
      ['a-paid', 'kill-A', slow, ['order.paid']],
      ['b-flaky', 'kill-B', flaky, undefined],
      // Subscribed to an event nobody sends: must receive nothing.
      ['c-unsubscribed', 'kill-C', undefined, ['never.sent']],
    ] as const;
    for (const [name, tenant, behaviour, eventTypes] of setup) {
      const receiver = await ledger.receiver(name, behaviour);
      receivers.push(receiver);
      await ledger.endpoint(api, name, receiver, {
        tenant,
        ...(eventTypes ? { eventTypes: [...eventTypes] } : {}),
        retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1],
      });
    }

    const plan = (seq: number) =>
      seq % 4 === 0
        ? { tenant: 'kill-B', eventType: 'order.created' }
        : seq % 4 === 1
          ? { tenant: 'kill-A', eventType: 'order.paid' }
          : seq % 4 === 2
            ? { tenant: 'kill-A', eventType: 'order.created' }
            : { tenant: 'kill-C', eventType: 'order.created' };

    let loadDone = false;
    let kills = 0;
    const restartMs: number[] = [];
    const killer = (async () => {
      // Every 2–3 s from the last kill, the restart included: a slow restart (CI holds both
      // cores) must not thin out the kills.
      let lastKill = performance.now();
      while (!loadDone) {
        await sleep(Math.max(0, lastKill + 2_000 + Math.random() * 1_000 - performance.now()));
        if (loadDone) break;
        lastKill = performance.now();
        const index = Math.floor(Math.random() * workers.length);
        const victim = workers[index]!;
        victim.kill('SIGKILL');
        expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
        kills++;
        const restarting = performance.now();
        workers[index] = await spawn('worker');
        restartMs.push(performance.now() - restarting);
      }
    })();
    const loadStarted = performance.now();
    await steadyLoad({
      perSecond: RATE,
      durationMs: LOAD_MS,
      send: async (seq) => {
        const { tenant, eventType } = plan(seq);
        const sentAt = performance.now();
        // The API process is never killed: every message is accepted at the first try.
        const sent = await sendMessage(api, ledger.message(seq, tenant, eventType));
        expect(sent.failures).toEqual([]);
        ledger.accept(seq, sent.id, tenant, eventType, sentAt);
      },
    });
    loadDone = true;
    await killer;
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    // Leases of the last killed worker lapse 20 s after its kill, plus retries of 503s.
    await ledger.waitAllDelivered(45_000);
    const drainedAt = performance.now();
    // What a killed worker sent but never recorded is sent again once its lease lapses (20 s).
    const counts = await waitAllSucceeded(
      storage.env.HOOKLINE_DATABASE_URL!,
      ledger.expectedCount(),
      40_000,
    );
    expect(counts).toEqual([{ status: 'succeeded', n: ledger.expectedCount() }]);
    // Anything still on its way arrives, then the books close.
    await sleep(500);
    const figures = ledger.check();
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(ledger.receipts.filter((r) => r.target === 'c-unsubscribed')).toEqual([]);

    ledger.report(
      figures,
      `${kills} SIGKILLs of ${WORKERS} workers in ${loadSeconds.toFixed(1)} s of load at ` +
        `${RATE}/s (restarts took ${Math.round(Math.min(...restartMs))}–` +
        `${Math.round(Math.max(...restartMs))} ms); all delivered ${((drainedAt - loadStarted) / 1000).toFixed(1)} s after the ` +
        `load began; scenario ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
    );
  });
});

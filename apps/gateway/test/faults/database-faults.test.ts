/**
 * Fault 2: the database goes away under load, and the gateway (one API process, one
 * `HOOKLINE_ROLE=worker` process, built binary) recovers without being restarted.
 *
 * - On the shared test server, the gateway's own sessions (its scratch database, application_name
 *   `hookline…`; never any other session) are terminated with `pg_terminate_backend` five times.
 * - On a private cluster started by the test (initdb/pg_ctl; a free loopback port; a temp data
 *   directory removed afterwards), PostgreSQL itself is restarted twice: `pg_ctl restart -m fast`,
 *   then a fast stop, 3 s without a server, and a start.
 * - Through a loopback proxy (test/tcp-proxy.ts), every open connection of the gateway goes silent
 *   twice, as when a network path drops packets or a failed-over primary vanishes: nothing more
 *   is forwarded and nothing is closed, while new connections pass. With
 *   `HOOKLINE_DATABASE_TIMEOUT_SECONDS=2` each silent connection is given up 7 s after its last
 *   answer (the LISTEN connection too, by its periodic check); without that, the worker waited
 *   on its silent connections for good (the kernel's retransmission timeout, ~15 min).
 *
 * Requests that fail meanwhile (5xx, or the connection dropped) were not accepted; the client
 * retries them with the same `Idempotency-Key`, so that one whose commit happened before its
 * connection died is not sent twice: the database must hold exactly one message per key. After
 * the last fault, messages must again reach the worker by NOTIFY (its poll is set to 5 s, so a
 * lost LISTEN shows as seconds of delay), and both processes must still be the original ones.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, LOCAL_ENV, percentile, testDrivers } from '../e2e/harness';
import { type GatewayProcess, spawnGateway } from '../gateway-process';
import type { Receiver } from '../receivers';
import { startTcpProxy } from '../tcp-proxy';
import {
  createScratch,
  Ledger,
  ms,
  requireBuiltGateway,
  sendMessage,
  sleep,
  steadyLoad,
  terminateGatewayBackends,
  waitAllSucceeded,
  withSql,
} from './harness';
import {
  findPostgresBinaries,
  type PrivatePostgres,
  startPrivatePostgres,
} from './private-postgres';

const RATE = 30;
const POLL_MS = 5_000;

interface Resources {
  processes: GatewayProcess[];
  receivers: Receiver[];
  cleanups: (() => Promise<void>)[];
}

/** Exit state and the last output of a gateway process, for a failure message. */
function describeProcess(gateway: GatewayProcess): string {
  const state = gateway.child.exitCode ?? gateway.child.signalCode ?? 'running';
  return `${state}; stderr: ${gateway.stderr().slice(-1500)}; last lines: ${gateway.lines.slice(-8).join('\n')}`;
}

function resources(): Resources {
  const r: Resources = { processes: [], receivers: [], cleanups: [] };
  afterAll(async () => {
    for (const gateway of r.processes) gateway.kill('SIGKILL');
    await Promise.all(r.processes.map((gateway) => gateway.exited));
    await Promise.all(r.receivers.map((receiver) => receiver.close()));
    for (const cleanup of r.cleanups.reverse()) await cleanup();
  });
  return r;
}

/**
 * Runs the gateway on `databaseUrl` under a steady load of `loadMs`, calls `inject` at each of
 * `faultsAt` (ms into the load), then checks and reports. Returns the ledger's figures line.
 */
async function underLoad(
  r: Resources,
  options: {
    scenario: string;
    databaseUrl: string;
    loadMs: number;
    faultsAt: number[];
    inject: () => Promise<string>;
    /** More gateway settings. */
    env?: Record<string, string>;
    /** The longest accept→receipt allowed (ms). */
    maxAcceptToReceiptMs?: number;
  },
): Promise<void> {
  requireBuiltGateway();
  const startedAt = performance.now();
  const apiKey = `hl_sk_${randomBytes(24).toString('base64url')}`;
  const env = {
    ...LOCAL_ENV,
    HOOKLINE_DATABASE_URL: options.databaseUrl,
    HOOKLINE_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    HOOKLINE_API_KEY: apiKey,
    HOOKLINE_LEASE_SECONDS: '20',
    HOOKLINE_POLL_INTERVAL_MS: String(POLL_MS),
    HOOKLINE_DATABASE_POOL_SIZE: '4',
    ...options.env,
  };
  // The API process migrates first; the worker starts on the migrated schema.
  const apiProcess = await spawnGateway({ built: true, env: { ...env, HOOKLINE_ROLE: 'api' } });
  r.processes.push(apiProcess);
  const worker = await spawnGateway({ built: true, env: { ...env, HOOKLINE_ROLE: 'worker' } });
  r.processes.push(worker);
  const pids = [apiProcess.child.pid, worker.child.pid];

  const ledger = new Ledger(options.scenario);
  const api = apiClient(apiProcess.url, apiKey);
  for (const [name, tenant, eventTypes] of [
    ['a-all', 'db-A', undefined],
    ['a-paid', 'db-A', ['order.paid']],
    ['b-all', 'db-B', undefined],
  ] as const) {
    const receiver = await ledger.receiver(name);
    r.receivers.push(receiver);
    await ledger.endpoint(api, name, receiver, {
      tenant,
      ...(eventTypes ? { eventTypes: [...eventTypes] } : {}),
      retrySchedule: [1, 1, 1, 1, 1, 1],
    });
  }
  const plan = (seq: number) =>
    seq % 3 === 0
      ? { tenant: 'db-B', eventType: 'order.created' }
      : { tenant: 'db-A', eventType: seq % 3 === 1 ? 'order.paid' : 'order.created' };

  const failures: string[] = [];
  let retried = 0;
  let replayed = 0;
  const send = async (seq: number) => {
    const { tenant, eventType } = plan(seq);
    const sentAt = performance.now();
    const sent = await sendMessage(api, ledger.message(seq, tenant, eventType), {
      idempotencyKey: `${ledger.run}-${seq}`,
      giveUpAfterMs: 20_000,
      retryEveryMs: 200,
    });
    failures.push(...sent.failures);
    if (sent.failures.length > 0) retried++;
    if (sent.replayed) replayed++;
    ledger.accept(seq, sent.id, tenant, eventType, sentAt);
  };

  const loadStarted = performance.now();
  const faultNotes: string[] = [];
  const faults = (async () => {
    for (const at of options.faultsAt) {
      const wait = loadStarted + at - performance.now();
      if (wait > 0) await sleep(wait);
      faultNotes.push(await options.inject());
    }
  })();
  const sent = await steadyLoad({ perSecond: RATE, durationMs: options.loadMs, send }).catch(
    (error) => {
      throw new Error(
        `${(error as Error).message}\napi: ${describeProcess(apiProcess)}\nworker: ${describeProcess(worker)}`,
      );
    },
  );
  await faults;
  const lastFaultDone = performance.now();

  // After the faults: messages reach the worker by NOTIFY again (not its 5 s poll).
  await sleep(1_000);
  const probeFrom = sent;
  await steadyLoad({ perSecond: 10, durationMs: 3_000, send, firstSeq: probeFrom });
  await ledger.waitAllDelivered(45_000).catch((error) => {
    throw new Error(
      `${(error as Error).message}\napi: ${describeProcess(apiProcess)}\nworker: ${describeProcess(worker)}`,
    );
  });
  // An outcome the worker could not record while the database was away is sent again once its
  // lease lapses (20 s): at least once.
  const statuses = await waitAllSucceeded(options.databaseUrl, ledger.expectedCount(), 40_000);
  expect(statuses).toEqual([{ status: 'succeeded', n: ledger.expectedCount() }]);
  await sleep(300);
  const figures = ledger.check();
  const probe = ledger.latencies((message) => message.seq >= probeFrom);
  const probeP50 = percentile(probe, 50);
  // Exactly one message per idempotency key, though some requests were sent more than once.
  const stored = await withSql(
    options.databaseUrl,
    (db) =>
      db<{ messages: number; seqs: number }[]>`
      select count(*)::int as messages, count(distinct payload::jsonb -> 'seq')::int as seqs
      from messages where payload::jsonb ->> 'run' = ${ledger.run}`,
  );
  expect(stored).toEqual([{ messages: ledger.acceptedCount, seqs: ledger.acceptedCount }]);
  // Neither process was restarted: the same two, still running.
  expect([apiProcess.child.pid, worker.child.pid]).toEqual(pids);
  expect([apiProcess.child.exitCode, worker.child.exitCode]).toEqual([null, null]);
  expect(
    probeP50,
    'median accept→receipt after the faults (NOTIFY, not the 5 s poll)',
  ).toBeLessThan(1_000);
  // A lost or silent database is an outage to retry (503 with Retry-After), not a server bug (500).
  expect(
    failures.filter((failure) => failure !== '503' && !failure.startsWith('network')),
    'failed API requests other than 503 or a lost connection',
  ).toEqual([]);
  if (options.maxAcceptToReceiptMs !== undefined) {
    expect(figures.maxMs, 'the longest accept→receipt').toBeLessThan(options.maxAcceptToReceiptMs);
  }

  // How long the slowest API requests took inside the gateway (its own request log).
  const requestMs = apiProcess
    .logs()
    .filter((entry) => entry.msg === 'request' && typeof entry.duration_ms === 'number')
    .map((entry) => entry.duration_ms as number);
  const slowRequests = requestMs.filter((duration) => duration > 5_000).length;
  const byKind = new Map<string, number>();
  for (const failure of failures) byKind.set(failure, (byKind.get(failure) ?? 0) + 1);
  ledger.report(
    figures,
    `faults: ${faultNotes.join(', ')}; failed requests ${failures.length} ` +
      `(${[...byKind].map(([kind, n]) => `${kind}×${n}`).join(', ') || 'none'}), ` +
      `${retried} messages retried, ${replayed} answered as idempotent replays; ` +
      `API requests: slowest ${ms(Math.max(0, ...requestMs))}, ${slowRequests} over 5 s; ` +
      `after the faults p50 ${ms(probeP50)} (${probe.length} messages); ` +
      `faults over ${((lastFaultDone - loadStarted) / 1000).toFixed(1)} s; ` +
      `scenario ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
  );
}

describe.runIf(testDrivers.includes('postgres'))('fault: PostgreSQL sessions terminated', () => {
  const r = resources();

  it('recovers from pg_terminate_backend of its sessions under load without a restart: one message per idempotency key, every message delivered', {
    timeout: 120_000,
  }, async () => {
    const scratch = await createScratch();
    r.cleanups.push(scratch.drop);
    await underLoad(r, {
      scenario: 'pg-terminate',
      databaseUrl: scratch.url,
      loadMs: 20_000,
      faultsAt: [3_000, 6_500, 10_000, 13_500, 17_000],
      inject: async () => {
        const n = await terminateGatewayBackends(scratch.adminUrl, scratch.name);
        expect(n).toBeGreaterThan(0);
        return `${n} sessions`;
      },
    });
  });
});

const binaries = findPostgresBinaries();

describe.runIf(binaries !== null)('fault: PostgreSQL restarted', () => {
  const r = resources();

  it('recovers from two PostgreSQL restarts under load (pg_ctl restart -m fast; stop, 3 s down, start) without a restart of its own', {
    timeout: 120_000,
  }, async () => {
    const cluster: PrivatePostgres = await startPrivatePostgres();
    r.cleanups.push(cluster.dispose);
    let restarts = 0;
    await underLoad(r, {
      scenario: 'pg-restart',
      databaseUrl: cluster.url,
      loadMs: 16_000,
      faultsAt: [4_000, 10_000],
      inject: async () => {
        // First a plain restart, then one with the server gone for 3 s (a failover's gap).
        const downMs = restarts++ === 0 ? undefined : 3_000;
        return `restart ${ms(await cluster.restart(downMs === undefined ? {} : { downMs }))}`;
      },
    });
  });
});

describe.runIf(testDrivers.includes('postgres'))(
  'fault: the database connections go silent',
  () => {
    const r = resources();

    it('recovers when every open database connection goes silent under load (twice) without a restart: one message per idempotency key, every message delivered', {
      timeout: 150_000,
    }, async () => {
      const scratch = await createScratch();
      r.cleanups.push(scratch.drop);
      const proxy = await startTcpProxy(new URL(scratch.url));
      r.cleanups.push(() => proxy.close());
      await underLoad(r, {
        scenario: 'pg-silent',
        databaseUrl: proxy.url(),
        env: { HOOKLINE_DATABASE_TIMEOUT_SECONDS: '2' },
        // A silent connection costs its statements 7 s (2 s + 5 s of grace), once per fault: the
        // leases of a claim whose answer was lost go back then too, not after the 20 s lease.
        maxAcceptToReceiptMs: 12_000,
        loadMs: 24_000,
        faultsAt: [3_000, 13_000],
        inject: async () => {
          const n = proxy.silence();
          expect(n).toBeGreaterThan(0);
          return `${n} connections silenced`;
        },
      });
    });
  },
);

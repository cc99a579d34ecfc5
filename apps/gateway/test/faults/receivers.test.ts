/**
 * Fault 3: misbehaving receivers, each behind its own tenant's endpoint of one gateway process
 * (built binary; PostgreSQL when HOOKLINE_TEST_DATABASE_URL is set, else embedded):
 *
 * - storm: 500 to everything for 2.5 s from its first request, then 204;
 * - hang: the first request of each message is never answered (past the 15 s request timeout);
 * - cut: the first request's connection is dropped before any answer, the second's in the middle
 *   of its body (200, Content-Length 100, 10 bytes sent);
 * - drip: 200 and a 20-byte body, one byte per 100 ms (slow, but within the timeout);
 * - drip-forever: the first request gets 200 and one byte every 250 ms, without end;
 * - endless: an endless body as fast as the socket takes it (500 twice, then 200): the gateway
 *   must stop reading at its 4 KiB cap, so the receiver sees its socket closed after a bounded
 *   number of bytes, and the gateway's memory does not grow;
 * - dead: 500 always, with a two-retry schedule: the delivery ends `dead`.
 *
 * Failures per endpoint stay under 20 a minute: more would open the circuit breaker (90 % of
 * at least 20 attempts in a minute failed), which throttles the endpoint to a probe after 30 s;
 * that is the breaker's behaviour, tested beside it, not what this scenario measures.
 *
 * Every delivery's recorded attempts (`GET /v1/deliveries/{id}`) must match, one for one, what
 * its receiver did with each request (outcome and status), and follow the endpoint's schedule.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  testDrivers,
} from '../e2e/harness';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import type { Receiver } from '../receivers';
import {
  attemptsOf,
  type Behaviour,
  Ledger,
  ms,
  type Receipt,
  requireBuiltGateway,
  residentBytes,
  sendMessage,
  sleep,
} from './harness';

const driver = testDrivers.includes('postgres') ? 'postgres' : 'pglite';
const MiB = 1024 * 1024;
// Safety bound of the endless receiver: a gateway that kept reading would fail, not run forever.
const ENDLESS_SAFETY_BYTES = 512 * MiB;

interface Expected {
  outcome: string;
  httpStatus: number | null;
}

describe(`fault: misbehaving receivers (${driver})`, () => {
  let storage: GatewayStorage | undefined;
  let gateway: GatewayProcess | undefined;
  const receivers: Receiver[] = [];
  const held: ServerResponse[] = [];

  afterAll(async () => {
    for (const res of held) res.destroy();
    await stopGateway(gateway, 5_000);
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await storage?.dispose();
  });

  it('records each misbehaviour as the right attempt outcome, follows the retry schedule, delivers once the receiver recovers, and stops reading endless bodies at the cap', {
    timeout: 120_000,
  }, async () => {
    requireBuiltGateway();
    const startedAt = performance.now();
    storage = await gatewayStorage(driver);
    gateway = await spawnGateway({ built: true, env: { ...LOCAL_ENV, ...storage.env } });
    const api = apiClient(gateway.url, gateway.apiKey ?? storage.env.HOOKLINE_API_KEY!);
    const pid = gateway.child.pid!;

    const ledger = new Ledger('receivers');
    // What each request should be recorded as, by the receiver's own account.
    const expected = new Map<Receipt, Expected>();
    const expectOutcome = (receipt: Receipt, outcome: string, httpStatus: number | null) =>
      expected.set(receipt, { outcome, httpStatus });

    let stormUntil = 0;
    const storm: Behaviour = (_req, res, receipt) => {
      if (stormUntil === 0) stormUntil = receipt.at + 2_500;
      if (receipt.at < stormUntil) {
        expectOutcome(receipt, 'http_5xx', 500);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('storm');
      } else {
        expectOutcome(receipt, 'success', 204);
        res.writeHead(204).end();
      }
    };
    const hang: Behaviour = (_req, res, receipt) => {
      if (receipt.nth === 1) {
        expectOutcome(receipt, 'timeout', null);
        held.push(res);
      } else {
        expectOutcome(receipt, 'success', 204);
        res.writeHead(204).end();
      }
    };
    const cut: Behaviour = (_req, res, receipt) => {
      if (receipt.nth === 1) {
        expectOutcome(receipt, 'network_error', null);
        res.socket?.destroy();
      } else if (receipt.nth === 2) {
        // The status line arrived, the body did not: recorded as a network error with its status.
        expectOutcome(receipt, 'network_error', 200);
        res.writeHead(200, { 'content-length': '100', 'content-type': 'text/plain' });
        res.write('0123456789', () => setTimeout(() => res.socket?.destroy(), 50));
      } else {
        expectOutcome(receipt, 'success', 204);
        res.writeHead(204).end();
      }
    };
    const dripBody = (res: ServerResponse, everyMs: number, bytes: number) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= bytes) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write('.');
        sent++;
      }, everyMs);
      res.on('close', () => clearInterval(timer));
    };
    const drip: Behaviour = (_req, res, receipt) => {
      expectOutcome(receipt, 'success', 200);
      dripBody(res, 100, 20);
    };
    const dripForever: Behaviour = (_req, res, receipt) => {
      if (receipt.nth === 1) {
        expectOutcome(receipt, 'timeout', 200);
        held.push(res);
        dripBody(res, 250, Number.POSITIVE_INFINITY);
      } else {
        expectOutcome(receipt, 'success', 204);
        res.writeHead(204).end();
      }
    };
    // Bytes the endless receiver had written when the gateway closed the connection, and when.
    const endlessRuns: { bytes: number; openMs: number }[] = [];
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const endless: Behaviour = (_req, res, receipt) => {
      const status = receipt.nth <= 2 ? 500 : 200;
      expectOutcome(receipt, status === 500 ? 'http_5xx' : 'success', status);
      res.writeHead(status, { 'content-type': 'text/plain' });
      const opened = performance.now();
      let bytes = 0;
      let closed = false;
      const pump = () => {
        while (!closed) {
          if (bytes >= ENDLESS_SAFETY_BYTES) {
            res.destroy();
            return;
          }
          bytes += chunk.length;
          if (!res.write(chunk)) return;
        }
      };
      res.on('drain', pump);
      res.on('close', () => {
        closed = true;
        endlessRuns.push({ bytes, openMs: performance.now() - opened });
      });
      pump();
    };
    const dead: Behaviour = (_req, res, receipt) => {
      expectOutcome(receipt, 'http_5xx', 503);
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
    };

    const plan = [
      { name: 'storm', behaviour: storm, messages: 4, schedule: [1, 1, 1, 1, 1, 1] },
      { name: 'hang', behaviour: hang, messages: 2, schedule: [1, 1] },
      { name: 'cut', behaviour: cut, messages: 3, schedule: [1, 2, 1] },
      { name: 'drip', behaviour: drip, messages: 2, schedule: [1] },
      { name: 'drip-forever', behaviour: dripForever, messages: 1, schedule: [1] },
      { name: 'endless', behaviour: endless, messages: 6, schedule: [1, 1, 1] },
      { name: 'dead', behaviour: dead, messages: 2, schedule: [1, 2] },
    ];
    for (const { name, behaviour, schedule } of plan) {
      const receiver = await ledger.receiver(name, behaviour);
      receivers.push(receiver);
      await ledger.endpoint(api, name, receiver, {
        tenant: `rcv-${name}`,
        retrySchedule: schedule,
      });
    }
    // A few plain deliveries first, so that the memory baseline is a warmed-up process.
    const warm = await ledger.receiver('warm');
    receivers.push(warm);
    await ledger.endpoint(api, 'warm', warm, { tenant: 'rcv-warm' });
    let seq = 0;
    const send = async (tenant: string) => {
      const at = performance.now();
      const sent = await sendMessage(api, ledger.message(seq, tenant, 'thing.happened'));
      expect(sent.failures).toEqual([]);
      ledger.accept(seq++, sent.id, tenant, 'thing.happened', at);
    };
    for (let i = 0; i < 20; i++) await send('rcv-warm');
    await ledger.waitAllDelivered(10_000);
    const baselineRss = await residentBytes(pid);
    let peakRss = baselineRss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await residentBytes(pid).catch(() => 0));
        await sleep(100);
      }
    })();

    for (const { name, messages } of plan) {
      for (let i = 0; i < messages; i++) await send(`rcv-${name}`);
    }
    // Dead deliveries never "arrive" more than their attempts: wait for every pair, then for
    // the dead endpoint's last attempt to be recorded.
    await ledger.waitAllDelivered(60_000);
    /** Null once every attempt is recorded and every delivery settled; else what is missing. */
    const unrecorded = async (): Promise<string | null> => {
      for (const target of ledger.targets.values()) {
        const byMessage = [...(await attemptsOf(api, target.endpointId)).values()];
        const receipts = ledger.receipts.filter((r) => r.target === target.name).length;
        const attempts = byMessage.reduce((n, d) => n + d.attempts.length, 0);
        const unsettled = byMessage.filter((d) => d.status !== 'succeeded' && d.status !== 'dead');
        if (attempts < receipts || unsettled.length > 0) {
          return `${target.name}: ${attempts} attempts recorded for ${receipts} requests, ${unsettled.length} deliveries unsettled (${unsettled.map((d) => d.status).join(', ')})`;
        }
      }
      return null;
    };
    const recordDeadline = performance.now() + 30_000;
    try {
      for (let missing = await unrecorded(); missing; missing = await unrecorded()) {
        if (performance.now() > recordDeadline) throw new Error(`Not all recorded: ${missing}`);
        await sleep(250);
      }
    } finally {
      sampling = false;
      await sampler;
    }

    const figures = ledger.check();
    const mismatches: string[] = [];
    const scheduleProblems: string[] = [];
    const outcomes = new Map<string, number>();
    for (const { name, schedule } of plan) {
      const target = ledger.targets.get(name)!;
      const byMessage = await attemptsOf(api, target.endpointId);
      expect(byMessage.size, `deliveries of ${name}`).toBe(
        plan.find((p) => p.name === name)!.messages,
      );
      for (const [messageId, delivery] of byMessage) {
        const receipts = ledger.receipts
          .filter((r) => r.target === name && r.webhookId === messageId)
          .sort((a, b) => a.nth - b.nth);
        const want = receipts.map((r) => expected.get(r));
        const got = delivery.attempts.map((a) => ({
          outcome: a.outcome,
          httpStatus: a.http_status,
        }));
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          mismatches.push(
            `${name} ${messageId}: recorded ${JSON.stringify(got)}, receiver saw ${JSON.stringify(want)}`,
          );
        }
        for (const a of delivery.attempts)
          outcomes.set(a.outcome, (outcomes.get(a.outcome) ?? 0) + 1);
        const last = delivery.attempts.at(-1)!;
        expect(delivery.status, `${name} ${messageId}`).toBe(
          last.outcome === 'success' ? 'succeeded' : 'dead',
        );
        // Each retry waits its scheduled delay (±10 % jitter) after the failure was known.
        for (let i = 1; i < delivery.attempts.length; i++) {
          const before = delivery.attempts[i - 1]!;
          const failedAt = Date.parse(before.attempted_at) + before.latency_ms;
          const gap = Date.parse(delivery.attempts[i]!.attempted_at) - failedAt;
          const delay = schedule[i - 1]! * 1000;
          if (gap < delay * 0.9 - 50 || gap > delay * 1.1 + 2_000) {
            scheduleProblems.push(
              `${name} ${messageId} retry ${i}: ${gap} ms after the failure, scheduled ${delay} ms ±10 %`,
            );
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(scheduleProblems).toEqual([]);
    // The dead endpoint: every message tried 1 + 2 times, then dead.
    expect(ledger.receipts.filter((r) => r.target === 'dead')).toHaveLength(2 * 3);

    // Timeouts took the 15 s of API.md, no less and not much more.
    const timeouts = [...(await attemptsOf(api, ledger.targets.get('hang')!.endpointId)).values()]
      .concat([...(await attemptsOf(api, ledger.targets.get('drip-forever')!.endpointId)).values()])
      .flatMap((d) => d.attempts.filter((a) => a.outcome === 'timeout').map((a) => a.latency_ms));
    expect(timeouts).toHaveLength(3);
    for (const latency of timeouts) {
      expect(latency).toBeGreaterThanOrEqual(14_900);
      expect(latency).toBeLessThan(17_000);
    }
    // Slow but within the timeout: success, and the latency shows the 2 s it took.
    const drips = [...(await attemptsOf(api, ledger.targets.get('drip')!.endpointId)).values()];
    for (const d of drips) expect(d.attempts[0]!.latency_ms).toBeGreaterThanOrEqual(1_900);

    // Endless bodies: every attempt cut off after a bounded number of bytes, at once.
    expect(endlessRuns).toHaveLength(6 * 3);
    const maxEndlessBytes = Math.max(...endlessRuns.map((run) => run.bytes));
    const maxEndlessOpen = Math.max(...endlessRuns.map((run) => run.openMs));
    expect(maxEndlessBytes).toBeLessThan(16 * MiB);
    expect(maxEndlessOpen).toBeLessThan(5_000);
    const endlessAttempts = [
      ...(await attemptsOf(api, ledger.targets.get('endless')!.endpointId)).values(),
    ].flatMap((d) => d.attempts);
    expect(endlessAttempts.every((a) => a.response_body_truncated)).toBe(true);
    const growth = peakRss - baselineRss;
    expect(growth).toBeLessThan(100 * MiB);

    ledger.report(
      figures,
      `attempts by outcome ${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ')}; endless bodies: ` +
        `${endlessRuns.length} connections closed after at most ${(maxEndlessBytes / MiB).toFixed(1)} MiB ` +
        `written and ${ms(maxEndlessOpen)}; gateway RSS ${(baselineRss / MiB).toFixed(0)} MiB → peak ` +
        `${(peakRss / MiB).toFixed(0)} MiB; timeouts after ${timeouts.map(ms).join(', ')}; ` +
        `scenario ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
    );
  });
});

/**
 * Fault 4: a noisy neighbour. One tenant's endpoint takes 10 s to answer each request; four other
 * tenants' endpoints answer at once. Their accept→receipt p99 with the slow tenant busy must stay
 * within 10 % of the p99 without it, on the same gateway process (built binary; PostgreSQL when
 * HOOKLINE_TEST_DATABASE_URL is set, else embedded).
 *
 * The machine is small and shared, and a p99 of 12–20 ms leaves 10 % at a millisecond or two, so the
 * measurement alternates short phases (baseline, slow, baseline, slow, …, 3.5 s each, twenty of
 * each kind) under the same fixed, modest offered load (120 messages/s over the quiet tenants):
 * a burst of background noise (a second or three of another process on a core) falls on phases of
 * both kinds, and the two worst phases of each kind are left out of its pooled p99 (see below).
 * In a slow phase the slow endpoint holds all its `HOOKLINE_ENDPOINT_CONCURRENCY` (10) slots, with
 * a backlog behind them and more arriving, before measuring starts; at its end the held requests
 * are answered and the backlog drains before the next baseline.
 *
 * On PostgreSQL it also counts the rows its tables' scans read (`pg_stat_user_indexes`, `…_tables`):
 * the work per message must not grow with the tables over the run. It did, seventeenfold, while the
 * claim's cached plan counted an endpoint's leases through every row it ever had (plans made on
 * near-empty tables, on a server whose autovacuum is off: storage/statistics.ts).
 */
import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  percentile,
  testDrivers,
} from '../e2e/harness';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import type { Receiver } from '../receivers';
import {
  type Behaviour,
  Ledger,
  ms,
  requireBuiltGateway,
  sendMessage,
  sleep,
  steadyLoad,
  withSql,
} from './harness';

const driver = testDrivers.includes('postgres') ? 'postgres' : 'pglite';
const QUIET = ['quiet-1', 'quiet-2', 'quiet-3', 'quiet-4'];
// 120, not 60: at 60 the quiet p99 sat near 12 ms on the slower machine of 24 November, each
// condition's pooled p99 was the ~40th-largest of 4,200 samples, and two CI runs there measured
// 1.006 and 1.169; at 120 (p99 near 20 ms, 8,400 samples) runs alone measured 1.014 and 0.871.
const RATE = 120;
const PHASES = 40;
const WINDOW_MS = 3_500;
// Phases of each kind left out of its pooled p99: its worst ones by p99.
const TRIM = 2;
const SLOW_MS = 10_000;
const SLOW_CONCURRENCY = 10;

describe(`fault: a noisy neighbour (${driver})`, () => {
  let storage: GatewayStorage | undefined;
  let gateway: GatewayProcess | undefined;
  const receivers: Receiver[] = [];
  const held = new Set<ServerResponse>();

  afterAll(async () => {
    for (const res of held) res.destroy();
    await stopGateway(gateway, 5_000);
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await storage?.dispose();
  });

  it("keeps other tenants' p99 accept→receipt within 10 % of its value without a tenant whose endpoint takes 10 s per response", {
    timeout: 300_000,
  }, async () => {
    requireBuiltGateway();
    const startedAt = performance.now();
    storage = await gatewayStorage(driver);
    gateway = await spawnGateway({
      built: true,
      env: {
        ...LOCAL_ENV,
        ...storage.env,
        HOOKLINE_ENDPOINT_CONCURRENCY: String(SLOW_CONCURRENCY),
      },
    });
    const api = apiClient(gateway.url, gateway.apiKey ?? storage.env.HOOKLINE_API_KEY!);
    const ledger = new Ledger('noisy-neighbour');

    let slowMode = false;
    const slow: Behaviour = (_req, res) => {
      if (!slowMode) {
        res.writeHead(204).end();
        return;
      }
      held.add(res);
      const timer = setTimeout(() => {
        held.delete(res);
        res.writeHead(204).end();
      }, SLOW_MS);
      res.on('close', () => {
        clearTimeout(timer);
        held.delete(res);
      });
    };
    const slowReceiver = await ledger.receiver('slow', slow);
    receivers.push(slowReceiver);
    await ledger.endpoint(api, 'slow', slowReceiver, { tenant: 'noisy' });
    for (const name of QUIET) {
      const receiver = await ledger.receiver(name);
      receivers.push(receiver);
      await ledger.endpoint(api, name, receiver, { tenant: name });
    }

    let seq = 0;
    const phaseOf = new Map<number, number>();
    const send = async (tenant: string, phase: number) => {
      const n = seq++;
      phaseOf.set(n, phase);
      const at = performance.now();
      const sent = await sendMessage(api, ledger.message(n, tenant, 'order.created'));
      expect(sent.failures).toEqual([]);
      ledger.accept(n, sent.id, tenant, 'order.created', at);
    };
    const quietLoad = (phase: number, durationMs: number) =>
      steadyLoad({
        perSecond: RATE,
        durationMs,
        send: (i) => send(QUIET[i % QUIET.length]!, phase),
      });

    // Warm-up (JIT, pools, prepared statements), not measured.
    await quietLoad(-1, 6_000);
    await ledger.waitAllDelivered(10_000);

    // Rows the gateway's statements read from its tables so far (index entries and rows read
    // by sequential scans; not the system catalogs, which re-planning reads), on PostgreSQL.
    const databaseUrl = storage.env.HOOKLINE_DATABASE_URL;
    const rowsRead = async () => {
      if (!databaseUrl) return 0;
      // A backend publishes its counts within a second or so of going idle.
      await sleep(1_100);
      return withSql(databaseUrl, async (db) => {
        const [row] = await db`select
          (select coalesce(sum(idx_tup_read), 0) from pg_stat_user_indexes)
          + (select coalesce(sum(seq_tup_read), 0) from pg_stat_user_tables) as n`;
        return Number(row!.n);
      });
    };
    // Read at the start and end of the first and the last EDGE phases (two pairs each).
    const EDGE = 4;
    const readAt = new Map<number, number>();

    const slowPhases: number[] = [];
    for (let phase = 0; phase < PHASES; phase++) {
      if (phase === 0 || phase === PHASES - EDGE) readAt.set(phase, await rowsRead());
      const withSlow = phase % 2 === 1;
      if (withSlow) {
        slowPhases.push(phase);
        slowMode = true;
        // Fill the slow endpoint's slots, and keep a backlog behind them.
        for (let i = 0; i < SLOW_CONCURRENCY + 5; i++) await send('noisy', -2);
        const deadline = performance.now() + 10_000;
        while (held.size < SLOW_CONCURRENCY && performance.now() < deadline) await sleep(20);
        expect(held.size, 'slow requests held at the endpoint cap').toBe(SLOW_CONCURRENCY);
        let feeding = true;
        const feeder = (async () => {
          while (feeding) {
            await sleep(500);
            if (feeding) await send('noisy', -2);
          }
        })();
        await quietLoad(phase, WINDOW_MS);
        feeding = false;
        await feeder;
        expect(held.size, 'the slow endpoint stayed busy').toBe(SLOW_CONCURRENCY);
        // Phase over: answer what is held, and let the backlog drain fast.
        slowMode = false;
        for (const res of [...held]) {
          held.delete(res);
          res.writeHead(204).end();
        }
      } else {
        await quietLoad(phase, WINDOW_MS);
      }
      await ledger.waitAllDelivered(30_000);
      if (phase === EDGE - 1 || phase === PHASES - 1) readAt.set(phase, await rowsRead());
      await sleep(300);
    }

    const figures = ledger.check();
    const latencies = (slowPhase: boolean) =>
      ledger.latencies((message, target) => {
        const phase = phaseOf.get(message.seq)!;
        return target !== 'slow' && phase >= 0 && slowPhases.includes(phase) === slowPhase;
      });
    const baseline = latencies(false);
    const noisy = latencies(true);
    const p99Base = percentile(baseline, 99);
    const p99Noisy = percentile(noisy, 99);
    const perPhase = Array.from({ length: PHASES }, (_, phase) => {
      const values = ledger.latencies(
        (message, target) => target !== 'slow' && phaseOf.get(message.seq) === phase,
      );
      return `${slowPhases.includes(phase) ? 'S' : 'B'} ${ms(percentile(values, 99))}`;
    });
    const phasesOf = (slowPhase: boolean) =>
      Array.from({ length: PHASES }, (_, phase) => phase).filter(
        (phase) => slowPhases.includes(phase) === slowPhase,
      );
    const quietIn = (phases: number[]) =>
      ledger.latencies(
        (message, target) => target !== 'slow' && phases.includes(phaseOf.get(message.seq)!),
      );
    // Per phase, each condition's p99 comes from ~210 samples: its 3rd-largest value, which a
    // stall of the machine (its disk, other processes) moves by tens of ms in one phase.
    const phaseP99 = (slowPhase: boolean) =>
      phasesOf(slowPhase).map((phase) => percentile(quietIn([phase]), 99));
    const medianP99Base = percentile(phaseP99(false), 50);
    const medianP99Noisy = percentile(phaseP99(true), 50);
    const ratio = medianP99Noisy / medianP99Base;
    // What is asserted: the p99 over all of a condition's phases but its TRIM worst ones (by p99),
    // the same trim on both sides. The pooled p99 is steadier than the median of per-phase p99s
    // (the runs of 24 November: medians 19 vs 28 ms, pooled 28 vs 27 ms), and the trim keeps a
    // stalled phase or two from deciding it. With eight 7 s phases of each kind and one left out,
    // a CI run of 24 November failed at 1.160 (12 vs 14 ms pooled, three slow phases at 16–19 ms
    // against none above 14 ms) where runs alone measured 0.90–0.98: short phases spread such
    // bursts over both kinds (docs/faults.md).
    const trimmedP99 = (slowPhase: boolean) => {
      const phases = phasesOf(slowPhase);
      const p99s = phaseP99(slowPhase);
      const worst = phases
        .map((phase, i) => ({ phase, p99: p99s[i]! }))
        .sort((a, b) => b.p99 - a.p99)
        .slice(0, TRIM)
        .map(({ phase }) => phase);
      return percentile(quietIn(phases.filter((phase) => !worst.includes(phase))), 99);
    };
    const trimmedBase = trimmedP99(false);
    const trimmedNoisy = trimmedP99(true);
    const trimmedRatio = trimmedNoisy / trimmedBase;
    // Rows read by the database in the first and in the last EDGE phases (the same load).
    const readFirst = readAt.get(EDGE - 1)! - readAt.get(0)!;
    const readLast = readAt.get(PHASES - 1)! - readAt.get(PHASES - EDGE)!;
    ledger.report(
      figures,
      `quiet tenants' p99 without the slow tenant ${ms(p99Base)} (${baseline.length} samples, p50 ` +
        `${ms(percentile(baseline, 50))}), with it ${ms(p99Noisy)} (${noisy.length} samples, p50 ` +
        `${ms(percentile(noisy, 50))}), pooled ratio ${(p99Noisy / p99Base).toFixed(3)}; median of the ` +
        `per-phase p99s ${ms(medianP99Base)} without, ${ms(medianP99Noisy)} with: ratio ${ratio.toFixed(3)}; ` +
        `without each side's ${TRIM} worst phases ${ms(trimmedBase)} without, ${ms(trimmedNoisy)} with: ` +
        `ratio ${trimmedRatio.toFixed(3)}; ` +
        `per phase p99 ${perPhase.join(', ')}; ` +
        (databaseUrl
          ? `rows scanned in the first ${EDGE} phases ${readFirst}, in the last ` +
            `${EDGE} ${readLast}; `
          : '') +
        `scenario ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    // steadyLoad sends rate × window messages per phase: every one of them is a sample.
    const expected = (PHASES / 2) * (WINDOW_MS / 1000) * RATE;
    expect(baseline.length).toBe(expected);
    expect(noisy.length).toBe(expected);
    // The same load in every phase: the database's work for it must not grow with the tables
    // (by the last phases they hold about ten times what they held in the first ones).
    if (databaseUrl) expect(readLast).toBeLessThan(readFirst * 2);
    expect(trimmedNoisy).toBeLessThanOrEqual(trimmedBase * 1.1);
  });
});

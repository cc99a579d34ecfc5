import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./run.mjs', import.meta.url));
const builtMain = fileURLToPath(new URL('../../apps/gateway/dist/main.js', import.meta.url));
// With a PostgreSQL server (CI sets this), the bench makes and drops a database of its own on
// it; without one, the gateway runs on embedded PGlite and the insert baseline is skipped.
const withPostgres = Boolean(process.env.HOOKLINE_TEST_DATABASE_URL);
// The whole file stays under 2.5 minutes, a build of the gateway (when missing) included.
const BUDGET_MS = 145_000;

interface Latency {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
interface Target {
  id: string;
  name: string;
  value: number | null;
  unit: string;
  pass: boolean;
}
interface Report {
  quick: boolean;
  mode: 'postgres' | 'embedded';
  env: { node: string; cores: number; postgres: string | null; loadAverage: number[] };
  gateway: {
    peakRssBytes: number | null;
    peakRssMiB: number | null;
    peakRssMB: number | null;
    peakRssBeforeFanOutBytes: number | null;
  };
  baselines: {
    receiver: {
      fixed: { rate: number; latencyMs: Latency; errors: number };
      max: { requestsPerSec: number; errors: number };
    };
    bareHono: {
      inFlight: number;
      durationMs: number;
      requestsPerSec: number;
      errors: number;
      versions: { hono: string; nodeServer: string } | null;
    };
    insertCommit: {
      connections: number;
      commitsPerSec: number;
      single: { connections: number; commitsPerSec: number };
    } | null;
  };
  fixedLoad: {
    rate: number;
    sent: number;
    accepted: number;
    errors: number;
    acceptedPerSec: number;
    acceptToReceiptMs: Latency;
    sendToReceiptMs: Latency;
    acceptLatencyMs: Latency;
    missing: number;
  };
  sustained: {
    rate: number;
    tenants: number;
    endpointsPerTenant: number;
    endpoints: number;
    accepted: number;
    errors: number;
    offeredDeliveriesPerSec: number;
    deliveriesPerSec: number;
    backlogAtSendEnd: number;
    acceptToReceiptMs: Latency;
    expectedDeliveries: number;
    missingDeliveries: number;
  };
  maxIntake: {
    inFlight: number;
    endpoints: number;
    durationMs: number;
    accepted: number;
    errors: number;
    acceptedPerSec: number;
    overallDeliveriesPerSec: number;
    expectedDeliveries: number;
    receivedDeliveries: number;
    missingDeliveries: number;
    drained: boolean;
  };
  fanOut: {
    endpoints: number;
    created: number;
    createSeconds: number;
    error: string | null;
    commitMs: number | null;
    deliveryCount: number | null;
    drainSeconds: number | null;
    receivedDeliveries: number;
    missingDeliveries: number;
    drained: boolean;
  };
  ratios: Record<string, number | null>;
  targets: Target[];
}

describe(`bench/gateway/run.mjs --quick (${withPostgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  let report: Report;

  beforeAll(async () => {
    const started = Date.now();
    // The bench runs the built binary; `pnpm test` builds first, a lone vitest run may not have.
    if (!existsSync(builtMain)) {
      await run('pnpm', ['--filter', '@hookline/gateway', 'build'], { timeout: 60_000 });
    }
    const args = [script, '--quick', '--json', ...(withPostgres ? [] : ['--embedded'])];
    // The bench's own watchdog (110 s in --quick) stops it and cleans up before this timeout.
    const { stdout } = await run(process.execPath, args, {
      timeout: Math.max(30_000, BUDGET_MS - (Date.now() - started) - 5_000),
      maxBuffer: 4 << 20,
    });
    report = JSON.parse(stdout) as Report;
  }, BUDGET_MS);

  it('runs in the mode the environment allows', () => {
    expect(report.quick).toBe(true);
    expect(report.mode).toBe(withPostgres ? 'postgres' : 'embedded');
    expect(report.env.cores).toBeGreaterThan(0);
    if (withPostgres) expect(report.env.postgres).toMatch(/^\d+/);
  });

  it('measures the baselines: the receiver alone, a bare Hono route and (with PostgreSQL) bare insert-commits', () => {
    const { receiver, bareHono, insertCommit } = report.baselines;
    expect(receiver.max.requestsPerSec).toBeGreaterThan(0);
    expect(receiver.max.errors).toBe(0);
    expect(receiver.fixed.rate).toBe(500);
    expect(receiver.fixed.latencyMs.p50).toBeGreaterThan(0);
    expect(bareHono.inFlight).toBe(64);
    expect(bareHono.durationMs).toBe(report.maxIntake.durationMs);
    expect(bareHono.errors).toBe(0);
    expect(bareHono.requestsPerSec).toBeGreaterThan(0);
    expect(bareHono.versions?.hono).toMatch(/^\d+\.\d+/);
    expect(bareHono.versions?.nodeServer).toMatch(/^\d+\.\d+/);
    if (withPostgres) {
      expect(insertCommit?.connections).toBe(32);
      expect(insertCommit?.commitsPerSec).toBeGreaterThan(0);
      expect(insertCommit?.single.connections).toBe(1);
      expect(insertCommit?.single.commitsPerSec).toBeGreaterThan(0);
    } else expect(insertCommit).toBeNull();
  });

  it('accepts every message of the 500/s fixed load and measures accept-to-receipt latency', () => {
    const f = report.fixedLoad;
    expect(f.rate).toBe(500);
    expect(f.sent).toBeGreaterThan(0);
    expect(f.errors).toBe(0);
    expect(f.accepted).toBe(f.sent);
    expect(f.acceptedPerSec).toBeGreaterThan(0);
    expect(f.acceptLatencyMs.p50).toBeGreaterThan(0);
    expect(f.sendToReceiptMs.p50).toBeGreaterThan(0);
    expect(f.acceptToReceiptMs.count).toBeGreaterThan(0);
    expect(Number.isFinite(f.acceptToReceiptMs.p99)).toBe(true);
  });

  it('offers 2,600 deliveries/s over 4 tenants × 4 endpoints and measures deliveries/s', () => {
    const s = report.sustained;
    expect(s.errors).toBe(0);
    expect(s.accepted).toBeGreaterThan(0);
    expect([s.rate, s.tenants, s.endpointsPerTenant, s.endpoints]).toEqual([650, 4, 4, 16]);
    expect(s.offeredDeliveriesPerSec).toBe(2600);
    expect(s.deliveriesPerSec).toBeGreaterThan(0);
    expect(s.expectedDeliveries).toBe(s.accepted * 4);
    expect(s.acceptToReceiptMs.count).toBeGreaterThan(0);
  });

  it('measures accepted messages/s at 64 in flight to one endpoint, then drains the backlog', () => {
    const t = report.maxIntake;
    expect(t.inFlight).toBe(64);
    expect(t.endpoints).toBe(1);
    expect(t.errors).toBe(0);
    expect(t.accepted).toBeGreaterThan(0);
    expect(t.acceptedPerSec).toBeGreaterThan(0);
    expect(t.expectedDeliveries).toBe(t.accepted);
    expect(t.overallDeliveriesPerSec).toBeGreaterThan(0);
    expect(t.drained).toBe(true);
  });

  it('fans one message out to every endpoint of a tenant created through the API', () => {
    const o = report.fanOut;
    expect(o.error).toBeNull();
    expect(o.endpoints).toBe(300);
    expect(o.created).toBe(o.endpoints);
    expect(o.createSeconds).toBeGreaterThan(0);
    expect(o.deliveryCount).toBe(o.endpoints);
    expect(o.commitMs).toBeGreaterThan(0);
    expect(o.drained).toBe(true);
    expect(o.receivedDeliveries).toBe(o.endpoints);
    expect(o.drainSeconds).toBeGreaterThan(0);
  });

  it('receives every accepted message at least once, on every endpoint, in every phase', () => {
    expect(report.fixedLoad.missing).toBe(0);
    expect(report.sustained.missingDeliveries).toBe(0);
    expect(report.maxIntake.missingDeliveries).toBe(0);
    expect(report.maxIntake.receivedDeliveries).toBe(report.maxIntake.expectedDeliveries);
    expect(report.fanOut.missingDeliveries).toBe(0);
    const noneLost = report.targets.find((t) => t.id === 'noneLost');
    expect(noneLost).toMatchObject({ value: 0, pass: true });
  });

  it('reports the peak RSS and one measured verdict per target', () => {
    if (process.platform === 'linux') {
      expect(report.gateway.peakRssBytes).toBeGreaterThan(0);
      expect(report.gateway.peakRssBytes).toBeGreaterThanOrEqual(
        report.gateway.peakRssBeforeFanOutBytes ?? 0,
      );
      expect(report.gateway.peakRssMB).toBeCloseTo((report.gateway.peakRssBytes ?? 0) / 1e6, 0);
    }
    expect(report.targets.map((t) => t.id)).toEqual([
      'acceptedPerSec',
      'deliveriesPerSec',
      'p99AcceptToReceipt',
      'fanOutCommit',
      'peakRss',
      'noneLost',
    ]);
    // Each verdict follows from its measured value (the quick run's figures mean little, so
    // they are not held to the targets here).
    const target = (id: string): Target => {
      const found = report.targets.find((t) => t.id === id);
      if (!found) throw new Error(`no target ${id}`);
      return found;
    };
    expect(target('acceptedPerSec').value).toBe(report.maxIntake.acceptedPerSec);
    expect(target('acceptedPerSec').pass).toBe(report.maxIntake.acceptedPerSec >= 5000);
    expect(target('p99AcceptToReceipt').value).toBe(report.fixedLoad.acceptToReceiptMs.p99);
    expect(target('p99AcceptToReceipt').pass).toBe(
      (report.fixedLoad.acceptToReceiptMs.p99 ?? 0) <= 100,
    );
    expect(target('fanOutCommit').value).toBe(report.fanOut.commitMs);
    expect(target('fanOutCommit').pass).toBe((report.fanOut.commitMs ?? Infinity) <= 1000);
    expect(target('peakRss').value).toBe(report.gateway.peakRssBytes);
    if (report.gateway.peakRssBytes !== null) {
      expect(target('peakRss').pass).toBe(report.gateway.peakRssBytes <= 300_000_000);
    }
    expect(target('deliveriesPerSec').value).toBe(report.sustained.deliveriesPerSec);
    expect(target('deliveriesPerSec').pass).toBe(
      report.sustained.deliveriesPerSec >= 2500 && report.sustained.backlogAtSendEnd <= 2600,
    );
  });

  it('prints the gateway figures as fractions of the same-run baselines', () => {
    const q = report.ratios;
    expect(q.acceptedPerSecVsBareHono).toBeCloseTo(
      report.maxIntake.acceptedPerSec / report.baselines.bareHono.requestsPerSec,
      2,
    );
    expect(q.sustainedDeliveriesPerSecVsReceiver).toBeCloseTo(
      report.sustained.deliveriesPerSec / report.baselines.receiver.max.requestsPerSec,
      2,
    );
    if (withPostgres) {
      expect(q.acceptedPerSecVsInsertCommit).toBeCloseTo(
        report.maxIntake.acceptedPerSec / (report.baselines.insertCommit?.commitsPerSec ?? 1),
        2,
      );
    } else expect(q.acceptedPerSecVsInsertCommit).toBeNull();
  });
});

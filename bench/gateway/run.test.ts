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

interface Latency {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
interface Report {
  mode: 'postgres' | 'embedded';
  env: { node: string; cores: number; postgres: string | null; loadAverage: number[] };
  gateway: { peakRssBytes: number | null };
  baselines: {
    receiver: {
      fixed: { latencyMs: Latency; errors: number };
      max: { requestsPerSec: number; errors: number };
    };
    insertCommit: { commitsPerSec: number } | null;
  };
  fixedLoad: {
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
    accepted: number;
    errors: number;
    offeredDeliveriesPerSec: number;
    deliveriesPerSec: number;
    backlogAtSendEnd: number;
    acceptToReceiptMs: Latency;
    expectedDeliveries: number;
    missingDeliveries: number;
  };
  throughput: {
    accepted: number;
    errors: number;
    acceptedPerSec: number;
    overallDeliveriesPerSec: number;
    expectedDeliveries: number;
    receivedDeliveries: number;
    missingDeliveries: number;
    drained: boolean;
  };
  ratios: Record<string, number | null>;
  targets: { name: string; pass: boolean }[];
}

describe(`bench/gateway/run.mjs (${withPostgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  let report: Report;

  beforeAll(async () => {
    // The bench runs the built binary; `pnpm test` builds first, a lone vitest run may not have.
    if (!existsSync(builtMain)) {
      await run('pnpm', ['--filter', '@hookline/gateway', 'build'], { timeout: 120_000 });
    }
    const args = [script, '--quick', '--json', ...(withPostgres ? [] : ['--embedded'])];
    const { stdout } = await run(process.execPath, args, {
      timeout: 90_000,
      maxBuffer: 4 << 20,
    });
    report = JSON.parse(stdout) as Report;
  }, 210_000);

  it('runs in the mode the environment allows', () => {
    expect(report.mode).toBe(withPostgres ? 'postgres' : 'embedded');
    expect(report.env.cores).toBeGreaterThan(0);
    if (withPostgres) expect(report.env.postgres).toMatch(/^\d+/);
  });

  it('measures the baselines: the receiver alone and (with PostgreSQL) bare insert-commits', () => {
    const { receiver, insertCommit } = report.baselines;
    expect(receiver.max.requestsPerSec).toBeGreaterThan(0);
    expect(receiver.max.errors).toBe(0);
    expect(receiver.fixed.latencyMs.p50).toBeGreaterThan(0);
    if (withPostgres) expect(insertCommit?.commitsPerSec).toBeGreaterThan(0);
    else expect(insertCommit).toBeNull();
  });

  it('accepts every message of the fixed load and measures accept-to-receipt latency', () => {
    const f = report.fixedLoad;
    expect(f.sent).toBeGreaterThan(0);
    expect(f.errors).toBe(0);
    expect(f.accepted).toBe(f.sent);
    expect(f.acceptedPerSec).toBeGreaterThan(0);
    expect(f.acceptLatencyMs.p50).toBeGreaterThan(0);
    expect(f.sendToReceiptMs.p50).toBeGreaterThan(0);
    expect(f.acceptToReceiptMs.count).toBeGreaterThan(0);
    expect(Number.isFinite(f.acceptToReceiptMs.p50)).toBe(true);
  });

  it('measures deliveries/s at a sustained offered load', () => {
    const s = report.sustained;
    expect(s.errors).toBe(0);
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.offeredDeliveriesPerSec).toBe(1040);
    expect(s.deliveriesPerSec).toBeGreaterThan(0);
    expect(s.expectedDeliveries).toBe(s.accepted * 4);
    expect(s.acceptToReceiptMs.count).toBeGreaterThan(0);
  });

  it('measures accepted messages/s and deliveries/s under full load', () => {
    const t = report.throughput;
    expect(t.errors).toBe(0);
    expect(t.accepted).toBeGreaterThan(0);
    expect(t.acceptedPerSec).toBeGreaterThan(0);
    expect(t.overallDeliveriesPerSec).toBeGreaterThan(0);
  });

  it('receives every accepted message at least once, on every endpoint', () => {
    expect(report.fixedLoad.missing).toBe(0);
    expect(report.sustained.missingDeliveries).toBe(0);
    expect(report.throughput.missingDeliveries).toBe(0);
    expect(report.throughput.drained).toBe(true);
    expect(report.throughput.receivedDeliveries).toBe(report.throughput.expectedDeliveries);
  });

  it('reports the peak RSS and a verdict for each target', () => {
    if (process.platform === 'linux') expect(report.gateway.peakRssBytes).toBeGreaterThan(0);
    expect(report.targets.length).toBe(3);
    for (const t of report.targets) expect(typeof t.pass).toBe('boolean');
    expect(report.ratios.acceptedPerSecVsReceiver).toBeGreaterThan(0);
  });
});

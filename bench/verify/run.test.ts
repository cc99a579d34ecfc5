import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./run.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../packages/verify/dist/', import.meta.url));

interface Row {
  key: string;
  opsPerSec: number;
}
interface Report {
  method: { payloadBytes: number };
  verifyString: Row[];
  verifyBuffer: Row[];
  verifyNoParse: Row[];
  verifyOneString: Row[];
  parseCeiling: Record<
    'fieldHeavy' | 'oneString',
    { jsonParseOpsPerSec: number; standardwebhooksOpsPerSec: number; ratio: number }
  >;
  signString: Row[];
  sizes: Record<'ours' | 'standardwebhooks' | 'oursEd25519', { gzipBytes: number }>;
  targets: { name: string; pass: boolean }[];
}

const contenders = ['node', 'portable', 'standardwebhooks', 'svix'];

describe('bench/verify/run.mjs', () => {
  let report: Report;

  beforeAll(async () => {
    // The script measures the built files; `pnpm test` builds first, a lone vitest run may not have.
    if (!existsSync(`${dist}node.js`) || !existsSync(`${dist}index.js`)) {
      await run('pnpm', ['--filter', '@hookline/verify', 'build'], { timeout: 120_000 });
    }
    const { stdout } = await run(process.execPath, [script, '--quick', '--json'], {
      timeout: 60_000,
      maxBuffer: 1 << 20,
    });
    report = JSON.parse(stdout) as Report;
  }, 180_000);

  it('measures a payload of exactly 1024 bytes', () => {
    expect(report.method.payloadBytes).toBe(1024);
  });

  it('reports positive verify ops/s for every contender, for string and Buffer bodies', () => {
    for (const rows of [report.verifyString, report.verifyBuffer]) {
      expect(rows.map((r) => r.key)).toEqual(contenders);
      for (const row of rows) expect(row.opsPerSec).toBeGreaterThan(0);
    }
  });

  it('reports the full verify on the one-string payload, with JSON.parse alone, and both parse ceilings', () => {
    expect(report.verifyOneString.map((r) => r.key)).toEqual([...contenders, 'json']);
    for (const row of report.verifyOneString) expect(row.opsPerSec).toBeGreaterThan(0);
    const sw = (rows: Row[]) => rows.find((r) => r.key === 'standardwebhooks')!.opsPerSec;
    const json = report.verifyOneString.find((r) => r.key === 'json')!.opsPerSec;
    expect(report.parseCeiling.oneString.jsonParseOpsPerSec).toBe(json);
    expect(report.parseCeiling.oneString.standardwebhooksOpsPerSec).toBe(
      sw(report.verifyOneString),
    );
    expect(report.parseCeiling.fieldHeavy.standardwebhooksOpsPerSec).toBe(sw(report.verifyString));
    for (const c of Object.values(report.parseCeiling)) {
      expect(c.jsonParseOpsPerSec).toBeGreaterThan(0);
      expect(c.ratio).toBeCloseTo(c.jsonParseOpsPerSec / c.standardwebhooksOpsPerSec, 9);
    }
  });

  it('reports positive sign ops/s for every contender', () => {
    expect(report.signString.map((r) => r.key)).toEqual(contenders);
    for (const row of report.signString) expect(row.opsPerSec).toBeGreaterThan(0);
  });

  it('reports a positive gzipped bundle size for ours and for standardwebhooks', () => {
    expect(report.sizes.ours.gzipBytes).toBeGreaterThan(0);
    expect(report.sizes.standardwebhooks.gzipBytes).toBeGreaterThan(0);
    expect(report.sizes.oursEd25519.gzipBytes).toBeGreaterThan(report.sizes.ours.gzipBytes);
  });

  it('states a verdict for each target', () => {
    expect(report.targets.length).toBe(4);
    for (const t of report.targets) expect(typeof t.pass).toBe('boolean');
  });
});

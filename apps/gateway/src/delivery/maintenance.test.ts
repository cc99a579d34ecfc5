import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import { createLogger } from '../logger';
import { startGateway } from '../main';
import { sql } from '../storage';
import { createMaintenance, nextRunDelay } from './maintenance';

const MINUTE = 60_000;
const DAY = 86_400_000;

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines, raw };
}

async function waitFor<T>(check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('nextRunDelay', () => {
  it('waits the interval, or less when the UTC midnight rollup comes first', () => {
    const at = (hhmm: string) => new Date(`2030-05-06T${hhmm}:00.000Z`);
    expect(nextRunDelay(at('12:00'), 10 * MINUTE, 15 * MINUTE)).toBe(10 * MINUTE);
    // 23:58 → 00:15 is 17 min away: the interval first.
    expect(nextRunDelay(at('23:58'), 10 * MINUTE, 15 * MINUTE)).toBe(10 * MINUTE);
    // 00:10 → the rollup at 00:15 (plus a second) comes before the interval.
    expect(nextRunDelay(at('00:10'), 10 * MINUTE, 15 * MINUTE)).toBe(5 * MINUTE + 1000);
    // 00:20 → next midnight is far: the interval.
    expect(nextRunDelay(at('00:20'), 10 * MINUTE, 15 * MINUTE)).toBe(10 * MINUTE);
    expect(nextRunDelay(at('00:00'), DAY, 0)).toBe(DAY);
  });
});

describe.each(testDrivers)('maintenance loop on %s', (driver) => {
  const t = useTestDatabase(driver);

  beforeEach(async () => {
    await t.database.sql.exec('delete from stats_rollup_days;');
  });

  /** `n` delivered messages of one endpoint, created `ageDays` ago. */
  async function oldTraffic(n: number, ageDays: number) {
    const endpoint = await t.store.endpoints.create(endpointInput());
    const at = new Date(Date.now() - ageDays * DAY);
    await t.database.sql.query(sql`
      insert into messages (id, tenant_id, event_type, payload, delivery_count, created_at)
      select 'msg_old' || lpad(i::text, 8, '0'), 't1', 'a.b', '{}', 1, ${at}::timestamptz
      from generate_series(1, ${n}::int) i`);
    await t.database.sql.query(sql`
      insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status, created_at)
      select 'dlv_old' || lpad(i::text, 8, '0'), 'msg_old' || lpad(i::text, 8, '0'),
        ${endpoint.id}, 't1', 'a.b', 'succeeded', ${at}::timestamptz
      from generate_series(1, ${n}::int) i`);
    await t.database.sql.query(sql`
      insert into attempts (id, delivery_id, endpoint_id, attempt_number, trigger, outcome,
        http_status, latency_ms, attempted_at)
      select 'att_old' || lpad(i::text, 8, '0'), 'dlv_old' || lpad(i::text, 8, '0'),
        ${endpoint.id}, 1, 'scheduled', 'success', 200, 25, ${at}::timestamptz
      from generate_series(1, ${n}::int) i`);
    return endpoint;
  }

  it('runs retention at start and logs one line of counts, with no ids', async () => {
    const endpoint = await oldTraffic(30, 40);
    const { logger, lines, raw } = capture();
    const maintenance = createMaintenance({
      db: t.database.sql,
      logger,
      retentionDays: 30,
      statsRetentionDays: 400,
      startDelayMs: 0,
      pauseMs: 0,
    });
    maintenance.start();
    try {
      const line = await waitFor(() => lines.find((l) => l.msg === 'retention run'));
      expect(line.retention).toMatchObject({
        complete: true,
        // The days from the oldest delivery to the last complete one; those before the cutoff.
        finalizedDays: 10,
        deleted: { deliveries: 30, attempts: 30, messages: 30, unfinishedDeliveries: 0 },
      });
      expect((line.retention as { rolledUpDays: number }).rolledUpDays).toBeGreaterThanOrEqual(39);
      const text = raw.find((l) => l.includes('retention run'))!;
      expect(text).not.toMatch(/(dlv|msg|att|ep)_[0-9a-z]/);
      expect(text).not.toContain(endpoint.id);
      expect(text).not.toContain('t1');
    } finally {
      await maintenance.stop();
    }
    expect(await t.store.endpoints.stats(endpoint.id, '30d')).toMatchObject({ succeeded: 0 });
  });

  it('stops a run between two batches, and the next run finishes it', async () => {
    await oldTraffic(400, 40);
    const { logger, lines } = capture();
    const maintenance = createMaintenance({
      db: t.database.sql,
      logger,
      retentionDays: 30,
      statsRetentionDays: 400,
      startDelayMs: 0,
      batchSize: 10,
      pauseMs: 30,
    });
    maintenance.start();
    // Let a few batches go, then stop: it returns within a batch and a pause.
    const count = async () => {
      const [row] = await t.database.sql.query<{ n: number }>(
        sql`select count(*)::int as n from deliveries`,
      );
      return Number(row!.n);
    };
    const until = Date.now() + 20_000;
    while ((await count()) > 350 && Date.now() < until) {
      await new Promise((done) => setTimeout(done, 10));
    }
    const stopping = Date.now();
    await maintenance.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    const line = lines.find((l) => l.msg === 'retention run');
    expect(line?.retention).toMatchObject({ complete: false });
    const left = await count();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(400);

    const again = createMaintenance({
      db: t.database.sql,
      logger,
      retentionDays: 30,
      statsRetentionDays: 400,
      pauseMs: 0,
    });
    const result = await again.runOnce();
    await again.stop();
    expect(result).toMatchObject({ complete: true, deleted: { deliveries: left } });
    expect(await count()).toBe(0);
  });

  it('analyzes the stale tables autovacuum does not look after; on PostgreSQL warns once that nothing vacuums them', {
    timeout: 30_000,
  }, async () => {
    const { logger, lines } = capture();
    if (driver === 'postgres') {
      await t.database.sql.exec('alter table attempts set (autovacuum_enabled = false);');
    }
    await oldTraffic(120, 1);
    const maintenance = createMaintenance({
      db: t.database.sql,
      logger,
      retentionDays: 30,
      statsRetentionDays: 400,
      // Retention not before the test ends; statistics every 200 ms.
      startDelayMs: 60_000,
      statisticsIntervalMs: 200,
    });
    maintenance.start();
    try {
      // The 120 rows inserted reach the statistics within a second or so (at once on PGlite).
      const analyzed = await waitFor(() =>
        lines.find(
          (l) => l.msg === 'table upkeep' && (l.analyzed as string[]).includes('attempts'),
        ),
      );
      if (driver === 'pglite') {
        // Nothing to warn about: the gateway vacuums there too, when rows die.
        expect(lines.filter((l) => String(l.msg).startsWith('autovacuum is off'))).toEqual([]);
        return;
      }
      expect(analyzed.level).toBe(30);
      const warnings = lines.filter((l) => String(l.msg).startsWith('autovacuum is off'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.tables).toContain('attempts');
      expect(warnings[0]!.level).toBe(40);
    } finally {
      await maintenance.stop();
    }
  });
});

describe('the gateway process', () => {
  it('runs retention in its worker role at start and stops it on stop()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-retention-'));
    const { logger, lines } = capture();
    const gateway = await startGateway({
      env: { HOOKLINE_DATA_DIR: dir, HOOKLINE_PORT: '0', HOOKLINE_RETENTION_DAYS: '3' },
      logger,
      printBanner: false,
      maintenance: { startDelayMs: 0 },
    });
    try {
      const line = await waitFor(() => lines.find((l) => l.msg === 'retention run'));
      expect(line.retention).toMatchObject({ complete: true, deleted: { deliveries: 0 } });
    } finally {
      await gateway.stop({ graceMs: 1000 });
      await rm(dir, { recursive: true, force: true });
    }
    expect(lines.filter((l) => l.msg === 'retention run failed')).toEqual([]);
  }, 60_000);
});

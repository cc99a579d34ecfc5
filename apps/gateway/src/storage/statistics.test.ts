import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import {
  deliverAllDue,
  endpointWithMessages,
  testDrivers,
  useTestDatabase,
} from '../../test/databases';
import { sql } from './sql';
import {
  needsAnalyze,
  needsVacuum,
  STATISTICS_LOCK_KEY,
  type TableActivity,
  tableActivity,
  upkeepTables,
} from './statistics';

/** The tables `upkeepTables` analyzed (PostgreSQL: it never vacuums there). */
async function refreshStatistics(db: Parameters<typeof upkeepTables>[0]): Promise<string[]> {
  const upkeep = await upkeepTables(db);
  expect(upkeep.vacuumed).toEqual([]);
  return upkeep.analyzed;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('needsAnalyze', () => {
  const activity = (over: Partial<TableActivity>): TableActivity => ({
    table: 'deliveries',
    modifiedSinceAnalyze: 0,
    deadRows: 0,
    rowsAtAnalyze: -1,
    autovacuum: false,
    ...over,
  });

  it("follows autovacuum's rule (50 rows plus a tenth of the table), only where autovacuum is off", () => {
    // Never analyzed (-1 rows): 50 changes are not enough, 51 are.
    expect(needsAnalyze(activity({ modifiedSinceAnalyze: 50 }))).toBe(false);
    expect(needsAnalyze(activity({ modifiedSinceAnalyze: 51 }))).toBe(true);
    // 10,000 rows at the last analyze: 1,050 changes wanted.
    expect(needsAnalyze(activity({ rowsAtAnalyze: 10_000, modifiedSinceAnalyze: 1_050 }))).toBe(
      false,
    );
    expect(needsAnalyze(activity({ rowsAtAnalyze: 10_000, modifiedSinceAnalyze: 1_051 }))).toBe(
      true,
    );
    // Autovacuum looks after it: never ours to analyze, however stale.
    expect(needsAnalyze(activity({ autovacuum: true, modifiedSinceAnalyze: 1_000_000 }))).toBe(
      false,
    );
  });
});

describe('needsVacuum', () => {
  it("follows autovacuum's rule (50 dead rows plus a fifth of the table), only where autovacuum is off", () => {
    const activity = (over: Partial<TableActivity>): TableActivity => ({
      table: 'deliveries',
      modifiedSinceAnalyze: 0,
      deadRows: 0,
      rowsAtAnalyze: 1_000,
      autovacuum: false,
      ...over,
    });
    expect(needsVacuum(activity({ deadRows: 250 }))).toBe(false);
    expect(needsVacuum(activity({ deadRows: 251 }))).toBe(true);
    expect(needsVacuum(activity({ rowsAtAnalyze: -1, deadRows: 51 }))).toBe(true);
    expect(needsVacuum(activity({ autovacuum: true, deadRows: 1_000_000 }))).toBe(false);
  });
});

describe.each(testDrivers)('upkeepTables on %s', (driver) => {
  const t = useTestDatabase(driver);

  if (driver === 'pglite') {
    /** One endpoint's `n` messages made, delivered, then deleted (as retention would). */
    async function round(n: number) {
      const { endpoint } = await endpointWithMessages(t.store, n);
      expect(await deliverAllDue(t.store, { limit: 100, maxPerEndpoint: 100 })).toBe(n);
      await t.database.sql.query(sql`delete from endpoints where id = ${endpoint.id}`);
      await t.database.sql.query(sql`delete from messages`);
    }
    const heapBytes = async () => {
      const [row] = await t.database.sql.query<{ n: string }>(
        sql`select pg_relation_size('deliveries') as n`,
      );
      return Number(row!.n);
    };

    it('vacuums (and analyzes) tables with many dead rows on PGlite, which has no autovacuum, so their space is used again', {
      timeout: 60_000,
    }, async () => {
      expect((await tableActivity(t.database.sql)).every((a) => !a.autovacuum)).toBe(true);
      // Without upkeep every round adds its rows to the files.
      await round(400);
      const afterOne = await heapBytes();
      await round(400);
      expect(await heapBytes()).toBeGreaterThanOrEqual(afterOne * 1.8);
      const upkeep = await upkeepTables(t.database.sql);
      expect(upkeep.vacuumed).toEqual(expect.arrayContaining(['deliveries', 'messages']));
      expect(upkeep.analyzed).toEqual(expect.arrayContaining(upkeep.vacuumed));
      const [stats] = await t.database.sql.query<{ dead: string; vacuums: string }>(sql`
        select n_dead_tup as dead, vacuum_count as vacuums from pg_stat_user_tables
        where relname = 'deliveries'`);
      expect(Number(stats!.dead)).toBe(0);
      expect(Number(stats!.vacuums)).toBeGreaterThanOrEqual(1);
      // With upkeep after each round, four more rounds fit in what two rounds took.
      const settled = await heapBytes();
      for (let i = 0; i < 4; i++) {
        await round(400);
        await upkeepTables(t.database.sql);
      }
      expect(await heapBytes()).toBeLessThanOrEqual(Math.max(settled, afterOne * 2));
      // Nothing dead and nothing changed since: nothing to do.
      expect(await upkeepTables(t.database.sql)).toEqual({ analyzed: [], vacuumed: [] });
    });
    return;
  }

  /** The activity of `table` once this session's changes reached the statistics (≤ ~1 s). */
  async function activityOf(table: string, atLeast: number): Promise<TableActivity> {
    const until = Date.now() + 10_000;
    for (;;) {
      const found = (await tableActivity(t.database.sql)).find((a) => a.table === table);
      if (found && (found.modifiedSinceAnalyze >= atLeast || Date.now() > until)) return found;
      await sleep(100);
    }
  }

  async function analyzeCount(table: string): Promise<number> {
    const [row] = await t.database.sql.query<{ n: string }>(
      sql`select analyze_count as n from pg_stat_user_tables
        where relname = ${table} and schemaname = current_schema()`,
    );
    return Number(row?.n ?? -1);
  }

  it('analyzes a stale table autovacuum does not look after, once, and leaves fresh ones alone', {
    timeout: 30_000,
  }, async () => {
    // Off for these tables whatever the server's setting, so the test means the same anywhere.
    await t.database.sql.exec(
      'alter table deliveries set (autovacuum_enabled = false);' +
        'alter table messages set (autovacuum_enabled = false);',
    );
    await endpointWithMessages(t.store, 80);
    const stale = await activityOf('deliveries', 80);
    expect(stale).toMatchObject({ autovacuum: false, rowsAtAnalyze: -1 });
    expect(stale.modifiedSinceAnalyze).toBeGreaterThanOrEqual(80);
    const before = await analyzeCount('deliveries');

    const analyzed = await refreshStatistics(t.database.sql);
    expect(analyzed).toEqual(expect.arrayContaining(['deliveries', 'messages']));
    // Only stale tables that autovacuum does not look after.
    const activity = await tableActivity(t.database.sql);
    for (const table of analyzed) {
      expect(
        needsAnalyze({ ...activity.find((a) => a.table === table)!, modifiedSinceAnalyze: 1e9 }),
      ).toBe(true);
    }
    expect(await analyzeCount('deliveries')).toBe(before + 1);
    const fresh = await activityOf('deliveries', 0);
    expect(fresh.modifiedSinceAnalyze).toBe(0);
    expect(fresh.rowsAtAnalyze).toBe(80);

    // Nothing changed since: nothing to do.
    expect(await refreshStatistics(t.database.sql)).not.toContain('deliveries');
    expect(await analyzeCount('deliveries')).toBe(before + 1);
  });

  it('skips the round while another process refreshes (advisory lock)', async () => {
    await t.database.sql.exec('alter table deliveries set (autovacuum_enabled = false);');
    await endpointWithMessages(t.store, 60);
    await activityOf('deliveries', 60);
    const other = postgres(t.url!, { max: 1, onnotice: () => {} });
    try {
      const holder = await other.reserve();
      await holder`begin`;
      await holder`select pg_advisory_xact_lock(${STATISTICS_LOCK_KEY}::bigint)`;
      expect(await refreshStatistics(t.database.sql)).toEqual([]);
      await holder`commit`;
      holder.release();
      expect(await refreshStatistics(t.database.sql)).toContain('deliveries');
    } finally {
      await other.end();
    }
  });

  it('makes a cached plan made on an empty table be made again for the grown one', {
    timeout: 30_000,
  }, async () => {
    // A session like the gateway's: each prepared statement planned once.
    const session = postgres(t.url!, { max: 1, onnotice: () => {} });
    try {
      await t.database.sql.exec('alter table deliveries set (autovacuum_enabled = false);');
      // An empty table, with statistics that say so (what a new install starts from).
      await t.database.sql.exec(
        'delete from deliveries; delete from messages; analyze deliveries;',
      );
      await session`set plan_cache_mode = force_generic_plan`;
      await session`set enable_seqscan = off`;
      await session.unsafe(
        'prepare history(text) as select id from deliveries where endpoint_id = $1',
      );
      const plan = async () =>
        (await session.unsafe(`explain execute history('x')`))
          .map((row) => String(row['QUERY PLAN']))
          .join('\n');
      const made = await plan();
      await endpointWithMessages(t.store, 300);
      await activityOf('deliveries', 300);
      // No statistics changed: the cached plan stands, the estimates of an empty table and all.
      expect(await plan()).toBe(made);
      expect(await refreshStatistics(t.database.sql)).toContain('deliveries');
      // Re-planned with the statistics of 300 rows of one endpoint: 300 rows expected, not 1.
      const rows = (plan: string) => Number(/rows=(\d+)/.exec(plan)?.[1]);
      expect(rows(made)).toBeLessThan(30);
      expect(rows(await plan())).toBe(300);
    } finally {
      await session.end();
    }
  });
});

/**
 * Planner statistics and dead rows of the gateway's tables where autovacuum does not look after
 * them.
 *
 * The gateway's connections plan each prepared statement once (`plan_cache_mode =
 * force_generic_plan`, see postgres-driver.ts), and PostgreSQL re-plans it only when the table's
 * statistics change (an ANALYZE invalidates every cached plan on it, in every session). A plan
 * made while `deliveries` held a handful of rows cannot tell two indexes on `endpoint_id` apart:
 * one measured run counted an endpoint's live leases through `deliveries_endpoint_idx`, every row
 * the endpoint ever had, instead of `deliveries_leased_idx`, its few live leases; the rows read
 * per claim grew with the table (35,000 → 600,000 index entries a 3.5 s phase over three minutes
 * of the noisy-neighbour scenario). Autovacuum's ANALYZE fixes that within a minute. On a server
 * (or table) where autovacuum is off nothing ever does, so the gateway analyzes its own stale
 * tables, by autovacuum's own rule, and only then. It leaves VACUUM there to whoever turned
 * autovacuum off (and says so in a warning: see delivery/maintenance.ts).
 *
 * Embedded PGlite runs PostgreSQL in single-user mode: no autovacuum at all, whatever its setting
 * says. Every row a delivery's updates or retention leave dead stayed in the files for good (the
 * `deliveries` heap grew by the same 1.1 MiB for every 2,000 deliveries made and deleted, round
 * after round), so on PGlite the gateway also vacuums, by autovacuum's rule for that.
 */
import { type Sql, sql } from './sql';

// An arbitrary constant shared by every Hookline process: one statistics refresh at a time.
export const STATISTICS_LOCK_KEY = 7_238_410_917;

/** A table's modification counts, as `pg_stat_user_tables` and `pg_class` give them. */
export interface TableActivity {
  table: string;
  /** Rows inserted, updated or deleted since the table was last analyzed. */
  modifiedSinceAnalyze: number;
  /** Dead row versions not yet vacuumed away (estimate). */
  deadRows: number;
  /** The row count at the last ANALYZE or VACUUM; -1 when never analyzed. */
  rowsAtAnalyze: number;
  /**
   * Whether autovacuum looks after this table (server setting and the table's own; never on
   * PGlite, which has no autovacuum).
   */
  autovacuum: boolean;
}

/** What one upkeep round did: the tables analyzed, and those vacuumed (PGlite only). */
export interface TableUpkeep {
  analyzed: string[];
  vacuumed: string[];
}

/**
 * Autovacuum's rule for an ANALYZE, with its defaults (`autovacuum_analyze_threshold` 50,
 * `autovacuum_analyze_scale_factor` 0.1): more rows changed than 50 plus a tenth of the table.
 * Only for tables autovacuum does not look after.
 */
export function needsAnalyze(activity: TableActivity): boolean {
  if (activity.autovacuum) return false;
  return activity.modifiedSinceAnalyze > 50 + 0.1 * Math.max(0, activity.rowsAtAnalyze);
}

/**
 * Autovacuum's rule for a VACUUM, with its defaults (`autovacuum_vacuum_threshold` 50,
 * `autovacuum_vacuum_scale_factor` 0.2): more dead rows than 50 plus a fifth of the table.
 */
export function needsVacuum(activity: TableActivity): boolean {
  if (activity.autovacuum) return false;
  return activity.deadRows > 50 + 0.2 * Math.max(0, activity.rowsAtAnalyze);
}

/** The activity of every table in the gateway's schema. */
export async function tableActivity(db: Sql): Promise<TableActivity[]> {
  const rows = await db.query<{
    table: string;
    modified: string | number;
    dead: string | number;
    tuples: number;
    autovacuum: boolean;
  }>(sql`
    select c.relname as table, s.n_mod_since_analyze as modified, s.n_dead_tup as dead,
      c.reltuples as tuples,
      current_setting('autovacuum')::boolean
        and coalesce((select option_value::boolean from pg_options_to_table(c.reloptions)
          where option_name = 'autovacuum_enabled'), true) as autovacuum
    from pg_stat_user_tables s
    join pg_class c on c.oid = s.relid
    where s.schemaname = current_schema()
    order by c.relname`);
  return rows.map((row) => ({
    table: row.table,
    modifiedSinceAnalyze: Number(row.modified),
    deadRows: Number(row.dead),
    rowsAtAnalyze: Number(row.tuples),
    autovacuum: db.driver === 'postgres' && row.autovacuum,
  }));
}

/**
 * Analyzes the gateway's tables that autovacuum does not look after and whose statistics are
 * stale (`needsAnalyze`), and on PGlite also vacuums those with many dead rows (`needsVacuum`).
 *
 * PostgreSQL: one process at a time across the cluster (an advisory lock; when another holds it
 * this returns at once, having done nothing). ANALYZE reads a sample (at most 30,000 rows with
 * the default statistics target) and blocks no reads or writes.
 *
 * PGlite: one session, so every other statement waits while this runs; VACUUM of the queue
 * tables at a fifth dead takes tens of milliseconds (37 ms for 33,500 dead rows).
 */
export async function upkeepTables(db: Sql): Promise<TableUpkeep> {
  // PGlite's one session keeps its counts to itself until a flush, which otherwise comes when it
  // will: ask for one at the end of this statement, so the read below sees every change so far.
  if (db.driver === 'pglite') await db.query(sql`select pg_stat_force_next_flush()`);
  const activity = await tableActivity(db);
  const vacuum =
    db.driver === 'pglite' ? activity.filter(needsVacuum).map((a) => a.table) : ([] as string[]);
  const analyze = activity
    .filter((a) => needsAnalyze(a) && !vacuum.includes(a.table))
    .map((a) => a.table);
  // Names from the catalog of our own schema, quoted all the same.
  const quoted = (table: string) => `"${table.replaceAll('"', '""')}"`;
  if (db.driver === 'pglite') {
    // VACUUM cannot run in a transaction block: one statement each.
    for (const table of vacuum) await db.exec(`vacuum (analyze) ${quoted(table)}`);
    for (const table of analyze) await db.exec(`analyze ${quoted(table)}`);
    return { analyzed: [...vacuum, ...analyze].sort(), vacuumed: vacuum };
  }
  if (analyze.length === 0) return { analyzed: [], vacuumed: [] };
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ held: boolean }>(
      sql`select pg_try_advisory_xact_lock(${STATISTICS_LOCK_KEY}::bigint) as held`,
    );
    if (!row?.held) return { analyzed: [], vacuumed: [] };
    for (const table of analyze) await tx.exec(`analyze ${quoted(table)}`);
    return { analyzed: analyze, vacuumed: [] };
  });
}

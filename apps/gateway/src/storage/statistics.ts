/**
 * Planner statistics of the gateway's tables when autovacuum does not keep them.
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
 * tables, by autovacuum's own rule, and only then.
 */
import { type Sql, sql } from './sql';

// An arbitrary constant shared by every Hookline process: one statistics refresh at a time.
export const STATISTICS_LOCK_KEY = 7_238_410_917;

/** A table's modification counts, as `pg_stat_user_tables` and `pg_class` give them. */
export interface TableActivity {
  table: string;
  /** Rows inserted, updated or deleted since the table was last analyzed. */
  modifiedSinceAnalyze: number;
  /** The row count at the last ANALYZE or VACUUM; -1 when never analyzed. */
  rowsAtAnalyze: number;
  /** Whether autovacuum looks after this table (server setting and the table's own). */
  autovacuum: boolean;
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

/** The activity of every table in the gateway's schema (PostgreSQL only). */
export async function tableActivity(db: Sql): Promise<TableActivity[]> {
  const rows = await db.query<{
    table: string;
    modified: string | number;
    tuples: number;
    autovacuum: boolean;
  }>(sql`
    select c.relname as table, s.n_mod_since_analyze as modified, c.reltuples as tuples,
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
    rowsAtAnalyze: Number(row.tuples),
    autovacuum: row.autovacuum,
  }));
}

/**
 * Analyzes the gateway's tables that autovacuum does not look after and whose statistics are
 * stale (`needsAnalyze`); returns their names. One process at a time across the cluster: when
 * another holds the lock this returns [] at once. A no-op on PGlite, whose statements are
 * planned at each execution. ANALYZE reads a sample (at most 30,000 rows with the default
 * statistics target) and blocks no reads or writes.
 */
export async function refreshStatistics(db: Sql): Promise<string[]> {
  if (db.driver !== 'postgres') return [];
  const stale = (await tableActivity(db)).filter(needsAnalyze).map((activity) => activity.table);
  if (stale.length === 0) return [];
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ held: boolean }>(
      sql`select pg_try_advisory_xact_lock(${STATISTICS_LOCK_KEY}::bigint) as held`,
    );
    if (!row?.held) return [];
    const analyzed: string[] = [];
    for (const table of stale) {
      // Names from the catalog of our own schema, quoted all the same.
      await tx.exec(`analyze "${table.replaceAll('"', '""')}"`);
      analyzed.push(table);
    }
    return analyzed;
  });
}

/**
 * The maintenance loop of worker processes: runs retention (storage/retention.ts) soon after
 * start, then every `intervalMs` (10 min), and once more just after each UTC midnight (plus the
 * rollup delay) so yesterday is rolled up without waiting for the next interval. Only one
 * process in the cluster runs retention at a time (advisory lock); the others skip that round.
 *
 * Every `statisticsIntervalMs` (15 s) it also analyzes the gateway's tables that autovacuum does
 * not look after, once their statistics are stale, so that cached query plans are remade for the
 * tables' real sizes, and on embedded PGlite (no autovacuum) vacuums them once a fifth of their
 * rows are dead (storage/statistics.ts).
 */
import type { Logger } from '../logger';
import {
  type RetentionResult,
  runRetention,
  type Sql,
  type TableUpkeep,
  tableActivity,
  upkeepTables,
} from '../storage';

/** Options of `createMaintenance`. */
export interface MaintenanceOptions {
  db: Sql;
  logger: Logger;
  /** `HOOKLINE_RETENTION_DAYS`. */
  retentionDays: number;
  /** `HOOKLINE_STATS_RETENTION_DAYS`. */
  statsRetentionDays: number;
  /** Between runs (default 10 min). */
  intervalMs?: number;
  /** Before the first run (default 10 s: after start-up work, not during it). */
  startDelayMs?: number;
  /** A day is rolled up this long after midnight UTC (default 15 min). */
  rollupDelayMs?: number;
  /** Rows per delete statement and the pause between batches (see `runRetention`). */
  batchSize?: number;
  pauseMs?: number;
  /** Between two checks of the tables' statistics (default 15 s; the first 5 s after start). */
  statisticsIntervalMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

/** A running maintenance loop. */
export interface Maintenance {
  /** Schedules the first run; idempotent. */
  start(): void;
  /** Runs retention now (outside the schedule); null when a run is in progress here. */
  runOnce(): Promise<RetentionResult | null>;
  /** Analyzes (and on PGlite vacuums) the tables autovacuum does not look after, now. */
  upkeepTables(): Promise<TableUpkeep>;
  /** Stops the current run between two batches and cancels the schedule. */
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** The time until the next run: the interval, or sooner when a UTC midnight (+ delay) comes first. */
export function nextRunDelay(now: Date, intervalMs: number, rollupDelayMs: number): number {
  const midnight = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  let rollupAt = midnight + rollupDelayMs;
  if (rollupAt <= now.getTime()) rollupAt += DAY_MS;
  // A second late, so the day is complete by the run's own clock.
  return Math.max(0, Math.min(intervalMs, rollupAt - now.getTime() + 1000));
}

/** Counts of a run for the log: no ids, no tenant data. */
export function retentionLogFields(result: RetentionResult): Record<string, unknown> {
  return {
    complete: result.complete,
    rolledUpDays: result.rolledUpDays.length,
    finalizedDays: result.finalizedDays.length,
    horizon: result.horizon?.toISOString() ?? null,
    deleted: { ...result.deleted },
    batches: result.batches,
    durationMs: result.durationMs,
  };
}

/** The loop; call `start()` to begin and `stop()` on shutdown. */
export function createMaintenance(options: MaintenanceOptions): Maintenance {
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  const rollupDelayMs = options.rollupDelayMs ?? 15 * 60_000;
  const clock = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;
  let current: Promise<RetentionResult | null> | undefined;
  let abort: AbortController | undefined;
  const statisticsIntervalMs = options.statisticsIntervalMs ?? 15_000;
  let statisticsTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<TableUpkeep> | undefined;
  let warnedAutovacuum = false;

  const refresh = (): Promise<TableUpkeep> => {
    refreshing ??= (async () => {
      try {
        if (!warnedAutovacuum && options.db.driver === 'postgres') {
          warnedAutovacuum = true;
          const unattended = (await tableActivity(options.db))
            .filter((activity) => !activity.autovacuum)
            .map((activity) => activity.table);
          if (unattended.length > 0) {
            options.logger.warn(
              { tables: unattended },
              'autovacuum is off for these tables: the gateway analyzes them itself when their ' +
                'statistics go stale, but nothing vacuums them, so dead rows and index bloat ' +
                'grow; enable autovacuum or VACUUM them regularly',
            );
          }
        }
        const upkeep = await upkeepTables(options.db);
        if (upkeep.analyzed.length > 0 || upkeep.vacuumed.length > 0) {
          options.logger.info(upkeep, 'table upkeep');
        }
        return upkeep;
      } catch (error) {
        // Stale statistics and dead rows cost speed and space, not correctness: the next check
        // tries again.
        options.logger.warn({ err: error }, 'table upkeep failed');
        return { analyzed: [], vacuumed: [] };
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  };

  const scheduleStatistics = (delayMs: number) => {
    if (stopped) return;
    statisticsTimer = setTimeout(() => {
      statisticsTimer = undefined;
      void refresh().finally(() => scheduleStatistics(statisticsIntervalMs));
    }, delayMs);
    statisticsTimer.unref();
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void runOnce().finally(() => schedule(nextRunDelay(clock(), intervalMs, rollupDelayMs)));
    }, delayMs);
    // Never the reason the process stays up.
    timer.unref();
  };

  const runOnce = (): Promise<RetentionResult | null> => {
    if (current) return Promise.resolve(null);
    abort = new AbortController();
    const signal = abort.signal;
    current = (async () => {
      try {
        const result = await runRetention(options.db, {
          retentionDays: options.retentionDays,
          statsRetentionDays: options.statsRetentionDays,
          rollupDelayMs,
          now: clock,
          signal,
          ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
          ...(options.pauseMs === undefined ? {} : { pauseMs: options.pauseMs }),
        });
        if (!result.ran) {
          options.logger.debug('retention: another process is running it; skipped');
        } else {
          options.logger.info({ retention: retentionLogFields(result) }, 'retention run');
        }
        return result;
      } catch (error) {
        // The next run starts over from what is left; nothing is half-done across statements.
        options.logger.error({ err: error }, 'retention run failed');
        return null;
      } finally {
        current = undefined;
        abort = undefined;
      }
    })();
    return current;
  };

  return {
    start() {
      if (started || stopped) return;
      started = true;
      schedule(options.startDelayMs ?? 10_000);
      scheduleStatistics(Math.min(5_000, statisticsIntervalMs));
    },
    runOnce,
    upkeepTables: refresh,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (statisticsTimer) clearTimeout(statisticsTimer);
      statisticsTimer = undefined;
      abort?.abort();
      await Promise.all([current, refreshing]);
    },
  };
}

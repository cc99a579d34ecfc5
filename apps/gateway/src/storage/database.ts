import { openEmbedded, openInMemory } from './embedded';
import { type MigrationResult, type MigrationStatus, migrate, migrationStatus } from './migrate';
import { connectPostgres } from './postgres-driver';
import { type PoolStats, type SqlClient, sql } from './sql';

/** Where the database lives. */
export type DatabaseTarget =
  /** PostgreSQL at a `postgres://` URL (`HOOKLINE_DATABASE_URL`). */
  | { kind: 'postgres'; url: string; poolSize?: number }
  /** Embedded PGlite in `<dataDir>/pgdata`, locked to this process (`HOOKLINE_DATA_DIR`). */
  | { kind: 'embedded'; dataDir: string }
  /** Embedded PGlite in memory, gone on close (tests). */
  | { kind: 'memory' };

/** An open database: the session to query and the lifecycle around it. */
export interface Database {
  readonly sql: SqlClient;
  readonly driver: SqlClient['driver'];
  /** Applies pending migrations (safe to call from many processes at once). */
  migrate(): Promise<MigrationResult>;
  /** Applied and pending migrations; `ready` is what `readyz` reports. */
  migrationStatus(): Promise<MigrationStatus>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** Closes connections (and releases the data-directory lock when embedded). */
  close(): Promise<void>;
  /** How busy the connections are right now (`/metrics`). */
  poolStats(): PoolStats;
}

/** Wraps an open client with the migration and health helpers. */
export function databaseFrom(client: SqlClient): Database {
  let closed: Promise<void> | undefined;
  return {
    sql: client,
    driver: client.driver,
    migrate: () => migrate(client),
    migrationStatus: () => migrationStatus(client),
    ping: async () => {
      try {
        await client.query(sql`select 1`);
        return true;
      } catch {
        return false;
      }
    },
    close: () => {
      closed ??= client.close();
      return closed;
    },
    // A client that cannot tell (a test double) reports an idle pool of one.
    poolStats: () => client.poolStats?.() ?? { size: 1, inUse: 0, waiting: 0 },
  };
}

/**
 * Opens the database and, unless `migrate: false`, applies pending migrations before returning,
 * so every process starts on the current schema.
 */
export async function openDatabase(
  target: DatabaseTarget,
  options: { migrate?: boolean } = {},
): Promise<Database> {
  const client =
    target.kind === 'postgres'
      ? connectPostgres(target.url, target.poolSize === undefined ? {} : { max: target.poolSize })
      : target.kind === 'embedded'
        ? await openEmbedded(target.dataDir)
        : await openInMemory();
  const database = databaseFrom(client);
  if (options.migrate !== false) {
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

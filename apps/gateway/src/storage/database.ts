import { openEmbedded, openInMemory } from './embedded';
import { type MigrationResult, type MigrationStatus, migrate, migrationStatus } from './migrate';
import { connectPostgres, isDatabaseUnavailable } from './postgres-driver';
import { type PoolStats, type SqlClient, sql } from './sql';

/** Where the database lives. */
export type DatabaseTarget =
  /** PostgreSQL at a `postgres://` URL (`HOOKLINE_DATABASE_URL`). */
  | {
      kind: 'postgres';
      url: string;
      poolSize?: number;
      /** `HOOKLINE_DATABASE_TIMEOUT_SECONDS` (PostgresOptions.timeoutSeconds); migrations have none. */
      timeoutSeconds?: number;
    }
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
  /**
   * True when `error`, thrown by a statement on this database, means it cannot answer now but
   * likely can shortly (a lost connection, a statement timeout): the API answers 503 with
   * `Retry-After` rather than 500.
   */
  unavailable(error: unknown): boolean;
}

/**
 * Wraps an open client with the migration and health helpers. With `migrationClient`, migrations
 * run on a client of their own, opened for the purpose and closed after: one without the pool's
 * statement timeout, since a migration on a big table (or the wait for another process's) may
 * rightly take minutes.
 */
export function databaseFrom(
  client: SqlClient,
  options: { migrationClient?: () => SqlClient } = {},
): Database {
  let closed: Promise<void> | undefined;
  const { migrationClient } = options;
  return {
    sql: client,
    driver: client.driver,
    migrate: async () => {
      if (!migrationClient) return migrate(client);
      const own = migrationClient();
      try {
        return await migrate(own);
      } finally {
        await own.close();
      }
    },
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
    unavailable: isDatabaseUnavailable,
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
      ? connectPostgres(target.url, {
          ...(target.poolSize === undefined ? {} : { max: target.poolSize }),
          ...(target.timeoutSeconds === undefined ? {} : { timeoutSeconds: target.timeoutSeconds }),
        })
      : target.kind === 'embedded'
        ? await openEmbedded(target.dataDir)
        : await openInMemory();
  const database = databaseFrom(
    client,
    target.kind === 'postgres'
      ? {
          migrationClient: () =>
            connectPostgres(target.url, {
              max: 1,
              applicationName: 'hookline-migrate',
              timeoutSeconds: 0,
            }),
        }
      : {},
  );
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

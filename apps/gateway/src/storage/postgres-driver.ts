import postgres from 'postgres';
import { StorageError } from './errors';
import {
  compile,
  type PoolStats,
  type Row,
  type Sql,
  type SqlClient,
  type SqlFragment,
} from './sql';

/** Options of the PostgreSQL driver. */
export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** `application_name` of every connection (default `hookline`). */
  applicationName?: string;
}

/** The longest wait between two attempts to reconnect to PostgreSQL, in seconds. */
export const MAX_RECONNECT_DELAY_SECONDS = 1;

/**
 * Seconds to wait before reconnecting after `retries` failed connections: postgres.js's own
 * curve (3^n / 100 s, half to full, jittered) capped at one second instead of its 20. Its retry
 * count is shared by the whole pool and grows with every refused connection, so during a
 * 3-second database restart it reached 20 s waits, and queries queued for a server that was
 * back long ago (measured: accept→delivery up to 15 s after a 3 s outage). A queued query never
 * fails meanwhile, so a short wait is what bounds recovery; a refused connection costs little.
 */
export function reconnectDelaySeconds(retries: number, random: () => number = Math.random): number {
  return (0.5 + random() / 2) * Math.min(3 ** retries / 100, MAX_RECONNECT_DELAY_SECONDS);
}

type Client = postgres.Sql<Record<string, never>>;
type TxClient = postgres.TransactionSql<Record<string, never>>;

// postgres.js's own codes for a connection that is gone, and the socket errors behind them.
const LOST_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * True when an error means the connection it came from is gone: a driver or socket error, a
 * FATAL/PANIC from the server (it closes the session after sending one), an operator
 * intervention (57P01 `pg_terminate_backend` or shutdown, 57P02, 57P03) or a connection
 * exception (class 08).
 */
export function isConnectionLost(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown; severity_local?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const severity = typeof e?.severity === 'string' ? e.severity : e?.severity_local;
  return (
    LOST_CONNECTION_CODES.has(code) ||
    severity === 'FATAL' ||
    severity === 'PANIC' ||
    code.startsWith('57P') ||
    code.startsWith('08')
  );
}

/**
 * A transaction on a reserved connection, spelled out (begin, statements, commit or rollback)
 * rather than postgres.js's `begin()`. When the connection dies mid-transaction, `begin()` sends
 * its own rollback on it, and postgres.js 3.4.9 then writes to a null socket from a
 * setImmediate: an uncaught TypeError that ended the gateway process when PostgreSQL restarted
 * under load (porsager/postgres#1208, unfixed upstream). Here, once a statement has shown the
 * connection lost, nothing more is sent on it, and it is not released (postgres.js has moved it
 * to its closed connections, to reconnect on demand); later statements of the transaction fail.
 */
async function reservedTransaction<T>(root: Client, fn: (tx: TxClient) => Promise<T>): Promise<T> {
  const reserved = await root.reserve();
  let lost = false;
  const send = (text: string, params?: unknown[], options?: { prepare?: boolean }) => {
    if (lost) {
      return Promise.reject(
        new StorageError('The database connection was lost during this transaction.', '08006'),
      );
    }
    return reserved
      .unsafe(text, params as postgres.ParameterOrJSON<never>[] | undefined, options)
      .catch((error: unknown) => {
        if (isConnectionLost(error)) lost = true;
        throw error;
      });
  };
  // The one method sessions use (`unsafe`), guarded.
  const tx = { unsafe: send } as unknown as TxClient;
  let result: T;
  try {
    await send('begin');
    result = await fn(tx);
    await send('commit');
  } catch (error) {
    if (!lost) await send('rollback').catch(() => {});
    if (!lost) reserved.release();
    throw error;
  }
  reserved.release();
  return result;
}

/**
 * Statements and transactions under way on the pool (metrics): each holds a connection while it
 * runs, so beyond the pool size the rest wait (postgres.js does not expose its own counts).
 */
interface Usage {
  active: number;
}

class PostgresSession implements Sql {
  readonly driver = 'postgres' as const;

  constructor(
    private readonly client: Client | TxClient,
    private readonly root: Client,
    private readonly inTransaction: boolean,
    protected readonly usage: Usage = { active: 0 },
  ) {}

  async query<T extends Row = Row>(statement: SqlFragment): Promise<T[]> {
    const { text, params } = compile(statement);
    // Inside a transaction the transaction already counts.
    if (!this.inTransaction) this.usage.active++;
    try {
      // Named prepared statements: the statement texts are few and fixed, so parsing and
      // parameter-type discovery happen once per connection.
      const rows = await this.client.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      });
      return rows as unknown as T[];
    } catch (error) {
      throw StorageError.from(error);
    } finally {
      if (!this.inTransaction) this.usage.active--;
    }
  }

  async exec(script: string): Promise<void> {
    if (!this.inTransaction) this.usage.active++;
    try {
      await this.client.unsafe(script);
    } catch (error) {
      throw StorageError.from(error);
    } finally {
      if (!this.inTransaction) this.usage.active--;
    }
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    this.usage.active++;
    try {
      return await reservedTransaction(this.root, (tx) =>
        fn(new PostgresSession(tx, this.root, true, this.usage)),
      );
    } catch (error) {
      // Errors thrown by `fn` pass through unchanged; a failed BEGIN/COMMIT loses its parameters.
      if (error instanceof postgres.PostgresError) throw StorageError.from(error);
      throw error;
    } finally {
      this.usage.active--;
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const { unlisten } = await this.root.listen(channel, onNotify);
    return async () => {
      await unlisten();
    };
  }
}

class PostgresClient extends PostgresSession implements SqlClient {
  constructor(
    private readonly pool: Client,
    private readonly size: number,
  ) {
    super(pool, pool, false);
  }

  poolStats(): PoolStats {
    const active = this.usage.active;
    return {
      size: this.size,
      inUse: Math.min(active, this.size),
      waiting: Math.max(0, active - this.size),
    };
  }

  async close(): Promise<void> {
    await this.pool.end({ timeout: 5 });
  }
}

/** Connects to PostgreSQL at `url` (postgres.js pool). */
export function connectPostgres(url: string, options: PostgresOptions = {}): SqlClient {
  const max = options.max ?? 10;
  const pool = postgres(url, {
    max,
    // `create … if not exists` notices and the like are not worth a log line.
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'hookline',
      // Plan each prepared statement once per connection, and never by a sequential scan.
      // The queue statements (claim, record, intake) are long and run thousands of times a
      // second: planning them at every execution (`force_custom_plan`) cost more database CPU
      // than running them (claim: 6.1 ms planning, 4.1 ms execution), and PostgreSQL's own
      // choice (`auto`) switched to generic plans made while the tables were small and
      // collapsed under a backlog (drain 832 → 561 deliveries/s, measured). Every statement is
      // written to walk an index, so a generic plan made with sequential scans off does not
      // depend on how big the tables were when it was made: docs/benchmarks.md has the figures
      // (database CPU at 500 messages/s 0.78 → 0.45 cores; sustained 1,501 → 2,600
      // deliveries/s with 200 in flight). Statements that truly need a scan still get one.
      plan_cache_mode: 'force_generic_plan',
      enable_seqscan: 'off',
      // No JIT: a scan that must stay sequential (e.g. postgres.js's array-type lookup when each
      // connection opens) is costed at 1e10 with sequential scans off, which crosses the JIT
      // thresholds, and compiling it took 270 ms of a 300 ms statement (3 ms without), on every
      // new connection: after a database restart, every reconnect. Short OLTP statements never
      // gain from JIT.
      jit: 'off',
    },
    // Never let the driver print statements with their parameters.
    debug: false,
    // Also used by the LISTEN connection, which postgres.js derives from these options.
    backoff: reconnectDelaySeconds,
  }) as Client;
  return new PostgresClient(pool, max);
}

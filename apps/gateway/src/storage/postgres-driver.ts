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
  /**
   * Seconds a statement may run and a transaction may sit idle on the server, and (plus
   * {@link RESPONSE_GRACE_SECONDS}) how long a connection may stay silent while a statement waits
   * on it before it is given up as lost; 0 sets no limit. Default
   * {@link DEFAULT_DATABASE_TIMEOUT_SECONDS}.
   */
  timeoutSeconds?: number;
  /** Seconds of silence past `timeoutSeconds` before a connection is lost (default 5; tests). */
  responseGraceSeconds?: number;
}

/** `HOOKLINE_DATABASE_TIMEOUT_SECONDS` when unset. */
export const DEFAULT_DATABASE_TIMEOUT_SECONDS = 30;

/**
 * Seconds past the statement timeout that a connection may stay silent while a statement waits on
 * it: the server has cancelled the statement by then and its error is on the way, so a connection
 * that still says nothing has lost its server (a silently dropped network path, a failed-over
 * primary), and is destroyed rather than left to the kernel's retransmission timeout (~15 min).
 */
export const RESPONSE_GRACE_SECONDS = 5;

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
  // The patch's response deadline (connection.js, awaitResponse): the connection went silent.
  'RESPONSE_TIMEOUT',
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
 * True when an error means the database cannot serve a request now but likely can shortly, so
 * the caller may retry: the connection is lost (`isConnectionLost`), a statement was cancelled
 * (57014: it ran past `statement_timeout`, or an operator cancelled it), or the server has no
 * connection or resources to give (53300 `too_many_connections`, class 53). The causes of
 * wrapped errors count too.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      isConnectionLost(e) ||
      code === '57014' ||
      (typeof code === 'string' && code.startsWith('53'))
    ) {
      return true;
    }
  }
  return false;
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

/** The client's timeout settings, shared by its sessions. */
interface Limits {
  timeoutSeconds: number;
}

/** The longest interval between two checks of the LISTEN connection, in seconds. */
export const LISTEN_CHECK_MAX_SECONDS = 10;

class PostgresSession implements Sql {
  readonly driver = 'postgres' as const;

  constructor(
    private readonly client: Client | TxClient,
    private readonly root: Client,
    private readonly inTransaction: boolean,
    protected readonly limits: Limits,
    protected readonly usage: Usage = { active: 0 },
    protected readonly listenChecks: Set<NodeJS.Timeout> = new Set(),
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
        fn(new PostgresSession(tx, this.root, true, this.limits, this.usage, this.listenChecks)),
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
    let subscribed = false;
    // postgres.js calls `onlisten` after LISTEN succeeded: first here, then again each time it
    // re-subscribes on a new connection after the old one closed.
    const { unlisten } = await this.root.listen(channel, onNotify, () => {
      if (subscribed) onNotify('');
    });
    subscribed = true;
    const stopChecks = this.checkListenConnection();
    return async () => {
      stopChecks();
      await unlisten();
    };
  }

  /**
   * Sends `select 1` on the LISTEN connection every few seconds while a subscription lasts. A
   * LISTEN connection waits for nothing, so nothing noticed when its network path died silently
   * (TCP keepalive takes minutes, and on some paths never fires): notifications just stopped
   * and the worker fell back to its poll. Now the check waits on it, the response deadline
   * destroys it when it has gone quiet, and postgres.js re-subscribes on a new connection (and
   * `onlisten` wakes the subscriber for what it missed).
   */
  protected checkListenConnection(): () => void {
    const seconds = this.limits.timeoutSeconds;
    // postgres.js 3.4.9 (pinned and patched) keeps its one LISTEN connection's pool here.
    const listener = (this.root.listen as unknown as { sql?: Client }).sql;
    if (seconds <= 0 || !listener) return () => {};
    let checking = false;
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      listener`select 1`
        .catch(() => {
          // A lost connection: postgres.js reconnects and re-subscribes by itself.
        })
        .finally(() => {
          checking = false;
        });
    }, Math.min(LISTEN_CHECK_MAX_SECONDS, seconds) * 1000);
    timer.unref();
    this.listenChecks.add(timer);
    return () => {
      clearInterval(timer);
      this.listenChecks.delete(timer);
    };
  }
}

class PostgresClient extends PostgresSession implements SqlClient {
  constructor(
    private readonly pool: Client,
    private readonly size: number,
    limits: Limits,
  ) {
    super(pool, pool, false, limits);
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
    for (const timer of this.listenChecks) clearInterval(timer);
    this.listenChecks.clear();
    await this.pool.end({ timeout: 5 });
  }
}

/** TCP settings of the server's end of each session (see connectPostgres). */
export const SERVER_KEEPALIVES = Object.freeze({
  tcp_keepalives_idle: 30,
  tcp_keepalives_interval: 10,
  tcp_keepalives_count: 3,
  tcp_user_timeout: 60_000,
});

/** Connects to PostgreSQL at `url` (postgres.js pool). */
export function connectPostgres(url: string, options: PostgresOptions = {}): SqlClient {
  const max = options.max ?? 10;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_DATABASE_TIMEOUT_SECONDS;
  const limits: Record<string, number> =
    timeoutSeconds > 0
      ? {
          // The server cancels a statement that runs longer (57014) and ends a session that sits
          // in a transaction doing nothing that long (its client gone quiet mid-transaction: the
          // row locks it holds would otherwise stall other workers until the server noticed).
          statement_timeout: Math.round(timeoutSeconds * 1000),
          idle_in_transaction_session_timeout: Math.round(timeoutSeconds * 1000),
        }
      : {};
  const pool = postgres(url, {
    max,
    // A connection that answers nothing for this long while a statement waits is destroyed and
    // its statements fail as a lost connection (patches/postgres@3.4.9.patch, awaitResponse).
    response_timeout:
      timeoutSeconds > 0
        ? timeoutSeconds + (options.responseGraceSeconds ?? RESPONSE_GRACE_SECONDS)
        : null,
    // `create … if not exists` notices and the like are not worth a log line.
    onnotice: () => {},
    // Startup parameters: only what every pooler passes on (PgBouncer refuses any other).
    connection: { application_name: options.applicationName ?? 'hookline' },
    // Set with one statement when each connection opens, before anything else runs on it
    // (patches/postgres@3.4.9.patch, applySessionSettings), not as startup parameters: PgBouncer
    // refuses those it does not know ("unsupported startup parameter"), or, told to ignore them,
    // drops them. In session mode these stay for the client's session.
    session_settings: {
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
      // The server's side of a vanished client (its host gone, a silent path): without these the
      // server holds the session, and any session-level advisory lock (migrations, retention), for
      // the OS's two hours of keepalive. Probe an idle connection after 30 s, every 10 s, give up
      // after 3 unanswered; and give up on unacknowledged data after 60 s.
      ...SERVER_KEEPALIVES,
      ...limits,
    },
    // Never let the driver print statements with their parameters.
    debug: false,
    // Also used by the LISTEN connection, which postgres.js derives from these options.
    backoff: reconnectDelaySeconds,
  }) as Client;
  return new PostgresClient(pool, max, { timeoutSeconds });
}

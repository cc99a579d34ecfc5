/**
 * The one query interface both database drivers implement. Repository code builds statements
 * with the `sql` tag (values become `$n` parameters, nested fragments are inlined) and runs them
 * through a `Sql`, never knowing which driver is underneath.
 */

/** A piece of SQL with its parameter values; build it with the `sql` tag. */
export class SqlFragment {
  /** @internal */
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/** Tagged template for SQL: `sql\`select * from t where id = ${id}\``. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  return new SqlFragment(strings, values);
}

/** An empty fragment, for optional clauses. */
export const empty: SqlFragment = new SqlFragment([''], []);

/** Joins fragments with a separator fragment (default `, `), leaving out empty ones. */
export function join(all: readonly SqlFragment[], separator: SqlFragment = sql`, `): SqlFragment {
  const parts = all.filter((part) => part.values.length > 0 || part.strings.some((s) => s !== ''));
  if (parts.length === 0) return empty;
  const strings: string[] = [''];
  const values: unknown[] = [];
  parts.forEach((part, i) => {
    if (i > 0) {
      values.push(separator);
      strings.push('');
    }
    values.push(part);
    strings.push('');
  });
  return new SqlFragment(strings, values);
}

/** A JSON value as a `jsonb` parameter, sent as text so both drivers treat it the same. */
export function json(value: unknown): SqlFragment {
  return sql`${JSON.stringify(value)}::text::jsonb`;
}

/** `$n` text and parameter list of a fragment. */
export interface CompiledQuery {
  text: string;
  params: unknown[];
}

/** Flattens a fragment into statement text with `$1…$n` placeholders. */
export function compile(fragment: SqlFragment): CompiledQuery {
  const params: unknown[] = [];
  const walk = (f: SqlFragment): string => {
    let text = f.strings[0] ?? '';
    for (let i = 0; i < f.values.length; i++) {
      const value = f.values[i];
      if (value instanceof SqlFragment) {
        text += walk(value);
      } else {
        if (value === undefined) {
          // An undefined parameter is always a bug in the caller; never send it as null silently.
          throw new TypeError(`SQL parameter $${params.length + 1} is undefined.`);
        }
        params.push(value);
        text += `$${params.length}`;
      }
      text += f.strings[i + 1] ?? '';
    }
    return text;
  };
  return { text: walk(fragment), params };
}

/** A result row as the driver returns it (snake_case columns). */
export type Row = Record<string, unknown>;

/** Runs statements on one database session, or inside one transaction. */
export interface Sql {
  /** Which driver serves this session. */
  readonly driver: 'postgres' | 'pglite';
  /** Runs one statement and returns its rows. */
  query<T extends Row = Row>(statement: SqlFragment): Promise<T[]>;
  /** Runs a parameterless script of several statements (migrations). */
  exec(script: string): Promise<void>;
  /** Runs `fn` in a transaction (committed when it resolves); inside one, runs `fn` in the same. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel`; resolves to an unsubscribe function. A driver
   * that re-subscribes after losing its connection also calls `onNotify('')` then, since
   * notifications sent while it was away are lost.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
}

/** How busy a client's connections are right now (metrics). */
export interface PoolStats {
  /** Connections the pool may open (1 for PGlite, a single session). */
  size: number;
  /** Connections running a statement or holding a transaction. */
  inUse: number;
  /** Statements and transactions waiting for a connection. */
  waiting: number;
}

/** A database connection (pool) that can be closed. */
export interface SqlClient extends Sql {
  /** Closes every connection; pending queries finish first. */
  close(): Promise<void>;
  /** Current use of the connections. */
  poolStats?(): PoolStats;
}

/** SQLSTATE of an error thrown by either driver, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

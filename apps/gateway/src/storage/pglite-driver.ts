import type { PGlite, Transaction } from '@electric-sql/pglite';
import { StorageError } from './errors';
import {
  compile,
  type PoolStats,
  type Row,
  type Sql,
  type SqlClient,
  type SqlFragment,
} from './sql';

type Target = PGlite | Transaction;

class PgliteSession implements Sql {
  readonly driver = 'pglite' as const;

  constructor(
    protected readonly db: PGlite,
    private readonly target: Target,
    private readonly inTransaction: boolean,
    // Statements and transactions under way (metrics): the one session runs one, the rest wait.
    protected readonly usage: { active: number } = { active: 0 },
  ) {}

  async query<T extends Row = Row>(statement: SqlFragment): Promise<T[]> {
    const { text, params } = compile(statement);
    if (!this.inTransaction) this.usage.active++;
    try {
      const result = await this.target.query<T>(text, params);
      return result.rows;
    } catch (error) {
      throw StorageError.from(error);
    } finally {
      if (!this.inTransaction) this.usage.active--;
    }
  }

  async exec(script: string): Promise<void> {
    if (!this.inTransaction) this.usage.active++;
    try {
      await this.target.exec(script);
    } catch (error) {
      throw StorageError.from(error);
    } finally {
      if (!this.inTransaction) this.usage.active--;
    }
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    // PGlite is one session: its transactions are exclusive, so other callers wait meanwhile.
    this.usage.active++;
    try {
      return await this.db.transaction((tx) =>
        fn(new PgliteSession(this.db, tx, true, this.usage)),
      );
    } catch (error) {
      // Errors thrown by `fn` pass through unchanged; a failed COMMIT loses its parameters.
      if (error instanceof Error && 'severity' in error) throw StorageError.from(error);
      throw error;
    } finally {
      this.usage.active--;
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, onNotify);
    return async () => {
      if (!this.db.closed) await unlisten();
    };
  }
}

class PgliteClient extends PgliteSession implements SqlClient {
  constructor(
    db: PGlite,
    private readonly onClose: () => Promise<void>,
  ) {
    super(db, db, false);
  }

  poolStats(): PoolStats {
    const active = this.usage.active;
    return { size: 1, inUse: Math.min(active, 1), waiting: Math.max(0, active - 1) };
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
    await this.onClose();
  }
}

/** Wraps an open PGlite instance; `onClose` runs after it is closed (e.g. to release a lock). */
export function wrapPglite(db: PGlite, onClose: () => Promise<void> = async () => {}): SqlClient {
  return new PgliteClient(db, onClose);
}

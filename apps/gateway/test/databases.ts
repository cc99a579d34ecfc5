/**
 * Test databases for storage and worker tests: every suite runs on embedded PGlite (in memory),
 * and also on real PostgreSQL when `HOOKLINE_TEST_DATABASE_URL` is set. Each PostgreSQL suite
 * gets its own freshly created, migrated database, dropped afterwards.
 *
 *   describe.each(testDrivers)('%s', (driver) => {
 *     const t = useTestDatabase(driver);
 *     it('…', async () => { await t.store.endpoints.create(…) });
 *   });
 */
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { insecureDevelopmentCipher } from '../src/storage/cipher';
import { type Database, openDatabase } from '../src/storage/database';
import { type Sql, sql as sqlStatement } from '../src/storage/sql';
import { createStore, type Store } from '../src/storage/store';
import type { AttemptInput, Endpoint, NewEndpoint } from '../src/storage/types';

/** A database driver a suite runs against. */
export type TestDriver = 'pglite' | 'postgres';

// Test infrastructure, not gateway configuration: config.ts stays the gateway's only env reader.
const adminUrl = process.env.HOOKLINE_TEST_DATABASE_URL || undefined;

/** PGlite always; PostgreSQL too when `HOOKLINE_TEST_DATABASE_URL` is set. */
export const testDrivers: TestDriver[] = adminUrl ? ['pglite', 'postgres'] : ['pglite'];

const PREFIX = 'hl_test_';
// Databases of crashed runs older than this are dropped when the next suite starts.
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** A scratch PostgreSQL database and how to get rid of it. */
export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function admin(): postgres.Sql {
  if (!adminUrl) throw new Error('HOOKLINE_TEST_DATABASE_URL is not set.');
  return postgres(adminUrl, { max: 1, onnotice: () => {} });
}

async function dropAbandoned(sql: postgres.Sql): Promise<void> {
  const rows = await sql<{ datname: string }[]>`
    select datname from pg_database where datname like ${`${PREFIX}%`}`;
  for (const { datname } of rows) {
    const born = Number.parseInt(datname.slice(PREFIX.length).split('_')[0] ?? '', 36);
    if (Number.isFinite(born) && Date.now() - born > ABANDONED_AFTER_MS) {
      await sql.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
  }
}

/** Creates an empty PostgreSQL database (unmigrated) for one suite or test. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const sql = admin();
  try {
    await dropAbandoned(sql);
    const name = `${PREFIX}${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
    await sql.unsafe(`create database "${name}"`);
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      name,
      drop: async () => {
        const dropper = admin();
        try {
          await dropper.unsafe(`drop database if exists "${name}" with (force)`);
        } finally {
          await dropper.end();
        }
      },
    };
  } finally {
    await sql.end();
  }
}

/** The suite's database, valid inside tests (after `beforeAll`). */
export interface TestDatabase {
  readonly driver: TestDriver;
  readonly database: Database;
  readonly store: Store;
  /** The PostgreSQL URL of this suite's database (postgres driver only). */
  readonly url: string | undefined;
  /** Deletes every row of every table. */
  reset(): Promise<void>;
}

// Every table but the migrations ledger, read from the catalog (so new tables are never missed).
// Each foreign key deletes on cascade, so the order of the deletes does not matter.
async function dataTables(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ tablename: string }>(
    sqlStatement`select tablename from pg_tables
      where schemaname = current_schema() and tablename <> 'schema_migrations'
      order by tablename`,
  );
  return rows.map((row) => row.tablename);
}

/**
 * Opens a migrated database for the enclosing describe block and closes (and for PostgreSQL,
 * drops) it afterwards; with `reset` (default true) empties every table before each test.
 */
export function useTestDatabase(
  driver: TestDriver,
  options: { reset?: boolean } = {},
): TestDatabase {
  let database: Database | undefined;
  let store: Store | undefined;
  let scratch: ScratchDatabase | undefined;
  let tables: string[] | undefined;

  beforeAll(async () => {
    if (driver === 'postgres') {
      scratch = await createScratchDatabase();
      database = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 8 });
    } else {
      database = await openDatabase({ kind: 'memory' });
    }
    store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
  });

  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  const handle: TestDatabase = {
    driver,
    get database() {
      if (!database) throw new Error('The test database is opened in beforeAll.');
      return database;
    },
    get store() {
      if (!store) throw new Error('The test database is opened in beforeAll.');
      return store;
    },
    get url() {
      return scratch?.url;
    },
    reset: async () => {
      const sql = handle.database.sql;
      tables ??= await dataTables(sql);
      await sql.exec(tables.map((table) => `delete from ${table};`).join('\n'));
    },
  };

  if (options.reset !== false) beforeEach(() => handle.reset());
  return handle;
}

let endpointCounter = 0;

/** A valid `NewEndpoint` for tenant `t1` (override anything). */
export function endpointInput(overrides: Partial<NewEndpoint> = {}): NewEndpoint {
  endpointCounter++;
  return {
    tenantId: 't1',
    url: `https://receiver.example/hooks/${endpointCounter}`,
    secret: `whsec_${'k'.repeat(8)}${endpointCounter.toString().padStart(24, '0')}`,
    ...overrides,
  };
}

/**
 * Creates an endpoint (tenant `t1` unless overridden) and `count` messages to it, one at a time
 * and in order; returns the endpoint and the ids of the messages created.
 */
export async function endpointWithMessages(
  store: Store,
  count: number,
  overrides: Partial<NewEndpoint> = {},
): Promise<{ endpoint: Endpoint; messageIds: string[] }> {
  const endpoint = await store.endpoints.create(endpointInput(overrides));
  const messageIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = await store.messages.create({
      tenantId: endpoint.tenantId,
      eventType: 'order.created',
      payloadJson: `{"i":${i}}`,
      endpointId: endpoint.id,
    });
    if (result.kind === 'created') messageIds.push(result.message.id);
  }
  return { endpoint, messageIds };
}

/**
 * Claims every due delivery in batches of at most `limit` (capped at `maxPerEndpoint` leases per
 * endpoint) and records each as succeeded, until a claim comes back empty; returns how many.
 */
export async function deliverAllDue(
  store: Store,
  options: { limit: number; maxPerEndpoint: number; workerId?: string },
): Promise<number> {
  let delivered = 0;
  for (;;) {
    const claimed = await store.queue.claim({
      workerId: options.workerId ?? 'w',
      limit: options.limit,
      leaseMs: 30_000,
      maxPerEndpoint: options.maxPerEndpoint,
    });
    if (claimed.length === 0) return delivered;
    await store.queue.recordOutcomes(
      claimed.map((c) => ({
        deliveryId: c.id,
        leaseToken: c.leaseToken,
        status: 'succeeded' as const,
        attempt: attemptInput(),
      })),
    );
    delivered += claimed.length;
  }
}

/** The database's clock (`now()`), which leases and due times are measured against. */
export async function databaseNow(sql: Sql): Promise<Date> {
  const [row] = await sql.query<{ now: Date }>(sqlStatement`select now() as now`);
  return new Date(row!.now);
}

/** A finished attempt to record (override anything). */
export function attemptInput(overrides: Partial<AttemptInput> = {}): AttemptInput {
  return {
    outcome: 'success',
    httpStatus: 200,
    latencyMs: 12,
    requestHeaders: { 'content-type': 'application/json', 'webhook-id': 'msg_x' },
    requestBody: '{"type":"t","timestamp":"2030-01-01T00:00:00.000Z","data":{}}',
    requestBodyTruncated: false,
    responseHeaders: { 'content-type': 'text/plain' },
    responseBody: 'ok',
    responseBodyTruncated: false,
    error: null,
    attemptedAt: new Date(),
    ...overrides,
  };
}

/** Counts the statements a `Sql` runs (transactions included), to prove "one statement". */
export function countStatements(db: Sql): { sql: Sql; count(): number } {
  let count = 0;
  const wrap = (inner: Sql): Sql => ({
    driver: inner.driver,
    query: (statement) => {
      count++;
      return inner.query(statement);
    },
    exec: (script) => {
      count++;
      return inner.exec(script);
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    listen: (channel, onNotify) => inner.listen(channel, onNotify),
  });
  return { sql: wrap(db), count: () => count };
}

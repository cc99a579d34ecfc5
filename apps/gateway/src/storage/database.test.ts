import { describe, expect, it } from 'vitest';
import { createScratchDatabase, testDrivers, useTestDatabase } from '../../test/databases';
import { openDatabase } from './database';
import { loadMigrations, MIGRATION_LOCK_KEY, migrate, migrationStatus } from './migrate';
import { connectPostgres } from './postgres-driver';
import { compile, empty, join, json, sql } from './sql';

describe('the sql tag', () => {
  it('numbers parameters through nested fragments', () => {
    const where = join([sql`a = ${1}`, sql`b = ${'x'}`, empty], sql` and `);
    const { text, params } = compile(sql`select * from t where ${where} limit ${5}`);
    expect(text).toBe('select * from t where a = $1 and b = $2 limit $3');
    expect(params).toEqual([1, 'x', 5]);
  });

  it('refuses an undefined parameter instead of sending null', () => {
    expect(() => compile(sql`select ${undefined}`)).toThrow(/undefined/);
  });

  it('sends JSON as text cast to jsonb', () => {
    const { text, params } = compile(sql`select ${json({ a: 1 })}`);
    expect(text).toBe('select $1::text::jsonb');
    expect(params).toEqual(['{"a":1}']);
  });
});

describe('migrations', () => {
  it('are numbered 0001 onwards without gaps', async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(migrations[0]?.name).toBe('init');
  });
});

describe.each(testDrivers)('database on %s', (driver) => {
  const t = useTestDatabase(driver);

  it('reports every migration applied after opening', async () => {
    const status = await t.database.migrationStatus();
    expect(status.ready).toBe(true);
    expect(status.pending).toEqual([]);
    expect(status.applied.length).toBeGreaterThan(0);
    expect(await t.database.ping()).toBe(true);
  });

  it('applies nothing when migrating an up-to-date database again', async () => {
    const again = await t.database.migrate();
    expect(again.applied).toEqual([]);
    const [row] = await t.database.sql.query<{ n: number }>(
      sql`select count(*)::int as n from schema_migrations`,
    );
    expect(row?.n).toBe((await loadMigrations()).length);
  });

  it('round-trips arrays, jsonb, bytea, timestamps and nulls the same way', async () => {
    const at = new Date('2030-01-02T03:04:05.678Z');
    const [row] = await t.database.sql.query<Record<string, unknown>>(sql`
      select ${['a', 'b']}::text[] as texts, ${[]}::int[] as empty_ints, ${[30, 300]}::int[] as ints,
        ${json({ k: 'v', n: [1] })} as doc, ${new Uint8Array([0, 1, 255])}::bytea as blob,
        ${at}::timestamptz as at, ${null}::text as nothing, ${true}::boolean as yes,
        ${42}::int as int, 7::bigint::int as big`);
    expect(row?.texts).toEqual(['a', 'b']);
    expect(row?.empty_ints).toEqual([]);
    expect(row?.ints).toEqual([30, 300]);
    expect(row?.doc).toEqual({ k: 'v', n: [1] });
    expect(Array.from(row?.blob as Uint8Array)).toEqual([0, 1, 255]);
    expect((row!.at as Date).toISOString()).toBe(at.toISOString());
    expect(row?.nothing).toBeNull();
    expect(row?.yes).toBe(true);
    expect(row?.int).toBe(42);
    expect(row?.big).toBe(7);
  });

  it('rolls a transaction back when its function throws', async () => {
    await t.database.sql.exec('create temporary table if not exists scratch (v int)');
    await expect(
      t.database.sql.transaction(async (tx) => {
        await tx.query(sql`insert into scratch values (1)`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await t.database.sql.query(sql`select * from scratch`);
    expect(rows).toEqual([]);
  });

  it('wraps database errors without their parameters', async () => {
    const error = await t.database.sql
      .query(sql`select ${'not-a-number'}::int`)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'StorageError', code: '22P02' });
    expect(Object.keys(error as object)).not.toContain('parameters');
    expect(JSON.stringify(error)).not.toContain('select');
  });

  it('delivers NOTIFY to listeners, also when sent inside a transaction', async () => {
    const heard: string[] = [];
    const unlisten = await t.database.sql.listen('hookline_test', (payload) => heard.push(payload));
    await t.database.sql.query(sql`select pg_notify('hookline_test', 'one')`);
    await t.database.sql.transaction(async (tx) => {
      await tx.query(sql`select pg_notify('hookline_test', 'two')`);
    });
    await expect.poll(() => heard, { timeout: 5000 }).toEqual(['one', 'two']);
    await unlisten();
  });
});

// Registered only with a PostgreSQL server (never reported as skipped without one).
const describePostgres = testDrivers.includes('postgres') ? describe : () => {};

describePostgres('migrations on PostgreSQL', () => {
  it('are applied exactly once when two processes migrate an empty database at once', async () => {
    const scratch = await createScratchDatabase();
    const a = connectPostgres(scratch.url, { max: 2 });
    const b = connectPostgres(scratch.url, { max: 2 });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const total = (await loadMigrations()).length;
      expect([...ra.applied, ...rb.applied].sort()).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
      expect((await migrationStatus(a)).ready).toBe(true);
      const rows = await a.query(sql`select version from schema_migrations`);
      expect(rows).toHaveLength(total);
    } finally {
      await a.close();
      await b.close();
      await scratch.drop();
    }
  });

  it("migrates without the pool's statement timeout: a start waits out another process's long migration", {
    timeout: 30_000,
  }, async () => {
    const scratch = await createScratchDatabase();
    const other = connectPostgres(scratch.url, { max: 1, timeoutSeconds: 0 });
    try {
      // Another process migrating for 2 s: it holds the migration lock that long.
      const holding = other.transaction(async (tx) => {
        await tx.query(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`);
        await tx.query(sql`select pg_sleep(2)`);
      });
      await new Promise((done) => setTimeout(done, 200));
      const started = performance.now();
      // Statements of this database's pool may run 0.5 s; the migration's wait is not cut short.
      const db = await openDatabase({ kind: 'postgres', url: scratch.url, timeoutSeconds: 0.5 });
      try {
        expect(performance.now() - started).toBeGreaterThan(1_000);
        expect((await db.migrationStatus()).ready).toBe(true);
        const [limit] = await db.sql.query<{ value: string }>(
          sql`select current_setting('statement_timeout') as value`,
        );
        expect(limit!.value).toBe('500ms');
      } finally {
        await db.close();
      }
      await holding;
    } finally {
      await other.close();
      await scratch.drop();
    }
  });

  it('reports pending migrations on an empty database', async () => {
    const scratch = await createScratchDatabase();
    const db = await openDatabase({ kind: 'postgres', url: scratch.url }, { migrate: false });
    try {
      const status = await db.migrationStatus();
      expect(status.ready).toBe(false);
      expect(status.applied).toEqual([]);
    } finally {
      await db.close();
      await scratch.drop();
    }
  });
});

describe('migrations on PGlite', () => {
  it('are applied once when two migrations of one database race', async () => {
    const db = await openDatabase({ kind: 'memory' }, { migrate: false });
    try {
      expect((await db.migrationStatus()).ready).toBe(false);
      const [a, b] = await Promise.all([db.migrate(), db.migrate()]);
      expect(a.applied.length + b.applied.length).toBe((await loadMigrations()).length);
      expect((await db.migrationStatus()).ready).toBe(true);
    } finally {
      await db.close();
    }
  });
});

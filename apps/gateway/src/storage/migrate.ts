import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Sql, sql } from './sql';

/** One forward-only migration file, `NNNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** What `migrate` did. */
export interface MigrationResult {
  /** Versions applied by this call (empty when the schema was already current). */
  applied: number[];
  /** The schema version afterwards. */
  version: number;
}

/** Which migrations a database has and lacks. */
export interface MigrationStatus {
  applied: number[];
  pending: number[];
  /** True when nothing is pending (what `readyz` asks). */
  ready: boolean;
}

// An arbitrary constant shared by every Hookline process: serialises migration runs.
/** The advisory lock every migrating process takes (one migration at a time, cluster-wide). */
export const MIGRATION_LOCK_KEY = 7_238_410_915;
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Where the migration files are: beside this module in `src/`, or shipped beside `dist/`. */
export function migrationsDirectory(): string {
  const candidates = [
    new URL('./migrations/', import.meta.url),
    new URL('../src/storage/migrations/', import.meta.url),
  ];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error('The storage migrations directory is missing from this installation.');
}

let cached: Promise<Migration[]> | undefined;

/** Reads `NNNN_name.sql` files in version order; versions must run 1, 2, 3 … without gaps. */
export async function loadMigrations(directory?: string): Promise<Migration[]> {
  if (directory === undefined) {
    cached ??= loadMigrations(migrationsDirectory());
    return cached;
  }
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`Migration file ${file} is not named NNNN_name.sql.`);
    const version = Number(match[1]);
    if (version !== migrations.length + 1) {
      throw new Error(`Migration ${file} breaks the sequence: expected ${migrations.length + 1}.`);
    }
    migrations.push({
      version,
      name: match[2]!,
      sql: await readFile(`${directory}/${file}`, 'utf8'),
    });
  }
  return migrations;
}

async function appliedVersions(db: Sql): Promise<number[]> {
  const [table] = await db.query<{ present: boolean }>(
    sql`select to_regclass('schema_migrations') is not null as present`,
  );
  if (!table?.present) return [];
  const rows = await db.query<{ version: number }>(
    sql`select version from schema_migrations order by version`,
  );
  return rows.map((row) => Number(row.version));
}

/**
 * Applies every pending migration in one transaction under an advisory lock, so concurrent
 * starts are safe: the first applies, the others wait and then find nothing to do.
 */
export async function migrate(db: Sql, migrations?: Migration[]): Promise<MigrationResult> {
  const all = migrations ?? (await loadMigrations());
  return db.transaction(async (tx) => {
    await tx.query(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`);
    await tx.exec(
      `create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`,
    );
    const done = new Set(await appliedVersions(tx));
    const applied: number[] = [];
    for (const migration of all) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query(
        sql`insert into schema_migrations (version, name) values (${migration.version}, ${migration.name})`,
      );
      applied.push(migration.version);
    }
    const version = Math.max(0, ...done, ...applied);
    return { applied, version };
  });
}

/** Which migrations are applied and pending (for `readyz` and the CLI). */
export async function migrationStatus(db: Sql, migrations?: Migration[]): Promise<MigrationStatus> {
  const all = migrations ?? (await loadMigrations());
  const applied = await appliedVersions(db);
  const have = new Set(applied);
  const pending = all.map((m) => m.version).filter((v) => !have.has(v));
  return { applied, pending, ready: pending.length === 0 };
}

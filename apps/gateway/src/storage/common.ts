import type { SecretCipher } from './cipher';
import { empty, join, type Sql, type SqlFragment, sql } from './sql';
import type { Page, Scope } from './types';

/** What every repository function needs. */
export interface StorageContext {
  sql: Sql;
  cipher: SecretCipher;
}

/** The NOTIFY channel that wakes workers when deliveries become due. */
export const DELIVERIES_DUE_CHANNEL = 'hookline_deliveries';

/** Default and largest page size (API.md Lists). */
export const PAGE_LIMITS = { default: 50, max: 250 } as const;

/** Clamps a requested page size to 1–250 (default 50). */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return PAGE_LIMITS.default;
  return Math.min(PAGE_LIMITS.max, Math.max(1, Math.floor(limit)));
}

/** Cuts `limit + 1` fetched rows to a page; the cursor is the last row's key. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  cursorOf: (row: R) => string,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(map), nextCursor: more && last !== undefined ? cursorOf(last) : null };
}

/** `where a and b …` from optional conditions (empty when there are none). */
export function whereAll(conditions: (SqlFragment | null | false | undefined | '')[]): SqlFragment {
  const present = conditions.filter((c): c is SqlFragment => c instanceof Object);
  return present.length === 0 ? empty : sql`where ${join(present, sql` and `)}`;
}

/**
 * The tenant-isolation conditions of a scope, for a table whose tenant and endpoint columns are
 * given; empty without a scope. Every tenant-owned read and write passes its scope through this.
 */
export function scopeConditions(
  scope: Scope | undefined,
  tenantColumn: SqlFragment,
  endpointColumn?: SqlFragment,
): SqlFragment[] {
  if (!scope) return [];
  const conditions = [sql`${tenantColumn} = ${scope.tenantId}`];
  if (scope.endpointId != null) {
    if (!endpointColumn) throw new TypeError('This table cannot be scoped to one endpoint.');
    conditions.push(sql`${endpointColumn} = ${scope.endpointId}`);
  }
  return conditions;
}

/** A timestamp column value as a Date. */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** A nullable timestamp column value. */
export function toDateOrNull(value: unknown): Date | null {
  return value == null ? null : toDate(value);
}

/** A nullable numeric column value (drivers differ on int8 and numeric). */
export function toNumberOrNull(value: unknown): number | null {
  return value == null ? null : Number(value);
}

/** The first `maxBytes` bytes of a string as UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (text.length <= maxBytes / 4) return { text, truncated: false };
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/** Sends the wake-up for workers (delivered when the surrounding transaction commits). */
export async function notifyDeliveriesDue(db: Sql): Promise<void> {
  await db.query(sql`select pg_notify(${DELIVERIES_DUE_CHANNEL}, '')`);
}

import type { SecretCipher } from './cipher';
import type { MessageWriter } from './messages';
import { empty, join, type Sql, type SqlFragment, sql } from './sql';
import type { Page, Scope } from './types';

/** What every repository function needs. */
export interface StorageContext {
  sql: Sql;
  cipher: SecretCipher;
  /** Tells workers that deliveries became due; call after the commit (see `createWaker`). */
  wake: () => void;
  /** Group commit for messages without an idempotency key; absent = one statement each. */
  messageWriter?: MessageWriter;
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

/** Wakes workers: those of this process at once, those of other processes by NOTIFY. */
export interface Waker {
  /** Deliveries became due (call after the commit that made them so). */
  wake(): void;
  /**
   * Tells only other processes (a coalesced NOTIFY): this process's worker filled its slots and
   * left due deliveries behind, which a wake-up it had room for kept from them.
   */
  wakeOthers(): void;
  /**
   * Calls `onDue` on every wake-up, local or from another process; resolves to unsubscribe.
   * `hasRoom` (a worker's): true while a wake-up of this process would be claimed by this
   * subscriber, so other processes need no NOTIFY for it (see `createWaker`).
   */
  subscribe(onDue: () => void, options?: { hasRoom?: () => boolean }): Promise<() => Promise<void>>;
}

/**
 * The wake-up path of hot writes (new messages). A NOTIFY inside the writing transaction would
 * make every message commit take PostgreSQL's server-wide NOTIFY lock, serialising commits
 * across connections (measured: 5,246 → 4,237–4,420 commits/s on 32 connections). Instead the
 * local workers are called directly and other processes get one NOTIFY per `minGapMs` at most,
 * sent after the commit. A crash between the commit and the NOTIFY delays other processes'
 * wake-up to their poll, and loses nothing.
 *
 * No NOTIFY at all while a local worker has room (`hasRoom`): it claims what the wake-up is
 * about, and a worker elsewhere could not claim more (the per-endpoint caps and rate limits
 * count every worker's leases). Other processes are told once this process's workers are full,
 * or when it has none (`HOOKLINE_ROLE=api`), and when a claim fills the worker and leaves rows
 * behind (`wakeOthers`: a burst larger than the room it had). A single `all` process thus sends
 * none while its worker keeps up; under maximum intake the NOTIFYs (one every few milliseconds,
 * each a statement, a signal to every listening backend and a message back to each listener)
 * cost about 5 % of accepted messages/s.
 */
export function createWaker(db: Sql, options: { minGapMs?: number } = {}): Waker {
  const minGapMs = options.minGapMs ?? 5;
  const local = new Map<() => void, (() => boolean) | undefined>();
  let sending = false;
  let pending = false;

  async function send(): Promise<void> {
    sending = true;
    try {
      while (pending) {
        pending = false;
        const started = Date.now();
        try {
          await notifyDeliveriesDue(db);
        } catch {
          // Best effort: other workers still poll. The database's own failure shows elsewhere.
        }
        const rest = minGapMs - (Date.now() - started);
        if (rest > 0) await new Promise<void>((done) => setTimeout(done, rest).unref());
      }
    } finally {
      sending = false;
    }
  }

  function tellOthers(): void {
    pending = true;
    if (!sending) void send();
  }

  return {
    wake() {
      let claimedHere = false;
      for (const [onDue, hasRoom] of local) {
        onDue();
        if (hasRoom?.()) claimedHere = true;
      }
      if (!claimedHere) tellOthers();
    },
    wakeOthers: tellOthers,
    async subscribe(onDue, subscribeOptions = {}) {
      local.set(onDue, subscribeOptions.hasRoom);
      try {
        const unlisten = await db.listen(DELIVERIES_DUE_CHANNEL, () => onDue());
        return async () => {
          local.delete(onDue);
          await unlisten();
        };
      } catch (error) {
        local.delete(onDue);
        throw error;
      }
    },
  };
}

/** Event types, tenant alert channels, API keys and portal tokens: the small tables. */
import { newId } from '../domain/ids';
import { pageLimit, type StorageContext, toDate, toDateOrNull, toPage, whereAll } from './common';
import { join, json, type SqlFragment, sql } from './sql';
import type {
  AlertChannels,
  ApiKey,
  EventType,
  EventTypeFilter,
  EventTypePatch,
  NewApiKey,
  NewEventType,
  NewPortalToken,
  Page,
  PortalToken,
} from './types';

// ---------------------------------------------------------------------------------------------
// Event types

type EventTypeRow = {
  name: string;
  description: string;
  schema: Record<string, unknown> | null;
  example: Record<string, unknown> | null;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

const EVENT_TYPE_COLUMNS = sql`name, description, schema, example, archived_at, created_at, updated_at`;

function mapEventType(row: EventTypeRow): EventType {
  return {
    name: row.name,
    description: row.description,
    schema: row.schema,
    example: row.example,
    archivedAt: toDateOrNull(row.archived_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

// Event types are keyed by name, so the cursor is (created_at, name), opaque to callers.
function eventTypeCursor(row: EventTypeRow): string {
  return Buffer.from(JSON.stringify([toDate(row.created_at).toISOString(), row.name])).toString(
    'base64url',
  );
}

function parseEventTypeCursor(cursor: string): { createdAt: Date; name: string } | null {
  try {
    const [at, name] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const createdAt = new Date(String(at));
    if (typeof name !== 'string' || Number.isNaN(createdAt.getTime())) return null;
    return { createdAt, name };
  } catch {
    return null;
  }
}

/** Adds a catalog entry; null when the name is taken. */
export async function createEventType(
  ctx: StorageContext,
  input: NewEventType,
): Promise<EventType | null> {
  const [row] = await ctx.sql.query<EventTypeRow>(sql`
    insert into event_types (name, description, schema, example)
    values (${input.name}, ${input.description ?? ''},
      ${input.schema == null ? sql`null` : json(input.schema)},
      ${input.example == null ? sql`null` : json(input.example)})
    on conflict (name) do nothing
    returning ${EVENT_TYPE_COLUMNS}`);
  return row ? mapEventType(row) : null;
}

/** One catalog entry (archived too), or null. */
export async function getEventType(ctx: StorageContext, name: string): Promise<EventType | null> {
  const [row] = await ctx.sql.query<EventTypeRow>(
    sql`select ${EVENT_TYPE_COLUMNS} from event_types where name = ${name}`,
  );
  return row ? mapEventType(row) : null;
}

/** Catalog entries newest first; archived ones only when asked. */
export async function listEventTypes(
  ctx: StorageContext,
  filter: EventTypeFilter = {},
): Promise<Page<EventType>> {
  const limit = pageLimit(filter.limit);
  const after = filter.cursor ? parseEventTypeCursor(filter.cursor) : null;
  const rows = await ctx.sql.query<EventTypeRow>(sql`
    select ${EVENT_TYPE_COLUMNS} from event_types
    ${whereAll([
      !filter.includeArchived && sql`archived_at is null`,
      after !== null &&
        sql`(created_at, name) < (${after.createdAt}::timestamptz, ${after.name}::text)`,
    ])}
    order by created_at desc, name desc
    limit ${limit + 1}`);
  return toPage(rows, limit, mapEventType, eventTypeCursor);
}

/** Changes the given fields; `archived` archives or restores. Null when not found. */
export async function updateEventType(
  ctx: StorageContext,
  name: string,
  patch: EventTypePatch,
): Promise<EventType | null> {
  const sets: SqlFragment[] = [sql`updated_at = now()`];
  if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`);
  if (patch.schema !== undefined) {
    sets.push(sql`schema = ${patch.schema === null ? sql`null` : json(patch.schema)}`);
  }
  if (patch.example !== undefined) {
    sets.push(sql`example = ${patch.example === null ? sql`null` : json(patch.example)}`);
  }
  if (patch.archived !== undefined) {
    sets.push(
      patch.archived ? sql`archived_at = coalesce(archived_at, now())` : sql`archived_at = null`,
    );
  }
  const [row] = await ctx.sql.query<EventTypeRow>(sql`
    update event_types set ${join(sets)} where name = ${name} returning ${EVENT_TYPE_COLUMNS}`);
  return row ? mapEventType(row) : null;
}

/** Archives an entry (`DELETE /v1/event-types/{name}`): kept for history, hidden from lists. */
export async function archiveEventType(ctx: StorageContext, name: string): Promise<boolean> {
  return (await updateEventType(ctx, name, { archived: true })) !== null;
}

// ---------------------------------------------------------------------------------------------
// Tenant alert channels

type AlertChannelRow = {
  emails: string[];
  slack_webhook_url: string | null;
  slack_webhook_url_ciphertext: Uint8Array | null;
  updated_at: Date;
};

/**
 * The Slack URL of a row: the ciphertext since schema 5, else a plain value stored before it
 * (until `secrets reencrypt` or the next PUT encrypts it).
 */
function slackUrlOf(ctx: StorageContext, row: AlertChannelRow | undefined): string | null {
  if (!row) return null;
  if (row.slack_webhook_url_ciphertext != null) {
    return ctx.cipher.decrypt(row.slack_webhook_url_ciphertext);
  }
  return row.slack_webhook_url;
}

/** A tenant's alert channels (empty when never set). */
export async function getAlertChannels(
  ctx: StorageContext,
  tenantId: string,
): Promise<AlertChannels> {
  const [row] = await ctx.sql.query<AlertChannelRow>(sql`
    select emails, slack_webhook_url, slack_webhook_url_ciphertext, updated_at
    from tenant_alert_channels
    where tenant_id = ${tenantId}`);
  return {
    tenantId,
    emails: row?.emails ?? [],
    slackWebhookUrl: slackUrlOf(ctx, row),
    updatedAt: row ? toDate(row.updated_at) : null,
  };
}

/**
 * Replaces a tenant's alert channels (PUT semantics: absent = cleared). The Slack URL is a bearer
 * credential: stored encrypted, like endpoint secrets.
 */
export async function putAlertChannels(
  ctx: StorageContext,
  tenantId: string,
  channels: { emails?: string[]; slackWebhookUrl?: string | null },
): Promise<AlertChannels> {
  const slackUrl = channels.slackWebhookUrl ?? null;
  const ciphertext = slackUrl === null ? null : ctx.cipher.encrypt(slackUrl);
  const [row] = await ctx.sql.query<AlertChannelRow>(sql`
    insert into tenant_alert_channels (tenant_id, emails, slack_webhook_url,
      slack_webhook_url_ciphertext, updated_at)
    values (${tenantId}, ${channels.emails ?? []}::text[], null, ${ciphertext}::bytea, now())
    on conflict (tenant_id) do update set emails = excluded.emails,
      slack_webhook_url = null,
      slack_webhook_url_ciphertext = excluded.slack_webhook_url_ciphertext,
      updated_at = excluded.updated_at
    returning emails, slack_webhook_url, slack_webhook_url_ciphertext, updated_at`);
  return {
    tenantId,
    emails: row!.emails,
    slackWebhookUrl: slackUrl,
    updatedAt: toDate(row!.updated_at),
  };
}

// ---------------------------------------------------------------------------------------------
// API keys

type ApiKeyRow = {
  id: string;
  name: string;
  key_hint: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const API_KEY_COLUMNS = sql`id, name, key_hint, created_at, last_used_at, revoked_at`;

function mapApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    keyHint: row.key_hint,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    revokedAt: toDateOrNull(row.revoked_at),
  };
}

/** Stores a key's hash; an existing identical hash is returned as is (idempotent bootstrap). */
export async function createApiKey(ctx: StorageContext, input: NewApiKey): Promise<ApiKey> {
  const [row] = await ctx.sql.query<ApiKeyRow>(sql`
    insert into api_keys (id, name, key_hash, key_hint)
    values (${newId('key')}, ${input.name ?? ''}, ${input.keyHash}, ${input.keyHint ?? ''})
    on conflict (key_hash) do update set key_hash = excluded.key_hash
    returning ${API_KEY_COLUMNS}`);
  return mapApiKey(row!);
}

/** The unrevoked key with this hash, or null. */
export async function findApiKeyByHash(
  ctx: StorageContext,
  keyHash: string,
): Promise<ApiKey | null> {
  const [row] = await ctx.sql.query<ApiKeyRow>(sql`
    select ${API_KEY_COLUMNS} from api_keys where key_hash = ${keyHash} and revoked_at is null`);
  return row ? mapApiKey(row) : null;
}

/** Notes that a key was used (call sparingly, e.g. once a minute per key). */
export async function touchApiKey(ctx: StorageContext, id: string): Promise<void> {
  await ctx.sql.query(sql`update api_keys set last_used_at = now() where id = ${id}`);
}

/** Revokes a key; false when it does not exist or was already revoked. */
export async function revokeApiKey(ctx: StorageContext, id: string): Promise<boolean> {
  const rows = await ctx.sql.query(sql`
    update api_keys set revoked_at = now() where id = ${id} and revoked_at is null returning id`);
  return rows.length > 0;
}

/** Every API key, newest first (revoked ones included, marked). */
export async function listApiKeys(ctx: StorageContext): Promise<ApiKey[]> {
  const rows = await ctx.sql.query<ApiKeyRow>(
    sql`select ${API_KEY_COLUMNS} from api_keys order by id desc`,
  );
  return rows.map(mapApiKey);
}

// ---------------------------------------------------------------------------------------------
// Portal tokens

type PortalTokenRow = {
  id: string;
  tenant_id: string;
  endpoint_id: string | null;
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Date;
};

const PORTAL_TOKEN_COLUMNS = sql`id, tenant_id, endpoint_id, expires_at, revoked_at, created_at`;

function mapPortalToken(row: PortalTokenRow): PortalToken {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    endpointId: row.endpoint_id,
    expiresAt: toDate(row.expires_at),
    revokedAt: toDateOrNull(row.revoked_at),
    createdAt: toDate(row.created_at),
  };
}

/** Stores a portal token's hash and grant. */
export async function createPortalToken(
  ctx: StorageContext,
  input: NewPortalToken,
): Promise<PortalToken> {
  const [row] = await ctx.sql.query<PortalTokenRow>(sql`
    insert into portal_tokens (id, token_hash, tenant_id, endpoint_id, expires_at)
    values (${newId('pt')}, ${input.tokenHash}, ${input.tenantId}, ${input.endpointId ?? null}::text,
      ${input.expiresAt}::timestamptz)
    returning ${PORTAL_TOKEN_COLUMNS}`);
  return mapPortalToken(row!);
}

/** The token with this hash if it is unrevoked and unexpired at `now`, else null. */
export async function findValidPortalToken(
  ctx: StorageContext,
  tokenHash: string,
  now: Date = new Date(),
): Promise<PortalToken | null> {
  const [row] = await ctx.sql.query<PortalTokenRow>(sql`
    select ${PORTAL_TOKEN_COLUMNS} from portal_tokens
    where token_hash = ${tokenHash} and revoked_at is null and expires_at > ${now}::timestamptz`);
  return row ? mapPortalToken(row) : null;
}

/** Revokes every live token of a tenant (e.g. when it leaves); how many were revoked. */
export async function revokeTenantPortalTokens(
  ctx: StorageContext,
  tenantId: string,
): Promise<number> {
  const rows = await ctx.sql.query(sql`
    update portal_tokens set revoked_at = now()
    where tenant_id = ${tenantId} and revoked_at is null and expires_at > now()
    returning id`);
  return rows.length;
}

/** Revokes a token by id; false when it does not exist or was already revoked. */
export async function revokePortalToken(ctx: StorageContext, id: string): Promise<boolean> {
  const rows = await ctx.sql.query(sql`
    update portal_tokens set revoked_at = now() where id = ${id} and revoked_at is null
    returning id`);
  return rows.length > 0;
}

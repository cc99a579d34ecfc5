import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../storage/store';
import type { Scope } from '../storage/types';
import { GatewayError } from './errors';

/** Prefix of operator API keys. */
export const API_KEY_PREFIX = 'hl_sk_';
/** Prefix of portal tokens. */
export const PORTAL_TOKEN_PREFIX = 'hl_pt_';

/** Who is calling: an operator API key (any tenant) or a portal token (one tenant, maybe one endpoint). */
export type Principal =
  | { kind: 'api_key'; keyId: string | null }
  | { kind: 'portal'; tokenId: string; scope: Scope };

/** The SHA-256 of a token as lowercase hex: the only form in which keys and tokens are stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new portal token: `hl_pt_` + 32 random bytes, base64url. */
export function generatePortalToken(): string {
  return `${PORTAL_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** A new operator API key: `hl_sk_` + 32 random bytes, base64url (for main.ts and the CLI). */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What authentication needs. */
export interface AuthDeps {
  store: Pick<Store, 'apiKeys' | 'portalTokens'>;
  /** sha256 hex of keys accepted besides those in the api_keys table (HOOKLINE_API_KEY). */
  adminKeyHashes: ReadonlySet<string>;
  now: () => Date;
}

// `last_used_at` is informational: one write per key per minute is plenty.
const TOUCH_INTERVAL_MS = 60_000;
const lastTouched = new WeakMap<object, Map<string, number>>();

function unauthorized(message: string): GatewayError {
  return new GatewayError('unauthorized', message);
}

// Bearer token syntax (RFC 6750 b64token); anything else is not worth a database lookup.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The principal behind an `Authorization` header. Throws `unauthorized` for a missing or
 * malformed header, an unknown or revoked API key, and an unknown, revoked or expired portal
 * token — all with the same kind of message, so nothing tells which tokens exist.
 */
export async function authenticate(
  deps: AuthDeps,
  authorization: string | undefined,
): Promise<Principal> {
  if (!authorization) {
    throw unauthorized(
      'Missing credentials: send Authorization: Bearer <API key or portal token>.',
    );
  }
  const token = BEARER.exec(authorization)?.[1];
  if (!token) throw unauthorized('The Authorization header must be "Bearer <token>".');
  if (token.startsWith(API_KEY_PREFIX)) {
    const hash = hashToken(token);
    if (deps.adminKeyHashes.has(hash)) return { kind: 'api_key', keyId: null };
    const key = await deps.store.apiKeys.findByHash(hash);
    if (!key) throw unauthorized('The API key is not valid.');
    await touch(deps, key.id);
    return { kind: 'api_key', keyId: key.id };
  }
  if (token.startsWith(PORTAL_TOKEN_PREFIX)) {
    const found = await deps.store.portalTokens.findValidByHash(hashToken(token), deps.now());
    if (!found) throw unauthorized('The portal token is not valid or has expired.');
    return {
      kind: 'portal',
      tokenId: found.id,
      scope: { tenantId: found.tenantId, endpointId: found.endpointId },
    };
  }
  throw unauthorized(
    'The bearer token is neither an API key (hl_sk_…) nor a portal token (hl_pt_…).',
  );
}

async function touch(deps: AuthDeps, keyId: string): Promise<void> {
  let seen = lastTouched.get(deps.store.apiKeys);
  if (!seen) {
    seen = new Map();
    lastTouched.set(deps.store.apiKeys, seen);
  }
  const now = Date.now();
  if (now - (seen.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return;
  seen.set(keyId, now);
  // Bookkeeping only: a failure here must not fail the request.
  await deps.store.apiKeys.touch(keyId).catch(() => {});
}

/** The storage scope of a principal: none for an API key, the token's grant for a portal token. */
export function scopeOf(principal: Principal): Scope | undefined {
  return principal.kind === 'portal' ? principal.scope : undefined;
}

/**
 * Refuses a tenant the principal cannot act on. A portal token naming another tenant gets 404,
 * exactly as if nothing existed there (API.md: never 403, so ids do not leak).
 */
export function assertTenantAccess(principal: Principal, tenantId: string): void {
  if (principal.kind === 'portal' && principal.scope.tenantId !== tenantId) {
    throw new GatewayError('not_found', 'No such tenant.');
  }
}

import { generatePortalToken, hashToken, type Principal } from './auth';
import type { DomainDeps } from './deps';
import { GatewayError, notFound } from './errors';

/** A minted portal link: the token is shown only here (it is stored hashed). */
export interface PortalLink {
  url: string;
  token: string;
  expiresAt: Date;
}

/**
 * Revokes a portal token at once: every later call with it answers 401. Operator API keys only.
 * False when the token is unknown, already revoked or expired (nothing left to revoke). API.md
 * defines no route for this yet; it is the seam for one (and for the CLI).
 */
export async function revokePortalToken(
  deps: Pick<DomainDeps, 'store' | 'now'>,
  principal: Principal,
  token: string,
): Promise<boolean> {
  if (principal.kind !== 'api_key') {
    throw new GatewayError('unauthorized', 'Only an operator API key can revoke portal tokens.');
  }
  const found = await deps.store.portalTokens.findValidByHash(hashToken(token), deps.now());
  if (!found) return false;
  return deps.store.portalTokens.revoke(found.id);
}

/**
 * Mints a portal token for one tenant (optionally one of its endpoints) and the link that opens
 * the hosted portal with it. The token travels in the URL fragment, which browsers never send
 * to servers or put in Referer headers.
 */
export async function createPortalLink(
  deps: DomainDeps,
  principal: Principal,
  input: { tenantId: string; endpointId?: string; expiresInSeconds: number },
): Promise<PortalLink> {
  if (principal.kind !== 'api_key') {
    throw new GatewayError('unauthorized', 'Only an operator API key can mint portal links.');
  }
  if (input.endpointId !== undefined) {
    const endpoint = await deps.store.endpoints.get(input.endpointId, {
      tenantId: input.tenantId,
    });
    if (!endpoint) throw notFound('endpoint');
  }
  const token = generatePortalToken();
  const expiresAt = new Date(deps.now().getTime() + input.expiresInSeconds * 1000);
  await deps.store.portalTokens.create({
    tokenHash: hashToken(token),
    tenantId: input.tenantId,
    endpointId: input.endpointId ?? null,
    expiresAt,
  });
  const base = deps.publicUrl.replace(/\/+$/, '');
  // The fragment also names the tenant (and endpoint): the page needs the tenant id to create
  // endpoints for a tenant that has none yet, and a fragment never reaches a server.
  const fragment = new URLSearchParams({ token, tenant_id: input.tenantId });
  if (input.endpointId !== undefined) fragment.set('endpoint_id', input.endpointId);
  return { url: `${base}/portal#${fragment}`, token, expiresAt };
}

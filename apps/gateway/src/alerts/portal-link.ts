/**
 * The portal link of an alert email: a fresh portal token for the tenant, bound to the endpoint
 * the alert is about, with a bounded lifetime. A link is a credential: it is mailed, never logged.
 */
import { generatePortalToken, hashToken } from '../domain/auth';
import type { Store } from '../storage/store';

/** How long an alert email's portal link works (API.md's longest portal link: 7 days). */
export const ALERT_PORTAL_LINK_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** A minted link and the token row behind it (to revoke it when the email was not sent). */
export interface AlertPortalLink {
  url: string;
  expiresAt: Date;
  tokenId: string;
}

/**
 * Mints a portal token for the tenant, bound to one endpoint, and the hosted portal's link with
 * it in the fragment (`/portal#token=…&tenant_id=…&endpoint_id=…`, as `POST /v1/portal/links`
 * makes). Null when the endpoint no longer exists (there is nothing to replay from).
 */
export async function mintAlertPortalLink(
  store: Pick<Store, 'endpoints' | 'portalTokens'>,
  input: { tenantId: string; endpointId: string; publicUrl: string; ttlMs?: number; now?: Date },
): Promise<AlertPortalLink | null> {
  const endpoint = await store.endpoints.get(input.endpointId, { tenantId: input.tenantId });
  if (!endpoint) return null;
  const token = generatePortalToken();
  const expiresAt = new Date(
    (input.now ?? new Date()).getTime() + (input.ttlMs ?? ALERT_PORTAL_LINK_TTL_MS),
  );
  const created = await store.portalTokens.create({
    tokenHash: hashToken(token),
    tenantId: input.tenantId,
    endpointId: input.endpointId,
    expiresAt,
  });
  const fragment = new URLSearchParams({
    token,
    tenant_id: input.tenantId,
    endpoint_id: input.endpointId,
  });
  return {
    url: `${input.publicUrl.replace(/\/+$/, '')}/portal#${fragment}`,
    expiresAt,
    tokenId: created.id,
  };
}

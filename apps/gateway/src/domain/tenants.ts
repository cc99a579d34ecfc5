import type { AlertChannels } from '../storage/types';
import { assertTenantAccess, type Principal } from './auth';
import type { DomainDeps } from './deps';
import { assertUrlAllowed } from './url-check';

/** A tenant's alert channels (empty when never set). A portal token reads only its own tenant's. */
export async function getAlertChannels(
  deps: DomainDeps,
  principal: Principal,
  tenantId: string,
): Promise<AlertChannels> {
  assertTenantAccess(principal, tenantId);
  return deps.store.alertChannels.get(tenantId);
}

/**
 * Replaces a tenant's alert channels (absent or null clears a channel). The Slack URL follows the
 * endpoint URL policy. A portal token may manage its own tenant's, whether or not it is bound to
 * one endpoint (API.md: "A portal token may manage its own tenant's").
 */
export async function putAlertChannels(
  deps: DomainDeps,
  principal: Principal,
  tenantId: string,
  channels: { emails?: string[]; slackWebhookUrl?: string | null },
): Promise<AlertChannels> {
  assertTenantAccess(principal, tenantId);
  if (channels.slackWebhookUrl != null) {
    await assertUrlAllowed(deps, channels.slackWebhookUrl, 'slack_webhook_url');
  }
  return deps.store.alertChannels.put(tenantId, {
    emails: channels.emails ?? [],
    slackWebhookUrl: channels.slackWebhookUrl ?? null,
  });
}

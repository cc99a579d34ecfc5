import { z } from 'zod';
import { httpUrlSchema, tenantIdSchema, unlessMissing } from './primitives';

/** Most alert email addresses per tenant. */
export const MAX_ALERT_EMAILS = 20;

/**
 * `PUT /v1/tenants/{tenant_id}/alert-channels` body. A PUT replaces: an absent or null
 * channel is cleared. The Slack URL's scheme and address follow the endpoint URL policy.
 */
export const alertChannelsPutRequestSchema = z.strictObject({
  emails: z
    .array(
      z
        .email({ error: unlessMissing('must be an email address') })
        .max(254, { error: 'must be at most 254 characters' }),
    )
    .max(MAX_ALERT_EMAILS, { error: `must have at most ${MAX_ALERT_EMAILS} addresses` })
    .optional(),
  slack_webhook_url: httpUrlSchema
    .nullable()
    .optional()
    .meta({ description: 'A Slack-compatible incoming webhook URL.' }),
});
/** Alert channels body. */
export type AlertChannelsPutRequest = z.input<typeof alertChannelsPutRequestSchema>;

/** Where a tenant's `delivery.dead` and `endpoint.disabled` alerts go. */
export const alertChannelsSchema = z.object({
  tenant_id: tenantIdSchema,
  emails: z.array(z.string()),
  slack_webhook_url: z.string().nullable(),
});
/** A tenant's alert channels. */
export type AlertChannels = z.infer<typeof alertChannelsSchema>;

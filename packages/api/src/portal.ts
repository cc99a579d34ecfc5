import { z } from 'zod';
import { endpointIdSchema, tenantIdSchema, timestampSchema } from './primitives';

/** Portal link lifetime bounds and default, in seconds. */
export const PORTAL_LINK_EXPIRY = { min: 60, max: 604_800, default: 3600 } as const;

/** `POST /v1/portal/links` body. */
export const portalLinkCreateRequestSchema = z.strictObject({
  tenant_id: tenantIdSchema,
  endpoint_id: endpointIdSchema
    .optional()
    .meta({ description: 'Scope the token to this one endpoint of the tenant.' }),
  expires_in_seconds: z
    .number()
    .int({ error: 'must be a whole number of seconds' })
    .min(PORTAL_LINK_EXPIRY.min, {
      error: `must be between ${PORTAL_LINK_EXPIRY.min} and ${PORTAL_LINK_EXPIRY.max}`,
    })
    .max(PORTAL_LINK_EXPIRY.max, {
      error: `must be between ${PORTAL_LINK_EXPIRY.min} and ${PORTAL_LINK_EXPIRY.max}`,
    })
    .default(PORTAL_LINK_EXPIRY.default),
});
/** Portal link body as a client sends it. */
export type PortalLinkCreateRequest = z.input<typeof portalLinkCreateRequestSchema>;
/** Portal link body after validation (expiry defaulted). */
export type ParsedPortalLinkCreateRequest = z.output<typeof portalLinkCreateRequestSchema>;

/** `POST /v1/portal/links` answer (201). */
export const portalLinkSchema = z.object({
  url: z.string().meta({ format: 'uri', description: 'Opens the hosted portal for the tenant.' }),
  token: z.string().meta({ description: 'The hl_pt_ portal token.' }),
  expires_at: timestampSchema,
});
/** Portal link answer. */
export type PortalLink = z.infer<typeof portalLinkSchema>;

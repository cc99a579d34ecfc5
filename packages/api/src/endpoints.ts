import { z } from 'zod';
import { listQuerySchema, listResponseSchema } from './common';
import {
  customHeadersSchema,
  endpointDisabledReasonSchema,
  endpointIdSchema,
  endpointStatusSchema,
  eventTypeNameSchema,
  healthSchema,
  httpUrlSchema,
  importedSecretSchema,
  jsonObjectSchema,
  metadataSchema,
  rateLimitPerMinuteSchema,
  retryScheduleSchema,
  signingSchema,
  tenantIdSchema,
  timestampSchema,
} from './primitives';

/** Longest endpoint or event type description. */
export const MAX_DESCRIPTION_LENGTH = 1024;
/** Most event types one endpoint can filter on. */
export const MAX_ENDPOINT_EVENT_TYPES = 250;

/** Rotation grace period bounds and default, in seconds. */
export const ROTATION_GRACE_PERIOD = { min: 0, max: 172_800, default: 86_400 } as const;

const descriptionSchema = z.string().max(MAX_DESCRIPTION_LENGTH, {
  error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters`,
});

/** An endpoint's event filter: empty = every event type. Duplicates are rejected. */
export const endpointEventTypesSchema = z
  .array(eventTypeNameSchema)
  .max(MAX_ENDPOINT_EVENT_TYPES, {
    error: `must have at most ${MAX_ENDPOINT_EVENT_TYPES} event types`,
  })
  .superRefine((names, ctx) => {
    const seen = new Set<string>();
    names.forEach((name, index) => {
      if (seen.has(name)) {
        ctx.addIssue({ code: 'custom', path: [index], message: 'is listed twice' });
      }
      seen.add(name);
    });
  })
  .meta({ description: 'Event types delivered to this endpoint; empty or absent = all.' });

// Fields that create and patch share, without defaults (a patch must not reset anything).
const mutableEndpointFields = {
  url: httpUrlSchema,
  description: descriptionSchema,
  event_types: endpointEventTypesSchema,
  status: endpointStatusSchema,
  rate_limit_per_minute: rateLimitPerMinuteSchema.meta({
    description: 'Deliveries per minute; null = unlimited.',
  }),
  retry_schedule: retryScheduleSchema.nullable().meta({
    description: 'Delays in seconds before each retry; null = the gateway-wide default schedule.',
  }),
  headers: customHeadersSchema,
  metadata: metadataSchema,
};

/** `POST /v1/endpoints` body. URL scheme and address policy are checked by the gateway. */
export const endpointCreateRequestSchema = z
  .strictObject({
    tenant_id: tenantIdSchema,
    url: mutableEndpointFields.url,
    description: mutableEndpointFields.description.optional(),
    event_types: mutableEndpointFields.event_types.optional(),
    status: mutableEndpointFields.status.default('active'),
    rate_limit_per_minute: mutableEndpointFields.rate_limit_per_minute.optional(),
    retry_schedule: mutableEndpointFields.retry_schedule.optional(),
    headers: mutableEndpointFields.headers.optional(),
    metadata: mutableEndpointFields.metadata.optional(),
    secret: importedSecretSchema.optional().meta({
      description: 'A secret to import instead of generating one (whsec_ or, for ed25519, whsk_).',
    }),
    signing: signingSchema.default('hmac'),
  })
  .superRefine((body, ctx) => {
    if (body.secret === undefined) return;
    const isEd25519Key = body.secret.startsWith('whsk_');
    if (isEd25519Key !== (body.signing === 'ed25519')) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message:
          body.signing === 'ed25519'
            ? 'must be a whsk_ key when signing is ed25519'
            : 'must be a whsec_ secret when signing is hmac',
      });
    }
  });
/** `POST /v1/endpoints` body as a client sends it. */
export type EndpointCreateRequest = z.input<typeof endpointCreateRequestSchema>;
/** `POST /v1/endpoints` body after validation (defaults applied). */
export type ParsedEndpointCreateRequest = z.output<typeof endpointCreateRequestSchema>;

/** `PATCH /v1/endpoints/{id}` body: any subset of the mutable fields. */
export const endpointPatchRequestSchema = z.strictObject({
  url: mutableEndpointFields.url.optional(),
  description: mutableEndpointFields.description.optional(),
  event_types: mutableEndpointFields.event_types.optional(),
  status: mutableEndpointFields.status.optional(),
  rate_limit_per_minute: mutableEndpointFields.rate_limit_per_minute.optional(),
  retry_schedule: mutableEndpointFields.retry_schedule.optional(),
  headers: mutableEndpointFields.headers.optional(),
  metadata: mutableEndpointFields.metadata.optional(),
});
/** `PATCH /v1/endpoints/{id}` body as a client sends it. */
export type EndpointPatchRequest = z.input<typeof endpointPatchRequestSchema>;
/** `PATCH /v1/endpoints/{id}` body after validation. */
export type ParsedEndpointPatchRequest = z.output<typeof endpointPatchRequestSchema>;

/** `POST /v1/endpoints/{id}/rotate-secret` body (may be absent: treat as `{}`). */
export const endpointRotateSecretRequestSchema = z.strictObject({
  grace_period_seconds: z
    .number()
    .int({ error: 'must be a whole number of seconds' })
    .min(ROTATION_GRACE_PERIOD.min, {
      error: `must be between ${ROTATION_GRACE_PERIOD.min} and ${ROTATION_GRACE_PERIOD.max}`,
    })
    .max(ROTATION_GRACE_PERIOD.max, {
      error: `must be between ${ROTATION_GRACE_PERIOD.min} and ${ROTATION_GRACE_PERIOD.max}`,
    })
    .default(ROTATION_GRACE_PERIOD.default)
    .meta({ description: 'How long the previous secret keeps signing, in seconds.' }),
  secret: importedSecretSchema
    .optional()
    .meta({ description: 'The new secret to import; it must match the endpoint signing.' }),
});
/** Rotate-secret body as a client sends it. */
export type EndpointRotateSecretRequest = z.input<typeof endpointRotateSecretRequestSchema>;
/** Rotate-secret body after validation (grace period defaulted). */
export type ParsedEndpointRotateSecretRequest = z.output<typeof endpointRotateSecretRequestSchema>;

/** `POST /v1/endpoints/{id}/test` body (may be absent: treat as `{}`). */
export const endpointTestRequestSchema = z.strictObject({
  event_type: eventTypeNameSchema
    .optional()
    .meta({ description: 'Event type of the test event; the gateway picks one when absent.' }),
  payload: jsonObjectSchema
    .optional()
    .meta({ description: 'The test event data; the gateway sends a sample when absent.' }),
});
/** Test-event body. */
export type EndpointTestRequest = z.input<typeof endpointTestRequestSchema>;

/** `POST /v1/endpoints/{id}/recover` body. */
export const endpointRecoverRequestSchema = z.strictObject({
  since: timestampSchema.meta({
    description: 'Replays every failed or dead delivery of the endpoint created since then.',
  }),
});
/** Recover body. */
export type EndpointRecoverRequest = z.input<typeof endpointRecoverRequestSchema>;

/** `GET /v1/endpoints` query. */
export const endpointListQuerySchema = listQuerySchema.extend({
  tenant_id: tenantIdSchema.optional(),
  status: endpointStatusSchema.optional(),
});
/** Endpoint list query as a client sends it. */
export type EndpointListQuery = z.input<typeof endpointListQuerySchema>;
/** Endpoint list query after validation (limit defaulted). */
export type ParsedEndpointListQuery = z.output<typeof endpointListQuerySchema>;

/** The windows `GET /v1/endpoints/{id}/stats` can aggregate over. */
export const statsWindowSchema = z.enum(['1h', '24h', '7d', '30d']);
/** A stats window. */
export type StatsWindow = z.infer<typeof statsWindowSchema>;

/** `GET /v1/endpoints/{id}/stats` query. */
export const endpointStatsQuerySchema = z.strictObject({
  window: statsWindowSchema.default('24h'),
});
/** Stats query as a client sends it. */
export type EndpointStatsQuery = z.input<typeof endpointStatsQuerySchema>;
/** Stats query after validation (window defaulted). */
export type ParsedEndpointStatsQuery = z.output<typeof endpointStatsQuerySchema>;

/** `rotation` of an endpoint while a previous secret still signs. */
export const endpointRotationSchema = z.object({
  previous_secret_expires_at: timestampSchema,
});
/** A live rotation. */
export type EndpointRotation = z.infer<typeof endpointRotationSchema>;

/** The endpoint object: everything but the secret. */
export const endpointSchema = z.object({
  id: endpointIdSchema,
  tenant_id: tenantIdSchema,
  url: z.string().meta({ format: 'uri' }),
  description: z.string(),
  event_types: z.array(z.string()).meta({ description: 'Empty = all event types.' }),
  status: endpointStatusSchema,
  disabled_reason: endpointDisabledReasonSchema.nullable().meta({
    description:
      'Why the endpoint is disabled: manual (through the API), gone (it answered 410), failing (it failed every attempt for too long); null unless disabled.',
  }),
  rate_limit_per_minute: z.number().int().positive().nullable(),
  retry_schedule: z
    .array(z.number().int().nonnegative())
    .nullable()
    .meta({ description: 'null = the gateway-wide default schedule.' }),
  headers: z.record(z.string(), z.string()),
  metadata: z.record(z.string(), z.string()),
  signing: signingSchema,
  secret_hint: z
    .string()
    .meta({ description: 'The first 10 characters of the secret.', examples: ['whsec_abcd'] }),
  public_key: z
    .string()
    .nullable()
    .meta({ description: 'The whpk_ public key receivers verify with (ed25519 only).' }),
  rotation: endpointRotationSchema
    .nullable()
    .meta({ description: 'Set while a rotation is live and the previous secret still signs.' }),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});
/** The endpoint object. */
export type Endpoint = z.infer<typeof endpointSchema>;

/** `POST /v1/endpoints` answer: the endpoint with its `secret` (shown only here). */
export const endpointWithSecretSchema = endpointSchema.extend({
  secret: z.string().meta({ description: 'The signing secret (whsec_…, or whsk_… for ed25519).' }),
});
/** The endpoint object with its secret. */
export type EndpointWithSecret = z.infer<typeof endpointWithSecretSchema>;

/** `GET /v1/endpoints` answer. */
export const endpointListResponseSchema = listResponseSchema(endpointSchema);
/** `GET /v1/endpoints` answer. */
export type EndpointListResponse = z.infer<typeof endpointListResponseSchema>;

/** `POST /v1/endpoints/{id}/rotate-secret` answer. */
export const endpointRotateSecretResponseSchema = z.object({
  secret: z.string(),
  previous_secret_expires_at: timestampSchema,
  public_key: z
    .string()
    .nullable()
    .meta({ description: 'The new whpk_ public key (ed25519 only).' }),
});
/** Rotate-secret answer. */
export type EndpointRotateSecretResponse = z.infer<typeof endpointRotateSecretResponseSchema>;

/** `GET /v1/endpoints/{id}/stats` answer. */
export const endpointStatsSchema = z.object({
  window: statsWindowSchema,
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  dead: z.number().int().nonnegative(),
  success_rate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: 'succeeded / (succeeded + failed + dead), 0–1; null with none.' }),
  latency_ms_p50: z.number().nonnegative().nullable(),
  latency_ms_p95: z.number().nonnegative().nullable(),
  health: healthSchema,
});
/** Endpoint stats. */
export type EndpointStats = z.infer<typeof endpointStatsSchema>;

/** `POST /v1/endpoints/{id}/recover` answer (202). */
export const endpointRecoverResponseSchema = z.object({
  count: z.number().int().nonnegative().meta({ description: 'Deliveries queued for replay.' }),
});
/** Recover answer. */
export type EndpointRecoverResponse = z.infer<typeof endpointRecoverResponseSchema>;

import { z } from 'zod';
import { listQuerySchema, listResponseSchema } from './common';
import {
  endpointIdSchema,
  eventTypeNameSchema,
  jsonObjectSchema,
  messageIdSchema,
  tenantIdSchema,
  timestampSchema,
} from './primitives';

/** Largest accepted `Idempotency-Key` header value. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The `Idempotency-Key` request header of `POST /v1/messages`: visible ASCII, 1–255 chars. */
export const idempotencyKeySchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(MAX_IDEMPOTENCY_KEY_LENGTH, {
    error: `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
  })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be visible ASCII characters without spaces' });

/** Request headers `POST /v1/messages` reads (other headers are ignored, not rejected). */
export const messageCreateHeadersSchema = z.object({
  'idempotency-key': idempotencyKeySchema.optional().meta({
    description:
      'The same key with the same body within 24 h answers the first response again and sends nothing; with a different body it answers 409.',
  }),
});
/** `POST /v1/messages` headers. */
export type MessageCreateHeaders = z.input<typeof messageCreateHeadersSchema>;

/** `POST /v1/messages` body. The 256 KiB limit is enforced by the gateway on the raw bytes. */
export const messageCreateRequestSchema = z.strictObject({
  tenant_id: tenantIdSchema,
  event_type: eventTypeNameSchema,
  payload: jsonObjectSchema.meta({ description: 'The event data: a JSON object.' }),
  endpoint_id: endpointIdSchema
    .optional()
    .meta({ description: 'Deliver to this one endpoint only (it must belong to the tenant).' }),
});
/** `POST /v1/messages` body. */
export type MessageCreateRequest = z.input<typeof messageCreateRequestSchema>;

/** `GET /v1/messages` query. */
export const messageListQuerySchema = listQuerySchema.extend({
  tenant_id: tenantIdSchema.optional(),
  event_type: eventTypeNameSchema.optional(),
});
/** Message list query as a client sends it. */
export type MessageListQuery = z.input<typeof messageListQuerySchema>;
/** Message list query after validation (limit defaulted). */
export type ParsedMessageListQuery = z.output<typeof messageListQuerySchema>;

/** `POST /v1/messages` answer (202): the message and its deliveries are committed. */
export const messageAcceptedSchema = z.object({
  id: messageIdSchema,
  tenant_id: tenantIdSchema,
  event_type: z.string(),
  created_at: timestampSchema,
  delivery_count: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'Deliveries created by the fan-out (0 when no endpoint matched).' }),
});
/** `POST /v1/messages` answer. */
export type MessageAccepted = z.infer<typeof messageAcceptedSchema>;

/** The message object. */
export const messageSchema = z.object({
  id: messageIdSchema,
  tenant_id: tenantIdSchema,
  event_type: z.string(),
  payload: jsonObjectSchema,
  endpoint_id: endpointIdSchema
    .nullable()
    .meta({ description: 'The one endpoint it was sent to, or null for a fan-out.' }),
  created_at: timestampSchema,
});
/** The message object. */
export type Message = z.infer<typeof messageSchema>;

/** `GET /v1/messages` answer. */
export const messageListResponseSchema = listResponseSchema(messageSchema);
/** `GET /v1/messages` answer. */
export type MessageListResponse = z.infer<typeof messageListResponseSchema>;

import { z } from 'zod';
import { listQuerySchema, listResponseSchema } from './common';
import { MAX_DESCRIPTION_LENGTH } from './endpoints';
import { eventTypeNameSchema, jsonObjectSchema, timestampSchema } from './primitives';

const descriptionSchema = z.string().max(MAX_DESCRIPTION_LENGTH, {
  error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters`,
});
const payloadSchemaSchema = jsonObjectSchema.meta({
  description: 'A JSON Schema of the payload (documentation; payloads are not validated by it).',
});
const exampleSchema = jsonObjectSchema.meta({ description: 'An example payload.' });

/** `POST /v1/event-types` body. */
export const eventTypeCreateRequestSchema = z.strictObject({
  name: eventTypeNameSchema,
  description: descriptionSchema.optional(),
  schema: payloadSchemaSchema.optional(),
  example: exampleSchema.optional(),
});
/** `POST /v1/event-types` body. */
export type EventTypeCreateRequest = z.input<typeof eventTypeCreateRequestSchema>;

/** `PATCH /v1/event-types/{name}` body; `null` clears `schema` or `example`. */
export const eventTypePatchRequestSchema = z.strictObject({
  description: descriptionSchema.optional(),
  schema: payloadSchemaSchema.nullable().optional(),
  example: exampleSchema.nullable().optional(),
});
/** `PATCH /v1/event-types/{name}` body. */
export type EventTypePatchRequest = z.input<typeof eventTypePatchRequestSchema>;

/** `GET /v1/event-types` query. */
export const eventTypeListQuerySchema = listQuerySchema;
/** Event type list query as a client sends it. */
export type EventTypeListQuery = z.input<typeof eventTypeListQuerySchema>;
/** Event type list query after validation (limit defaulted). */
export type ParsedEventTypeListQuery = z.output<typeof eventTypeListQuerySchema>;

/** The event type object (a catalog entry). */
export const eventTypeSchema = z.object({
  name: z.string(),
  description: z.string(),
  schema: jsonObjectSchema.nullable(),
  example: jsonObjectSchema.nullable(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});
/** The event type object. */
export type EventType = z.infer<typeof eventTypeSchema>;

/** `GET /v1/event-types` answer. */
export const eventTypeListResponseSchema = listResponseSchema(eventTypeSchema);
/** `GET /v1/event-types` answer. */
export type EventTypeListResponse = z.infer<typeof eventTypeListResponseSchema>;

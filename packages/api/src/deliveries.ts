import { z } from 'zod';
import { listQuerySchema, listResponseSchema } from './common';
import {
  attemptIdSchema,
  attemptOutcomeSchema,
  attemptTriggerSchema,
  deliveryIdSchema,
  deliveryStatusSchema,
  endpointIdSchema,
  eventTypeNameSchema,
  messageIdSchema,
  tenantIdSchema,
  timestampSchema,
} from './primitives';

/** How much of a request and a response body an attempt keeps, in bytes. */
export const ATTEMPT_BODY_LIMITS = { requestBytes: 64 * 1024, responseBytes: 4 * 1024 } as const;

const attemptCore = {
  id: attemptIdSchema,
  delivery_id: deliveryIdSchema,
  attempt_number: z.number().int().positive().meta({ description: '1 for the first attempt.' }),
  trigger: attemptTriggerSchema,
  outcome: attemptOutcomeSchema,
  http_status: z
    .number()
    .int()
    .min(100)
    .max(599)
    .nullable()
    .meta({ description: 'null when no response was received.' }),
  latency_ms: z
    .number()
    .nonnegative()
    .nullable()
    .meta({ description: 'null when no request was sent (outcome blocked).' }),
  error: z
    .string()
    .nullable()
    .meta({ description: 'Why it failed without a response (timeout, DNS, TLS, blocked, …).' }),
  attempted_at: timestampSchema,
};

/** An attempt as listed in `last_attempt`: the outcome, without headers and bodies. */
export const attemptSummarySchema = z.object(attemptCore);
/** An attempt without headers and bodies. */
export type AttemptSummary = z.infer<typeof attemptSummarySchema>;

/** One HTTP request to the endpoint with its full outcome. */
export const attemptSchema = z.object({
  ...attemptCore,
  request_headers: z
    .record(z.string(), z.string())
    .meta({ description: 'Headers sent; never contains a secret.' }),
  request_body: z.string().meta({ description: 'The body sent, cut at 64 KiB.' }),
  request_body_truncated: z.boolean(),
  response_headers: z
    .record(z.string(), z.string())
    .nullable()
    .meta({ description: 'null when no response was received.' }),
  response_body: z
    .string()
    .nullable()
    .meta({ description: 'The body received, cut at 4 KiB; null when no response.' }),
  response_body_truncated: z.boolean(),
});
/** One HTTP request to the endpoint with its full outcome. */
export type Attempt = z.infer<typeof attemptSchema>;

/** The delivery object: one message × one endpoint. */
export const deliverySchema = z.object({
  id: deliveryIdSchema,
  message_id: messageIdSchema,
  endpoint_id: endpointIdSchema,
  tenant_id: tenantIdSchema,
  event_type: z.string(),
  status: deliveryStatusSchema.meta({
    description:
      'pending, succeeded, failed (will retry), dead (retries exhausted), held (endpoint paused), cancelled.',
  }),
  attempt_count: z.number().int().nonnegative(),
  next_attempt_at: timestampSchema
    .nullable()
    .meta({ description: 'When the next attempt is due; null when none is scheduled.' }),
  last_attempt: attemptSummarySchema.nullable(),
  test: z.boolean().meta({ description: 'true for a test event from /test.' }),
  created_at: timestampSchema,
});
/** The delivery object. */
export type Delivery = z.infer<typeof deliverySchema>;

/** `GET /v1/deliveries/{id}` answer: the delivery with every attempt, oldest first. */
export const deliveryWithAttemptsSchema = deliverySchema.extend({
  attempts: z.array(attemptSchema).meta({ description: 'Every attempt, oldest first.' }),
});
/** The delivery with its attempts. */
export type DeliveryWithAttempts = z.infer<typeof deliveryWithAttemptsSchema>;

/** `GET /v1/deliveries` query. */
export const deliveryListQuerySchema = listQuerySchema.extend({
  endpoint_id: endpointIdSchema.optional(),
  tenant_id: tenantIdSchema.optional(),
  message_id: messageIdSchema.optional(),
  status: deliveryStatusSchema.optional(),
  event_type: eventTypeNameSchema.optional(),
});
/** Delivery list query as a client sends it. */
export type DeliveryListQuery = z.input<typeof deliveryListQuerySchema>;
/** Delivery list query after validation (limit defaulted). */
export type ParsedDeliveryListQuery = z.output<typeof deliveryListQuerySchema>;

/** `POST /v1/deliveries/{id}/replay` body: none, or `{}`. */
export const deliveryReplayRequestSchema = z.strictObject({});
/** Replay body. */
export type DeliveryReplayRequest = z.input<typeof deliveryReplayRequestSchema>;

/** `GET /v1/deliveries` answer. */
export const deliveryListResponseSchema = listResponseSchema(deliverySchema);
/** `GET /v1/deliveries` answer. */
export type DeliveryListResponse = z.infer<typeof deliveryListResponseSchema>;

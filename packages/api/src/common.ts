import { z } from 'zod';
import {
  deliveryIdSchema,
  endpointIdSchema,
  eventTypeNameSchema,
  messageIdSchema,
  tenantIdSchema,
  unlessMissing,
} from './primitives';

/** Bounds and default of a list's `limit`. */
export const LIST_LIMITS = { min: 1, max: 250, default: 50 } as const;

/** Longest accepted `cursor` (cursors are opaque strings minted by the gateway). */
export const MAX_CURSOR_LENGTH = 512;

/** `limit` query parameter: 1–250, default 50 (query strings are coerced to numbers). */
export const limitSchema = z.coerce
  .number<number>({ error: unlessMissing('must be a whole number') })
  .int({ error: 'must be a whole number' })
  .min(LIST_LIMITS.min, { error: `must be between ${LIST_LIMITS.min} and ${LIST_LIMITS.max}` })
  .max(LIST_LIMITS.max, { error: `must be between ${LIST_LIMITS.min} and ${LIST_LIMITS.max}` })
  .default(LIST_LIMITS.default);

/** `cursor` query parameter: the `next_cursor` of the previous page. */
export const cursorSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(MAX_CURSOR_LENGTH, { error: `must be at most ${MAX_CURSOR_LENGTH} characters` });

/** The `limit` and `cursor` of every list query; extend it with a resource's filters. */
export const listQuerySchema = z.strictObject({
  limit: limitSchema,
  cursor: cursorSchema.optional(),
});
/** The `limit` and `cursor` of every list query, as a client sends them. */
export type ListQuery = z.input<typeof listQuerySchema>;

/** The list envelope `{data, next_cursor}` (newest first) around an item schema. */
export function listResponseSchema<Item extends z.ZodType>(item: Item) {
  return z.object({
    data: z.array(item),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` to get the next page; null on the last page.' }),
  });
}
/** The list envelope `{data, next_cursor}`. */
export type ListResponse<Item> = { data: Item[]; next_cursor: string | null };

/** One bad field of a 400: its wire path (`retry_schedule[2]`, `headers["Host"]`) and why. */
export const errorDetailSchema = z.object({
  path: z.string().meta({ description: 'Wire path of the field; empty for the whole input.' }),
  message: z.string(),
});
/** One bad field of a 400. */
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

/** Every error answer: `{error: {code, message, details?}}`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .meta({ examples: ['invalid_request', 'not_found', 'url_not_allowed'] }),
    message: z.string().meta({ description: 'A human sentence.' }),
    details: z.array(errorDetailSchema).optional(),
  }),
});
/** Every error answer. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Builds an error body (the gateway's `onError` and `formatZodError` both use it). */
export function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

/** Path `{id}` of `/v1/endpoints/{id}…`. */
export const endpointPathParamsSchema = z.strictObject({ id: endpointIdSchema });
/** Path `{id}` of `/v1/messages/{id}`. */
export const messagePathParamsSchema = z.strictObject({ id: messageIdSchema });
/** Path `{id}` of `/v1/deliveries/{id}…`. */
export const deliveryPathParamsSchema = z.strictObject({ id: deliveryIdSchema });
/** Path `{name}` of `/v1/event-types/{name}`. */
export const eventTypePathParamsSchema = z.strictObject({ name: eventTypeNameSchema });
/** Path `{tenant_id}` of `/v1/tenants/{tenant_id}/…`. */
export const tenantPathParamsSchema = z.strictObject({ tenant_id: tenantIdSchema });

/** Path params of the endpoint routes. */
export type EndpointPathParams = z.infer<typeof endpointPathParamsSchema>;
/** Path params of the message routes. */
export type MessagePathParams = z.infer<typeof messagePathParamsSchema>;
/** Path params of the delivery routes. */
export type DeliveryPathParams = z.infer<typeof deliveryPathParamsSchema>;
/** Path params of the event type routes. */
export type EventTypePathParams = z.infer<typeof eventTypePathParamsSchema>;
/** Path params of the tenant routes. */
export type TenantPathParams = z.infer<typeof tenantPathParamsSchema>;

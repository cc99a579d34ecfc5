import { z } from 'zod';

/** `GET /healthz` answer: the process is up. */
export const healthResponseSchema = z.object({ status: z.literal('ok') });
/** `GET /healthz` answer. */
export type HealthResponse = z.infer<typeof healthResponseSchema>;

/** `GET /readyz` answer (200): the database is reachable and migrated. A 503 is an error body. */
export const readinessResponseSchema = z.object({ status: z.literal('ready') });
/** `GET /readyz` answer. */
export type ReadinessResponse = z.infer<typeof readinessResponseSchema>;

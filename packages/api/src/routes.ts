import type { z } from 'zod';
import { alertChannelsPutRequestSchema, alertChannelsSchema } from './alert-channels';
import {
  deliveryPathParamsSchema,
  endpointPathParamsSchema,
  errorBodySchema,
  eventTypePathParamsSchema,
  messagePathParamsSchema,
  tenantPathParamsSchema,
} from './common';
import {
  attemptSchema,
  deliveryListQuerySchema,
  deliveryListResponseSchema,
  deliveryReplayRequestSchema,
  deliverySchema,
  deliveryWithAttemptsSchema,
} from './deliveries';
import {
  endpointCreateRequestSchema,
  endpointListQuerySchema,
  endpointListResponseSchema,
  endpointPatchRequestSchema,
  endpointRecoverRequestSchema,
  endpointRecoverResponseSchema,
  endpointRotateSecretRequestSchema,
  endpointRotateSecretResponseSchema,
  endpointSchema,
  endpointStatsQuerySchema,
  endpointStatsSchema,
  endpointTestRequestSchema,
  endpointWithSecretSchema,
} from './endpoints';
import {
  eventTypeCreateRequestSchema,
  eventTypeListQuerySchema,
  eventTypeListResponseSchema,
  eventTypePatchRequestSchema,
  eventTypeSchema,
} from './event-types';
import {
  messageAcceptedSchema,
  messageCreateHeadersSchema,
  messageCreateRequestSchema,
  messageListQuerySchema,
  messageListResponseSchema,
  messageSchema,
} from './messages';
import { healthResponseSchema, readinessResponseSchema } from './operations';
import { portalLinkCreateRequestSchema, portalLinkSchema } from './portal';

/** HTTP methods used by the API (lowercase, as OpenAPI path items spell them). */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route: nobody needs a token (`none`), only an operator API key (`api_key`,
 * `hl_sk_…`), or an API key or a portal token scoped to the tenant (`api_key_or_portal`).
 */
export type RouteAuth = 'none' | 'api_key' | 'api_key_or_portal';

/** A response header of a route. */
export interface RouteResponseHeader {
  description: string;
  schema: { type: 'integer' | 'string' };
}

/** One status a route may answer with. */
export interface RouteResponse {
  description: string;
  /** JSON body schema; absent for an empty body (204) or a non-JSON body. */
  schema?: z.ZodType;
  /** Media type of a non-JSON body, e.g. Prometheus text (with `schema` absent). */
  contentType?: string;
  headers?: Readonly<Record<string, RouteResponseHeader>>;
}

/** A request body of a route. */
export interface RouteBody {
  schema: z.ZodType;
  /** false: an absent body means `{}` (every field is optional). */
  required: boolean;
}

/** One route of API.md. Paths use OpenAPI templates (`/v1/endpoints/{id}`). */
export interface ApiRoute {
  operationId: string;
  method: HttpMethod;
  path: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers the route reads, names lowercase; other headers are ignored. */
  headers?: z.ZodObject;
  body?: RouteBody;
  responses: Readonly<Record<number, RouteResponse>>;
}

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input: `details` lists each bad field with its path.',
  401: 'Missing or bad credentials.',
  404: 'Not found, or outside the portal token’s scope.',
  409: 'Conflict.',
  413: 'Payload too large.',
  429: 'Rate limited.',
  503: 'Not ready (starting, shutting down), or the database is not answering: retry after `Retry-After` seconds when given.',
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

function errors(...statuses: ErrorStatus[]): Record<number, RouteResponse> {
  const out: Record<number, RouteResponse> = {};
  for (const status of statuses) {
    out[status] = { description: ERROR_DESCRIPTIONS[status], schema: errorBodySchema };
    if (status === 429 || status === 503) {
      out[status] = {
        ...out[status],
        headers: {
          'Retry-After': {
            description: 'Seconds to wait before trying again.',
            schema: { type: 'integer' },
          },
        },
      };
    }
  }
  return out;
}

function defineRoute<const Route extends ApiRoute>(route: Route): Route {
  return route;
}

const ok = <Schema extends z.ZodType>(description: string, schema: Schema) => ({
  description,
  schema,
});
const noContent = { description: 'Done; no body.' } as const;

/** Every route of API.md, keyed by operationId. */
export const apiRoutes = {
  createEndpoint: defineRoute({
    operationId: 'createEndpoint',
    method: 'post',
    path: '/v1/endpoints',
    summary: 'Create an endpoint; the answer holds its secret, shown only this once.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    body: { schema: endpointCreateRequestSchema, required: true },
    responses: {
      201: ok('The endpoint with its secret.', endpointWithSecretSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  listEndpoints: defineRoute({
    operationId: 'listEndpoints',
    method: 'get',
    path: '/v1/endpoints',
    summary: 'List endpoints, newest first.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    query: endpointListQuerySchema,
    responses: {
      200: ok('A page of endpoints.', endpointListResponseSchema),
      ...errors(400, 401, 429, 503),
    },
  }),
  getEndpoint: defineRoute({
    operationId: 'getEndpoint',
    method: 'get',
    path: '/v1/endpoints/{id}',
    summary: 'Get an endpoint (without its secret).',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    responses: { 200: ok('The endpoint.', endpointSchema), ...errors(401, 404, 429, 503) },
  }),
  updateEndpoint: defineRoute({
    operationId: 'updateEndpoint',
    method: 'patch',
    path: '/v1/endpoints/{id}',
    summary: 'Update an endpoint; resuming a paused endpoint delivers what was held.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    body: { schema: endpointPatchRequestSchema, required: true },
    responses: {
      200: ok('The updated endpoint.', endpointSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  deleteEndpoint: defineRoute({
    operationId: 'deleteEndpoint',
    method: 'delete',
    path: '/v1/endpoints/{id}',
    summary: 'Delete an endpoint with its deliveries and attempts, cancelling what is queued.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    responses: { 204: noContent, ...errors(401, 404, 429, 503) },
  }),
  rotateEndpointSecret: defineRoute({
    operationId: 'rotateEndpointSecret',
    method: 'post',
    path: '/v1/endpoints/{id}/rotate-secret',
    summary: 'Rotate the secret; both secrets sign until the previous one expires.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    body: { schema: endpointRotateSecretRequestSchema, required: false },
    responses: {
      200: ok('The new secret.', endpointRotateSecretResponseSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  testEndpoint: defineRoute({
    operationId: 'testEndpoint',
    method: 'post',
    path: '/v1/endpoints/{id}/test',
    summary: 'Send a test event once, now; answers the attempt whatever the endpoint answered.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    body: { schema: endpointTestRequestSchema, required: false },
    responses: { 200: ok('The attempt.', attemptSchema), ...errors(400, 401, 404, 429, 503) },
  }),
  getEndpointStats: defineRoute({
    operationId: 'getEndpointStats',
    method: 'get',
    path: '/v1/endpoints/{id}/stats',
    summary: 'Delivery counts, success rate, latency and health over a window.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    query: endpointStatsQuerySchema,
    responses: { 200: ok('The stats.', endpointStatsSchema), ...errors(400, 401, 404, 429, 503) },
  }),
  recoverEndpoint: defineRoute({
    operationId: 'recoverEndpoint',
    method: 'post',
    path: '/v1/endpoints/{id}/recover',
    summary: 'Replay every failed or dead delivery of the endpoint since a time.',
    tag: 'Endpoints',
    auth: 'api_key_or_portal',
    params: endpointPathParamsSchema,
    body: { schema: endpointRecoverRequestSchema, required: true },
    responses: {
      202: ok('How many deliveries were queued.', endpointRecoverResponseSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  createMessage: defineRoute({
    operationId: 'createMessage',
    method: 'post',
    path: '/v1/messages',
    summary: 'Send an event to a tenant’s matching endpoints; answers once it is committed.',
    tag: 'Messages',
    auth: 'api_key',
    headers: messageCreateHeadersSchema,
    body: { schema: messageCreateRequestSchema, required: true },
    responses: {
      202: ok('The message is accepted and its deliveries are queued.', messageAcceptedSchema),
      ...errors(400, 401, 404, 409, 413, 429, 503),
    },
  }),
  listMessages: defineRoute({
    operationId: 'listMessages',
    method: 'get',
    path: '/v1/messages',
    summary: 'List messages, newest first.',
    tag: 'Messages',
    auth: 'api_key',
    query: messageListQuerySchema,
    responses: {
      200: ok('A page of messages.', messageListResponseSchema),
      ...errors(400, 401, 429, 503),
    },
  }),
  getMessage: defineRoute({
    operationId: 'getMessage',
    method: 'get',
    path: '/v1/messages/{id}',
    summary: 'Get a message with its payload.',
    tag: 'Messages',
    auth: 'api_key',
    params: messagePathParamsSchema,
    responses: { 200: ok('The message.', messageSchema), ...errors(401, 404, 429, 503) },
  }),
  listDeliveries: defineRoute({
    operationId: 'listDeliveries',
    method: 'get',
    path: '/v1/deliveries',
    summary: 'List deliveries, newest first.',
    tag: 'Deliveries',
    auth: 'api_key_or_portal',
    query: deliveryListQuerySchema,
    responses: {
      200: ok('A page of deliveries.', deliveryListResponseSchema),
      ...errors(400, 401, 429, 503),
    },
  }),
  getDelivery: defineRoute({
    operationId: 'getDelivery',
    method: 'get',
    path: '/v1/deliveries/{id}',
    summary: 'Get a delivery with every attempt.',
    tag: 'Deliveries',
    auth: 'api_key_or_portal',
    params: deliveryPathParamsSchema,
    responses: {
      200: ok('The delivery with its attempts.', deliveryWithAttemptsSchema),
      ...errors(401, 404, 429, 503),
    },
  }),
  replayDelivery: defineRoute({
    operationId: 'replayDelivery',
    method: 'post',
    path: '/v1/deliveries/{id}/replay',
    summary: 'One more attempt now, with the same webhook-id and the same bytes.',
    tag: 'Deliveries',
    auth: 'api_key_or_portal',
    params: deliveryPathParamsSchema,
    body: { schema: deliveryReplayRequestSchema, required: false },
    responses: {
      202: ok('The attempt is queued; the delivery as it now stands.', deliverySchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  createEventType: defineRoute({
    operationId: 'createEventType',
    method: 'post',
    path: '/v1/event-types',
    summary: 'Add an event type to the catalog.',
    tag: 'Event types',
    auth: 'api_key',
    body: { schema: eventTypeCreateRequestSchema, required: true },
    responses: {
      201: ok('The event type.', eventTypeSchema),
      ...errors(400, 401, 409, 429, 503),
    },
  }),
  listEventTypes: defineRoute({
    operationId: 'listEventTypes',
    method: 'get',
    path: '/v1/event-types',
    summary: 'List the event type catalog, newest first.',
    tag: 'Event types',
    auth: 'api_key_or_portal',
    query: eventTypeListQuerySchema,
    responses: {
      200: ok('A page of event types.', eventTypeListResponseSchema),
      ...errors(400, 401, 429, 503),
    },
  }),
  getEventType: defineRoute({
    operationId: 'getEventType',
    method: 'get',
    path: '/v1/event-types/{name}',
    summary: 'Get an event type.',
    tag: 'Event types',
    auth: 'api_key_or_portal',
    params: eventTypePathParamsSchema,
    responses: { 200: ok('The event type.', eventTypeSchema), ...errors(401, 404, 429, 503) },
  }),
  updateEventType: defineRoute({
    operationId: 'updateEventType',
    method: 'patch',
    path: '/v1/event-types/{name}',
    summary: 'Update an event type.',
    tag: 'Event types',
    auth: 'api_key',
    params: eventTypePathParamsSchema,
    body: { schema: eventTypePatchRequestSchema, required: true },
    responses: {
      200: ok('The updated event type.', eventTypeSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  deleteEventType: defineRoute({
    operationId: 'deleteEventType',
    method: 'delete',
    path: '/v1/event-types/{name}',
    summary: 'Remove an event type from the catalog.',
    tag: 'Event types',
    auth: 'api_key',
    params: eventTypePathParamsSchema,
    responses: { 204: noContent, ...errors(401, 404, 429, 503) },
  }),
  getAlertChannels: defineRoute({
    operationId: 'getAlertChannels',
    method: 'get',
    path: '/v1/tenants/{tenant_id}/alert-channels',
    summary: 'Where a tenant’s delivery.dead and endpoint.disabled alerts go.',
    tag: 'Tenants',
    auth: 'api_key_or_portal',
    params: tenantPathParamsSchema,
    responses: {
      200: ok('The alert channels.', alertChannelsSchema),
      ...errors(401, 404, 429, 503),
    },
  }),
  putAlertChannels: defineRoute({
    operationId: 'putAlertChannels',
    method: 'put',
    path: '/v1/tenants/{tenant_id}/alert-channels',
    summary: 'Replace a tenant’s alert channels.',
    tag: 'Tenants',
    auth: 'api_key_or_portal',
    params: tenantPathParamsSchema,
    body: { schema: alertChannelsPutRequestSchema, required: true },
    responses: {
      200: ok('The alert channels.', alertChannelsSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  createPortalLink: defineRoute({
    operationId: 'createPortalLink',
    method: 'post',
    path: '/v1/portal/links',
    summary: 'Mint a portal token and a link to the hosted portal for one tenant.',
    tag: 'Portal',
    auth: 'api_key',
    body: { schema: portalLinkCreateRequestSchema, required: true },
    responses: {
      201: ok('The portal link.', portalLinkSchema),
      ...errors(400, 401, 404, 429, 503),
    },
  }),
  getHealth: defineRoute({
    operationId: 'getHealth',
    method: 'get',
    path: '/healthz',
    summary: 'The process is up.',
    tag: 'Operations',
    auth: 'none',
    responses: { 200: ok('Up.', healthResponseSchema) },
  }),
  getReadiness: defineRoute({
    operationId: 'getReadiness',
    method: 'get',
    path: '/readyz',
    summary: 'The database is reachable and migrations are applied.',
    tag: 'Operations',
    auth: 'none',
    responses: { 200: ok('Ready.', readinessResponseSchema), ...errors(503) },
  }),
  getMetrics: defineRoute({
    operationId: 'getMetrics',
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics.',
    tag: 'Operations',
    auth: 'none',
    responses: {
      200: {
        description: 'Prometheus text exposition format.',
        contentType: 'text/plain; version=0.0.4',
      },
    },
  }),
  getOpenApiDocument: defineRoute({
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document.',
    tag: 'Operations',
    auth: 'none',
    responses: {
      200: { description: 'The OpenAPI 3.1 document.', contentType: 'application/json' },
    },
  }),
} as const satisfies Record<string, ApiRoute>;

/** The operationId of a route. */
export type ApiOperationId = keyof typeof apiRoutes;

/** Every route as a list, in API.md order. */
export const apiRouteList: readonly ApiRoute[] = Object.values(apiRoutes);

/** An OpenAPI path template in Hono/Express form: `/v1/endpoints/{id}` → `/v1/endpoints/:id`. */
export function toColonPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

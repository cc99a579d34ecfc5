// Every route of API.md, keyed by the operationId of `@hookline/api`'s route table
// (`test/routes.test.ts` checks the two tables agree, route for route).

/** One route as the SDK calls it. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI template: `/v1/endpoints/{id}`. */
  path: string;
  /** false for the operations routes (`/healthz`, …), which take no credentials. */
  auth: boolean;
  /**
   * Whether repeating the request after an ambiguous failure (network error, timeout, 5xx) is
   * harmless. GET, PUT, PATCH and DELETE are; so is `createMessage`, which always carries an
   * idempotency key, and minting a portal link (an unused token just expires). Creating an
   * endpoint or an event type, rotating a secret, sending a test event, replaying and recovering
   * are not: the first try may have acted already. Those are retried only on 429, which means
   * the gateway did nothing.
   */
  repeatable: boolean;
}

const get = (path: string, auth = true): Route => ({ method: 'GET', path, auth, repeatable: true });
const post = (path: string, repeatable: boolean): Route => ({
  method: 'POST',
  path,
  auth: true,
  repeatable,
});
const patch = (path: string): Route => ({ method: 'PATCH', path, auth: true, repeatable: true });
const put = (path: string): Route => ({ method: 'PUT', path, auth: true, repeatable: true });
const del = (path: string): Route => ({ method: 'DELETE', path, auth: true, repeatable: true });

/** The routes, by operationId. */
export const ROUTES = {
  createEndpoint: post('/v1/endpoints', false),
  listEndpoints: get('/v1/endpoints'),
  getEndpoint: get('/v1/endpoints/{id}'),
  updateEndpoint: patch('/v1/endpoints/{id}'),
  deleteEndpoint: del('/v1/endpoints/{id}'),
  rotateEndpointSecret: post('/v1/endpoints/{id}/rotate-secret', false),
  testEndpoint: post('/v1/endpoints/{id}/test', false),
  getEndpointStats: get('/v1/endpoints/{id}/stats'),
  recoverEndpoint: post('/v1/endpoints/{id}/recover', false),
  createMessage: post('/v1/messages', true),
  listMessages: get('/v1/messages'),
  getMessage: get('/v1/messages/{id}'),
  listDeliveries: get('/v1/deliveries'),
  getDelivery: get('/v1/deliveries/{id}'),
  replayDelivery: post('/v1/deliveries/{id}/replay', false),
  createEventType: post('/v1/event-types', false),
  listEventTypes: get('/v1/event-types'),
  getEventType: get('/v1/event-types/{name}'),
  updateEventType: patch('/v1/event-types/{name}'),
  deleteEventType: del('/v1/event-types/{name}'),
  getAlertChannels: get('/v1/tenants/{tenant_id}/alert-channels'),
  putAlertChannels: put('/v1/tenants/{tenant_id}/alert-channels'),
  createPortalLink: post('/v1/portal/links', true),
  getHealth: get('/healthz', false),
  getReadiness: get('/readyz', false),
  getMetrics: get('/metrics', false),
  getOpenApiDocument: get('/openapi.json', false),
} as const satisfies Record<string, Route>;

/** The operationId of a route. */
export type OperationId = keyof typeof ROUTES;

import { z } from 'zod';
import { alertChannelsPutRequestSchema, alertChannelsSchema } from './alert-channels';
import { errorBodySchema, errorDetailSchema } from './common';
import {
  attemptSchema,
  attemptSummarySchema,
  deliveryListResponseSchema,
  deliveryReplayRequestSchema,
  deliverySchema,
  deliveryWithAttemptsSchema,
} from './deliveries';
import {
  endpointCreateRequestSchema,
  endpointListResponseSchema,
  endpointPatchRequestSchema,
  endpointRecoverRequestSchema,
  endpointRecoverResponseSchema,
  endpointRotateSecretRequestSchema,
  endpointRotateSecretResponseSchema,
  endpointSchema,
  endpointStatsSchema,
  endpointTestRequestSchema,
  endpointWithSecretSchema,
} from './endpoints';
import {
  eventTypeCreateRequestSchema,
  eventTypeListResponseSchema,
  eventTypePatchRequestSchema,
  eventTypeSchema,
} from './event-types';
import {
  messageAcceptedSchema,
  messageCreateRequestSchema,
  messageListResponseSchema,
  messageSchema,
} from './messages';
import { healthResponseSchema, readinessResponseSchema } from './operations';
import { portalLinkCreateRequestSchema, portalLinkSchema } from './portal';
import { type ApiRoute, apiRouteList, type RouteResponse } from './routes';

/** A JSON Schema / OpenAPI object, loosely typed. */
export type JsonObject = { [key: string]: unknown };

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, JsonObject>>;
  components: {
    schemas: Record<string, JsonObject>;
    securitySchemes: Record<string, JsonObject>;
  };
}

/** Options of `buildOpenApiDocument`. */
export interface OpenApiOptions {
  /** The gateway version (`info.version`). */
  version: string;
  /** The public base URL, listed in `servers` when given. */
  serverUrl?: string;
}

// Named components. Requests are rendered as their input (defaults make fields optional),
// responses as their output. The names are public: SDK generators derive type names from them.
const REQUEST_COMPONENTS: Record<string, z.ZodType> = {
  EndpointCreateRequest: endpointCreateRequestSchema,
  EndpointPatchRequest: endpointPatchRequestSchema,
  EndpointRotateSecretRequest: endpointRotateSecretRequestSchema,
  EndpointTestRequest: endpointTestRequestSchema,
  EndpointRecoverRequest: endpointRecoverRequestSchema,
  MessageCreateRequest: messageCreateRequestSchema,
  DeliveryReplayRequest: deliveryReplayRequestSchema,
  EventTypeCreateRequest: eventTypeCreateRequestSchema,
  EventTypePatchRequest: eventTypePatchRequestSchema,
  AlertChannelsPutRequest: alertChannelsPutRequestSchema,
  PortalLinkCreateRequest: portalLinkCreateRequestSchema,
};

const RESPONSE_COMPONENTS: Record<string, z.ZodType> = {
  Endpoint: endpointSchema,
  EndpointWithSecret: endpointWithSecretSchema,
  EndpointList: endpointListResponseSchema,
  EndpointRotateSecretResponse: endpointRotateSecretResponseSchema,
  EndpointStats: endpointStatsSchema,
  EndpointRecoverResponse: endpointRecoverResponseSchema,
  Message: messageSchema,
  MessageAccepted: messageAcceptedSchema,
  MessageList: messageListResponseSchema,
  Delivery: deliverySchema,
  DeliveryWithAttempts: deliveryWithAttemptsSchema,
  DeliveryList: deliveryListResponseSchema,
  Attempt: attemptSchema,
  AttemptSummary: attemptSummarySchema,
  EventType: eventTypeSchema,
  EventTypeList: eventTypeListResponseSchema,
  AlertChannels: alertChannelsSchema,
  PortalLink: portalLinkSchema,
  Error: errorBodySchema,
  ErrorDetail: errorDetailSchema,
  HealthResponse: healthResponseSchema,
  ReadinessResponse: readinessResponseSchema,
};

const COMPONENT_PREFIX = '#/components/schemas/';

function componentSchemas(
  components: Record<string, z.ZodType>,
  io: 'input' | 'output',
): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
    override: (ctx) => {
      dropDateTimePattern(ctx);
      if (io === 'output') allowAdditionalResponseFields(ctx);
    },
  });
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $id: _id, $schema: _schema, ...rest } = schema as JsonObject;
    out[id] = rest;
  }
  return out;
}

type OverrideContext = {
  zodSchema: z.core.$ZodTypes;
  jsonSchema: z.core.JSONSchema.BaseSchema;
};

// zod writes its datetime regex beside `format: date-time`; the format says the same to readers
// and generators, and the regex is unreadable.
function dropDateTimePattern(ctx: OverrideContext): void {
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
}

// Response objects are parsed with z.object (unknown keys stripped), which zod renders as
// `additionalProperties: false`; the contract lets the gateway add fields later, so clients
// generated from the document must accept them.
function allowAdditionalResponseFields(ctx: OverrideContext): void {
  const def = ctx.zodSchema._zod.def;
  if (def.type === 'object' && def.catchall === undefined) {
    delete ctx.jsonSchema.additionalProperties;
  }
}

function inlineSchema(schema: z.ZodType): JsonObject {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    override: dropDateTimePattern,
  }) as JsonObject;
  return rest;
}

function parameters(route: ApiRoute): JsonObject[] {
  const out: JsonObject[] = [];
  const sources = [
    ['path', route.params],
    ['query', route.query],
    ['header', route.headers],
  ] as const;
  for (const [where, schema] of sources) {
    if (!schema) continue;
    const json = inlineSchema(schema);
    const properties = (json.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...propertySchema } = property;
      const parameter: JsonObject = {
        name: where === 'header' ? headerCase(name) : name,
        in: where,
        required: where === 'path' || required.has(name),
        schema: propertySchema,
      };
      if (typeof description === 'string') parameter.description = description;
      out.push(parameter);
    }
  }
  return out;
}

function headerCase(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}

function responseObject(response: RouteResponse, refs: Map<z.ZodType, string>): JsonObject {
  const out: JsonObject = { description: response.description };
  if (response.schema) {
    out.content = { 'application/json': { schema: refOrInline(response.schema, refs) } };
  } else if (response.contentType) {
    out.content = {
      [response.contentType]: {
        schema: response.contentType.startsWith('application/json')
          ? { type: 'object' }
          : { type: 'string' },
      },
    };
  }
  if (response.headers) out.headers = response.headers;
  return out;
}

function refOrInline(schema: z.ZodType, refs: Map<z.ZodType, string>): JsonObject {
  const name = refs.get(schema);
  return name ? { $ref: `${COMPONENT_PREFIX}${name}` } : inlineSchema(schema);
}

function operation(route: ApiRoute, refs: Map<z.ZodType, string>): JsonObject {
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security: route.auth === 'none' ? [] : [{ bearerAuth: [] }],
  };
  if (route.auth === 'api_key') {
    op.description = 'Requires an operator API key (hl_sk_…); portal tokens are refused.';
  } else if (route.auth === 'api_key_or_portal') {
    op.description =
      'An operator API key (hl_sk_…) or a portal token (hl_pt_…); with a portal token, anything outside its tenant (or endpoint) answers 404.';
  }
  const params = parameters(route);
  if (params.length > 0) op.parameters = params;
  if (route.body) {
    op.requestBody = {
      required: route.body.required,
      content: { 'application/json': { schema: refOrInline(route.body.schema, refs) } },
    };
  }
  const responses: JsonObject = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = responseObject(response, refs);
  }
  op.responses = responses;
  return op;
}

/** The OpenAPI 3.1 document of every route in the route table, with zod-generated schemas. */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const refs = new Map<z.ZodType, string>();
  for (const [name, schema] of Object.entries({ ...REQUEST_COMPONENTS, ...RESPONSE_COMPONENTS })) {
    refs.set(schema, name);
  }
  const paths: OpenApiDocument['paths'] = {};
  const tags: string[] = [];
  for (const route of apiRouteList) {
    const item = paths[route.path] ?? {};
    paths[route.path] = item;
    item[route.method] = operation(route, refs);
    if (!tags.includes(route.tag)) tags.push(route.tag);
  }
  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: 'Hookline gateway API',
      version: options.version,
      description:
        'Per-tenant webhooks: endpoints, messages, deliveries and attempts, event types, alert channels and portal links.',
    },
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        ...componentSchemas(REQUEST_COMPONENTS, 'input'),
        ...componentSchemas(RESPONSE_COMPONENTS, 'output'),
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An operator API key (hl_sk_…) or a portal token (hl_pt_…).',
        },
      },
    },
  };
  if (options.serverUrl !== undefined) document.servers = [{ url: options.serverUrl }];
  return document;
}

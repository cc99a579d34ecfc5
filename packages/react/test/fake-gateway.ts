/**
 * An in-memory gateway behind msw for component and hook tests: the portal-token routes of
 * API.md with their answers, errors and pagination, over state a test can seed and inspect.
 */
import { HttpResponse, http, type JsonBodyType } from 'msw';
import type {
  AlertChannels,
  Attempt,
  DeliveryWithAttempts,
  Endpoint,
  EndpointStats,
  EventType,
} from '../src/wire.gen';

export const GATEWAY = 'https://gateway.test';
export const TOKEN = 'hl_pt_test_token';
export const TENANT = 'acme';

const T0 = Date.parse('2025-03-01T12:00:00Z');
let sequence = 0;
const nextId = (prefix: string) => `${prefix}_${String(++sequence).padStart(6, '0')}`;
const iso = (offsetSeconds = 0) => new Date(T0 + offsetSeconds * 1000).toISOString();

/** An endpoint object with sensible defaults. */
export function makeEndpoint(overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id: nextId('ep'),
    tenant_id: TENANT,
    url: 'https://receiver.example.com/webhooks',
    description: '',
    event_types: [],
    status: 'active',
    disabled_reason: null,
    rate_limit_per_minute: null,
    retry_schedule: null,
    headers: {},
    metadata: {},
    signing: 'hmac',
    secret_hint: 'whsec_abcd',
    public_key: null,
    rotation: null,
    created_at: iso(),
    updated_at: iso(),
    ...overrides,
  };
}

/** An attempt with sensible defaults (a 200 in 42 ms). */
export function makeAttempt(overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: nextId('att'),
    delivery_id: 'dlv_000000',
    attempt_number: 1,
    trigger: 'scheduled',
    outcome: 'success',
    http_status: 200,
    latency_ms: 42,
    error: null,
    attempted_at: iso(5),
    request_headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_000001',
      'webhook-timestamp': '1740830405',
      'webhook-signature': 'v1,c2lnbmF0dXJl',
      'user-agent': 'Hookline/0.0.0',
    },
    request_body: '{"type":"invoice.paid","timestamp":"2025-03-01T12:00:05Z","data":{"id":"in_1"}}',
    request_body_truncated: false,
    response_headers: { 'content-type': 'application/json' },
    response_body: '{"ok":true}',
    response_body_truncated: false,
    ...overrides,
  };
}

/** A delivery with one successful attempt, unless told otherwise. */
export function makeDelivery(
  endpoint: Endpoint,
  overrides: Partial<DeliveryWithAttempts> = {},
): DeliveryWithAttempts {
  const id = overrides.id ?? nextId('dlv');
  const attempts = overrides.attempts ?? [makeAttempt({ delivery_id: id })];
  const last = attempts.at(-1);
  return {
    id,
    message_id: nextId('msg'),
    endpoint_id: endpoint.id,
    tenant_id: endpoint.tenant_id,
    event_type: 'invoice.paid',
    status: 'succeeded',
    attempt_count: attempts.length,
    next_attempt_at: null,
    last_attempt: last
      ? {
          id: last.id,
          delivery_id: id,
          attempt_number: last.attempt_number,
          trigger: last.trigger,
          outcome: last.outcome,
          http_status: last.http_status,
          latency_ms: last.latency_ms,
          error: last.error,
          attempted_at: last.attempted_at,
        }
      : null,
    test: false,
    created_at: iso(),
    ...overrides,
    attempts,
  };
}

/** A catalog entry. */
export function makeEventType(
  name: string,
  description = '',
  example?: Record<string, unknown>,
): EventType {
  return {
    name,
    description,
    schema: null,
    example: example ?? null,
    created_at: iso(),
    updated_at: iso(),
  };
}

/** One request the fake gateway received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
}

/** What the fake gateway holds; tests seed and inspect it. */
export interface FakeGatewayState {
  tenantId: string;
  tokenValid: boolean;
  endpoints: Endpoint[];
  deliveries: DeliveryWithAttempts[];
  eventTypes: EventType[];
  stats: Map<string, EndpointStats>;
  alertChannels: AlertChannels;
  /** What `POST /v1/endpoints/{id}/test` answers. */
  testAttempt: Attempt;
  requests: RecordedRequest[];
}

function error(
  status: number,
  code: string,
  message: string,
  details?: { path: string; message: string }[],
) {
  return HttpResponse.json(
    { error: details ? { code, message, details } : { code, message } },
    { status, headers: { 'x-request-id': 'req_test' } },
  );
}

function json(body: JsonBodyType, status = 200) {
  return HttpResponse.json(body, { status, headers: { 'x-request-id': 'req_test' } });
}

function page<T>(items: T[], query: Record<string, string>) {
  const limit = Number(query.limit ?? 50);
  const start = Number(query.cursor ?? 0);
  const data = items.slice(start, start + limit);
  const next = start + limit < items.length ? String(start + limit) : null;
  return { data, next_cursor: next };
}

function stripAttempts(delivery: DeliveryWithAttempts) {
  const { attempts: _attempts, ...rest } = delivery;
  return rest;
}

/** A fresh fake gateway: its state and the msw handlers that serve it. */
export function createFakeGateway() {
  const state: FakeGatewayState = {
    tenantId: TENANT,
    tokenValid: true,
    endpoints: [],
    deliveries: [],
    eventTypes: [],
    stats: new Map(),
    alertChannels: { tenant_id: TENANT, emails: [], slack_webhook_url: null },
    testAttempt: makeAttempt({ trigger: 'test' }),
    requests: [],
  };

  async function record(request: Request): Promise<RecordedRequest> {
    const url = new URL(request.url);
    const text = request.method === 'GET' ? '' : await request.text();
    const entry: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text === '' ? undefined : JSON.parse(text),
      authorization: request.headers.get('authorization'),
    };
    state.requests.push(entry);
    return entry;
  }

  function authorized(entry: RecordedRequest): boolean {
    return state.tokenValid && entry.authorization === `Bearer ${TOKEN}`;
  }
  const unauthorized = () =>
    error(401, 'unauthorized', 'The portal token is not valid or has expired.');
  const findEndpoint = (id: string) => state.endpoints.find((e) => e.id === id);
  const notFound = (what: string) => error(404, 'not_found', `No ${what} with that id.`);

  const handlers = [
    http.get(`${GATEWAY}/v1/endpoints`, async ({ request }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const items = state.endpoints.filter(
        (e) => !entry.query.status || e.status === entry.query.status,
      );
      return json(page(items, entry.query));
    }),
    http.post(`${GATEWAY}/v1/endpoints`, async ({ request }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const body = entry.body as Record<string, unknown>;
      if (body.tenant_id !== state.tenantId) return error(404, 'not_found', 'No such tenant.');
      const url = String(body.url);
      if (!url.startsWith('https://')) {
        return error(400, 'url_not_allowed', 'The url must use https://.', [
          { path: 'url', message: 'must use https://' },
        ]);
      }
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const endpoint = makeEndpoint({
        url,
        description: (body.description as string) ?? '',
        event_types: (body.event_types as string[]) ?? [],
        rate_limit_per_minute: (body.rate_limit_per_minute as number | null) ?? null,
        retry_schedule: (body.retry_schedule as number[] | null) ?? null,
        headers: (body.headers as Record<string, string>) ?? {},
        secret_hint: secret.slice(0, 10),
      });
      state.endpoints.unshift(endpoint);
      return json({ ...endpoint, secret }, 201);
    }),
    http.get(`${GATEWAY}/v1/endpoints/:id`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const endpoint = findEndpoint(String(params.id));
      return endpoint ? json(endpoint) : notFound('endpoint');
    }),
    http.patch(`${GATEWAY}/v1/endpoints/:id`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const endpoint = findEndpoint(String(params.id));
      if (!endpoint) return notFound('endpoint');
      const patch = entry.body as Partial<Endpoint>;
      if (patch.url !== undefined && !patch.url.startsWith('https://')) {
        return error(400, 'url_not_allowed', 'The url must use https://.', [
          { path: 'url', message: 'must use https://' },
        ]);
      }
      Object.assign(endpoint, patch, {
        disabled_reason:
          patch.status === 'disabled' ? 'manual' : patch.status ? null : endpoint.disabled_reason,
        updated_at: iso(60),
      });
      if (patch.status === 'active') {
        for (const d of state.deliveries) {
          if (d.endpoint_id === endpoint.id && d.status === 'held') d.status = 'pending';
        }
      }
      return json(endpoint);
    }),
    http.delete(`${GATEWAY}/v1/endpoints/:id`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const index = state.endpoints.findIndex((e) => e.id === params.id);
      if (index < 0) return notFound('endpoint');
      state.endpoints.splice(index, 1);
      state.deliveries = state.deliveries.filter((d) => d.endpoint_id !== params.id);
      return new HttpResponse(null, { status: 204 });
    }),
    http.post(`${GATEWAY}/v1/endpoints/:id/rotate-secret`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const endpoint = findEndpoint(String(params.id));
      if (!endpoint) return notFound('endpoint');
      const grace =
        (entry.body as { grace_period_seconds?: number })?.grace_period_seconds ?? 86_400;
      const secret = 'whsec_Zm9yIHRoZSByb3RhdGlvbiB0ZXN0IG9ubHk=';
      const expires = iso(grace);
      endpoint.secret_hint = secret.slice(0, 10);
      endpoint.rotation = grace > 0 ? { previous_secret_expires_at: expires } : null;
      return json({ secret, previous_secret_expires_at: expires, public_key: null });
    }),
    http.post(`${GATEWAY}/v1/endpoints/:id/test`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      if (!findEndpoint(String(params.id))) return notFound('endpoint');
      return json(state.testAttempt);
    }),
    http.get(`${GATEWAY}/v1/endpoints/:id/stats`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      if (!findEndpoint(String(params.id))) return notFound('endpoint');
      return json(
        state.stats.get(String(params.id)) ?? {
          window: '24h',
          succeeded: 0,
          failed: 0,
          pending: 0,
          dead: 0,
          success_rate: null,
          latency_ms_p50: null,
          latency_ms_p95: null,
          health: 'green',
        },
      );
    }),
    http.post(`${GATEWAY}/v1/endpoints/:id/recover`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      if (!findEndpoint(String(params.id))) return notFound('endpoint');
      const since = Date.parse((entry.body as { since: string }).since);
      let count = 0;
      for (const d of state.deliveries) {
        if (d.endpoint_id !== params.id) continue;
        if ((d.status === 'failed' || d.status === 'dead') && Date.parse(d.created_at) >= since) {
          d.status = 'pending';
          count++;
        }
      }
      return json({ count }, 202);
    }),
    http.get(`${GATEWAY}/v1/deliveries`, async ({ request }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const q = entry.query;
      const items = state.deliveries
        .filter((d) => !q.endpoint_id || d.endpoint_id === q.endpoint_id)
        .filter((d) => !q.status || d.status === q.status)
        .filter((d) => !q.event_type || d.event_type === q.event_type)
        .map(stripAttempts);
      return json(page(items, q));
    }),
    http.get(`${GATEWAY}/v1/deliveries/:id`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const delivery = state.deliveries.find((d) => d.id === params.id);
      return delivery ? json(delivery) : notFound('delivery');
    }),
    http.post(`${GATEWAY}/v1/deliveries/:id/replay`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      const delivery = state.deliveries.find((d) => d.id === params.id);
      if (!delivery) return notFound('delivery');
      delivery.status = 'pending';
      delivery.next_attempt_at = iso(120);
      return json(stripAttempts(delivery), 202);
    }),
    http.get(`${GATEWAY}/v1/event-types`, async ({ request }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      return json(page(state.eventTypes, entry.query));
    }),
    http.get(`${GATEWAY}/v1/tenants/:tenant/alert-channels`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      if (params.tenant !== state.tenantId) return error(404, 'not_found', 'No such tenant.');
      return json(state.alertChannels);
    }),
    http.put(`${GATEWAY}/v1/tenants/:tenant/alert-channels`, async ({ request, params }) => {
      const entry = await record(request);
      if (!authorized(entry)) return unauthorized();
      if (params.tenant !== state.tenantId) return error(404, 'not_found', 'No such tenant.');
      const body = entry.body as { emails?: string[]; slack_webhook_url?: string | null };
      const bad = (body.emails ?? [])
        .map((email, index) => ({ email, index }))
        .filter(({ email }) => !email.includes('@'));
      if (bad.length > 0) {
        return error(
          400,
          'invalid_request',
          'Invalid request body.',
          bad.map(({ index }) => ({
            path: `emails[${index}]`,
            message: 'must be an email address',
          })),
        );
      }
      state.alertChannels = {
        tenant_id: state.tenantId,
        emails: body.emails ?? [],
        slack_webhook_url: body.slack_webhook_url ?? null,
      };
      return json(state.alertChannels);
    }),
  ];

  return { state, handlers };
}

/** An error answer in the gateway's shape, for `server.use()` overrides. */
export { error as errorResponse };

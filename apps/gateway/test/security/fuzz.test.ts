/**
 * Malformed requests against every route (`app.request()`): random methods, path parameters,
 * query strings, headers, content types and bodies (wrong types for every field, invalid UTF-8,
 * huge and deep JSON). The gateway must answer each with a status below 500 and, for every
 * error, a JSON body of API.md's shape. A few thousand requests in total, bounded in time.
 */
import { type ApiRoute, apiRouteList } from '@hookline/api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateApiKey, hashToken } from '../../src/domain/auth';
import { newId } from '../../src/domain/ids';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createHttpClient, type HttpClient } from '../../src/net/http-client';
import { createAddressPolicy } from '../../src/net/policy';
import { insecureDevelopmentCipher } from '../../src/storage/cipher';
import { type Database, openDatabase } from '../../src/storage/database';
import { createStore, type Store } from '../../src/storage/store';
import { dialRecorder, PUBLIC_V4, scriptedResolver } from './support';

const errorShape = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[a-z][a-z0-9_]*$/),
    message: z.string().min(1),
    details: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
});

const FIELDS = [
  'tenant_id',
  'url',
  'description',
  'event_types',
  'status',
  'rate_limit_per_minute',
  'retry_schedule',
  'headers',
  'metadata',
  'secret',
  'signing',
  'grace_period_seconds',
  'event_type',
  'payload',
  'endpoint_id',
  'since',
  'name',
  'schema',
  'example',
  'emails',
  'slack_webhook_url',
  'expires_in_seconds',
  '__proto__',
  'constructor',
];
const QUERY_NAMES = [
  'limit',
  'cursor',
  'tenant_id',
  'status',
  'event_type',
  'endpoint_id',
  'message_id',
  'window',
];

let database: Database;
let store: Store;
let client: HttpClient;
let app: ReturnType<typeof createApp>;
const dials = dialRecorder();
const apiKey = generateApiKey();
/** Real ids and tokens for the generators to pick from, so requests also reach deep code. */
const seeds = {
  endpoint: '',
  message: '',
  delivery: '',
  portalToken: '',
  tenant: 'fuzz-tenant',
};

beforeAll(async () => {
  database = await openDatabase({ kind: 'memory' });
  store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
  const policy = createAddressPolicy({ allowHttp: false, allowNetworks: [] });
  const resolve = scriptedResolver({ 'public.test': [PUBLIC_V4] });
  client = createHttpClient({ policy, resolve, beforeConnect: dials.hook, timeoutMs: 1_000 });
  app = createApp({
    store,
    database,
    logger: createLogger({ level: 'silent' }),
    httpClient: client,
    policy,
    resolve,
    allowHttp: false,
    publicUrl: 'https://hooks.example.com',
    version: '0.0.0-test',
    retrySchedule: [30],
    adminKeyHashes: [hashToken(apiKey)],
  });
  const endpoint = await store.endpoints.create({
    tenantId: seeds.tenant,
    url: 'https://public.test/hook',
    secret: `whsec_${Buffer.alloc(32, 5).toString('base64')}`,
  });
  seeds.endpoint = endpoint.id;
  const sent = await store.messages.create({
    tenantId: seeds.tenant,
    eventType: 'fuzz.event',
    payloadJson: '{}',
  });
  if (sent.kind !== 'created') throw new Error(sent.kind);
  seeds.message = sent.message.id;
  seeds.delivery = (await store.deliveries.list({ messageId: sent.message.id })).data[0]!.id;
  await store.eventTypes.create({ name: 'fuzz.event' });
  const link = await app.request('/v1/portal/links', {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: seeds.tenant }),
  });
  seeds.portalToken = ((await link.json()) as { token: string }).token;
});

afterAll(async () => {
  await client?.close();
  await database?.close();
  // Test sends to the seeded endpoint were refused by the dial hook: nothing left this process.
  expect(dials.dialled.every((d) => d.address === PUBLIC_V4)).toBe(true);
});

// --- generators -------------------------------------------------------------------------

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** Percent-encodes the UTF-8 bytes of any string (lone surrogates become U+FFFD, as on the wire). */
function pct(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Strings that tend to break parsers, encoders and validators. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\r\n',
    '%',
    '%zz',
    '%C3%28',
    '%FF%FE',
    '%ED%A0%80',
    '\ud800',
    '../../etc/passwd',
    '🙂'.repeat(40),
    'x'.repeat(5_000),
    'hl_pt_',
    'hl_sk_',
    'whsec_',
    'ep_',
    'https://10.0.0.1/',
    'javascript:alert(1)',
    '1e309',
    '-0',
    'NaN',
    'null',
    '[]',
    '{}',
  ),
);

const jsonValue = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 4 }),
  nastyString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, [], {}, [null], {
    '': '',
  }),
);

/** A JSON object made of the API's field names with values of any type. */
const fieldObject = fc.dictionary(fc.constantFrom(...FIELDS), jsonValue, { maxKeys: 6 });

/** A path parameter: a real id, a well-formed id of nothing, or garbage (percent-encoded or not). */
const pathSegment = fc.oneof(
  fc
    .constantFrom(
      () => seeds.endpoint,
      () => seeds.message,
      () => seeds.delivery,
      () => newId('ep'),
      () => newId('dlv'),
      () => 'fuzz.event',
      () => seeds.tenant,
    )
    .map((f) => f()),
  nastyString.map(pct),
  fc.constantFrom('%', '%zz', '%C3%28', '%FF', '%E0%80%AF', '%00', '..', '.', '%2F', 'a%2Fb', ''),
);

function fillPath(route: ApiRoute, segment: string): string {
  return route.path.replace(/\{[A-Za-z0-9_]+\}/g, segment);
}

const queryString = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...QUERY_NAMES), printable),
        fc.oneof(nastyString, fc.integer().map(String), fc.constantFrom('24h', '7d', 'active')),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`),
  fc.constantFrom(
    '?limit=0',
    '?limit=1e3',
    '?limit=-1',
    '?limit=abc&limit=2',
    '?cursor=',
    '?%=%',
    '?a=%FF',
    '?&&&=&',
  ),
);

const authorization = fc.oneof(
  fc.constant(() => `Bearer ${apiKey}`),
  fc.constant(() => `Bearer ${seeds.portalToken}`),
  fc
    .constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'Basic Zm9vOmJhcg==',
      'Bearer hl_pt_x',
      `Bearer hl_sk_${'a'.repeat(43)}`,
    )
    .map((v) => () => v),
  printable.map((v) => () => `Bearer ${v}`),
);

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  '',
  ';',
);

const body = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fieldObject.map((o) => JSON.stringify(o)), weight: 5 },
  { arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '{',
      '{"tenant_id":',
      '{"a":1,,}',
      '\ufeff{}',
      '{"payload":{}}'.repeat(3),
      `{"payload":${'['.repeat(70)}${']'.repeat(70)}}`,
      `{"payload":{"x":"${'y'.repeat(300 * 1024)}"}}`,
      '{"tenant_id":"t","event_type":"a.b","payload":{"n":1e999}}',
      '{"__proto__":{"admin":true}}',
    ),
    weight: 1,
  },
  {
    arbitrary: fc.constant(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
    weight: 1,
  },
);

const DEEP = '<20 000 levels of arrays>';

/** A valid body per route, for the generators to break one field at a time. */
function validBody(route: ApiRoute): Record<string, unknown> {
  switch (route.operationId) {
    case 'createEndpoint':
      return { tenant_id: seeds.tenant, url: 'https://public.test/new', event_types: ['a.b'] };
    case 'updateEndpoint':
      return { description: 'd', status: 'paused' };
    case 'rotateEndpointSecret':
      return { grace_period_seconds: 0 };
    case 'testEndpoint':
      return { event_type: 'a.b', payload: { n: 1 } };
    case 'recoverEndpoint':
      return { since: '2000-01-01T00:00:00Z' };
    case 'createMessage':
      return { tenant_id: seeds.tenant, event_type: 'a.b', payload: { n: 1 } };
    case 'createEventType':
      return { name: 'x.y', schema: { type: 'object' }, example: {} };
    case 'updateEventType':
      return { description: 'd' };
    case 'putAlertChannels':
      return { emails: ['ops@example.com'], slack_webhook_url: 'https://public.test/slack' };
    case 'createPortalLink':
      return { tenant_id: seeds.tenant, expires_in_seconds: 60 };
    default:
      return {};
  }
}

/** A valid body of the route with one field replaced (or added) by a value of any type. */
const nearlyValidBody = (route: ApiRoute) =>
  fc
    .tuple(
      Object.keys(validBody(route)).length > 0
        ? fc.oneof(
            { arbitrary: fc.constantFrom(...Object.keys(validBody(route))), weight: 3 },
            { arbitrary: fc.constantFrom(...FIELDS), weight: 1 },
          )
        : fc.constantFrom(...FIELDS),
      fc.oneof(
        { arbitrary: jsonValue, weight: 3 },
        {
          arbitrary: fc.constantFrom(
            DEEP,
            'x'.repeat(100_000),
            Array.from({ length: 300 }, (_, i) => `t${i}`),
            Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v'])),
          ),
          weight: 1,
        },
      ),
      fc.boolean(),
    )
    .map(([key, value, drop]) => {
      const base = validBody(route);
      if (drop) delete base[key];
      else base[key] = value;
      // Too deep for JSON.stringify itself: spliced in as text.
      return JSON.stringify(base).replace(
        `"${DEEP}"`,
        `{"d":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
      );
    });

const method = (route: ApiRoute) =>
  fc.oneof(
    { arbitrary: fc.constant(route.method.toUpperCase()), weight: 4 },
    {
      arbitrary: fc.constantFrom(
        'GET',
        'POST',
        'PUT',
        'PATCH',
        'DELETE',
        'OPTIONS',
        'HEAD',
        'PURGE',
      ),
      weight: 1,
    },
  );

const request = fc.constantFrom(...apiRouteList).chain((route) =>
  fc.record({
    route: fc.constant(route),
    method: method(route),
    segment: pathSegment,
    query: queryString,
    auth: authorization,
    contentType,
    body: fc.oneof(
      { arbitrary: body, weight: 1 },
      { arbitrary: nearlyValidBody(route), weight: 2 },
    ),
    idempotencyKey: fc.option(
      nastyString.filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
      { nil: undefined },
    ),
    extraHeader: fc.option(printable, { nil: undefined }),
  }),
);

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function send(
  r: FuzzRequest,
): Promise<{ status: number; text: string; type: string | null }> {
  const headers = new Headers();
  const auth = r.auth();
  if (auth !== '') headers.set('authorization', auth);
  if (r.contentType !== undefined) headers.set('content-type', r.contentType);
  if (r.idempotencyKey !== undefined) headers.set('idempotency-key', r.idempotencyKey);
  if (r.extraHeader !== undefined) headers.set('x-fuzz', r.extraHeader);
  const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  const response = await app.request(`${fillPath(r.route, r.segment)}${r.query}`, {
    method: r.method,
    headers,
    ...(withBody ? { body: r.body } : {}),
  });
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type'),
  };
}

function describeRequest(r: FuzzRequest): string {
  return `${r.method} ${fillPath(r.route, r.segment)}${r.query} (${r.route.operationId})`;
}

async function check(r: FuzzRequest): Promise<void> {
  const answer = await send(r);
  const where = `${describeRequest(r)} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeLessThan(500);
  if (answer.status >= 400 && r.method !== 'HEAD') {
    expect(answer.type, where).toMatch(/^application\/json/);
    expect(errorShape.safeParse(JSON.parse(answer.text)).success, where).toBe(true);
  }
}

describe('fuzzing every route with malformed requests', () => {
  it('answers 2 500 random malformed requests with 4xx (or success), never 5xx', async () => {
    await fc.assert(fc.asyncProperty(request, check), { numRuns: 2_500, endOnFailure: true });
  }, 120_000);

  it.each(apiRouteList.map((route) => [route.operationId, route] as const))(
    '%s: wrong types for every field of its body and query, as the API key',
    async (_id, route) => {
      const focused = fc.record({
        route: fc.constant(route),
        method: fc.constant(route.method.toUpperCase()),
        segment: pathSegment,
        query: queryString,
        auth: fc.constant(() => `Bearer ${apiKey}`),
        contentType: fc.constant('application/json'),
        body: fc.oneof(
          fieldObject.map((o) => JSON.stringify(o)),
          nearlyValidBody(route),
        ),
        idempotencyKey: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }),
        extraHeader: fc.constant(undefined),
      });
      await fc.assert(fc.asyncProperty(focused, check), { numRuns: 40, endOnFailure: true });
    },
    30_000,
  );

  it('answers 400 to 20 000 levels of nesting in any field of any route', async () => {
    for (const route of apiRouteList) {
      for (const key of [...Object.keys(validBody(route)), 'payload']) {
        const base = { ...validBody(route), [key]: DEEP };
        const raw = JSON.stringify(base).replace(
          `"${DEEP}"`,
          `{"d":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
        );
        await check({
          route,
          method: route.method.toUpperCase(),
          segment: seeds.endpoint,
          query: '',
          auth: () => `Bearer ${apiKey}`,
          contentType: 'application/json',
          body: raw,
          idempotencyKey: 'deep',
          extraHeader: undefined,
        });
      }
    }
  }, 30_000);
});

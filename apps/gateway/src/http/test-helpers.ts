/**
 * Shared fixtures of the HTTP tests (not a test file): one migrated in-memory database per test
 * file, apps over it with an injected resolver (never real DNS), and response checks against the
 * `@hookline/api` schemas.
 */
import { Writable } from 'node:stream';
import type { ApiRoute } from '@hookline/api';
import { expect } from 'vitest';
import { z } from 'zod';
import { generateApiKey, hashToken } from '../domain/auth';
import { createLogger } from '../logger';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../net/http-client';
import {
  type AddressPolicyOptions,
  createAddressPolicy,
  type ResolvedAddress,
} from '../net/policy';
import type { Resolver } from '../net/resolve';
import { insecureDevelopmentCipher } from '../storage/cipher';
import { type Database, openDatabase } from '../storage/database';
import { createStore, type Store } from '../storage/store';
import { type AppDeps, createApp } from './app';

/** A public address every unknown test host resolves to (nothing is ever dialled there). */
export const PUBLIC_TEST_ADDRESS = '93.184.216.34';

/** Host names with fixed answers; any other name resolves to `PUBLIC_TEST_ADDRESS`. */
export const TEST_HOSTS: Record<string, ResolvedAddress[] | 'ENOTFOUND'> = {
  'private.example.test': [{ address: '10.0.0.1', family: 4 }],
  'loopback.example.test': [{ address: '127.0.0.1', family: 4 }],
  'mixed.example.test': [
    { address: PUBLIC_TEST_ADDRESS, family: 4 },
    { address: '10.0.0.1', family: 4 },
  ],
  'nxdomain.example.test': 'ENOTFOUND',
};

/** The injected resolver: a table, never DNS. */
export const testResolver: Resolver = async (hostname) => {
  const answer = TEST_HOSTS[hostname];
  if (answer === 'ENOTFOUND') {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  }
  return answer ?? [{ address: PUBLIC_TEST_ADDRESS, family: 4 }];
};

/** One database and the apps over it. */
export interface TestGateway {
  database: Database;
  store: Store;
  /** An admin API key accepted through `adminKeyHashes`. */
  apiKey: string;
  /** Every log line written by any app of this gateway. */
  logLines: string[];
  /** An app over this database; options override the defaults (https only, no allowed networks). */
  app(options?: TestAppOptions): ReturnType<typeof createApp>;
  close(): Promise<void>;
}

/** Overrides of a test app. */
export interface TestAppOptions {
  policy?: Partial<AddressPolicyOptions>;
  now?: () => Date;
  /** A different database handle (e.g. one whose ping fails); the store stays the same. */
  database?: Database;
  /** A different store (e.g. one that fails). */
  store?: Store;
  /** Default: `testResolver`. */
  resolve?: Resolver;
  /** The outbound client's dial hook (record, refuse or reroute every connection). */
  beforeConnect?: HttpClientOptions['beforeConnect'];
  maxEndpointsPerTenant?: AppDeps['maxEndpointsPerTenant'];
  apiRateLimit?: AppDeps['apiRateLimit'];
  portalRateLimit?: AppDeps['portalRateLimit'];
}

/** Opens a migrated in-memory database; call in `beforeAll`, close in `afterAll`. */
export async function openTestGateway(): Promise<TestGateway> {
  const database = await openDatabase({ kind: 'memory' });
  const store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
  const apiKey = generateApiKey();
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ destination });
  const clients: HttpClient[] = [];
  return {
    database,
    store,
    apiKey,
    logLines,
    app(options = {}) {
      const policyOptions: AddressPolicyOptions = {
        allowHttp: false,
        allowNetworks: [],
        ...options.policy,
      };
      const policy = createAddressPolicy(policyOptions);
      const resolve = options.resolve ?? testResolver;
      const httpClient = createHttpClient({
        policy,
        resolve,
        timeoutMs: 5_000,
        ...(options.beforeConnect ? { beforeConnect: options.beforeConnect } : {}),
      });
      clients.push(httpClient);
      const deps: AppDeps = {
        store: options.store ?? store,
        database: options.database ?? database,
        logger,
        httpClient,
        policy,
        resolve,
        allowHttp: policyOptions.allowHttp,
        publicUrl: 'https://hooks.example.com/',
        version: '0.0.0-test',
        retrySchedule: [30, 300, 1800, 7200],
        adminKeyHashes: [hashToken(apiKey)],
        ...(options.now ? { now: options.now } : {}),
        ...(options.maxEndpointsPerTenant === undefined
          ? {}
          : { maxEndpointsPerTenant: options.maxEndpointsPerTenant }),
        ...(options.apiRateLimit ? { apiRateLimit: options.apiRateLimit } : {}),
        ...(options.portalRateLimit ? { portalRateLimit: options.portalRateLimit } : {}),
      };
      return createApp(deps);
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await database.close();
    },
  };
}

/** Request options of `call`. */
export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding, no content-type unless given). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** Sends one request to an app: JSON bodies with `content-type: application/json`. */
export function call(
  app: ReturnType<typeof createApp>,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  return Promise.resolve(app.request(path, { method, headers, body }));
}

function assertKnownKeys(schema: z.ZodType, value: unknown, where: string): void {
  if (!(schema instanceof z.ZodObject) || value === null || typeof value !== 'object') return;
  const shape = schema.shape as Record<string, z.ZodType>;
  const extra = Object.keys(value).filter((key) => !(key in shape));
  expect(extra, `${where} has fields its schema does not declare`).toEqual([]);
  for (const [key, field] of Object.entries(shape)) {
    let inner: z.ZodType = field;
    while (inner instanceof z.ZodNullable || inner instanceof z.ZodOptional) {
      inner = inner.unwrap() as z.ZodType;
    }
    const item = (value as Record<string, unknown>)[key];
    if (inner instanceof z.ZodArray && Array.isArray(item)) {
      for (const [i, element] of item.entries()) {
        assertKnownKeys(inner.element as z.ZodType, element, `${where}.${key}[${i}]`);
      }
    } else {
      assertKnownKeys(inner, item, `${where}.${key}`);
    }
  }
}

/**
 * Asserts the status and that the JSON body matches the route's response schema for it, with no
 * undeclared fields at any object level; returns the body.
 */
export async function expectResponse<T = Record<string, unknown>>(
  response: Response,
  route: ApiRoute,
  status: number,
): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const declared = route.responses[status];
  expect(declared, `${route.operationId} declares no ${status} response`).toBeDefined();
  if (!declared?.schema) return text as T;
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as unknown;
  const parsed = declared.schema.safeParse(body);
  expect(parsed.error?.issues ?? [], text).toEqual([]);
  assertKnownKeys(declared.schema, body, route.operationId);
  return body as T;
}

/** An error body: `{error: {code, message, details?}}`. */
export interface ErrorResponse {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const errorSchema = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[a-z][a-z0-9_]*$/),
    message: z.string().min(1),
    details: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** Asserts an error answer with its status and code; returns the body. */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<ErrorResponse> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = errorSchema.parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  return body;
}

/** Asserts a 400 naming exactly these bad fields in `details`. */
export async function expectInvalid(
  response: Response,
  paths: string[],
  code = 'invalid_request',
): Promise<ErrorResponse> {
  const body = await expectError(response, 400, code);
  expect(body.error.details?.map((d) => d.path).sort()).toEqual([...paths].sort());
  // The message names up to ten fields, then says "and N more".
  for (const path of paths.slice(0, 10)) expect(body.error.message).toContain(path);
  return body;
}

// An msw stand-in for the gateway: one handler per route of @hookline/api's route table. It
// records every request and answers with whatever the test set for that operation.
import { type ApiOperationId, type ApiRoute, apiRoutes, toColonPath } from '@hookline/api';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { Hookline, type HooklineOptions } from '../src/index';

export const BASE_URL = 'https://gateway.test';
/** A made-up key; the tests check it never leaks into errors. */
export const API_KEY = 'hl_sk_test_T0p5ecretK3yThatMustNeverLeak';

/** A request as the mock gateway saw it. */
export interface Recorded {
  operation: ApiOperationId;
  method: string;
  url: URL;
  headers: Headers;
  /** The body text ('' when none). */
  body: string;
  params: Record<string, string>;
}

/** Answers one request; may be async (to delay, or to fail the connection). */
export type Responder = (request: Recorded, index: number) => Response | Promise<Response>;

export function mockGateway() {
  const recorded: Recorded[] = [];
  const responders = new Map<ApiOperationId, Responder>();

  const handlers = (Object.entries(apiRoutes) as [ApiOperationId, ApiRoute][]).map(
    ([operation, route]) =>
      http[route.method](`${BASE_URL}${toColonPath(route.path)}`, async ({ request, params }) => {
        const entry: Recorded = {
          operation,
          method: request.method,
          url: new URL(request.url),
          headers: request.headers,
          body: await request.text(),
          params: params as Record<string, string>,
        };
        recorded.push(entry);
        const responder = responders.get(operation);
        if (!responder) {
          return HttpResponse.json(
            {
              error: {
                code: 'internal_error',
                message: `The test set no answer for ${operation}.`,
              },
            },
            { status: 500 },
          );
        }
        const index = recorded.filter((r) => r.operation === operation).length - 1;
        return responder(entry, index);
      }),
  );
  const server = setupServer(...handlers);

  return {
    server,
    recorded,
    /** Sets the answer of one operation. */
    on(operation: ApiOperationId, responder: Responder) {
      responders.set(operation, responder);
    },
    /** The requests made to one operation. */
    calls(operation: ApiOperationId): Recorded[] {
      return recorded.filter((r) => r.operation === operation);
    },
    reset() {
      recorded.length = 0;
      responders.clear();
    },
  };
}

/** A client of the mock gateway; tests retry with 1 ms backoff unless they say otherwise. */
export function client(options: Partial<HooklineOptions> = {}): Hookline {
  return new Hookline(API_KEY, {
    baseUrl: BASE_URL,
    retryDelay: { initialMs: 1, maxMs: 4 },
    ...options,
  });
}

/** A JSON answer. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return HttpResponse.json(body as Record<string, unknown>, { status, headers });
}

/** An API error answer. */
export function apiError(
  status: number,
  code: string,
  message: string,
  extra: { details?: { path: string; message: string }[]; headers?: Record<string, string> } = {},
): Response {
  return HttpResponse.json(
    { error: { code, message, ...(extra.details ? { details: extra.details } : {}) } },
    { status, headers: extra.headers ?? {} },
  );
}

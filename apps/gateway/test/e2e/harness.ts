/** Shared pieces of the end-to-end suites: a REST client on plain `fetch`, waiting, databases. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, type ScratchDatabase, testDrivers } from '../databases';

export { testDrivers };

/** An answer of the gateway's REST API. */
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely, field by field.
export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny REST client: `fetch` with the bearer token and JSON bodies. */
export function apiClient(baseUrl: string, token: string) {
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  return async function call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text === '' ? null : JSON.parse(text)) as T,
      headers: response.headers,
    };
  };
}

/** Polls `check` every 10 ms until it returns something truthy. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, what = 'a condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The p-th percentile (nearest rank) of some figures. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** Where a gateway under test keeps its data, and how to get rid of it. */
export interface GatewayStorage {
  /** HOOKLINE_* variables that select the database. */
  env: Record<string, string>;
  dataDir: string;
  dispose(): Promise<void>;
}

/**
 * Embedded PGlite in a fresh temp data dir, or a fresh PostgreSQL database (with the encryption
 * keys and admin API key that PostgreSQL mode needs) for the `postgres` driver.
 */
export async function gatewayStorage(driver: 'pglite' | 'postgres'): Promise<GatewayStorage> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-e2e-'));
  let scratch: ScratchDatabase | undefined;
  const env: Record<string, string> = { HOOKLINE_DATA_DIR: dataDir };
  if (driver === 'postgres') {
    scratch = await createScratchDatabase();
    env.HOOKLINE_DATABASE_URL = scratch.url;
    env.HOOKLINE_ENCRYPTION_KEYS = randomBytes(32).toString('base64');
    env.HOOKLINE_API_KEY = `hl_sk_${randomBytes(24).toString('base64url')}`;
  }
  return {
    env,
    dataDir,
    dispose: async () => {
      await scratch?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What every end-to-end gateway runs with: loopback receivers allowed, port 0. */
export const LOCAL_ENV = {
  HOOKLINE_HOST: '127.0.0.1',
  HOOKLINE_PORT: '0',
  HOOKLINE_ALLOW_NETWORKS: '127.0.0.0/8,::1/128',
  HOOKLINE_ALLOW_HTTP: 'true',
} as const;

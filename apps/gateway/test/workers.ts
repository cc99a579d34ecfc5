/**
 * The shared set-up of the delivery worker's tests: loopback receivers, workers on the test
 * database, endpoints, and the cleanup after each test.
 */
import { afterAll, afterEach } from 'vitest';
import { createWorker, type Worker, type WorkerOptions } from '../src/delivery/worker';
import { createLogger } from '../src/logger';
import { createHttpClient, type HttpClient } from '../src/net/http-client';
import { createAddressPolicy } from '../src/net/policy';
import { endpointInput, type TestDatabase } from './databases';
import { type Receiver, type ReceiverHandler, startReceiver } from './receivers';

/** Set WLOG=debug to see the workers' logs. */
export const workerLogger = createLogger({ level: process.env.WLOG ?? 'silent' });

export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5_000, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

export interface WorkerHarness {
  /** A loopback receiver, closed after the test. */
  receiver(handler?: ReceiverHandler): Promise<Receiver>;
  /** A started worker on the test database (the harness's defaults, then `overrides`). */
  worker(overrides?: Partial<WorkerOptions>): Promise<Worker>;
  /** An endpoint of the test database at `url`. */
  endpoint(
    url: string,
    overrides?: Parameters<typeof endpointInput>[0],
  ): ReturnType<TestDatabase['store']['endpoints']['create']>;
}

/**
 * Registers the cleanup hooks (workers stopped, receivers closed after each test; the HTTP
 * client closed after all), so call it in a `describe` body.
 */
export function useWorkerHarness(
  t: TestDatabase,
  defaults: Partial<WorkerOptions> = {},
): WorkerHarness {
  const client: HttpClient = createHttpClient({
    policy: createAddressPolicy({ allowHttp: true, allowNetworks: ['127.0.0.0/8'] }),
    timeoutMs: 5_000,
  });
  const receivers: Receiver[] = [];
  const workers: Worker[] = [];

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 200 })));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(() => client.close());

  return {
    async receiver(handler) {
      const r = await startReceiver(handler);
      receivers.push(r);
      return r;
    },
    async worker(overrides = {}) {
      const w = createWorker({
        store: t.store,
        httpClient: client,
        logger: workerLogger,
        userAgentVersion: '0.0.0-test',
        concurrency: 8,
        random: () => 0.5,
        ...defaults,
        ...overrides,
      });
      workers.push(w);
      await w.start();
      return w;
    },
    endpoint(url, overrides = {}) {
      return t.store.endpoints.create(endpointInput({ url, ...overrides }));
    },
  };
}

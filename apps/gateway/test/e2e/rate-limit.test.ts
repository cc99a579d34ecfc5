/**
 * Per-endpoint rate limits hold across processes: 1,000 messages to an endpoint limited to 120 a
 * minute, delivered by two worker processes sharing one PostgreSQL database, arrive at no more
 * than 120 in any minute, all of them, and none is marked failed. (Several processes need
 * PostgreSQL, so this runs only when HOOKLINE_TEST_DATABASE_URL is set, as in CI.) At 116 a
 * minute the run takes about eight and three-quarter minutes.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway } from '../gateway-process';
import { type Receiver, startReceiver } from '../receivers';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  testDrivers,
  waitFor,
} from './harness';

const MESSAGES = 1_000;
const LIMIT_PER_MINUTE = 120;

/** The most timestamps (ms) that fall within any window of `windowMs`. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe.runIf(testDrivers.includes('postgres'))('rate limits across worker processes', () => {
  let storage: GatewayStorage | undefined;
  const gateways: GatewayProcess[] = [];
  let receiver: Receiver | undefined;

  afterAll(async () => {
    for (const gateway of gateways) gateway.kill('SIGKILL');
    await Promise.all(gateways.map((gateway) => gateway.exited));
    await receiver?.close();
    await storage?.dispose();
  });

  it('delivers 1,000 messages to an endpoint limited to 120/min at no more than 120 in any minute, all of them, none failed', {
    timeout: 12 * 60_000,
  }, async () => {
    storage = await gatewayStorage('postgres');
    const arrivals: number[] = [];
    receiver = await startReceiver((_req, res) => {
      arrivals.push(Date.now());
      res.writeHead(204).end();
    });
    const env = { ...LOCAL_ENV, ...storage.env };
    // One API process and two workers: the limit must hold between the workers. The workers
    // log each delivery (debug), which shows that both took part.
    const api = await spawnGateway({
      env: { ...env, HOOKLINE_ROLE: 'api', HOOKLINE_LOG_LEVEL: 'info' },
      startTimeoutMs: 60_000,
    });
    gateways.push(api);
    const workers: GatewayProcess[] = [];
    for (let i = 0; i < 2; i++) {
      workers.push(
        await spawnGateway({
          env: { ...env, HOOKLINE_ROLE: 'worker', HOOKLINE_LOG_LEVEL: 'debug' },
          startTimeoutMs: 60_000,
        }),
      );
      gateways.push(workers[i]!);
    }
    const call = apiClient(api.url, storage.env.HOOKLINE_API_KEY!);
    const endpoint = await call('POST', '/v1/endpoints', {
      tenant_id: 'limited',
      url: `${receiver.url}/hooks`,
      rate_limit_per_minute: LIMIT_PER_MINUTE,
    });
    expect(endpoint.status).toBe(201);

    const started = Date.now();
    for (let sent = 0; sent < MESSAGES; sent += 20) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call('POST', '/v1/messages', {
            tenant_id: 'limited',
            event_type: 'order.created',
            payload: { seq: sent + i },
          }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    }

    await waitFor(() => arrivals.length >= MESSAGES, {
      timeoutMs: 11 * 60_000,
      what: `${MESSAGES} deliveries`,
    });
    const minutes = (Date.now() - started) / 60_000;

    const delivered = () =>
      workers.map((worker) => worker.logs().filter((entry) => entry.msg === 'delivered').length);
    // The receiver has the last request before its outcome is recorded. A worker logs
    // "delivered" after the record commits, and its log reaches stdout within 50 ms (buffered):
    // wait for the last lines before reading attempts and statuses from the database.
    await waitFor(() => delivered().reduce((a, b) => a + b, 0) >= MESSAGES, {
      timeoutMs: 10_000,
      what: 'the workers’ delivered log lines',
    }).catch(() => {});
    const perWorker = delivered();
    const db = postgres(storage.env.HOOKLINE_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      const attempts = await db<{ at: Date; outcome: string }[]>`
          select attempted_at as at, outcome from attempts where endpoint_id = ${endpoint.body.id}`;
      const [counts] = await db<{ succeeded: number; other: number }[]>`
          select count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status <> 'succeeded')::int as other
          from deliveries where endpoint_id = ${endpoint.body.id}`;
      const sendTimes = attempts.map((attempt) => attempt.at.getTime());
      const busiestSends = busiestWindow(sendTimes, 60_000);
      const busiestArrivals = busiestWindow(arrivals, 60_000);
      console.info(
        `[rate limit] ${MESSAGES} messages at ${LIMIT_PER_MINUTE}/min over 2 workers: all delivered in ` +
          `${minutes.toFixed(2)} min (${(MESSAGES / minutes).toFixed(1)}/min); busiest minute: ` +
          `${busiestSends} sends, ${busiestArrivals} arrivals; ${attempts.length} attempts; ` +
          `per worker ${perWorker.join(' + ')}`,
      );
      // Both workers took part.
      expect(perWorker.every((count) => count > 0)).toBe(true);
      expect(perWorker[0]! + perWorker[1]!).toBe(MESSAGES);
      // Every message once, every attempt a success: deferred, never failed.
      expect(arrivals).toHaveLength(MESSAGES);
      expect(counts).toMatchObject({ succeeded: MESSAGES, other: 0 });
      expect(attempts).toHaveLength(MESSAGES);
      expect(attempts.filter((attempt) => attempt.outcome !== 'success')).toEqual([]);
      // The limit, measured on the gateway's send times (one clock, millisecond precision).
      expect(busiestSends).toBeLessThanOrEqual(LIMIT_PER_MINUTE);
      // Arrivals trail sends by a few milliseconds of network and scheduling.
      expect(busiestWindow(arrivals, 59_000)).toBeLessThanOrEqual(LIMIT_PER_MINUTE);
    } finally {
      await db.end({ timeout: 5 });
    }
  });
});

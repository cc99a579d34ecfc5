/**
 * Fault 5: the gateway host's clock jumps an hour forward or back. The gateway runs in process
 * (`startGateway` with an injected clock: the worker's attempt times and `webhook-timestamp`
 * follow it; PostgreSQL when HOOKLINE_TEST_DATABASE_URL is set, else embedded), delivering to a
 * receiver that fails each message's first attempt (retry after 3 s) and one that always takes
 * it. A retry must fire about 3 s after its failure whether it was scheduled before or after the
 * jump (so retry times must not come from the jumping clock), and nothing is sent twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { type RunningGateway, startGateway } from '../../src/main';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  testDrivers,
} from '../e2e/harness';
import type { Receiver } from '../receivers';
import { type Api, type Behaviour, Ledger, ms, type Receipt, sendMessage, sleep } from './harness';

const driver = testDrivers.includes('postgres') ? 'postgres' : 'pglite';
const HOUR = 60 * 60 * 1000;
const RETRY_SECONDS = 3;
// ±10 % jitter, and the claim that follows the due time (a timer, a claim, a request).
const EARLIEST = RETRY_SECONDS * 1000 * 0.9 - 100;
const LATEST = RETRY_SECONDS * 1000 * 1.1 + 1_000;

describe(`fault: the host clock jumps (${driver})`, () => {
  let storage: GatewayStorage | undefined;
  let gateway: RunningGateway | undefined;
  let api: Api;
  const receivers: Receiver[] = [];
  let offsetMs = 0;
  const ledger = new Ledger('clock-jump', () => Date.now() + offsetMs);
  let seq = 0;
  const gaps: string[] = [];

  beforeAll(async () => {
    storage = await gatewayStorage(driver);
    // Fails the first attempt of every message, takes the rest.
    const flaky: Behaviour = (_req, res, receipt) => {
      res.writeHead(receipt.nth === 1 ? 500 : 204).end();
    };
    const flakyReceiver = await ledger.receiver('flaky', flaky);
    const steadyReceiver = await ledger.receiver('steady');
    receivers.push(flakyReceiver, steadyReceiver);
    gateway = await startGateway({
      env: { ...LOCAL_ENV, ...storage.env, HOOKLINE_POLL_INTERVAL_MS: '1000' },
      logger: createLogger({ level: 'error' }),
      printBanner: false,
      now: () => new Date(Date.now() + offsetMs),
    });
    api = apiClient(gateway.url!, gateway.apiKey ?? storage.env.HOOKLINE_API_KEY!);
    await ledger.endpoint(api, 'flaky', flakyReceiver, {
      tenant: 'clock-T',
      retrySchedule: [RETRY_SECONDS],
    });
    await ledger.endpoint(api, 'steady', steadyReceiver, { tenant: 'clock-T' });
  });

  afterAll(async () => {
    await gateway?.stop({ graceMs: 2_000 });
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await storage?.dispose();
  });

  async function receipt(id: string, nth: number, timeoutMs: number): Promise<Receipt | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = ledger.receipts.find(
        (r) => r.target === 'flaky' && r.webhookId === id && r.nth === nth,
      );
      if (found || performance.now() > deadline) return found;
      await sleep(10);
    }
  }

  async function send(): Promise<string> {
    const at = performance.now();
    const sent = await sendMessage(api, ledger.message(seq, 'clock-T', 'tick'));
    ledger.accept(seq++, sent.id, 'clock-T', 'tick', at);
    return sent.id;
  }

  /** Sends a message, jumps the clock `jumpMs` before or after its first (failed) attempt. */
  async function retryAcrossJump(when: 'before' | 'after', jumpMs: number): Promise<number> {
    offsetMs = 0;
    if (when === 'before') offsetMs += jumpMs;
    const id = await send();
    const failed = await receipt(id, 1, 5_000);
    expect(failed, 'the first attempt').toBeDefined();
    if (when === 'after') {
      await sleep(1_000);
      offsetMs += jumpMs;
    }
    // Give a stuck retry room to show: twice the latest acceptable time.
    const retried = await receipt(id, 2, 2 * LATEST);
    const gap = retried ? retried.at - failed!.at : Number.POSITIVE_INFINITY;
    gaps.push(
      `${jumpMs > 0 ? '+' : '−'}1 h ${when === 'before' ? 'before the failure' : 'after it'}: ${
        retried ? ms(gap) : 'no retry'
      }`,
    );
    return gap;
  }

  it('fires a retry scheduled before a forward jump of an hour on schedule', async () => {
    const gap = await retryAcrossJump('after', HOUR);
    expect(gap).toBeGreaterThanOrEqual(EARLIEST);
    expect(gap).toBeLessThanOrEqual(LATEST);
  });

  it('retries a failure after a forward jump of an hour on schedule, not an hour late', async () => {
    const gap = await retryAcrossJump('before', HOUR);
    expect(gap).toBeGreaterThanOrEqual(EARLIEST);
    expect(gap).toBeLessThanOrEqual(LATEST);
  });

  it('fires a retry scheduled before a backward jump of an hour on schedule', async () => {
    const gap = await retryAcrossJump('after', -HOUR);
    expect(gap).toBeGreaterThanOrEqual(EARLIEST);
    expect(gap).toBeLessThanOrEqual(LATEST);
  });

  it('retries a failure after a backward jump of an hour on schedule, not at once', async () => {
    const gap = await retryAcrossJump('before', -HOUR);
    expect(gap).toBeGreaterThanOrEqual(EARLIEST);
    expect(gap).toBeLessThanOrEqual(LATEST);
  });

  it('sends nothing twice across the jumps: each message once to the steady endpoint, twice (fail, retry) to the flaky one', async () => {
    // Messages sent right after each kind of jump. Each batch settles before the next jump, so
    // that no attempt straddles one (its signature would carry the other clock's time).
    const count = (target: string) => ledger.receipts.filter((r) => r.target === target).length;
    for (const jump of [HOUR, -HOUR, 0]) {
      offsetMs = jump;
      for (let i = 0; i < 5; i++) await send();
      await ledger.waitAllDelivered(15_000);
      const deadline = performance.now() + 15_000;
      while (count('flaky') < 2 * ledger.acceptedCount && performance.now() < deadline) {
        await sleep(50);
      }
    }
    // Room for a stray repeat to show.
    await sleep(1_500);
    const figures = ledger.check();
    expect(figures.afterSuccess).toBe(0);
    expect(count('steady')).toBe(ledger.acceptedCount);
    expect(count('flaky')).toBe(2 * ledger.acceptedCount);
    ledger.report(figures, `retry 3 s after a failure, across jumps: ${gaps.join('; ')}`);
  });
});

/**
 * Crash safety: a gateway child process is SIGKILLed while it accepts and delivers 2,000
 * messages (1,000 embedded), then restarted on the same data; every accepted message must reach every subscribed
 * endpoint at least once, and a message delivered twice carries the same `webhook-id` both times.
 */
import { Webhook } from '@hookline/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import { type Receiver, type ReceiverHandler, startReceiver } from '../receivers';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  sleep,
  testDrivers,
  waitFor,
} from './harness';

/**
 * Messages sent, and how many are accepted before the SIGKILL. Embedded PGlite runs every
 * statement of the API and the worker on one thread: 2,000 messages took 74 s of the 75 s budget
 * alone on a slow disk, so it sends half as many.
 */
const SCALE = {
  postgres: { messages: 2_000, killAfter: 1_400 },
  pglite: { messages: 1_000, killAfter: 700 },
} as const;
const SENDERS = 16;

type Target = 'fastA' | 'slowA' | 'flakyB';

/** Which endpoints a message must reach: tenant A's even numbers, every tenth of them slow. */
function plan(seq: number): { tenant: 'A' | 'B'; eventType: string; targets: Target[] } {
  if (seq % 2 === 1) return { tenant: 'B', eventType: 'order.created', targets: ['flakyB'] };
  return seq % 20 === 0
    ? { tenant: 'A', eventType: 'order.slow', targets: ['fastA', 'slowA'] }
    : { tenant: 'A', eventType: 'order.created', targets: ['fastA'] };
}

describe.each(testDrivers)('crash recovery of the gateway binary (%s)', (driver) => {
  const { messages: MESSAGES, killAfter: KILL_AFTER_ACCEPTED } = SCALE[driver];
  let storage: GatewayStorage | undefined;
  let gateway: GatewayProcess | undefined;
  const receivers: Receiver[] = [];

  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await gateway?.exited;
    await Promise.all(receivers.map((r) => r.close()));
    await storage?.dispose();
  });

  it('delivers every accepted message at least once after a SIGKILL mid-flight, duplicates with the same webhook-id', async () => {
    const startedAt = performance.now();
    storage = await gatewayStorage(driver);
    const env = {
      ...LOCAL_ENV,
      ...storage.env,
      // The shortest lease allowed: rows leased by the killed process come back after it.
      HOOKLINE_LEASE_SECONDS: '20',
    };

    const slowHandler: ReceiverHandler = (_req, res) => {
      setTimeout(() => res.writeHead(200).end(), 50 + Math.random() * 250);
    };
    const flakyHandler: ReceiverHandler = (_req, res) => {
      res.writeHead(Math.random() < 0.05 ? 503 : 204).end();
    };
    const byName = {
      fastA: await startReceiver(),
      slowA: await startReceiver(slowHandler),
      flakyB: await startReceiver(flakyHandler),
    } satisfies Record<Target, Receiver>;
    receivers.push(...Object.values(byName));

    gateway = await spawnGateway({ env });
    const apiKey = gateway.apiKey ?? storage.env.HOOKLINE_API_KEY!;
    let api = apiClient(gateway.url, apiKey);
    const secrets = {} as Record<Target, string>;
    for (const [name, body] of [
      ['fastA', { tenant_id: 'crash-A', url: byName.fastA.url }],
      ['slowA', { tenant_id: 'crash-A', url: byName.slowA.url, event_types: ['order.slow'] }],
      ['flakyB', { tenant_id: 'crash-B', url: byName.flakyB.url, retry_schedule: [1, 1, 1, 1, 1] }],
    ] as const) {
      const created = await api('POST', '/v1/endpoints', body);
      expect(created.status).toBe(201);
      secrets[name] = created.body.secret;
    }

    // seq → message id, for every 202; seqs whose request failed mid-kill are unknown.
    const accepted = new Map<number, string>();
    const unknown = new Set<number>();
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (!killed && next < MESSAGES) {
        const seq = next++;
        const { tenant, eventType } = plan(seq);
        try {
          const sent = await api('POST', '/v1/messages', {
            tenant_id: `crash-${tenant}`,
            event_type: eventType,
            payload: { seq },
          });
          if (sent.status === 202) accepted.set(seq, sent.body.id);
          else throw new Error(`status ${sent.status}`);
        } catch {
          unknown.add(seq);
        }
        if (!killed && accepted.size >= KILL_AFTER_ACCEPTED) {
          killed = true;
          gateway!.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    expect(await gateway.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const receivedAtKill = Object.values(byName).reduce((n, r) => n + r.requests.length, 0);
    const acceptedAtKill = accepted.size;
    const killedAt = performance.now();

    // The rest of the messages go to a new process on the same data.
    gateway = await spawnGateway({ env });
    expect(gateway.apiKey).toBeUndefined();
    api = apiClient(gateway.url, apiKey);
    const remaining = Array.from({ length: MESSAGES - next }, (_, i) => next + i);
    next = MESSAGES;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        for (let seq = remaining.shift(); seq !== undefined; seq = remaining.shift()) {
          const { tenant, eventType } = plan(seq);
          const sent = await api('POST', '/v1/messages', {
            tenant_id: `crash-${tenant}`,
            event_type: eventType,
            payload: { seq },
          });
          expect(sent.status).toBe(202);
          accepted.set(seq, sent.body.id);
        }
      }),
    );

    // Every (accepted message, subscribed endpoint) pair must arrive.
    const missing = () => {
      const seen = new Map<Target, Set<string>>();
      for (const name of Object.keys(byName) as Target[]) {
        seen.set(name, new Set(byName[name].requests.map((r) => String(r.headers['webhook-id']))));
      }
      let count = 0;
      for (const [seq, id] of accepted) {
        for (const target of plan(seq).targets) if (!seen.get(target)!.has(id)) count++;
      }
      return count;
    };
    await waitFor(() => missing() === 0, {
      timeoutMs: 100_000 - (performance.now() - startedAt),
      what: 'every accepted message at every subscribed endpoint',
    });
    const allDeliveredAt = performance.now();
    // Anything still in flight for unknown seqs settles; then count.
    await sleep(200);

    let expected = 0;
    let received = 0;
    let unique = 0;
    for (const name of Object.keys(byName) as Target[]) {
      const bySeq = new Map<number, Set<string>>();
      for (const request of byName[name].requests) {
        received++;
        const seq = (JSON.parse(request.body.toString()) as { data: { seq: number } }).data.seq;
        const ids = bySeq.get(seq) ?? new Set();
        ids.add(String(request.headers['webhook-id']));
        bySeq.set(seq, ids);
      }
      unique += bySeq.size;
      for (const [seq, ids] of bySeq) {
        // However often it came, a message always came with one and the same webhook-id…
        expect(ids.size, `seq ${seq} at ${name}`).toBe(1);
        // …the one the API answered with (or a request cut off by the kill, yet committed).
        if (accepted.has(seq)) expect([...ids][0]).toBe(accepted.get(seq));
        else expect(unknown.has(seq), `seq ${seq} was never sent`).toBe(true);
        expect(plan(seq).targets, `seq ${seq} reached ${name}`).toContain(name);
      }
      expected += [...accepted.keys()].filter((seq) => plan(seq).targets.includes(name)).length;
    }
    // Signatures survive the crash too (secrets decrypt after restart).
    for (const name of Object.keys(byName) as Target[]) {
      const last = byName[name].requests.at(-1)!;
      new Webhook(secrets[name]).verify(last.body.toString(), last.headers as never);
    }

    console.info(
      `[crash ${driver}] accepted ${accepted.size} messages (${acceptedAtKill} before the SIGKILL, ` +
        `${unknown.size} requests cut off by it); ${expected} deliveries expected, ` +
        `${unique} distinct delivered, ${received} requests received (${receivedAtKill} before the kill; ` +
        `${received - unique} repeats: retries after 503s and redeliveries after the crash); ` +
        `kill → all delivered ${((allDeliveredAt - killedAt) / 1000).toFixed(1)} s, ` +
        `total ${((allDeliveredAt - startedAt) / 1000).toFixed(1)} s`,
    );
    expect(receivedAtKill).toBeGreaterThan(0);
    expect(accepted.size).toBeGreaterThanOrEqual(MESSAGES - unknown.size);

    await stopGateway(gateway, 5_000);
    gateway = undefined;
  }, 120_000);
});

/**
 * Shared pieces of the fault-injection scenarios (`pnpm test:faults`): a ledger of accepted
 * messages and of every request the receivers got, with the end-of-run checks every scenario
 * makes (each accepted message at each subscribed endpoint at least once, repeats with the same
 * `webhook-id`, every signature valid, nothing else sent) and its one line of figures; a steady
 * load generator; a retrying, idempotent message sender; process memory; PostgreSQL helpers.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from '@hookline/verify';
import postgres from 'postgres';
import { expect } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../databases';
import { type ApiAnswer, type apiClient, percentile, sleep } from '../e2e/harness';
import { builtGatewayExists } from '../gateway-process';
import { type Receiver, startReceiver } from '../receivers';

export { sleep };

/** The REST client of `e2e/harness.ts`. */
export type Api = ReturnType<typeof apiClient>;

/** A subscribed (or deliberately unsubscribed) endpoint and the receiver behind it. */
export interface Target {
  name: string;
  tenant: string;
  /** The endpoint's `event_types` (empty = every event). */
  eventTypes: readonly string[];
  endpointId: string;
  secret: string;
  receiver: Receiver;
}

/** One request a receiver got. */
export interface Receipt {
  target: string;
  webhookId: string;
  /** `performance.now()` when the whole request had arrived. */
  at: number;
  /** The gateway host's clock as the scenario defines it, for signature timestamps (ms). */
  clock: number;
  body: Buffer;
  headers: IncomingHttpHeaders;
  /** This was the n-th request (1-based) for this `webhook-id` at this target. */
  nth: number;
  /** The status the receiver answered with, once the answer was sent in full. */
  status?: number;
}

/** What a scenario's receiver does with one request (after the ledger noted it). */
export type Behaviour = (
  req: IncomingMessage,
  res: ServerResponse,
  receipt: Receipt,
  body: Buffer,
) => void;

/** Answers 204 at once. */
export const answerNoContent: Behaviour = (_req, res) => {
  res.writeHead(204).end();
};

interface Accepted {
  id: string;
  seq: number;
  tenant: string;
  eventType: string;
  /** `performance.now()` just before the POST that was accepted (the first try, if retried). */
  sentAt: number;
}

/** The figures every scenario prints. */
export interface Figures {
  accepted: number;
  expected: number;
  received: number;
  unique: number;
  duplicates: number;
  /** Repeats of a (message, endpoint) that had already been answered 2xx: true redeliveries. */
  afterSuccess: number;
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
}

/** Accepted messages, receivers' requests, and the checks over both. */
export class Ledger {
  readonly run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  readonly targets = new Map<string, Target>();
  readonly receipts: Receipt[] = [];
  private readonly accepted = new Map<string, Accepted>();
  private readonly idBySeq = new Map<number, string>();
  private readonly seen = new Map<string, number>();

  constructor(
    readonly scenario: string,
    /** The gateway host's clock (ms): what its signature timestamps are compared with. */
    readonly clock: () => number = Date.now,
  ) {}

  /** Starts a loopback receiver for `name` that notes each request, then runs `behaviour`. */
  async receiver(name: string, behaviour: Behaviour = answerNoContent): Promise<Receiver> {
    return startReceiver((req, res, body) => {
      const webhookId = String(req.headers['webhook-id'] ?? '');
      const key = `${name} ${webhookId}`;
      const nth = (this.seen.get(key) ?? 0) + 1;
      this.seen.set(key, nth);
      const receipt: Receipt = {
        target: name,
        webhookId,
        at: performance.now(),
        clock: this.clock(),
        body,
        headers: req.headers,
        nth,
      };
      this.receipts.push(receipt);
      res.once('finish', () => {
        receipt.status = res.statusCode;
      });
      behaviour(req, res, receipt, body);
    });
  }

  /** Creates the endpoint for a target through the API; its receiver must be started already. */
  async endpoint(
    api: Api,
    name: string,
    receiver: Receiver,
    options: {
      tenant: string;
      eventTypes?: string[];
      retrySchedule?: number[];
      extra?: Record<string, unknown>;
    },
  ): Promise<Target> {
    const created = await api('POST', '/v1/endpoints', {
      tenant_id: options.tenant,
      url: `${receiver.url}/hooks/${name}`,
      ...(options.eventTypes ? { event_types: options.eventTypes } : {}),
      ...(options.retrySchedule ? { retry_schedule: options.retrySchedule } : {}),
      ...options.extra,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const target: Target = {
      name,
      tenant: options.tenant,
      eventTypes: options.eventTypes ?? [],
      endpointId: created.body.id,
      secret: created.body.secret,
      receiver,
    };
    this.targets.set(name, target);
    return target;
  }

  /** A message body for sequence number `seq` (its payload names the run and the seq). */
  message(seq: number, tenant: string, eventType: string, extra: Record<string, unknown> = {}) {
    return { tenant_id: tenant, event_type: eventType, payload: { run: this.run, seq, ...extra } };
  }

  /** Notes a 202. The same seq accepted twice under two ids is an idempotency failure. */
  accept(seq: number, id: string, tenant: string, eventType: string, sentAt: number): void {
    const known = this.idBySeq.get(seq);
    if (known !== undefined) {
      expect(id, `seq ${seq} was accepted twice with different ids`).toBe(known);
      return;
    }
    this.idBySeq.set(seq, id);
    this.accepted.set(id, { id, seq, tenant, eventType, sentAt });
  }

  /** (accepted message, subscribed target) pairs. */
  expectedCount(): number {
    let n = 0;
    for (const message of this.accepted.values()) n += this.subscribed(message).length;
    return n;
  }

  get acceptedCount(): number {
    return this.accepted.size;
  }

  idOf(seq: number): string | undefined {
    return this.idBySeq.get(seq);
  }

  /** The targets a message must reach: its tenant's endpoints subscribed to its event type. */
  subscribed(message: { tenant: string; eventType: string }): Target[] {
    return [...this.targets.values()].filter(
      (t) =>
        t.tenant === message.tenant &&
        (t.eventTypes.length === 0 || t.eventTypes.includes(message.eventType)),
    );
  }

  /** (message, subscribed target) pairs not received yet. */
  missing(): number {
    const got = new Set(this.receipts.map((r) => `${r.target} ${r.webhookId}`));
    let count = 0;
    for (const message of this.accepted.values()) {
      for (const target of this.subscribed(message)) {
        if (!got.has(`${target.name} ${message.id}`)) count++;
      }
    }
    return count;
  }

  /** Waits until every accepted message reached every subscribed endpoint. */
  async waitAllDelivered(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.missing() > 0) {
      if (performance.now() > deadline) {
        throw new Error(
          `[faults:${this.scenario}] ${this.missing()} deliveries still missing after ${Math.round(
            timeoutMs / 1000,
          )} s (${this.acceptedCount} messages accepted).`,
        );
      }
      await sleep(50);
    }
  }

  /** First receipt time minus send time, per (message, target) pair received, in ms. */
  latencies(filter: (message: Accepted, target: string) => boolean = () => true): number[] {
    const first = new Map<string, number>();
    for (const r of this.receipts) {
      const key = `${r.target} ${r.webhookId}`;
      if (!first.has(key)) first.set(key, r.at);
    }
    const out: number[] = [];
    for (const message of this.accepted.values()) {
      for (const target of this.subscribed(message)) {
        const at = first.get(`${target.name} ${message.id}`);
        if (at !== undefined && filter(message, target.name)) out.push(at - message.sentAt);
      }
    }
    return out;
  }

  /**
   * The end-of-run checks: every accepted message at every subscribed endpoint; every request
   * carries a known id, at a target subscribed to it, with that message's payload, and a
   * signature that verifies against the target's secret at the time it arrived; repeats of a
   * message carry its one `webhook-id` (a second id for the same seq is an unknown id). Returns
   * the figures.
   */
  check(): Figures {
    const problems: string[] = [];
    const verifiers = new Map<string, Webhook>();
    let clockNow = 0;
    for (const target of this.targets.values()) {
      verifiers.set(target.name, new Webhook(target.secret, { now: () => clockNow }));
    }
    const pairs = new Set<string>();
    for (const r of this.receipts) {
      const message = this.accepted.get(r.webhookId);
      if (!message) {
        problems.push(`${r.target} got an unknown webhook-id ${r.webhookId}`);
        continue;
      }
      if (!this.subscribed(message).some((t) => t.name === r.target)) {
        problems.push(`${r.target} is not subscribed to ${message.id} (seq ${message.seq})`);
      }
      let data: { run?: string; seq?: number } | undefined;
      try {
        data = (JSON.parse(r.body.toString('utf8')) as { data?: { run?: string; seq?: number } })
          .data;
      } catch {
        problems.push(`${r.target} got a body that is not JSON for ${r.webhookId}`);
      }
      if (data && (data.run !== this.run || data.seq !== message.seq)) {
        problems.push(`${r.target} got seq ${data.seq} under the id of seq ${message.seq}`);
      }
      clockNow = r.clock;
      try {
        verifiers.get(r.target)!.verify(r.body, r.headers as Record<string, string>);
      } catch (error) {
        problems.push(
          `${r.target}: signature of ${r.webhookId} fails: ${(error as Error).message}`,
        );
      }
      pairs.add(`${r.target} ${r.webhookId}`);
    }
    let expected = 0;
    for (const message of this.accepted.values()) {
      for (const target of this.subscribed(message)) {
        expected++;
        if (!pairs.has(`${target.name} ${message.id}`)) {
          problems.push(`${target.name} never got ${message.id} (seq ${message.seq})`);
        }
      }
    }
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
    const latencies = this.latencies();
    const succeeded = new Set<string>();
    let afterSuccess = 0;
    for (const r of this.receipts) {
      const key = `${r.target} ${r.webhookId}`;
      if (succeeded.has(key)) afterSuccess++;
      if (r.status !== undefined && r.status >= 200 && r.status < 300) succeeded.add(key);
    }
    return {
      accepted: this.accepted.size,
      expected,
      received: this.receipts.length,
      unique: pairs.size,
      duplicates: this.receipts.length - pairs.size,
      afterSuccess,
      maxMs: latencies.length ? Math.max(...latencies) : 0,
      p99Ms: latencies.length ? percentile(latencies, 99) : 0,
      p50Ms: latencies.length ? percentile(latencies, 50) : 0,
    };
  }

  /** Prints the scenario's one line of figures (plus anything scenario-specific). */
  report(figures: Figures, extra = ''): string {
    const line =
      `[faults:${this.scenario}] accepted ${figures.accepted} messages; deliveries expected ` +
      `${figures.expected}, received ${figures.received} (${figures.unique} distinct, ` +
      `${figures.duplicates} duplicates, ${figures.afterSuccess} of them after a 2xx); accept→receipt max ${ms(figures.maxMs)}, ` +
      `p99 ${ms(figures.p99Ms)}, p50 ${ms(figures.p50Ms)}${extra ? `; ${extra}` : ''}`;
    console.info(line);
    return line;
  }
}

/** `1234 ms` or `12.3 s`. */
export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/**
 * Calls `send(seq)` at a steady `perSecond` for `durationMs` (seq from `firstSeq`), without
 * waiting for answers, but with at most `maxInFlight` calls outstanding (then it waits: offered
 * load stays bounded when the gateway stalls). Resolves once every call settled.
 */
export async function steadyLoad(options: {
  perSecond: number;
  durationMs: number;
  send: (seq: number) => Promise<void>;
  firstSeq?: number;
  maxInFlight?: number;
  /** Stops early when it returns true. */
  stop?: () => boolean;
}): Promise<number> {
  const started = performance.now();
  const total = Math.floor((options.durationMs / 1000) * options.perSecond);
  const maxInFlight = options.maxInFlight ?? 64;
  const pending = new Set<Promise<void>>();
  let sent = 0;
  for (let i = 0; i < total && !options.stop?.(); i++) {
    const wait = started + (i * 1000) / options.perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    while (pending.size >= maxInFlight) await Promise.race(pending);
    const call = options.send((options.firstSeq ?? 0) + i).finally(() => pending.delete(call));
    pending.add(call);
    sent++;
  }
  await Promise.all(pending);
  return sent;
}

/** How a message send went. */
export interface SendResult {
  id: string;
  /** `Idempotent-Replayed: true` on the 202 that counted. */
  replayed: boolean;
  /** Answers (status, or `network` for a failed request) before the 202. */
  failures: string[];
}

/**
 * POSTs a message, retrying 5xx answers and failed requests (with the same `Idempotency-Key`,
 * so that a request whose commit happened before its connection died is not sent twice) every
 * `retryEveryMs` until a 202, for at most `giveUpAfterMs`. Anything but 202 or 5xx is a failure.
 */
export async function sendMessage(
  api: Api,
  body: unknown,
  options: { idempotencyKey?: string; giveUpAfterMs?: number; retryEveryMs?: number } = {},
): Promise<SendResult> {
  const deadline = performance.now() + (options.giveUpAfterMs ?? 0);
  const failures: string[] = [];
  for (;;) {
    let answer: ApiAnswer | undefined;
    try {
      answer = await api(
        'POST',
        '/v1/messages',
        body,
        options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {},
      );
    } catch (error) {
      failures.push(`network (${(error as Error).name})`);
    }
    if (answer?.status === 202) {
      return {
        id: answer.body.id,
        replayed: answer.headers.get('idempotent-replayed') === 'true',
        failures,
      };
    }
    if (answer) {
      if (answer.status < 500) {
        throw new Error(
          `POST /v1/messages answered ${answer.status}: ${JSON.stringify(answer.body)}`,
        );
      }
      failures.push(String(answer.status));
    }
    if (performance.now() > deadline) {
      throw new Error(`POST /v1/messages kept failing: ${failures.slice(-5).join(', ')}`);
    }
    await sleep(options.retryEveryMs ?? 100);
  }
}

/** A process's resident memory in bytes (Linux `/proc`). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!kb) throw new Error(`No VmRSS for process ${pid}.`);
  return Number(kb[1]) * 1024;
}

/** The built gateway is required: faults run the real binary (`pnpm --filter @hookline/gateway build`). */
export function requireBuiltGateway(): void {
  if (!builtGatewayExists()) {
    throw new Error(
      'apps/gateway/dist/main.js is missing: build the gateway first (pnpm --filter @hookline/gateway build; pnpm test does).',
    );
  }
}

/** Runs `fn` with a one-connection client on `url`, closed afterwards. */
export async function withSql<T>(url: string, fn: (db: postgres.Sql) => Promise<T>): Promise<T> {
  const db = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(db);
  } finally {
    await db.end({ timeout: 2 });
  }
}

/**
 * Terminates the backends of ONE database that belong to a gateway (application_name
 * `hookline…`), never any other session on the server: the test server is shared. Returns how
 * many were terminated.
 */
export async function terminateGatewayBackends(
  adminUrl: string,
  database: string,
): Promise<number> {
  return withSql(adminUrl, async (db) => {
    const rows = await db<{ pid: number; terminated: boolean }[]>`
      select pid, pg_terminate_backend(pid) as terminated
      from pg_stat_activity
      where datname = ${database}
        and application_name like 'hookline%'
        and pid <> pg_backend_pid()`;
    return rows.filter((row) => row.terminated).length;
  });
}

/** The `GET /v1/deliveries/{id}` attempts of every delivery of an endpoint, oldest first. */
export async function attemptsOf(
  api: Api,
  endpointId: string,
): Promise<
  Map<
    string,
    {
      status: string;
      attempts: {
        attempt_number: number;
        outcome: string;
        http_status: number | null;
        latency_ms: number;
        attempted_at: string;
        response_body_truncated: boolean;
        error: string | null;
      }[];
    }
  >
> {
  const out = new Map();
  let cursor: string | null = null;
  do {
    const page: ApiAnswer = await api(
      'GET',
      `/v1/deliveries?endpoint_id=${endpointId}&limit=250${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    for (const delivery of page.body.data as { id: string; message_id: string }[]) {
      const full = await api('GET', `/v1/deliveries/${delivery.id}`);
      expect(full.status).toBe(200);
      const attempts = [...full.body.attempts].sort(
        (a: { attempt_number: number }, b: { attempt_number: number }) =>
          a.attempt_number - b.attempt_number,
      );
      out.set(delivery.message_id, { status: full.body.status, attempts });
    }
    cursor = page.body.next_cursor;
  } while (cursor);
  return out;
}

/** A scratch database on the shared test server, with the admin URL to reach the server. */
export async function createScratch(): Promise<ScratchDatabase & { adminUrl: string }> {
  // Test infrastructure, as in databases.ts: the gateway itself never reads this variable.
  const adminUrl = process.env.HOOKLINE_TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('HOOKLINE_TEST_DATABASE_URL is not set.');
  return { ...(await createScratchDatabase()), adminUrl };
}

/**
 * Waits until every delivery in the database is `succeeded` (a delivery sent but not recorded,
 * because its worker died or the database was away, stays leased until its lease lapses, and is
 * then sent again), and returns the final counts by status.
 */
export async function waitAllSucceeded(
  url: string,
  expected: number,
  timeoutMs: number,
): Promise<{ status: string; n: number }[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const counts = await withSql(
      url,
      (db) =>
        db<{ status: string; n: number }[]>`
        select status, count(*)::int as n from deliveries group by status order by status`,
    );
    const done =
      counts.length === 1 && counts[0]!.status === 'succeeded' && counts[0]!.n === expected;
    if (done || performance.now() > deadline) return counts;
    await sleep(250);
  }
}

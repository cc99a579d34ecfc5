import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger';
import type { HttpClient } from '../net/http-client';
import type { Signer } from '../signing/signer';
import {
  type CircuitBreakerPolicy,
  type ClaimCursor,
  type ClaimedDelivery,
  type ClaimStats,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_MAX_PER_ENDPOINT,
  type EndpointHealthPolicy,
  type OutcomeInput,
  type RecordedOutcome,
  type Store,
} from '../storage';
import { type AttemptRecord, performAttempt } from './attempt';
import { DEFAULT_RETRY_SCHEDULE, nextAttemptDelay } from './schedule';

/** The request timeout (15 s, API.md) plus room to record the outcome before the lease lapses. */
export const DEFAULT_LEASE_MS = 30_000;
/** Attempts in flight per worker: the gateway's default too (`HOOKLINE_WORKER_CONCURRENCY`). */
export const DEFAULT_CONCURRENCY = 200;
/** Longest sleep between claims with nothing due: the safety net under LISTEN/NOTIFY. */
export const DEFAULT_MAX_IDLE_MS = 5_000;
/** An endpoint failing every attempt for this long is disabled (API.md: 5 days). */
export const DEFAULT_DISABLE_AFTER_FAILING_MS = 5 * 24 * 60 * 60 * 1000;

/**
 * An operational event a record wrote (to logs and hooks; the `operational_events` row written in
 * the same statement is what the alert dispatcher sends).
 */
export type WorkerEvent =
  | {
      type: 'delivery.dead';
      deliveryId: string;
      endpointId: string;
      tenantId: string;
      messageId: string;
    }
  | {
      type: 'endpoint.disabled';
      endpointId: string;
      tenantId: string;
      reason: 'gone' | 'failing';
    }
  | { type: 'endpoint.recovered'; endpointId: string; tenantId: string };

/** What `createWorker` needs. */
export interface WorkerOptions {
  store: Pick<Store, 'queue' | 'endpoints'>;
  httpClient: Pick<HttpClient, 'send'>;
  /** Default: the process-wide cached signer. */
  signer?: Signer;
  logger: Logger;
  /** Who holds the leases; default `hostname:pid`. */
  workerId?: string;
  /**
   * Attempts in flight at once (claimed and not yet recorded). Default 200, as for
   * `HOOKLINE_WORKER_CONCURRENCY`.
   */
  concurrency?: number;
  /** Most deliveries per claim. Default: `concurrency`. */
  batchSize?: number;
  /** Lease per claim; must outlast the request timeout. Default 30 s. */
  leaseMs?: number;
  /** Most deliveries of one endpoint leased at once across workers (default: storage's, 10). */
  maxPerEndpoint?: number;
  /** The gateway-wide default delays in seconds (`HOOKLINE_RETRY_SCHEDULE`). */
  retrySchedule?: readonly number[];
  /** For `user-agent: Hookline/<version>`. */
  userAgentVersion: string;
  /** Per-attempt request timeout; default the client's (15 s). */
  timeoutMs?: number;
  /** Longest sleep with nothing due (default 5 s). */
  maxIdleMs?: number;
  /** Shortest sleep when rows are due but none could be claimed (capped endpoints). Default 500 ms. */
  minIdleMs?: number;
  /**
   * Shortest time between two claims (default 10 ms): under load, wake-ups within it share one
   * claim; when idle, a wake-up claims at once.
   */
  minClaimIntervalMs?: number;
  /** How long finished attempts wait to be recorded together (default 10 ms). */
  recordDelayMs?: number;
  /**
   * Disable endpoints failing this long (default 5 days); `Infinity` never does. Decided by the
   * database clock when the outcome is recorded.
   */
  disableAfterFailingMs?: number;
  /**
   * The circuit breaker's thresholds (default `DEFAULT_CIRCUIT_BREAKER`: 90 % of ≥ 20 attempts
   * in a sliding minute failed → open; probes from 30 s, doubling to 10 min); `false` opens none.
   */
  circuitBreaker?: Partial<CircuitBreakerPolicy> | false;
  /**
   * Told about dead deliveries, automatic disables and recoveries after the record that wrote
   * their `operational_events` rows has committed. Must not throw.
   */
  onEvent?: (event: WorkerEvent) => void;
  /** Counts claims, attempts and records (`/metrics`); see `WorkerMetrics`. */
  metrics?: WorkerMetrics;
  /** The clock (tests). */
  now?: () => Date;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
}

/** The worker's metric hooks (`metrics.ts` implements them on prom-client). Must not throw. */
export interface WorkerMetrics {
  /** After each successful claim. */
  claimed(stats: ClaimStats): void;
  /** A claimed delivery's attempt starts. */
  attemptStarted(): void;
  /** An attempt ended (before its outcome is recorded). */
  attemptFinished(outcome: AttemptRecord['outcome'], seconds: number): void;
  /** An attempt's outcome was recorded with this delivery status, or null: not recorded. */
  recorded(status: OutcomeInput['status'] | null): void;
  /** Claimed deliveries no longer held by this worker (recorded, released or abandoned). */
  settled(count: number): void;
}

/** A running delivery loop. */
export interface Worker {
  /** Subscribes to wake-ups and starts claiming. */
  start(): Promise<void>;
  /**
   * Stops claiming (no attempt starts after this is called), waits up to `graceMs` (default
   * 10 s) for attempts in flight and records their outcomes; the leases of attempts still
   * unfinished then are released, so that another worker claims them at once (same
   * `webhook-id`) rather than when the lease would have lapsed.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Deliveries claimed and not yet recorded. */
  readonly inFlight: number;
}

interface Finished {
  delivery: ClaimedDelivery;
  record: AttemptRecord;
  outcome: OutcomeInput;
}

// Outcomes recorded per statement at most; more wait for the next round.
const MAX_RECORD_BATCH = 500;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms).unref());

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer.`);
  return n;
}

/**
 * The delivery loop: claim due deliveries (never more than free slots) → send each in parallel →
 * decide its next state → record outcomes in batches (conditional on the lease) → claim again.
 * Woken by NOTIFY at once, by a timer at the next due time, and at least every `maxIdleMs`.
 */
export function createWorker(options: WorkerOptions): Worker {
  const { store, logger, httpClient } = options;
  const log = logger.child({ component: 'worker' });
  // Unique to this worker: host, process, and a random part (two containers on one host's network
  // may share a hostname and both run as pid 1). `releaseUnheld` relies on it.
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const concurrency = positiveInt(options.concurrency, DEFAULT_CONCURRENCY, 'concurrency');
  const batchSize = positiveInt(options.batchSize, concurrency, 'batchSize');
  const leaseMs = positiveInt(options.leaseMs, DEFAULT_LEASE_MS, 'leaseMs');
  const schedule = options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE;
  const maxIdleMs = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
  const minIdleMs = Math.min(options.minIdleMs ?? 500, maxIdleMs);
  const maxPerEndpoint = positiveInt(
    options.maxPerEndpoint,
    DEFAULT_MAX_PER_ENDPOINT,
    'maxPerEndpoint',
  );
  const disableAfterFailingMs = options.disableAfterFailingMs ?? DEFAULT_DISABLE_AFTER_FAILING_MS;
  if (!(disableAfterFailingMs > 0)) throw new RangeError('disableAfterFailingMs must be positive.');
  // How records move endpoint health: the database decides, by its own clock, in the record.
  const health: EndpointHealthPolicy = {
    disableAfterFailingMs: Number.isFinite(disableAfterFailingMs) ? disableAfterFailingMs : null,
    breaker:
      options.circuitBreaker === false
        ? null
        : { ...DEFAULT_CIRCUIT_BREAKER, ...(options.circuitBreaker ?? {}) },
  };
  const minClaimIntervalMs = Math.max(0, options.minClaimIntervalMs ?? 10);
  const recordDelayMs = Math.max(0, options.recordDelayMs ?? 10);
  const now = options.now ?? (() => new Date());
  const emit = (event: WorkerEvent) => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      log.error({ err: error }, 'operational event handler failed');
    }
  };

  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  // Claimed and not yet recorded: bounds the leases this worker holds.
  let inFlight = 0;
  const sending = new Set<Promise<void>>();
  // Attempts under way, by delivery id: their leases are released when a stop's grace runs out.
  const attempting = new Map<string, ClaimedDelivery>();
  // Every delivery this worker holds a lease on, from its claim to its record (or abandonment):
  // the leases `releaseUnheld` must leave alone.
  const holding = new Set<string>();
  // Set when a claim failed: it may have committed leases whose answer never arrived.
  let claimAnswerLost = false;
  let pumping: Promise<void> | null = null;
  let dirty = false;
  /**
   * True after a claim that returned rows: more may be due behind them (a claim's snapshot can
   * still count a lease released meanwhile), so every freed slot claims again. Only an empty
   * claim says nothing claimable is left.
   */
  let backlogPossible = false;
  /**
   * Set when an endpoint that reached its cap gets a slot back: the next claim goes at once,
   * without the `minClaimIntervalMs` spacing. That endpoint's due rows wait for exactly this
   * slot, so spacing its claims would cap one endpoint at `maxPerEndpoint` per interval
   * (1,000 deliveries/s with the defaults) however fast its receiver answers.
   */
  let slotFreedOnCapped = false;
  // Ends the pump's wait for the claim spacing early, while it waits.
  let endSpacing: (() => void) | undefined;
  let lastClaimAt = 0;
  // Where the next claim continues its round-robin over endpoints with pending work.
  const cursor: ClaimCursor = { after: '', more: false };
  // This worker's leases per endpoint, and the endpoints that reached the cap in a claim.
  const perEndpoint = new Map<string, number>();
  const capped = new Set<string>();
  // The endpoints the last claim found at their cap, counting every worker's leases (a lease
  // released while that claim ran is one of them too): replaced by each claim.
  let cappedInDatabase = new Set<string>();
  const awaitsSlot = (endpointId: string) =>
    capped.has(endpointId) || cappedInDatabase.has(endpointId);
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let claimFailures = 0;
  let unlisten: (() => Promise<void>) | undefined;
  const finished: Finished[] = [];
  let flushing: Promise<void> | null = null;
  let lookingAhead = false;
  let lookAgain = false;

  /** Something may be due (NOTIFY, timer): claim now, or right after the claim under way. */
  function wake(): void {
    dirty = true;
    pumpSoon();
  }

  function pumpSoon(): void {
    if (state !== 'running' || pumping) return;
    pumping = pump().finally(() => {
      pumping = null;
    });
  }

  function arm(at: number): void {
    if (state !== 'running' || at >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        wake();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /**
   * Claims while something may be due and slots are free. `dirty` is set by every wake-up (also
   * one arriving during a claim), by a full claim, by a slot freed on a capped endpoint, and by
   * any freed slot after a claim that returned rows; only an empty claim leaves the worker idle.
   */
  async function pump(): Promise<void> {
    let lastClaimed = -1;
    while (state === 'running' && dirty) {
      const free = concurrency - inFlight;
      // Full: `dirty` stays set and the next recorded outcome claims again.
      if (free <= 0) return;
      // Under load (the last claim returned rows), claims at most every `minClaimIntervalMs`:
      // wake-ups arriving meanwhile share one claim. After an empty claim nothing is queued
      // behind this wake-up, so it claims at once: an idle poll (e.g. for an endpoint at its
      // cap) must not delay the next message of another endpoint.
      const wait =
        backlogPossible && !slotFreedOnCapped ? lastClaimAt + minClaimIntervalMs - Date.now() : 0;
      if (wait > 0) {
        // Cut short when a capped endpoint gets a slot back meanwhile (see `slotFreedOnCapped`).
        await new Promise<void>((done) => {
          const timeout = setTimeout(done, wait);
          endSpacing = () => {
            clearTimeout(timeout);
            done();
          };
        });
        endSpacing = undefined;
        if (state !== 'running') return;
      }
      lastClaimAt = Date.now();
      dirty = false;
      slotFreedOnCapped = false;
      const limit = Math.min(batchSize, concurrency - inFlight);
      let claimed: ClaimedDelivery[];
      const stats: ClaimStats = { leaseExpired: 0, rateLimited: 0, readyLeft: 0 };
      try {
        if (claimAnswerLost) {
          // The last claim failed, perhaps after it committed (its connection lost on the way
          // back): those leases would sit unused until they lapse. No claim of ours is under way
          // now, so every lease of this worker that it does not hold is one of them.
          const released = await store.queue.releaseUnheld(workerId, [...holding]);
          claimAnswerLost = false;
          if (released.length > 0) {
            log.warn(
              { released: released.length },
              'released the leases of a claim whose answer was lost',
            );
          }
        }
        claimed = await store.queue.claim({
          workerId,
          limit,
          leaseMs,
          maxPerEndpoint,
          cursor,
          stats,
        });
        claimFailures = 0;
        options.metrics?.claimed(stats);
      } catch (error) {
        claimFailures++;
        claimAnswerLost = true;
        log.error({ err: error, failures: claimFailures }, 'claiming deliveries failed');
        arm(Date.now() + Math.min(maxIdleMs, 250 * 2 ** Math.min(claimFailures, 5)));
        return;
      }
      if (state !== 'running') {
        // Stopped during the claim: nothing starts after a stop, so these go straight back.
        await giveBack(claimed);
        return;
      }
      cappedInDatabase = new Set(cursor.capped);
      for (const delivery of claimed) dispatch(delivery);
      lastClaimed = claimed.length;
      backlogPossible = claimed.length > 0;
      // A full claim, or endpoints left unvisited in this round: claim again at once. (A round
      // ends at the last endpoint, so endpoints that can give nothing do not make this spin.)
      if (claimed.length === limit || cursor.more) dirty = true;
      // Full now, with claimable rows left behind: a wake-up this worker had room for kept
      // other processes from hearing of them (see `createWaker`), so tell them.
      if (inFlight >= concurrency && stats.readyLeft > 0) store.queue.wakeOthers();
    }
    if (lastClaimed === 0) void lookAhead();
    else if (lastClaimed > 0) arm(Date.now() + maxIdleMs);
  }

  /** Nothing claimable right now: sleep until the next delivery falls due (capped). */
  async function lookAhead(): Promise<void> {
    if (state !== 'running') return;
    if (lookingAhead) {
      // The read under way may predate what woke us: read again after it.
      lookAgain = true;
      return;
    }
    lookingAhead = true;
    lookAgain = false;
    try {
      const due = await store.queue.nextDueAt();
      const t = Date.now();
      if (due === null) arm(t + maxIdleMs);
      // Due but not claimable (endpoints at their cap, or a race): do not spin.
      else if (due.getTime() <= t) arm(t + minIdleMs);
      else arm(Math.min(due.getTime() + 2, t + maxIdleMs));
    } catch (error) {
      log.error({ err: error }, 'reading the next due time failed');
      arm(Date.now() + maxIdleMs);
    } finally {
      lookingAhead = false;
      if (lookAgain) void lookAhead();
    }
  }

  function dispatch(delivery: ClaimedDelivery): void {
    inFlight++;
    holding.add(delivery.id);
    attempting.set(delivery.id, delivery);
    options.metrics?.attemptStarted();
    const endpointId = delivery.endpoint.id;
    const leased = (perEndpoint.get(endpointId) ?? 0) + 1;
    perEndpoint.set(endpointId, leased);
    // At its cap, the endpoint's other due rows were skipped: claim again when a slot frees.
    if (leased >= maxPerEndpoint) capped.add(endpointId);
    const task = attempt(delivery).then(
      (done) => {
        attempting.delete(delivery.id);
        options.metrics?.attemptFinished(done.record.outcome, (done.record.latencyMs ?? 0) / 1000);
        enqueue(done);
      },
      (error) => {
        attempting.delete(delivery.id);
        // attempt() handles its own failures; this is a bug guard. The lease will lapse.
        release([delivery]);
        log.error({ err: error, deliveryId: delivery.id }, 'delivery attempt crashed');
      },
    );
    sending.add(task);
    void task.finally(() => sending.delete(task));
  }

  async function attempt(delivery: ClaimedDelivery): Promise<Finished> {
    const startedAt = now();
    let record: AttemptRecord;
    try {
      record = await performAttempt({
        delivery: {
          messageId: delivery.message.id,
          eventType: delivery.message.eventType,
          payloadJson: delivery.message.payloadJson,
          createdAt: delivery.message.createdAt,
        },
        endpoint: {
          url: delivery.endpoint.url,
          headers: delivery.endpoint.headers,
          keys: delivery.endpoint.keys,
        },
        now: startedAt,
        client: httpClient,
        userAgentVersion: options.userAgentVersion,
        ...(options.signer ? { signer: options.signer } : {}),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      });
    } catch (error) {
      // Not the endpoint's fault (e.g. unusable stored key): record a failure so it follows the
      // schedule instead of looping on lease expiry.
      log.error({ err: error, deliveryId: delivery.id }, 'could not attempt delivery');
      record = {
        attemptedAt: startedAt,
        outcome: 'network_error',
        httpStatus: null,
        latencyMs: 0,
        requestHeaders: {},
        requestBody: '',
        requestBodyTruncated: false,
        responseHeaders: {},
        responseBody: '',
        responseBodyTruncated: false,
        error: 'The gateway could not prepare this request.',
        effects: { disableEndpoint: false, disableReason: null, retryAfterMs: null },
      };
    }
    return { delivery, record, outcome: decide(delivery, record) };
  }

  function decide(delivery: ClaimedDelivery, record: AttemptRecord): OutcomeInput {
    const base = {
      deliveryId: delivery.id,
      leaseToken: delivery.leaseToken,
      attempt: {
        outcome: record.outcome,
        httpStatus: record.httpStatus,
        latencyMs: record.latencyMs,
        requestHeaders: record.requestHeaders,
        requestBody: record.requestBody,
        requestBodyTruncated: record.requestBodyTruncated,
        responseHeaders: record.responseHeaders,
        responseBody: record.responseBody,
        responseBodyTruncated: record.responseBodyTruncated,
        error: record.error,
        attemptedAt: record.attemptedAt,
      },
    };
    if (record.outcome === 'success') return { ...base, status: 'succeeded' };
    // A test is never retried nor dead-lettered, and never disables its endpoint.
    if (delivery.test) return { ...base, status: 'failed', nextAttemptAt: null };
    // 410: disabled in the record statement, atomically with its event.
    const gone = record.effects.disableEndpoint ? { disableEndpoint: 'gone' as const } : {};
    const decision = nextAttemptDelay({
      schedule: delivery.endpoint.retrySchedule ?? schedule,
      attemptNumber: delivery.attemptNumber,
      outcome: record.outcome,
      httpStatus: record.httpStatus,
      retryAfterMs: record.effects.retryAfterMs,
      ...(options.random ? { random: options.random } : {}),
    });
    if (decision.kind === 'dead') return { ...base, ...gone, status: 'dead' };
    // A delay, not a time: the record stores the database's now() + delay, so a jump of this
    // host's clock neither parks the retry nor fires it early. (It counts from the record, which
    // follows the failure by at most the batching delay.)
    return { ...base, ...gone, status: 'failed', retryDelayMs: decision.delayMs };
  }

  /** Frees the slots of recorded (or abandoned) deliveries. */
  function release(deliveries: ClaimedDelivery[]): void {
    options.metrics?.settled(deliveries.length);
    for (const delivery of deliveries) {
      inFlight--;
      holding.delete(delivery.id);
      const endpointId = delivery.endpoint.id;
      const left = (perEndpoint.get(endpointId) ?? 1) - 1;
      if (left > 0) perEndpoint.set(endpointId, left);
      else perEndpoint.delete(endpointId);
      const awaited = awaitsSlot(endpointId);
      capped.delete(endpointId);
      if (awaited) {
        dirty = true;
        slotFreedOnCapped = true;
        endSpacing?.();
      } else if (backlogPossible) dirty = true;
    }
  }

  function enqueue(done: Finished): void {
    if (state === 'stopped') {
      // Too late to record: the lease lapses and the delivery is attempted again.
      release([done.delivery]);
      log.warn({ deliveryId: done.delivery.id }, 'attempt finished after stop; left to its lease');
      return;
    }
    finished.push(done);
    startFlush();
  }

  function startFlush(): void {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = null;
      // Anything queued between the last check and here.
      if (finished.length > 0) startFlush();
    });
  }

  async function flush(): Promise<void> {
    // Let attempts that finish meanwhile join this statement: recording later delays nothing a
    // receiver sees, and one statement for many outcomes is what keeps up with high rates.
    // Not when an endpoint at its cap waits for these slots, nor when stopping.
    const slotAwaited = finished.some((f) => awaitsSlot(f.delivery.endpoint.id));
    if (state === 'running' && recordDelayMs > 0 && !slotAwaited) await sleep(recordDelayMs);
    else await new Promise<void>((done) => setImmediate(done));
    while (finished.length > 0) {
      const batch = finished.splice(0, MAX_RECORD_BATCH);
      const results = await record(batch);
      for (let i = 0; i < batch.length; i++) {
        const result = results?.[i];
        options.metrics?.recorded(result?.recorded ? batch[i]!.outcome.status : null);
      }
      release(batch.map((f) => f.delivery));
      pumpSoon();
      if (results) applyEffects(batch, results);
    }
  }

  async function record(batch: Finished[]): Promise<RecordedOutcome[] | null> {
    const outcomes = batch.map((f) => f.outcome);
    for (let tries = 1; ; tries++) {
      try {
        return await store.queue.recordOutcomes(outcomes, health);
      } catch (error) {
        const leaseLeft =
          Math.min(...batch.map((f) => f.delivery.lockedUntil.getTime())) - Date.now();
        if (tries >= 3 || leaseLeft < 2_000 || state === 'stopped') {
          // The leases lapse and these deliveries are attempted again: at-least-once holds.
          log.error(
            { err: error, count: batch.length },
            'recording outcomes failed; leases will lapse',
          );
          return null;
        }
        log.warn({ err: error, count: batch.length, tries }, 'recording outcomes failed; retrying');
        await sleep(250 * tries);
      }
    }
  }

  /**
   * Logs what the record did and tells `onEvent`. The record statement itself decided dead
   * deliveries, disables, recoveries and breaker moves, and wrote their events; nothing here
   * changes state.
   */
  function applyEffects(batch: Finished[], results: RecordedOutcome[]): void {
    // Endpoint changes are reported on every outcome of that endpoint in the batch: once each.
    const seen = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const { delivery, record: attempt, outcome } = batch[i]!;
      const result = results[i]!;
      const fields = {
        deliveryId: delivery.id,
        endpointId: delivery.endpoint.id,
        attemptNumber: delivery.attemptNumber,
        outcome: attempt.outcome,
        httpStatus: attempt.httpStatus,
        latencyMs: attempt.latencyMs,
      };
      if (!result.recorded) {
        log.warn(fields, 'lease lost before the outcome was recorded; not recorded');
        continue;
      }
      if (outcome.status === 'succeeded') log.debug(fields, 'delivered');
      else if (outcome.status === 'dead') {
        log.warn(fields, 'delivery dead after its last attempt');
        if (!delivery.test) {
          emit({
            type: 'delivery.dead',
            deliveryId: delivery.id,
            endpointId: delivery.endpoint.id,
            tenantId: delivery.tenantId,
            messageId: delivery.message.id,
          });
        }
      } else {
        log.info({ ...fields, nextAttemptAt: result.nextAttemptAt }, 'attempt failed');
        // Our own retry: no need to ask the database when to wake for it. (Relative to this
        // host's monotonic timers, so a skew between the two clocks does not matter.)
        if (outcome.retryDelayMs != null) arm(Date.now() + outcome.retryDelayMs + 2);
      }
      if (delivery.test || seen.has(delivery.endpoint.id)) continue;
      seen.add(delivery.endpoint.id);
      const endpointFields = { endpointId: delivery.endpoint.id, tenantId: delivery.tenantId };
      if (result.breaker === 'opened') {
        log.warn(endpointFields, 'circuit breaker opened: endpoint throttled to probes');
      } else if (result.breaker === 'reopened') {
        log.info(endpointFields, 'circuit breaker probe failed; breaker stays open');
      } else if (result.breaker === 'closed') {
        log.info(endpointFields, 'circuit breaker closed');
      }
      if (result.endpointRecovered) {
        log.info(endpointFields, 'endpoint recovered');
        emit({ type: 'endpoint.recovered', ...endpointFields });
      }
      if (result.endpointDisabled) {
        log.warn({ ...endpointFields, reason: result.endpointDisabled }, 'endpoint disabled');
        emit({ type: 'endpoint.disabled', ...endpointFields, reason: result.endpointDisabled });
      }
    }
  }

  let stopped: Promise<void> | undefined;

  /** Gives back leases this worker will not finish: any worker may claim them at once. */
  async function giveBack(deliveries: ClaimedDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      const released = await store.queue.release(
        deliveries.map((d) => ({ deliveryId: d.id, leaseToken: d.leaseToken })),
      );
      log.info(
        { released: released.length, deliveryIds: released },
        'released the leases of unfinished deliveries',
      );
    } catch (error) {
      log.error(
        { err: error, count: deliveries.length },
        'releasing leases failed; the deliveries come back when their leases lapse',
      );
    }
  }

  async function stopRunning(graceMs: number): Promise<void> {
    if (state === 'new') {
      state = 'stopped';
      return;
    }
    const deadline = Date.now() + graceMs;
    state = 'stopping';
    if (timer) clearTimeout(timer);
    timer = undefined;
    endSpacing?.();
    await unlisten?.().catch((error) => log.warn({ err: error }, 'unlisten failed'));
    await pumping;
    if (sending.size > 0) {
      let expired = false;
      await Promise.race([
        Promise.allSettled([...sending]),
        sleep(Math.max(0, deadline - Date.now())).then(() => {
          expired = true;
        }),
      ]);
      if (expired && attempting.size > 0) {
        log.warn(
          { inFlight: attempting.size },
          'stop grace period over; releasing the leases of unfinished attempts',
        );
        // Their outcomes, should they still arrive, are no longer recorded (the lease check).
        await giveBack([...attempting.values()]);
      }
    }
    // Record everything that finished (and anything finishing while this runs).
    while (flushing) await flushing;
    state = 'stopped';
    log.info({ workerId }, 'worker stopped');
  }

  return {
    get inFlight() {
      return inFlight;
    },

    async start() {
      if (state !== 'new') throw new Error('A worker starts once.');
      // While this worker has free slots and its claims work, this process's wake-ups are its
      // to claim: the waker sends other processes no NOTIFY for them.
      const unsubscribe = await store.queue.onDeliveriesDue(wake, {
        hasRoom: () => state === 'running' && inFlight < concurrency && claimFailures === 0,
      });
      if (stopped) {
        // Stopped while subscribing.
        await unsubscribe();
        return;
      }
      unlisten = unsubscribe;
      state = 'running';
      log.info({ workerId, concurrency, leaseMs }, 'worker started');
      wake();
    },

    stop({ graceMs = 10_000 } = {}) {
      stopped ??= stopRunning(graceMs);
      return stopped;
    },
  };
}

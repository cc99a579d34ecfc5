/**
 * The gateway's Prometheus metrics (prom-client), served at `GET /metrics`. One `Registry` per
 * gateway instance, never prom-client's global one, so several gateways in one process (tests,
 * embedding) keep separate numbers.
 *
 * No label ever carries a tenant id, an endpoint id, a URL or a raw request path: labels are
 * small fixed sets (outcomes, states, route templates, pool names), so the number of series stays
 * bounded whatever the traffic. Per-tenant and per-endpoint figures are in the stats API.
 *
 * The hot-path hooks only add to counters and histograms (label values are fixed strings); the
 * queue and pool gauges are read when scraped, the queue with one bounded query cached briefly.
 */
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Registry as PromRegistry,
  Registry,
} from 'prom-client';
import type { WorkerMetrics } from './delivery/worker';
import type { Logger } from './logger';
import type { DeliveryOutcome } from './net';
import type { PoolStats, QueueStats } from './storage';

/** Where an SSRF refusal happened. */
export type SsrfStage = 'registration' | 'delivery';

/** Every attempt outcome (API.md), so each series exists from the start at 0. */
export const ATTEMPT_OUTCOMES: readonly DeliveryOutcome[] = [
  'success',
  'timeout',
  'http_4xx',
  'http_5xx',
  'redirect',
  'network_error',
  'blocked',
];

/** What a recorded attempt made of its delivery. */
export const DELIVERY_RESULTS = ['succeeded', 'failed', 'dead'] as const;

/** How long a queue reading is reused: scrapes from several Prometheus servers share it. */
export const QUEUE_STATS_CACHE_MS = 2_000;

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** The gateway version (`hookline_build_info`). */
  version: string;
  /** The process role (`hookline_build_info`). */
  role: string;
  /** Include prom-client's process metrics (CPU, memory, event loop, GC) as `hookline_process_*`/`hookline_nodejs_*`. Default true. */
  processMetrics?: boolean;
  /** For failures of the scrape-time reads (debug level: a scrape must not flood the logs). */
  logger?: Logger;
  /** The clock (tests). */
  now?: () => number;
}

/** A gateway's metrics: the `/metrics` source plus the hooks that move the numbers. */
export interface GatewayMetrics {
  /** This instance's registry (a `MetricsSource` for `/metrics`). */
  readonly registry: PromRegistry;
  readonly contentType: string;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  /** One HTTP request answered; `route` is the matched route template, never the raw path. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** A new message accepted (202, not an idempotent replay). */
  messageAccepted(): void;
  /** A URL or address refused by the SSRF guard. */
  ssrfBlocked(stage: SsrfStage): void;
  /** The delivery worker's hooks. */
  readonly worker: WorkerMetrics;
  /** Reads queue depth and lag at scrape time (cached `QUEUE_STATS_CACHE_MS`). */
  watchQueue(read: () => Promise<QueueStats>): void;
  /** Reads a connection pool's use at scrape time; `pool` is a fixed name (`api`, `worker`). */
  watchPool(pool: string, read: () => PoolStats): void;
}

/** Creates the metrics of one gateway instance, on a registry of its own. */
export function createMetrics(options: MetricsOptions): GatewayMetrics {
  const registry = new Registry();
  const now = options.now ?? Date.now;
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
  }
  const registers = [registry];

  new Gauge({
    name: 'hookline_build_info',
    help: 'Always 1; the gateway version and the role of this process as labels.',
    labelNames: ['version', 'role'],
    registers,
  }).set({ version: options.version, role: options.role }, 1);

  const httpRequests = new Counter({
    name: 'hookline_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const httpDuration = new Histogram({
    name: 'hookline_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const accepted = new Counter({
    name: 'hookline_messages_accepted_total',
    help: 'Messages accepted by POST /v1/messages (idempotent replays not counted).',
    registers,
  });
  const ssrf = new Counter({
    name: 'hookline_ssrf_blocks_total',
    help: 'URLs or addresses refused by the SSRF guard: at registration (400 url_not_allowed) or at delivery (outcome blocked).',
    labelNames: ['stage'],
    registers,
  });
  for (const stage of ['registration', 'delivery']) ssrf.inc({ stage }, 0);

  const attempts = new Counter({
    name: 'hookline_deliveries_total',
    help: 'Delivery attempts finished, by outcome.',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of ATTEMPT_OUTCOMES) attempts.inc({ outcome }, 0);
  const results = new Counter({
    name: 'hookline_delivery_results_total',
    help: 'Attempts recorded, by the status they gave their delivery: succeeded, failed (a retry is scheduled) or dead (no attempts left).',
    labelNames: ['status'],
    registers,
  });
  for (const status of DELIVERY_RESULTS) results.inc({ status }, 0);
  const unrecorded = new Counter({
    name: 'hookline_attempts_unrecorded_total',
    help: 'Attempts whose outcome could not be recorded (lease lost or the database failed): the delivery is attempted again.',
    registers,
  });
  const duration = new Histogram({
    name: 'hookline_attempt_duration_seconds',
    help: 'Duration of delivery attempts (DNS, connect, request and response), by outcome.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers,
  });
  const inflight = new Gauge({
    name: 'hookline_inflight_attempts',
    help: 'Deliveries claimed by this process and not yet recorded.',
    registers,
  });
  const leaseExpiries = new Counter({
    name: 'hookline_lease_expiries_total',
    help: 'Deliveries claimed again after a lease lapsed (a worker died or stalled mid-attempt).',
    registers,
  });
  const rateDeferrals = new Counter({
    name: 'hookline_rate_limit_deferrals_total',
    help: "Times a claim left an endpoint's due deliveries waiting because its rate_limit_per_minute was used up.",
    registers,
  });
  const scrapeErrors = new Counter({
    name: 'hookline_metrics_read_errors_total',
    help: 'Scrape-time reads that failed (the gauge keeps its last value).',
    labelNames: ['source'],
    registers,
  });

  // Queue gauges: one bounded query per scrape at most, shared by both gauges.
  let readQueue: (() => Promise<QueueStats>) | null = null;
  let cached: { at: number; value: Promise<QueueStats | null> } | null = null;
  function queueReading(): Promise<QueueStats | null> {
    if (!readQueue) return Promise.resolve(null);
    const t = now();
    if (cached && t - cached.at < QUEUE_STATS_CACHE_MS) return cached.value;
    const read = readQueue;
    const value = read().catch((error: unknown) => {
      scrapeErrors.inc({ source: 'queue' });
      options.logger?.debug({ err: error }, 'reading the queue for /metrics failed');
      // A failure is not cached: the next scrape tries again.
      cached = null;
      return null;
    });
    cached = { at: t, value };
    return value;
  }
  new Gauge({
    name: 'hookline_queue_depth',
    help: 'Deliveries due now (pending or failed, next attempt time passed), in flight or not; counted up to 100000. The same for every process on one database.',
    registers,
    async collect() {
      const stats = await queueReading();
      if (stats) this.set(stats.due);
    },
  });
  new Gauge({
    name: 'hookline_queue_oldest_due_age_seconds',
    help: 'How long the longest-waiting claimable delivery has been due (0 when none is waiting). The same for every process on one database.',
    registers,
    async collect() {
      const stats = await queueReading();
      if (!stats) return;
      const age = stats.oldestDueAt
        ? (stats.now.getTime() - stats.oldestDueAt.getTime()) / 1000
        : 0;
      this.set(Math.max(0, age));
    },
  });

  const pools = new Map<string, () => PoolStats>();
  const poolGauge = (name: string, help: string, pick: (stats: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers,
      collect() {
        for (const [pool, read] of pools) {
          try {
            this.set({ pool }, pick(read()));
          } catch {
            scrapeErrors.inc({ source: 'pool' });
          }
        }
      },
    });
  poolGauge(
    'hookline_db_pool_size',
    'Connections the database pool may open (PGlite: 1, one in-process session).',
    (s) => s.size,
  );
  poolGauge(
    'hookline_db_pool_in_use',
    'Database connections running a statement or holding a transaction.',
    (s) => s.inUse,
  );
  poolGauge(
    'hookline_db_pool_waiting',
    'Statements and transactions waiting for a database connection (sustained > 0: the pool is too small).',
    (s) => s.waiting,
  );

  const worker: WorkerMetrics = {
    claimed(stats) {
      if (stats.leaseExpired > 0) leaseExpiries.inc(stats.leaseExpired);
      if (stats.rateLimited > 0) rateDeferrals.inc(stats.rateLimited);
    },
    attemptStarted() {
      inflight.inc();
    },
    attemptFinished(outcome, seconds) {
      attempts.inc({ outcome });
      duration.observe({ outcome }, seconds);
    },
    recorded(status) {
      if (status === null) unrecorded.inc();
      else results.inc({ status });
    },
    settled(count) {
      inflight.dec(count);
    },
  };

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    httpRequest(method, route, status, seconds) {
      const m = HTTP_METHODS.has(method) ? method : 'OTHER';
      httpRequests.inc({ method: m, route, status: String(status) });
      httpDuration.observe({ method: m, route }, seconds);
    },
    messageAccepted() {
      accepted.inc();
    },
    ssrfBlocked(stage) {
      ssrf.inc({ stage });
    },
    worker,
    watchQueue(read) {
      readQueue = read;
      cached = null;
    },
    watchPool(pool, read) {
      pools.set(pool, read);
    },
  };
}

#!/usr/bin/env node
/**
 * The composition root and the `hookline-gateway` binary: config → database → migrations →
 * store → outbound client → HTTP API and/or delivery worker; graceful stop on SIGTERM/SIGINT.
 */
import { realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import packageJson from '../package.json' with { type: 'json' };
import { type AlertDispatcher, createAlertDispatcher } from './alerts/dispatcher';
import { createEmailTransport, type EmailTransport } from './alerts/email';
import { isCommand, runCommand } from './cli';
import { type Config, ConfigError, type Env, loadConfig } from './config';
import {
  createMaintenance,
  type Maintenance,
  type MaintenanceOptions,
} from './delivery/maintenance';
import { createWorker, type Worker, type WorkerOptions } from './delivery/worker';
import { API_KEY_PREFIX, generateApiKey, hashToken } from './domain/auth';
import { createApp, createOperationsApp, type HttpObserver } from './http/app';
import { createLogger, type Logger } from './logger';
import { createMetrics, type GatewayMetrics } from './metrics';
import {
  createAddressPolicy,
  createHttpClient,
  type HttpClient,
  observeRefusals,
  systemResolver,
} from './net';
import { createSigner } from './signing';
import {
  connectPostgres,
  createStore,
  createWaker,
  type Database,
  DataDirLockedError,
  databaseFrom,
  keyRingCipher,
  loadKeyRing,
  openDatabase,
} from './storage';

export { ENCRYPTION_KEY_FILE } from './storage';

/**
 * Connections of the worker's own pool when API and worker share a process on PostgreSQL: its
 * claim, its batched records and its look-ahead run one at a time, so a few suffice, and the
 * API's message inserts can no longer queue in front of them.
 */
const WORKER_POOL_SIZE = 4;

/** The gateway's version (`user-agent: Hookline/<version>`, `/openapi.json`). */
export const GATEWAY_VERSION: string = packageJson.version;

/** Options of `startGateway`. */
export interface StartGatewayOptions {
  /** The environment to read `HOOKLINE_*` from. Default `process.env`. */
  env?: Env;
  /** Replaces parsed settings (tests, embedding). */
  overrides?: Partial<Omit<Config, 'warnings'>>;
  /** Extra CA certificates (PEM) the outbound client trusts besides Node's roots. */
  ca?: string | readonly string[];
  /** Default: JSON logs on stdout at the configured level. */
  logger?: Logger;
  /** Worker tuning beyond the config (tests). */
  worker?: Partial<
    Pick<
      WorkerOptions,
      | 'leaseMs'
      | 'concurrency'
      | 'batchSize'
      | 'maxPerEndpoint'
      | 'maxIdleMs'
      | 'minIdleMs'
      | 'minClaimIntervalMs'
      | 'recordDelayMs'
    >
  >;
  /**
   * The gateway host's clock as the worker reads it (attempt times, `webhook-timestamp`); default
   * the system clock. For tests that jump it (test/faults/clock-jump.test.ts).
   */
  now?: () => Date;
  /** Retention loop tuning beyond the config (tests). */
  maintenance?: Partial<
    Pick<MaintenanceOptions, 'intervalMs' | 'startDelayMs' | 'batchSize' | 'pauseMs' | 'now'>
  >;
  /**
   * Where the one-time banner with a generated API key goes. Default: stdout. It is never a
   * log line; pass `false` to print nothing (the key is still returned).
   */
  printBanner?: ((text: string) => void) | false;
  /** Let @hono/node-server replace the global Request/Response (faster; for the binary). */
  overrideGlobalObjects?: boolean;
}

/** A running gateway. */
export interface RunningGateway {
  /** Where it listens (`http://host:port`); a worker process serves only the operations routes there. */
  readonly url: string | null;
  /** The admin key generated at this start (first embedded start only). */
  readonly apiKey: string | undefined;
  readonly config: Config;
  readonly logger: Logger;
  /** This instance's metrics (its own prom-client registry), as served at `/metrics`. */
  readonly metrics: GatewayMetrics;
  /**
   * Graceful stop: `/readyz` turns 503, the listener closes (requests in flight finish), the
   * worker stops claiming and waits up to `graceMs` (default `HOOKLINE_SHUTDOWN_GRACE_SECONDS`)
   * for attempts in flight, records them, releases the leases of any still unfinished, and the
   * database closes.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

function banner(lines: string[]): string {
  const width = Math.max(...lines.map((line) => line.length));
  const rule = '='.repeat(width + 4);
  return `\n${rule}\n${lines.map((line) => `  ${line}`).join('\n')}\n${rule}\n\n`;
}

/**
 * Embedded mode with no key configured and none stored: makes the first admin key, stores its
 * hash, and returns it (to be shown once).
 */
async function bootstrapApiKey(
  config: Config,
  store: ReturnType<typeof createStore>,
  logger: Logger,
): Promise<string | undefined> {
  if (config.apiKey !== null) return undefined;
  const existing = (await store.apiKeys.list()).filter((key) => key.revokedAt === null);
  if (existing.length > 0) return undefined;
  if (!config.embedded) {
    logger.warn(
      'no API key exists: set HOOKLINE_API_KEY (an hl_sk_… key) to call the API in PostgreSQL mode',
    );
    return undefined;
  }
  const key = generateApiKey();
  await store.apiKeys.create({
    keyHash: hashToken(key),
    name: 'generated at first start',
    keyHint: key.slice(0, API_KEY_PREFIX.length + 4),
  });
  logger.info('generated the first admin API key (shown once on stdout)');
  return key;
}

function listenUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function listen(
  config: Config,
  handler: (request: Request) => Response | Promise<Response>,
  overrideGlobalObjects: boolean,
): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: handler,
      hostname: config.host,
      port: config.port,
      overrideGlobalObjects,
    }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        server,
        port: typeof address === 'object' && address ? address.port : config.port,
      });
    });
  });
}

/**
 * While stopping, every response asks its client to close the connection: Node keeps serving
 * keep-alive connections after `server.close()`, so without this a busy client would hold the
 * process open, and it reconnects (to another instance) instead.
 */
async function closingConnection(pending: Response | Promise<Response>): Promise<Response> {
  const response = await pending;
  try {
    response.headers.set('connection', 'close');
    return response;
  } catch {
    // Immutable headers (a response passed through from fetch): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set('connection', 'close');
    return copy;
  }
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

/** Starts the gateway (API and/or worker, as `HOOKLINE_ROLE` says) and resolves once it serves. */
export async function startGateway(options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const config: Config = Object.freeze({ ...loadConfig(options.env), ...options.overrides });
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);

  const database: Database = await openDatabase(
    config.embedded
      ? { kind: 'embedded', dataDir: config.dataDir }
      : {
          kind: 'postgres',
          url: config.databaseUrl!,
          poolSize: config.databasePoolSize,
          timeoutSeconds: config.databaseTimeoutSeconds,
        },
    { migrate: false },
  );
  let httpClient: HttpClient | undefined;
  let server: Server | undefined;
  let worker: Worker | undefined;
  let maintenance: Maintenance | undefined;
  let workerDatabase: Database | undefined;
  const metrics = createMetrics({ version: GATEWAY_VERSION, role: config.role, logger });
  const observer: HttpObserver = {
    request: (method, route, status, seconds) =>
      metrics.httpRequest(method, route, status, seconds),
    messageAccepted: () => metrics.messageAccepted(),
  };
  // Set at the start of a stop: `/readyz` answers 503 from then on.
  let draining = false;
  const isDraining = () => draining;
  let alerts: AlertDispatcher | undefined;
  let alertEmail: EmailTransport | undefined;
  let alertHttpClient: HttpClient | undefined;
  try {
    const migrated = await database.migrate();
    logger.info(
      { driver: database.driver, applied: migrated.applied, schemaVersion: migrated.version },
      config.embedded ? 'embedded database ready' : 'database ready',
    );

    const cipher = keyRingCipher(
      await loadKeyRing(config, (path) =>
        logger.warn(
          { path },
          'HOOKLINE_ENCRYPTION_KEYS is not set: generated an encryption key for endpoint secrets in the data directory; back it up with the data, and set HOOKLINE_ENCRYPTION_KEYS in production',
        ),
      ),
    );
    // One waker for both stores: a message accepted here wakes this process's worker directly.
    const waker = createWaker(database.sql);
    const store = createStore(database.sql, { cipher, waker });
    if (config.role === 'all' && !config.embedded) {
      workerDatabase = databaseFrom(
        connectPostgres(config.databaseUrl!, {
          max: WORKER_POOL_SIZE,
          applicationName: 'hookline-worker',
          timeoutSeconds: config.databaseTimeoutSeconds,
        }),
      );
    }
    const workerStore = workerDatabase ? createStore(workerDatabase.sql, { cipher, waker }) : store;
    metrics.watchQueue(() => store.queue.stats());
    metrics.watchPool(
      config.role === 'all' ? (workerDatabase ? 'api' : 'shared') : config.role,
      () => database.poolStats(),
    );
    if (workerDatabase) metrics.watchPool('worker', () => workerDatabase!.poolStats());
    const policy = createAddressPolicy({
      allowHttp: config.allowHttp,
      allowNetworks: config.allowNetworks,
      ...(config.allowedPorts ? { allowedPorts: config.allowedPorts } : {}),
    });
    httpClient = createHttpClient({
      policy,
      resolve: systemResolver,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      onBlocked: () => metrics.ssrfBlocked('delivery'),
    });
    const apiKey = await bootstrapApiKey(config, store, logger);

    let url: string | null = null;
    // Every role listens: a worker process serves /healthz, /readyz and /metrics only.
    {
      // Listen first, so that port 0 is known before the app (and its public URL) is made.
      let app: Hono | undefined;
      const listening = await listen(
        config,
        (request) =>
          app
            ? draining
              ? closingConnection(app.fetch(request))
              : app.fetch(request)
            : Response.json(
                { error: { code: 'not_ready', message: 'The gateway is starting.' } },
                { status: 503 },
              ),
        options.overrideGlobalObjects ?? false,
      );
      server = listening.server;
      url = listenUrl(config.host, listening.port);
      const publicUrl = new URL(config.publicUrl);
      if (publicUrl.port === '0') publicUrl.port = String(listening.port);
      app =
        config.role === 'worker'
          ? createOperationsApp({
              database,
              logger,
              version: GATEWAY_VERSION,
              publicUrl: publicUrl.toString().replace(/\/+$/, ''),
              metrics: metrics.registry,
              observer,
              draining: isDraining,
            })
          : createApp({
              store,
              database,
              logger,
              httpClient,
              // Refusals here are registration-stage SSRF blocks.
              policy: observeRefusals(policy, () => metrics.ssrfBlocked('registration')),
              metrics: metrics.registry,
              observer,
              draining: isDraining,
              resolve: systemResolver,
              allowHttp: config.allowHttp,
              publicUrl: publicUrl.toString().replace(/\/+$/, ''),
              version: GATEWAY_VERSION,
              retrySchedule: [...config.retrySchedule],
              adminKeyHashes: config.apiKey === null ? [] : [hashToken(config.apiKey)],
              maxEndpointsPerTenant: config.maxEndpointsPerTenant,
              // Bursts of twice the per-second rate.
              apiRateLimit: {
                perSecond: config.apiRateLimitPerSecond,
                burst: Math.max(1, 2 * config.apiRateLimitPerSecond),
              },
              portalRateLimit: {
                perSecond: config.portalRateLimitPerSecond,
                burst: Math.max(1, 2 * config.portalRateLimitPerSecond),
              },
            });
    }

    if (config.role !== 'api') {
      worker = createWorker({
        store: workerStore,
        httpClient,
        signer: createSigner(),
        logger,
        concurrency: config.workerConcurrency,
        maxPerEndpoint: config.endpointConcurrency,
        leaseMs: config.leaseSeconds * 1000,
        maxIdleMs: config.pollIntervalMs,
        minIdleMs: Math.min(500, config.pollIntervalMs),
        retrySchedule: config.retrySchedule,
        disableAfterFailingMs: config.disableAfterDays * 24 * 60 * 60 * 1000,
        userAgentVersion: GATEWAY_VERSION,
        metrics: metrics.worker,
        // Operational webhooks and tenant alerts plug in here.
        onEvent: (event) => logger.info({ event }, 'operational event'),
        ...(options.now ? { now: options.now } : {}),
        ...options.worker,
      });
      await worker.start();
    }

    // Retention (docs/gateway.md "Retention"): every worker process schedules it; one at a time
    // runs it (advisory lock). On the main pool: the run holds one connection for its lock. The
    // same loop analyzes stale tables that autovacuum does not look after (docs/operations.md).
    if (config.role !== 'api') {
      maintenance = createMaintenance({
        db: database.sql,
        logger,
        retentionDays: config.retentionDays,
        statsRetentionDays: config.statsRetentionDays,
        ...options.maintenance,
      });
      maintenance.start();
    }

    // Alerts (docs/alerts.md): every worker process dispatches; state is in the database.
    if (config.role !== 'api') {
      if (config.operationalWebhookUrl !== null) {
        // The operator's own URL, often internal: exempt from the SSRF guard (docs/security.md),
        // still pinned, timed out and never redirected.
        alertHttpClient = createHttpClient({
          policy: createAddressPolicy({ allowHttp: true, allowNetworks: ['0.0.0.0/0', '::/0'] }),
          resolve: systemResolver,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
        });
      }
      if (config.smtpUrl !== null) {
        alertEmail = createEmailTransport(config.smtpUrl, {
          ...(options.ca === undefined ? {} : { tls: { ca: [options.ca].flat() } }),
        });
      }
      const alertPublicUrl = new URL(config.publicUrl);
      if (alertPublicUrl.port === '0' && url !== null) alertPublicUrl.port = new URL(url).port;
      alerts = createAlertDispatcher({
        store: workerStore,
        logger,
        channels: {
          operationalWebhook:
            alertHttpClient && config.operationalWebhookSecret !== null
              ? {
                  url: config.operationalWebhookUrl!,
                  secret: config.operationalWebhookSecret,
                  client: alertHttpClient,
                }
              : null,
          email: alertEmail ? { transport: alertEmail, from: config.smtpFrom } : null,
          slack: { client: httpClient },
        },
        publicUrl: alertPublicUrl.toString().replace(/\/+$/, ''),
        userAgentVersion: GATEWAY_VERSION,
        intervalMs: config.alertIntervalSeconds * 1000,
        pollIntervalMs: Math.min(1000, config.pollIntervalMs),
      });
      await alerts.start();
    }

    if (apiKey && options.printBanner !== false) {
      const text = banner([
        'Hookline: generated an admin API key. It is shown only this once; store it now.',
        '',
        `    ${apiKey}`,
        '',
        `Use it as: Authorization: Bearer ${API_KEY_PREFIX}…${url ? `  (API at ${url})` : ''}`,
      ]);
      (options.printBanner ?? ((t: string) => process.stdout.write(t)))(text);
    }
    logger.info(
      { url, role: config.role, version: GATEWAY_VERSION, embedded: config.embedded },
      'listening',
    );

    let stopped: Promise<void> | undefined;
    return {
      url,
      apiKey,
      config,
      logger,
      metrics,
      stop: ({ graceMs = config.shutdownGraceSeconds * 1000 } = {}) => {
        stopped ??= (async () => {
          // From here /readyz answers 503, and the listener accepts no new connection.
          draining = true;
          logger.info({ graceMs }, 'stopping');
          await Promise.all([
            server ? closeServer(server, graceMs) : undefined,
            worker?.stop({ graceMs }),
            maintenance?.stop(),
            alerts?.stop({ graceMs }),
          ]);
          alertEmail?.close();
          void alertHttpClient?.close().catch(() => {});
          await workerDatabase?.close();
          await database.close();
          // Attempts abandoned past the grace period may still hold connections: do not wait.
          void httpClient?.close().catch(() => {});
          logger.info('stopped');
        })();
        return stopped;
      },
    };
  } catch (error) {
    await worker?.stop({ graceMs: 0 }).catch(() => {});
    await maintenance?.stop().catch(() => {});
    await alerts?.stop({ graceMs: 0 }).catch(() => {});
    alertEmail?.close();
    void alertHttpClient?.close().catch(() => {});
    if (server) await closeServer(server, 0).catch(() => {});
    void httpClient?.close().catch(() => {});
    await workerDatabase?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

/**
 * The binary: a command (`keys …`, `secrets reencrypt`, `help`), or start, then stop gracefully on
 * the first SIGTERM/SIGINT and at once on a second.
 */
async function runCli(): Promise<void> {
  const args = process.argv.slice(2);
  if (isCommand(args)) {
    process.exitCode = await runCommand(args, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
    return;
  }
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ overrideGlobalObjects: true });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirLockedError) {
      process.stderr.write(`hookline-gateway: ${error.message}\n`);
    } else {
      process.stderr.write(
        `hookline-gateway: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    process.exit(1);
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      gateway.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    gateway.logger.info({ signal }, 'signal received: stopping gracefully');
    // A stop that hangs past its grace (a database that does not answer) still ends the process.
    const graceMs = gateway.config.shutdownGraceSeconds * 1000;
    setTimeout(() => {
      gateway.logger.error({ graceMs }, 'stopping took too long: exiting');
      process.exit(1);
    }, graceMs + 15_000).unref();
    gateway.stop().then(
      () => process.exit(0),
      (error) => {
        gateway.logger.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void runCli();

#!/usr/bin/env node
/**
 * The composition root and the `hookline-gateway` binary: config → database → migrations →
 * store → outbound client → HTTP API and/or delivery worker; graceful stop on SIGTERM/SIGINT.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import packageJson from '../package.json' with { type: 'json' };
import { type Config, ConfigError, type Env, loadConfig } from './config';
import { createWorker, type Worker, type WorkerOptions } from './delivery/worker';
import { API_KEY_PREFIX, generateApiKey, hashToken } from './domain/auth';
import { createApp } from './http/app';
import { createLogger, type Logger } from './logger';
import { createAddressPolicy, createHttpClient, type HttpClient, systemResolver } from './net';
import { createSigner } from './signing';
import {
  createStore,
  type Database,
  DataDirLockedError,
  openDatabase,
  type SecretCipher,
} from './storage';

/** The gateway's version (`user-agent: Hookline/<version>`, `/openapi.json`). */
export const GATEWAY_VERSION: string = packageJson.version;

/** The embedded mode's generated encryption key, in the data directory. */
export const ENCRYPTION_KEY_FILE = 'encryption.key';

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
   * Where the one-time banner with a generated API key goes. Default: stdout. It is never a
   * log line; pass `false` to print nothing (the key is still returned).
   */
  printBanner?: ((text: string) => void) | false;
  /** Let @hono/node-server replace the global Request/Response (faster; for the binary). */
  overrideGlobalObjects?: boolean;
}

/** A running gateway. */
export interface RunningGateway {
  /** Where the API listens (`http://host:port`); null for role `worker`. */
  readonly url: string | null;
  /** The admin key generated at this start (first embedded start only). */
  readonly apiKey: string | undefined;
  readonly config: Config;
  readonly logger: Logger;
  /**
   * Stops accepting requests, stops the worker (waiting up to `graceMs` for attempts in flight,
   * default 10 s; the rest go back to the queue when their lease lapses) and closes the database.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/**
 * AES-256-GCM over a key ring: encrypts with the first key, decrypts with whichever key made the
 * blob. Blob: version (1) | key id (4, from SHA-256 of the key) | iv (12) | tag (16) | ciphertext.
 */
function keyRingCipher(keys: readonly Uint8Array[]): SecretCipher {
  if (keys.length === 0) throw new Error('The encryption key ring is empty.');
  const ring = keys.map((key) => ({
    key: Buffer.from(key),
    id: createHash('sha256').update(key).digest().subarray(0, 4),
  }));
  const VERSION = 1;
  return Object.freeze({
    encrypt(plain: string): Uint8Array {
      const { key, id } = ring[0]!;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const text = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), id, iv, cipher.getAuthTag(), text]);
    },
    decrypt(blob: Uint8Array): string {
      const bytes = Buffer.from(blob);
      if (bytes.length < 33 || bytes[0] !== VERSION) {
        throw new Error('This secret was not encrypted by Hookline.');
      }
      const found = ring.find((entry) => entry.id.equals(bytes.subarray(1, 5)));
      if (!found) {
        throw new Error(
          'This secret was encrypted with a key that is not in HOOKLINE_ENCRYPTION_KEYS.',
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', found.key, bytes.subarray(5, 17));
      decipher.setAuthTag(bytes.subarray(17, 33));
      return Buffer.concat([decipher.update(bytes.subarray(33)), decipher.final()]).toString(
        'utf8',
      );
    },
  });
}

/**
 * The key ring: HOOKLINE_ENCRYPTION_KEYS, plus (embedded mode) the key file in the data
 * directory, generated on first start. Called with the data directory locked.
 */
async function encryptionKeys(config: Config, logger: Logger): Promise<Uint8Array[]> {
  const keys = [...config.encryptionKeys];
  if (!config.embedded) return keys;
  const path = join(config.dataDir, ENCRYPTION_KEY_FILE);
  let fileKey: Uint8Array | undefined;
  try {
    const bytes = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (bytes.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key.`);
    fileKey = new Uint8Array(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (keys.length > 0) {
    // Secrets stored before the keys were configured still decrypt.
    if (fileKey) keys.push(fileKey);
    return keys;
  }
  if (!fileKey) {
    fileKey = new Uint8Array(randomBytes(32));
    await writeFile(path, `${Buffer.from(fileKey).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    logger.warn(
      { path },
      'HOOKLINE_ENCRYPTION_KEYS is not set: generated an encryption key for endpoint secrets in the data directory; back it up with the data, and set HOOKLINE_ENCRYPTION_KEYS in production',
    );
  }
  return [fileKey];
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
      : { kind: 'postgres', url: config.databaseUrl!, poolSize: config.databasePoolSize },
    { migrate: false },
  );
  let httpClient: HttpClient | undefined;
  let server: Server | undefined;
  let worker: Worker | undefined;
  try {
    const migrated = await database.migrate();
    logger.info(
      { driver: database.driver, applied: migrated.applied, schemaVersion: migrated.version },
      config.embedded ? 'embedded database ready' : 'database ready',
    );

    const cipher = keyRingCipher(await encryptionKeys(config, logger));
    const store = createStore(database.sql, { cipher });
    const policy = createAddressPolicy({
      allowHttp: config.allowHttp,
      allowNetworks: config.allowNetworks,
    });
    httpClient = createHttpClient({
      policy,
      resolve: systemResolver,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    const apiKey = await bootstrapApiKey(config, store, logger);

    let url: string | null = null;
    if (config.role !== 'worker') {
      // Listen first, so that port 0 is known before the app (and its public URL) is made.
      let app: Hono | undefined;
      const listening = await listen(
        config,
        (request) =>
          app
            ? app.fetch(request)
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
      app = createApp({
        store,
        database,
        logger,
        httpClient,
        policy,
        resolve: systemResolver,
        allowHttp: config.allowHttp,
        publicUrl: publicUrl.toString().replace(/\/+$/, ''),
        version: GATEWAY_VERSION,
        retrySchedule: [...config.retrySchedule],
        adminKeyHashes: config.apiKey === null ? [] : [hashToken(config.apiKey)],
      });
    }

    if (config.role !== 'api') {
      worker = createWorker({
        store,
        httpClient,
        signer: createSigner(),
        logger,
        workerId: `${hostname()}:${process.pid}`,
        concurrency: config.workerConcurrency,
        maxPerEndpoint: config.endpointConcurrency,
        leaseMs: config.leaseSeconds * 1000,
        maxIdleMs: config.pollIntervalMs,
        minIdleMs: Math.min(500, config.pollIntervalMs),
        retrySchedule: config.retrySchedule,
        disableAfterFailingMs: config.disableAfterDays * 24 * 60 * 60 * 1000,
        userAgentVersion: GATEWAY_VERSION,
        // Operational webhooks and tenant alerts plug in here.
        onEvent: (event) => logger.info({ event }, 'operational event'),
        ...options.worker,
      });
      await worker.start();
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
      stop: ({ graceMs = 10_000 } = {}) => {
        stopped ??= (async () => {
          logger.info({ graceMs }, 'stopping');
          await Promise.all([
            server ? closeServer(server, graceMs) : undefined,
            worker?.stop({ graceMs }),
          ]);
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
    if (server) await closeServer(server, 0).catch(() => {});
    void httpClient?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

/** The binary: start, then stop gracefully on the first SIGTERM/SIGINT and at once on a second. */
async function runCli(): Promise<void> {
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

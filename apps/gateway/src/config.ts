/**
 * The gateway's configuration: the only place that reads the environment. `loadConfig` parses
 * every `HOOKLINE_*` variable of API.md (and a few operational extras) into a frozen, typed
 * `Config`, or fails at once with a `ConfigError` naming each bad variable.
 */
import { resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { DEFAULT_DATABASE_TIMEOUT_SECONDS } from './storage/postgres-driver';

/** Which parts of the gateway this process runs. */
export type Role = 'all' | 'api' | 'worker';
/** pino log levels. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The parsed configuration (frozen). */
export interface Config {
  /** `HOOKLINE_DATABASE_URL`; null = embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | null;
  /** True when no database URL is set: embedded PGlite, one process, role `all`. */
  readonly embedded: boolean;
  /** `HOOKLINE_DATA_DIR`, absolute (default `./.hookline`). */
  readonly dataDir: string;
  /** `HOOKLINE_PORT` (default 8787; 0 = any free port). */
  readonly port: number;
  /** `HOOKLINE_HOST` (default 127.0.0.1). */
  readonly host: string;
  /** `HOOKLINE_API_KEY`: an admin key to accept; null = none configured. */
  readonly apiKey: string | null;
  /** `HOOKLINE_ENCRYPTION_KEYS`: 32-byte keys, first is current; empty = embedded generates. */
  readonly encryptionKeys: readonly Uint8Array[];
  /** `HOOKLINE_ALLOW_NETWORKS`: CIDRs exempt from the SSRF guard. */
  readonly allowNetworks: readonly string[];
  /** `HOOKLINE_ALLOW_HTTP`: endpoints may use `http://` (development only). */
  readonly allowHttp: boolean;
  /** `HOOKLINE_ROLE` (default `all`). */
  readonly role: Role;
  /** `HOOKLINE_PUBLIC_URL` without a trailing slash (default `http://<host>:<port>`). */
  readonly publicUrl: string;
  /** `HOOKLINE_RETRY_SCHEDULE`: default delays in seconds after each failure. */
  readonly retrySchedule: readonly number[];
  /** `HOOKLINE_RETENTION_DAYS` (default 30). */
  readonly retentionDays: number;
  /** `HOOKLINE_STATS_RETENTION_DAYS`: daily per-endpoint stats rollups kept (default 400, ≥ retention). */
  readonly statsRetentionDays: number;
  /** `HOOKLINE_OPERATIONAL_WEBHOOK_URL`; null = none. */
  readonly operationalWebhookUrl: string | null;
  /** `HOOKLINE_SMTP_URL`; null = no alert emails. */
  readonly smtpUrl: string | null;
  /** `HOOKLINE_OPERATIONAL_WEBHOOK_SECRET`: the `whsec_` secret signing operational webhooks. */
  readonly operationalWebhookSecret: string | null;
  /** `HOOKLINE_SMTP_FROM`: the From of alert emails (default `Hookline <hookline@<public host>>`). */
  readonly smtpFrom: string;
  /** `HOOKLINE_ALERT_INTERVAL_SECONDS`: at most one alert per channel, endpoint and type this often (default 3600; 0 = every event). */
  readonly alertIntervalSeconds: number;
  /** `HOOKLINE_LOG_LEVEL` (default `info`). */
  readonly logLevel: LogLevel;
  /** `HOOKLINE_WORKER_CONCURRENCY`: deliveries in flight per worker process (default 200). */
  readonly workerConcurrency: number;
  /** `HOOKLINE_ENDPOINT_CONCURRENCY`: deliveries in flight per endpoint, all workers (default 10). */
  readonly endpointConcurrency: number;
  /** `HOOKLINE_LEASE_SECONDS`: how long a claimed delivery stays a worker's (default 60, ≥ 20). */
  readonly leaseSeconds: number;
  /** `HOOKLINE_POLL_INTERVAL_MS`: worker poll when no wake-up arrives (default 1000). */
  readonly pollIntervalMs: number;
  /** `HOOKLINE_DISABLE_AFTER_DAYS`: an endpoint failing this long is disabled (default 5). */
  readonly disableAfterDays: number;
  /** `HOOKLINE_DATABASE_POOL_SIZE`: PostgreSQL connections (default 10). */
  readonly databasePoolSize: number;
  /**
   * `HOOKLINE_DATABASE_TIMEOUT_SECONDS`: the longest a statement may run and a transaction may sit
   * idle; a connection silent 5 s past it while a statement waits is given up as lost (default 30,
   * 0 = no limit).
   */
  readonly databaseTimeoutSeconds: number;
  /** `HOOKLINE_ALLOWED_PORTS`: the only ports endpoint URLs may use; null = any port. */
  readonly allowedPorts: readonly number[] | null;
  /** `HOOKLINE_MAX_ENDPOINTS_PER_TENANT` (default 1000). */
  readonly maxEndpointsPerTenant: number;
  /** `HOOKLINE_API_RATE_LIMIT_PER_SECOND`: requests per second per API key, per process (default 10,000; 0 = unlimited); bursts of twice that. */
  readonly apiRateLimitPerSecond: number;
  /** `HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND`: requests per second per portal token, per process (default 20; 0 = unlimited); bursts of twice that. */
  readonly portalRateLimitPerSecond: number;
  /** `HOOKLINE_SHUTDOWN_GRACE_SECONDS`: on SIGTERM/SIGINT, how long attempts in flight may finish (default 10). */
  readonly shutdownGraceSeconds: number;
  /** Unknown `HOOKLINE_*` variables (probably typos), for the caller to log. */
  readonly warnings: readonly string[];
}

/** One bad variable. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/** The environment is invalid; `problems` names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
    );
    this.problems = Object.freeze(problems);
  }
}

/** Every variable the gateway reads. */
export const CONFIG_VARIABLES = [
  'HOOKLINE_DATABASE_URL',
  'HOOKLINE_DATA_DIR',
  'HOOKLINE_PORT',
  'HOOKLINE_HOST',
  'HOOKLINE_API_KEY',
  'HOOKLINE_ENCRYPTION_KEYS',
  'HOOKLINE_ALLOW_NETWORKS',
  'HOOKLINE_ALLOW_HTTP',
  'HOOKLINE_ROLE',
  'HOOKLINE_PUBLIC_URL',
  'HOOKLINE_RETRY_SCHEDULE',
  'HOOKLINE_RETENTION_DAYS',
  'HOOKLINE_STATS_RETENTION_DAYS',
  'HOOKLINE_OPERATIONAL_WEBHOOK_URL',
  'HOOKLINE_SMTP_URL',
  'HOOKLINE_OPERATIONAL_WEBHOOK_SECRET',
  'HOOKLINE_SMTP_FROM',
  'HOOKLINE_ALERT_INTERVAL_SECONDS',
  'HOOKLINE_LOG_LEVEL',
  'HOOKLINE_WORKER_CONCURRENCY',
  'HOOKLINE_ENDPOINT_CONCURRENCY',
  'HOOKLINE_LEASE_SECONDS',
  'HOOKLINE_POLL_INTERVAL_MS',
  'HOOKLINE_DISABLE_AFTER_DAYS',
  'HOOKLINE_DATABASE_POOL_SIZE',
  'HOOKLINE_DATABASE_TIMEOUT_SECONDS',
  'HOOKLINE_ALLOWED_PORTS',
  'HOOKLINE_MAX_ENDPOINTS_PER_TENANT',
  'HOOKLINE_API_RATE_LIMIT_PER_SECOND',
  'HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND',
  'HOOKLINE_SHUTDOWN_GRACE_SECONDS',
] as const;

type Variable = (typeof CONFIG_VARIABLES)[number];
// Read by the test suites, never by the gateway; not a typo.
const KNOWN_ELSEWHERE = new Set(['HOOKLINE_TEST_DATABASE_URL']);

const DEFAULT_RETRY_SCHEDULE = [30, 300, 1800, 7200];
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** The environment, defaulting to `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The public URL's host when it is a domain name (an address is no mail domain), else localhost. */
function defaultMailDomain(publicUrl: string): string {
  let host: string;
  try {
    host = new URL(publicUrl).hostname;
  } catch {
    return 'localhost';
  }
  return host.includes('.') && !ipaddr.isValid(host.replace(/^\[|\]$/g, '')) ? host : 'localhost';
}

/** Parses and validates the environment into a frozen `Config`; throws `ConfigError`. */
export function loadConfig(env: Env = process.env): Config {
  const problems: ConfigProblem[] = [];
  const fail = (variable: Variable, message: string) => problems.push({ variable, message });
  // Unset and empty are the same: deployment tools often cannot unset a variable.
  const raw = (variable: Variable): string | undefined => {
    const value = env[variable]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  function integer(variable: Variable, fallback: number, min: number, max: number): number {
    const text = raw(variable);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      fail(variable, `must be a whole number from ${min} to ${max}, got "${text}".`);
      return fallback;
    }
    return Number(text);
  }

  function url(variable: Variable, protocols: string[]): string | null {
    const text = raw(variable);
    if (text === undefined) return null;
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      fail(variable, `must be a URL (${protocols.join(' or ')}//…).`);
      return null;
    }
    if (!protocols.includes(parsed.protocol)) {
      fail(variable, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}.`);
      return null;
    }
    return text;
  }

  const databaseUrl = url('HOOKLINE_DATABASE_URL', ['postgres:', 'postgresql:']);
  const embedded = raw('HOOKLINE_DATABASE_URL') === undefined;
  const dataDir = resolve(raw('HOOKLINE_DATA_DIR') ?? './.hookline');
  const port = integer('HOOKLINE_PORT', 8787, 0, 65_535);
  const host = raw('HOOKLINE_HOST') ?? '127.0.0.1';

  const apiKey = raw('HOOKLINE_API_KEY') ?? null;
  if (apiKey !== null && apiKey.length < 16) {
    fail('HOOKLINE_API_KEY', 'must be at least 16 characters long.');
  }

  const encryptionKeys: Uint8Array[] = [];
  const keysText = raw('HOOKLINE_ENCRYPTION_KEYS');
  if (keysText !== undefined) {
    keysText.split(',').forEach((part, index) => {
      const text = part.trim();
      const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text);
      const bytes = base64 ? Buffer.from(text, 'base64') : Buffer.alloc(0);
      if (bytes.length !== 32) {
        fail(
          'HOOKLINE_ENCRYPTION_KEYS',
          `key ${index + 1} must be 32 bytes in base64 (e.g. \`openssl rand -base64 32\`).`,
        );
      } else {
        encryptionKeys.push(new Uint8Array(bytes));
      }
    });
  } else if (!embedded) {
    fail(
      'HOOKLINE_ENCRYPTION_KEYS',
      'is required with HOOKLINE_DATABASE_URL: endpoint secrets are encrypted at rest with it.',
    );
  }

  const allowNetworks: string[] = [];
  for (const part of (raw('HOOKLINE_ALLOW_NETWORKS') ?? '').split(',')) {
    const text = part.trim();
    if (text === '') continue;
    if (!ipaddr.isValidCIDR(text)) {
      fail('HOOKLINE_ALLOW_NETWORKS', `"${text}" is not a CIDR such as 10.0.0.0/8 or fd00::/8.`);
    } else {
      allowNetworks.push(text);
    }
  }

  let allowHttp = false;
  const httpText = raw('HOOKLINE_ALLOW_HTTP')?.toLowerCase();
  if (httpText !== undefined) {
    if (httpText === 'true' || httpText === '1') allowHttp = true;
    else if (httpText !== 'false' && httpText !== '0') {
      fail('HOOKLINE_ALLOW_HTTP', `must be true or false, got "${httpText}".`);
    }
  }

  let role: Role = 'all';
  const roleText = raw('HOOKLINE_ROLE');
  if (roleText !== undefined) {
    if (roleText === 'all' || roleText === 'api' || roleText === 'worker') role = roleText;
    else fail('HOOKLINE_ROLE', `must be all, api or worker, got "${roleText}".`);
  }
  if (role !== 'all' && embedded) {
    fail(
      'HOOKLINE_ROLE',
      `"${role}" needs HOOKLINE_DATABASE_URL: the embedded database serves one process running everything.`,
    );
  }

  // An unspecified listen address is no address for a link: point it at this machine.
  const linkHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const defaultPublicUrl = `http://${linkHost.includes(':') ? `[${linkHost}]` : linkHost}:${port}`;
  const publicUrl = (url('HOOKLINE_PUBLIC_URL', ['http:', 'https:']) ?? defaultPublicUrl).replace(
    /\/+$/,
    '',
  );

  let retrySchedule = DEFAULT_RETRY_SCHEDULE;
  const scheduleText = raw('HOOKLINE_RETRY_SCHEDULE');
  if (scheduleText !== undefined) {
    if (scheduleText.toLowerCase() === 'none') {
      retrySchedule = [];
    } else {
      const parts = scheduleText.split(',').map((p) => p.trim());
      const bad = parts.find((p) => !/^\d{1,9}$/.test(p));
      if (bad !== undefined) {
        fail(
          'HOOKLINE_RETRY_SCHEDULE',
          `"${bad}" is not a whole number of seconds; expected e.g. "30,300,1800,7200" (or "none").`,
        );
      } else {
        retrySchedule = parts.map(Number);
      }
    }
  }

  const retentionDays = integer('HOOKLINE_RETENTION_DAYS', 30, 1, 3650);
  const statsRetentionDays = integer('HOOKLINE_STATS_RETENTION_DAYS', 400, 1, 3650);
  // The stats API reads rollups for the days whose raw rows are gone: they must outlive them.
  if (statsRetentionDays < retentionDays && raw('HOOKLINE_STATS_RETENTION_DAYS') !== undefined) {
    fail(
      'HOOKLINE_STATS_RETENTION_DAYS',
      `must be at least HOOKLINE_RETENTION_DAYS (${retentionDays}): rollups stand in for deleted rows.`,
    );
  }
  const operationalWebhookUrl = url('HOOKLINE_OPERATIONAL_WEBHOOK_URL', ['https:', 'http:']);
  const smtpUrl = url('HOOKLINE_SMTP_URL', ['smtp:', 'smtps:']);
  if (operationalWebhookUrl !== null) {
    const parsed = new URL(operationalWebhookUrl);
    if (parsed.username !== '' || parsed.password !== '') {
      fail(
        'HOOKLINE_OPERATIONAL_WEBHOOK_URL',
        'must not contain a user name or password: receivers check the signature instead.',
      );
    }
  }
  // Signed like tenant deliveries, so the receiver needs a secret it knows.
  const operationalWebhookSecret = raw('HOOKLINE_OPERATIONAL_WEBHOOK_SECRET') ?? null;
  if (operationalWebhookSecret !== null) {
    const body = operationalWebhookSecret.startsWith('whsec_')
      ? operationalWebhookSecret.slice('whsec_'.length)
      : '';
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(body)
      ? Buffer.from(body, 'base64')
      : Buffer.alloc(0);
    if (bytes.length < 24 || bytes.length > 64) {
      fail(
        'HOOKLINE_OPERATIONAL_WEBHOOK_SECRET',
        'must be a whsec_ secret of 24 to 64 bytes in base64 (e.g. `echo whsec_$(openssl rand -base64 32)`).',
      );
    }
  } else if (operationalWebhookUrl !== null) {
    fail(
      'HOOKLINE_OPERATIONAL_WEBHOOK_SECRET',
      'is required with HOOKLINE_OPERATIONAL_WEBHOOK_URL: operational webhooks are signed with it (a whsec_ secret, e.g. `echo whsec_$(openssl rand -base64 32)`).',
    );
  }
  const smtpFrom =
    raw('HOOKLINE_SMTP_FROM') ?? `Hookline <hookline@${defaultMailDomain(publicUrl)}>`;
  if (/[\r\n]/.test(smtpFrom) || !/@[^@\s>]+>?$/.test(smtpFrom)) {
    fail(
      'HOOKLINE_SMTP_FROM',
      'must be an address such as alerts@example.com or "Hookline <alerts@example.com>".',
    );
  }
  const alertIntervalSeconds = integer('HOOKLINE_ALERT_INTERVAL_SECONDS', 3600, 0, 604_800);

  let logLevel: LogLevel = 'info';
  const levelText = raw('HOOKLINE_LOG_LEVEL')?.toLowerCase();
  if (levelText !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(levelText)) logLevel = levelText as LogLevel;
    else fail('HOOKLINE_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}.`);
  }

  const workerConcurrency = integer('HOOKLINE_WORKER_CONCURRENCY', 200, 1, 10_000);
  const endpointConcurrency = integer('HOOKLINE_ENDPOINT_CONCURRENCY', 10, 1, 1000);
  // A lease must outlive the 15 s request timeout, or a slow attempt would be sent twice.
  const leaseSeconds = integer('HOOKLINE_LEASE_SECONDS', 60, 20, 3600);
  const pollIntervalMs = integer('HOOKLINE_POLL_INTERVAL_MS', 1000, 10, 600_000);
  const disableAfterDays = integer('HOOKLINE_DISABLE_AFTER_DAYS', 5, 1, 365);
  const databasePoolSize = integer('HOOKLINE_DATABASE_POOL_SIZE', 10, 1, 1000);
  const databaseTimeoutSeconds = integer(
    'HOOKLINE_DATABASE_TIMEOUT_SECONDS',
    DEFAULT_DATABASE_TIMEOUT_SECONDS,
    0,
    3600,
  );

  let allowedPorts: number[] | null = null;
  const portsText = raw('HOOKLINE_ALLOWED_PORTS');
  if (portsText !== undefined) {
    const parts = portsText.split(',').map((p) => p.trim());
    const bad = parts.find((p) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65_535);
    if (bad !== undefined) {
      fail(
        'HOOKLINE_ALLOWED_PORTS',
        `"${bad}" is not a port from 1 to 65535; expected e.g. "443,8443".`,
      );
    } else {
      allowedPorts = [...new Set(parts.map(Number))];
    }
  }
  const maxEndpointsPerTenant = integer('HOOKLINE_MAX_ENDPOINTS_PER_TENANT', 1000, 1, 1_000_000);
  const apiRateLimitPerSecond = integer('HOOKLINE_API_RATE_LIMIT_PER_SECOND', 10_000, 0, 1_000_000);
  const portalRateLimitPerSecond = integer(
    'HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND',
    20,
    0,
    1_000_000,
  );

  const shutdownGraceSeconds = integer('HOOKLINE_SHUTDOWN_GRACE_SECONDS', 10, 0, 3600);

  if (problems.length > 0) throw new ConfigError(problems);

  const known = new Set<string>(CONFIG_VARIABLES);
  const warnings = Object.keys(env)
    .filter(
      (name) => name.startsWith('HOOKLINE_') && !known.has(name) && !KNOWN_ELSEWHERE.has(name),
    )
    .sort()
    .map((name) => `Unknown variable ${name} is ignored (a typo?).`);

  return Object.freeze({
    databaseUrl,
    embedded,
    dataDir,
    port,
    host,
    apiKey,
    encryptionKeys: Object.freeze(encryptionKeys),
    allowNetworks: Object.freeze(allowNetworks),
    allowHttp,
    role,
    publicUrl,
    retrySchedule: Object.freeze([...retrySchedule]),
    retentionDays,
    statsRetentionDays: Math.max(statsRetentionDays, retentionDays),
    operationalWebhookUrl,
    smtpUrl,
    operationalWebhookSecret,
    smtpFrom,
    alertIntervalSeconds,
    logLevel,
    workerConcurrency,
    endpointConcurrency,
    leaseSeconds,
    pollIntervalMs,
    disableAfterDays,
    databasePoolSize,
    databaseTimeoutSeconds,
    allowedPorts: allowedPorts === null ? null : Object.freeze(allowedPorts),
    maxEndpointsPerTenant,
    apiRateLimitPerSecond,
    portalRateLimitPerSecond,
    shutdownGraceSeconds,
    warnings: Object.freeze(warnings),
  });
}

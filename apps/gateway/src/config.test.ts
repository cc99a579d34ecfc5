import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';
import { DEFAULT_CONCURRENCY } from './delivery/worker';
import { DEFAULT_DATABASE_TIMEOUT_SECONDS } from './storage/postgres-driver';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OPS_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

function problemsOf(env: Record<string, string>): Record<string, string> {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return Object.fromEntries((error as ConfigError).problems.map((p) => [p.variable, p.message]));
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment (embedded mode)', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      databaseUrl: null,
      embedded: true,
      dataDir: resolve('./.hookline'),
      port: 8787,
      host: '127.0.0.1',
      apiKey: null,
      encryptionKeys: [],
      allowNetworks: [],
      allowHttp: false,
      role: 'all',
      publicUrl: 'http://127.0.0.1:8787',
      retrySchedule: [30, 300, 1800, 7200],
      retentionDays: 30,
      statsRetentionDays: 400,
      operationalWebhookUrl: null,
      smtpUrl: null,
      operationalWebhookSecret: null,
      smtpFrom: 'Hookline <hookline@localhost>',
      alertIntervalSeconds: 3600,
      logLevel: 'info',
      // createWorker's own default is the same, for those who embed the worker.
      workerConcurrency: DEFAULT_CONCURRENCY,
      endpointConcurrency: 10,
      leaseSeconds: 60,
      pollIntervalMs: 1000,
      disableAfterDays: 5,
      databasePoolSize: 10,
      databaseTimeoutSeconds: DEFAULT_DATABASE_TIMEOUT_SECONDS,
      allowedPorts: null,
      maxEndpointsPerTenant: 1000,
      apiRateLimitPerSecond: 10_000,
      portalRateLimitPerSecond: 20,
      shutdownGraceSeconds: 10,
      warnings: [],
    });
  });

  it('reads every variable', () => {
    const other = Buffer.alloc(32, 9).toString('base64');
    const config = loadConfig({
      HOOKLINE_DATABASE_URL: 'postgres://u:p@db:5432/hookline',
      HOOKLINE_DATA_DIR: '/var/lib/hookline',
      HOOKLINE_PORT: '9000',
      HOOKLINE_HOST: '0.0.0.0',
      HOOKLINE_API_KEY: 'hl_sk_0123456789abcdef',
      HOOKLINE_ENCRYPTION_KEYS: `${KEY}, ${other}`,
      HOOKLINE_ALLOW_NETWORKS: '127.0.0.0/8, fd00::/8',
      HOOKLINE_ALLOW_HTTP: 'TRUE',
      HOOKLINE_ROLE: 'worker',
      HOOKLINE_PUBLIC_URL: 'https://hooks.example.com/',
      HOOKLINE_RETRY_SCHEDULE: '5, 60',
      HOOKLINE_RETENTION_DAYS: '7',
      HOOKLINE_OPERATIONAL_WEBHOOK_URL: 'https://ops.example.com/hook',
      HOOKLINE_SMTP_URL: 'smtps://mail.example.com',
      HOOKLINE_OPERATIONAL_WEBHOOK_SECRET: OPS_SECRET,
      HOOKLINE_SMTP_FROM: 'Alerts <alerts@example.com>',
      HOOKLINE_ALERT_INTERVAL_SECONDS: '600',
      HOOKLINE_LOG_LEVEL: 'debug',
      HOOKLINE_WORKER_CONCURRENCY: '300',
      HOOKLINE_ENDPOINT_CONCURRENCY: '4',
      HOOKLINE_LEASE_SECONDS: '30',
      HOOKLINE_POLL_INTERVAL_MS: '250',
      HOOKLINE_DISABLE_AFTER_DAYS: '3',
      HOOKLINE_DATABASE_POOL_SIZE: '20',
      HOOKLINE_DATABASE_TIMEOUT_SECONDS: '0',
      HOOKLINE_ALLOWED_PORTS: '443, 8443,443',
      HOOKLINE_MAX_ENDPOINTS_PER_TENANT: '25',
      HOOKLINE_API_RATE_LIMIT_PER_SECOND: '5',
      HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND: '0',
      HOOKLINE_SHUTDOWN_GRACE_SECONDS: '25',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://u:p@db:5432/hookline',
      embedded: false,
      dataDir: '/var/lib/hookline',
      port: 9000,
      host: '0.0.0.0',
      apiKey: 'hl_sk_0123456789abcdef',
      allowNetworks: ['127.0.0.0/8', 'fd00::/8'],
      allowHttp: true,
      role: 'worker',
      publicUrl: 'https://hooks.example.com',
      retrySchedule: [5, 60],
      retentionDays: 7,
      operationalWebhookUrl: 'https://ops.example.com/hook',
      smtpUrl: 'smtps://mail.example.com',
      operationalWebhookSecret: OPS_SECRET,
      smtpFrom: 'Alerts <alerts@example.com>',
      alertIntervalSeconds: 600,
      logLevel: 'debug',
      workerConcurrency: 300,
      endpointConcurrency: 4,
      leaseSeconds: 30,
      pollIntervalMs: 250,
      disableAfterDays: 3,
      databasePoolSize: 20,
      databaseTimeoutSeconds: 0,
      allowedPorts: [443, 8443],
      maxEndpointsPerTenant: 25,
      apiRateLimitPerSecond: 5,
      portalRateLimitPerSecond: 0,
      shutdownGraceSeconds: 25,
    });
    expect(config.encryptionKeys.map((k) => Buffer.from(k).toString('base64'))).toEqual([
      KEY,
      other,
    ]);
  });

  it('keeps stats rollups at least as long as raw rows, and refuses a shorter stats retention', () => {
    expect(loadConfig({ HOOKLINE_RETENTION_DAYS: '7' })).toMatchObject({
      retentionDays: 7,
      statsRetentionDays: 400,
    });
    expect(loadConfig({ HOOKLINE_RETENTION_DAYS: '500' }).statsRetentionDays).toBe(500);
    expect(
      loadConfig({ HOOKLINE_RETENTION_DAYS: '7', HOOKLINE_STATS_RETENTION_DAYS: '90' })
        .statsRetentionDays,
    ).toBe(90);
    expect(
      problemsOf({ HOOKLINE_RETENTION_DAYS: '30', HOOKLINE_STATS_RETENTION_DAYS: '10' })
        .HOOKLINE_STATS_RETENTION_DAYS,
    ).toContain('HOOKLINE_RETENTION_DAYS');
    expect(problemsOf({ HOOKLINE_STATS_RETENTION_DAYS: 'x' })).toHaveProperty(
      'HOOKLINE_STATS_RETENTION_DAYS',
    );
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.retrySchedule)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ HOOKLINE_PORT: '', HOOKLINE_DATABASE_URL: ' ' }).port).toBe(8787);
  });

  it('links to localhost when listening on every address', () => {
    expect(loadConfig({ HOOKLINE_HOST: '0.0.0.0', HOOKLINE_PORT: '80' }).publicUrl).toBe(
      'http://localhost:80',
    );
    expect(loadConfig({ HOOKLINE_HOST: '::1' }).publicUrl).toBe('http://[::1]:8787');
  });

  it('names a bad shutdown grace period, and accepts 0 (release at once)', () => {
    expect(problemsOf({ HOOKLINE_SHUTDOWN_GRACE_SECONDS: '10s' })).toEqual({
      HOOKLINE_SHUTDOWN_GRACE_SECONDS: expect.stringContaining('from 0 to 3600, got "10s"'),
    });
    expect(problemsOf({ HOOKLINE_SHUTDOWN_GRACE_SECONDS: '3601' })).toHaveProperty(
      'HOOKLINE_SHUTDOWN_GRACE_SECONDS',
    );
    expect(loadConfig({ HOOKLINE_SHUTDOWN_GRACE_SECONDS: '0' }).shutdownGraceSeconds).toBe(0);
  });

  it('names a bad port, endpoint cap or rate limit', () => {
    const problems = problemsOf({
      HOOKLINE_ALLOWED_PORTS: '443,https',
      HOOKLINE_MAX_ENDPOINTS_PER_TENANT: '0',
      HOOKLINE_API_RATE_LIMIT_PER_SECOND: '-1',
      HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND: '2.5',
    });
    expect(problems).toEqual({
      HOOKLINE_ALLOWED_PORTS: expect.stringContaining('"https" is not a port'),
      HOOKLINE_MAX_ENDPOINTS_PER_TENANT: expect.stringContaining('from 1 to 1000000'),
      HOOKLINE_API_RATE_LIMIT_PER_SECOND: expect.stringContaining('"-1"'),
      HOOKLINE_PORTAL_RATE_LIMIT_PER_SECOND: expect.stringContaining('"2.5"'),
    });
    expect(problemsOf({ HOOKLINE_ALLOWED_PORTS: '70000' }).HOOKLINE_ALLOWED_PORTS).toContain(
      '"70000"',
    );
  });

  it('accepts "none" as a retry schedule without retries', () => {
    expect(loadConfig({ HOOKLINE_RETRY_SCHEDULE: 'none' }).retrySchedule).toEqual([]);
  });

  it('requires encryption keys with PostgreSQL', () => {
    expect(problemsOf({ HOOKLINE_DATABASE_URL: 'postgres://db/h' })).toEqual({
      HOOKLINE_ENCRYPTION_KEYS: expect.stringContaining('required with HOOKLINE_DATABASE_URL'),
    });
  });

  it('refuses split roles without PostgreSQL', () => {
    expect(problemsOf({ HOOKLINE_ROLE: 'api' })).toEqual({
      HOOKLINE_ROLE: expect.stringContaining('needs HOOKLINE_DATABASE_URL'),
    });
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf({
      HOOKLINE_DATABASE_URL: 'mysql://db/h',
      HOOKLINE_ENCRYPTION_KEYS: 'dG9vIHNob3J0',
      HOOKLINE_PORT: '70000',
      HOOKLINE_ALLOW_NETWORKS: '10.0.0.0/8,localhost',
      HOOKLINE_ALLOW_HTTP: 'yes',
      HOOKLINE_ROLE: 'both',
      HOOKLINE_PUBLIC_URL: 'ftp://x',
      HOOKLINE_RETRY_SCHEDULE: '30,5m',
      HOOKLINE_RETENTION_DAYS: '0',
      HOOKLINE_SMTP_URL: 'not a url',
      HOOKLINE_API_KEY: 'short',
      HOOKLINE_LOG_LEVEL: 'loud',
      HOOKLINE_LEASE_SECONDS: '5',
      HOOKLINE_DATABASE_TIMEOUT_SECONDS: '-1',
    });
    expect(Object.keys(problems).sort()).toEqual(
      [
        'HOOKLINE_ALLOW_HTTP',
        'HOOKLINE_ALLOW_NETWORKS',
        'HOOKLINE_API_KEY',
        'HOOKLINE_DATABASE_TIMEOUT_SECONDS',
        'HOOKLINE_DATABASE_URL',
        'HOOKLINE_ENCRYPTION_KEYS',
        'HOOKLINE_LEASE_SECONDS',
        'HOOKLINE_LOG_LEVEL',
        'HOOKLINE_PORT',
        'HOOKLINE_PUBLIC_URL',
        'HOOKLINE_RETENTION_DAYS',
        'HOOKLINE_RETRY_SCHEDULE',
        'HOOKLINE_ROLE',
        'HOOKLINE_SMTP_URL',
      ].sort(),
    );
    expect(problems.HOOKLINE_ALLOW_NETWORKS).toContain('"localhost"');
    expect(problems.HOOKLINE_RETRY_SCHEDULE).toContain('"5m"');
    expect(problems.HOOKLINE_PORT).toContain('70000');
  });

  it('never puts a secret value in its error message', () => {
    try {
      loadConfig({
        HOOKLINE_DATABASE_URL: 'postgres://db/h',
        HOOKLINE_ENCRYPTION_KEYS: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
        HOOKLINE_API_KEY: 'tiny-secret',
      });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as Error).message).not.toContain('c2VjcmV0');
      expect((error as Error).message).not.toContain('tiny-secret');
    }
  });

  it('warns about unknown HOOKLINE_ variables', () => {
    const config = loadConfig({
      HOOKLINE_DATABSE_URL: 'postgres://typo',
      HOOKLINE_TEST_DATABASE_URL: 'postgres://tests',
      PATH: '/bin',
    });
    expect(config.warnings).toEqual([
      'Unknown variable HOOKLINE_DATABSE_URL is ignored (a typo?).',
    ]);
  });
});

describe('loadConfig: alerts', () => {
  it('requires a whsec_ secret with the operational webhook URL', () => {
    const missing = problemsOf({
      HOOKLINE_OPERATIONAL_WEBHOOK_URL: 'https://ops.example.com/hook',
    });
    expect(missing.HOOKLINE_OPERATIONAL_WEBHOOK_SECRET).toContain(
      'is required with HOOKLINE_OPERATIONAL_WEBHOOK_URL',
    );
    const bad = problemsOf({
      HOOKLINE_OPERATIONAL_WEBHOOK_URL: 'https://ops.example.com/hook',
      HOOKLINE_OPERATIONAL_WEBHOOK_SECRET: 'whsec_dG9vLXNob3J0',
    });
    expect(bad.HOOKLINE_OPERATIONAL_WEBHOOK_SECRET).toContain('24 to 64 bytes');
    expect(bad.HOOKLINE_OPERATIONAL_WEBHOOK_SECRET).not.toContain('dG9vLXNob3J0');
    const config = loadConfig({
      HOOKLINE_OPERATIONAL_WEBHOOK_URL: 'http://alertmanager.internal:9093/hook',
      HOOKLINE_OPERATIONAL_WEBHOOK_SECRET: OPS_SECRET,
    });
    expect(config.operationalWebhookUrl).toBe('http://alertmanager.internal:9093/hook');
    expect(config.operationalWebhookSecret).toBe(OPS_SECRET);
  });

  it('refuses credentials in the operational webhook URL', () => {
    const problems = problemsOf({
      HOOKLINE_OPERATIONAL_WEBHOOK_URL: 'https://user:pw@ops.example.com/hook',
      HOOKLINE_OPERATIONAL_WEBHOOK_SECRET: OPS_SECRET,
    });
    expect(problems.HOOKLINE_OPERATIONAL_WEBHOOK_URL).toContain('user name or password');
  });

  it('defaults the alert sender to the public host, and checks a given one', () => {
    expect(loadConfig({ HOOKLINE_PUBLIC_URL: 'https://hooks.example.com' }).smtpFrom).toBe(
      'Hookline <hookline@hooks.example.com>',
    );
    expect(loadConfig({ HOOKLINE_PUBLIC_URL: 'http://10.0.0.5:8787' }).smtpFrom).toBe(
      'Hookline <hookline@localhost>',
    );
    expect(problemsOf({ HOOKLINE_SMTP_FROM: 'nobody' }).HOOKLINE_SMTP_FROM).toContain(
      'must be an address',
    );
  });

  it('reads the alert interval, 0 meaning every event', () => {
    expect(loadConfig({ HOOKLINE_ALERT_INTERVAL_SECONDS: '0' }).alertIntervalSeconds).toBe(0);
    expect(
      problemsOf({ HOOKLINE_ALERT_INTERVAL_SECONDS: '1h' }).HOOKLINE_ALERT_INTERVAL_SECONDS,
    ).toContain('whole number from 0 to 604800');
  });
});

/**
 * The deployment recipes in `deploy/` and the alert rules of docs/operations.md, checked against
 * the gateway itself (there is no Docker or systemd here): paths exist, the port and roles match
 * the configuration, every service's settings parse, and every metric an alert rule uses is
 * exported by a running gateway.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import packageJson from '../package.json' with { type: 'json' };
import { loadConfig } from '../src/config';
import { startGateway } from '../src/main';
import { metricNames } from './prometheus';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DEFAULT_PORT = loadConfig({}).port;
const DEFAULT_GRACE = loadConfig({}).shutdownGraceSeconds;

/** `${VAR:-default}` and `${VAR:?message}` as Compose resolves them, with test values. */
function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name: string, kind, rest) => {
    if (values[name] !== undefined) return values[name]!;
    if (kind === '-') return rest;
    throw new Error(`${name} is required: ${rest}`);
  });
}

describe('deploy/Dockerfile', () => {
  const text = read('deploy/Dockerfile');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('builds on Node 20 slim in stages and runs as a non-root user', () => {
    const from = lines.filter((line) => line.startsWith('FROM '));
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const line of from) expect(line).toMatch(/^FROM node:20[\w.-]*-slim\b/);
    const user = lines.filter((line) => line.startsWith('USER '));
    expect(user.at(-1)).toMatch(/^USER (?!root\b|0\b)\w+/);
    expect(lines).toContain('STOPSIGNAL SIGTERM');
  });

  it('copies only paths that exist, and starts the binary the package declares', () => {
    for (const line of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const parts = line.split(/\s+/).slice(1);
      for (const source of parts.slice(0, -1))
        expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    const bin = packageJson.bin['hookline-gateway'].replace(/^\.\//, '');
    expect(text).toContain(`"/app/${bin}"`);
    expect(text).toContain('pnpm --filter @hookline/gateway deploy --prod');
    expect(existsSync(join(ROOT, 'deploy/Dockerfile.dockerignore'))).toBe(true);
  });

  it('exposes the default port, listens on all interfaces, and health-checks /healthz', () => {
    expect(lines).toContain(`EXPOSE ${DEFAULT_PORT}`);
    expect(text).toMatch(new RegExp(`HOOKLINE_PORT=${DEFAULT_PORT}\\b`));
    expect(text).toMatch(/HOOKLINE_HOST=0\.0\.0\.0/);
    const health = lines.find((line) => line.startsWith('HEALTHCHECK '));
    expect(health).toContain('/healthz');
    expect(health).toContain(String(DEFAULT_PORT));
  });
});

describe('deploy/compose.yaml', () => {
  const values = {
    HOOKLINE_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    HOOKLINE_API_KEY: `hl_sk_${randomBytes(24).toString('hex')}`,
  };
  // biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, read field by field.
  const compose = parse(interpolate(read('deploy/compose.yaml'), values), { merge: true }) as any;

  it('runs PostgreSQL, one API and two workers from the Dockerfile', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'postgres',
      'worker-1',
      'worker-2',
    ]);
    for (const name of ['api', 'worker-1', 'worker-2']) {
      const service = compose.services[name];
      expect(
        existsSync(join(ROOT, 'deploy', service.build.context, service.build.dockerfile)),
      ).toBe(true);
      expect(service.depends_on.postgres.condition).toBe('service_healthy');
    }
  });

  it('gives each gateway service settings the gateway accepts, with the right role', () => {
    const roles: Record<string, string> = {
      api: 'api',
      'worker-1': 'worker',
      'worker-2': 'worker',
    };
    for (const [name, role] of Object.entries(roles)) {
      const service = compose.services[name];
      const config = loadConfig(service.environment);
      expect(config.role).toBe(role);
      expect(config.embedded).toBe(false);
      expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
      expect(config.warnings).toEqual([]);
      // Docker waits longer than the gateway's grace before it kills.
      expect(Number.parseInt(service.stop_grace_period, 10)).toBeGreaterThan(
        config.shutdownGraceSeconds,
      );
    }
    expect(compose.services.api.ports).toEqual([`${DEFAULT_PORT}:${DEFAULT_PORT}`]);
    const postgres = compose.services.postgres.environment;
    expect(compose.services.api.environment.HOOKLINE_DATABASE_URL).toBe(
      `postgres://${postgres.POSTGRES_USER}:${postgres.POSTGRES_PASSWORD}@postgres:5432/${postgres.POSTGRES_DB}`,
    );
  });

  it('refuses to start without the keys rather than run with none', () => {
    expect(() => interpolate(read('deploy/compose.yaml'), {})).toThrow(/HOOKLINE_ENCRYPTION_KEYS/);
  });
});

describe('deploy/hookline-gateway.service', () => {
  const unit = new Map<string, string[]>();
  for (const line of read('deploy/hookline-gateway.service').split('\n')) {
    const match = /^(\w+)=(.*)$/.exec(line.trim());
    if (match) unit.set(match[1]!, [...(unit.get(match[1]!) ?? []), match[2]!]);
  }
  const one = (key: string) => unit.get(key)?.at(-1);
  const environment = Object.fromEntries(
    (unit.get('Environment') ?? []).map((pair) => pair.split('=', 2) as [string, string]),
  );
  const example = Object.fromEntries(
    read('deploy/hookline-gateway.env.example')
      .split('\n')
      .filter((line) => /^HOOKLINE_\w+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

  it('stops with SIGTERM and waits longer than the shutdown grace, restarts on failure', () => {
    expect(one('Type')).toBe('simple');
    expect(one('KillSignal')).toBe('SIGTERM');
    const grace = Number(example.HOOKLINE_SHUTDOWN_GRACE_SECONDS ?? DEFAULT_GRACE);
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(grace);
    expect(one('Restart')).toBe('on-failure');
    expect(one('EnvironmentFile')).toBe('/etc/hookline/gateway.env');
  });

  it('is hardened, with only the data directory writable', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('User')).toBe('hookline');
    expect(one('ReadWritePaths')).toBe(environment.HOOKLINE_DATA_DIR);
  });

  it('ships an example env file the gateway accepts once its keys are filled in', () => {
    const config = loadConfig({
      ...environment,
      ...example,
      HOOKLINE_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    });
    expect(config.role).toBe('all');
    expect(config.port).toBe(DEFAULT_PORT);
    expect(config.warnings).toEqual([]);
  });
});

describe('the Prometheus alert rules', () => {
  const file = read('deploy/prometheus/hookline-alerts.yml');
  // biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document.
  const rules = (parse(file) as any).groups.flatMap((group: any) => group.rules) as {
    alert: string;
    expr: string;
  }[];

  it('are the same in docs/operations.md as in deploy/prometheus/hookline-alerts.yml', () => {
    const docs = read('docs/operations.md');
    const block = /```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(block).toBeDefined();
    expect(parse(block!)).toEqual(parse(file));
  });

  it('use only metrics that a running gateway exports', async () => {
    expect(rules.length).toBeGreaterThan(5);
    const used = new Set(rules.flatMap((rule) => rule.expr.match(/\bhookline_\w+/g) ?? []));
    expect(used.size).toBeGreaterThan(5);

    const dataDir = await mkdtemp(join(tmpdir(), 'hookline-alerts-'));
    const gateway = await startGateway({
      env: { HOOKLINE_DATA_DIR: dataDir, HOOKLINE_PORT: '0', HOOKLINE_LOG_LEVEL: 'silent' },
      printBanner: false,
    });
    try {
      const exported = metricNames(await (await fetch(`${gateway.url}/metrics`)).text());
      for (const name of used) expect(exported, name).toContain(name);
    } finally {
      await gateway.stop({ graceMs: 1_000 });
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

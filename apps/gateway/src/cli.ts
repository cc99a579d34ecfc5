/**
 * The binary's commands besides serving: operator API keys and re-encryption of the secrets at
 * rest. Each opens the gateway's database from the same configuration as the server (for the
 * embedded database that needs the data directory, so not while a gateway runs on it).
 */
import { ConfigError, type Env, loadConfig } from './config';
import { API_KEY_PREFIX, generateApiKey, hashToken, PORTAL_TOKEN_PREFIX } from './domain/auth';
import { revokePortalToken } from './domain/portal';
import {
  createStore,
  type Database,
  DataDirLockedError,
  type KeyRingCipher,
  keyRingCipher,
  loadKeyRing,
  openDatabase,
  reencryptSecrets,
  runRetention,
} from './storage';

/** Where a command writes. */
export interface CommandIo {
  env?: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const USAGE = `Usage: hookline-gateway [command]

With no command, serves the API and delivers webhooks (HOOKLINE_ROLE decides which).

Commands:
  keys create [--name <name>]   make an operator API key (hl_sk_…); printed once, stored hashed
  keys list                     list API keys (id, name, hint, created, last used, revoked)
  keys revoke <id>              revoke an API key; it stops working at once
  portal revoke <hl_pt_…>       revoke one portal token (its links stop working at once)
  portal revoke --tenant <id>   revoke every live portal token of a tenant
  secrets reencrypt             re-encrypt every endpoint secret and tenant Slack webhook URL
                                under the first key of HOOKLINE_ENCRYPTION_KEYS (then older
                                keys can be removed)
  retention run                 roll up daily stats and delete deliveries, attempts and messages
                                older than HOOKLINE_RETENTION_DAYS now (the worker does this
                                every 10 minutes); prints what it deleted
  help                          show this

Configuration comes from the same HOOKLINE_* variables as the server.
`;

/** True when the arguments name a command rather than the server. */
export function isCommand(args: readonly string[]): boolean {
  return args.length > 0;
}

class UsageError extends Error {}

/** Runs one command; resolves to the process exit code. Never prints a stored secret. */
export async function runCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const [group, action, ...rest] = args;
  if (group === 'help' || group === '--help' || group === '-h') {
    io.stdout(USAGE);
    return 0;
  }
  try {
    if (group === 'keys' && action === 'create') {
      return await withStore(io, async ({ store }) => {
        const name = option(rest, '--name') ?? '';
        const key = generateApiKey();
        const created = await store.apiKeys.create({
          keyHash: hashToken(key),
          name,
          keyHint: key.slice(0, API_KEY_PREFIX.length + 4),
        });
        io.stdout(
          `Created API key ${created.id}${name ? ` (${name})` : ''}. It is shown only this once:\n\n` +
            `    ${key}\n\nUse it as: Authorization: Bearer ${API_KEY_PREFIX}…\n`,
        );
        return 0;
      });
    }
    if (group === 'keys' && action === 'list') {
      if (rest.length > 0) throw new UsageError(`Unexpected argument: ${rest[0]}`);
      return await withStore(io, async ({ store }) => {
        const keys = await store.apiKeys.list();
        if (keys.length === 0) {
          io.stdout('No API keys.\n');
          return 0;
        }
        const rows = keys.map((key) => [
          key.id,
          key.name || '-',
          `${key.keyHint}…`,
          key.createdAt.toISOString(),
          key.lastUsedAt?.toISOString() ?? 'never',
          key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active',
        ]);
        io.stdout(table([['id', 'name', 'hint', 'created', 'last used', 'status'], ...rows]));
        return 0;
      });
    }
    if (group === 'keys' && action === 'revoke') {
      const [id, ...extra] = rest;
      if (!id) throw new UsageError('keys revoke needs the id of the key (see keys list).');
      if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra[0]}`);
      return await withStore(io, async ({ store }) => {
        if (await store.apiKeys.revoke(id)) {
          io.stdout(`Revoked API key ${id}.\n`);
          return 0;
        }
        io.stderr(`hookline-gateway: no active API key has the id ${id}.\n`);
        return 1;
      });
    }
    if (group === 'portal' && action === 'revoke') {
      const tenantId = rest[0] === '--tenant' ? option(rest, '--tenant') : undefined;
      const [token, ...extra] = tenantId === undefined ? rest : [];
      if (tenantId === undefined && !token?.startsWith(PORTAL_TOKEN_PREFIX)) {
        throw new UsageError(
          `portal revoke needs a portal token (${PORTAL_TOKEN_PREFIX}…) or --tenant <id>.`,
        );
      }
      if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra[0]}`);
      return await withStore(io, async ({ store }) => {
        if (tenantId !== undefined) {
          const count = await store.portalTokens.revokeTenant(tenantId);
          io.stdout(`Revoked ${count} portal token(s) of tenant ${tenantId}.\n`);
          return 0;
        }
        const revoked = await revokePortalToken(
          { store, now: () => new Date() },
          { kind: 'api_key', keyId: null },
          token!,
        );
        if (revoked) {
          io.stdout('Revoked the portal token.\n');
          return 0;
        }
        // The token is not echoed: terminal logs are not a place for it.
        io.stderr(
          'hookline-gateway: no live portal token matches (unknown, expired or revoked).\n',
        );
        return 1;
      });
    }
    if (group === 'secrets' && action === 'reencrypt') {
      if (rest.length > 0) throw new UsageError(`Unexpected argument: ${rest[0]}`);
      return await withStore(io, async ({ database, cipher }) => {
        // Re-encryption makes nothing due: no worker to wake.
        const result = await reencryptSecrets(
          { sql: database.sql, cipher, wake: () => {} },
          cipher,
        );
        io.stdout(
          `Re-encrypted ${result.reencrypted} secret(s) of ${result.endpoints} endpoint(s) under key ` +
            `${cipher.currentKeyId}; ${result.current} already used it.\n` +
            `Re-encrypted ${result.slackUrlsReencrypted} Slack webhook URL(s) of tenant alert ` +
            `channels; ${result.slackUrlsCurrent} already used the key.\n`,
        );
        return 0;
      });
    }
    if (group === 'retention' && action === 'run') {
      if (rest.length > 0) throw new UsageError(`Unexpected argument: ${rest[0]}`);
      return await runRetentionCommand(io);
    }
    throw new UsageError(`Unknown command: ${args.join(' ')}`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`hookline-gateway: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof DataDirLockedError) {
      io.stderr(`hookline-gateway: ${error.message}\n`);
      return 1;
    }
    io.stderr(
      `hookline-gateway: the command failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

function option(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index === -1) {
    if (args.length > 0) throw new UsageError(`Unexpected argument: ${args[0]}`);
    return undefined;
  }
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value.`);
  const extra = args.filter((_, i) => i !== index && i !== index + 1);
  if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra[0]}`);
  return value;
}

/** `retention run`: one run now, with the server's settings; needs no encryption key. */
async function runRetentionCommand(io: CommandIo): Promise<number> {
  const config = loadConfig(io.env);
  const database = await openDatabase(
    config.embedded
      ? { kind: 'embedded', dataDir: config.dataDir }
      : // Two connections: one holds the retention lock while the other works.
        { kind: 'postgres', url: config.databaseUrl!, poolSize: 2 },
  );
  try {
    const result = await runRetention(database.sql, {
      retentionDays: config.retentionDays,
      statsRetentionDays: config.statsRetentionDays,
    });
    if (!result.ran) {
      io.stderr('hookline-gateway: another process is running retention now; nothing was done.\n');
      return 1;
    }
    const d = result.deleted;
    io.stdout(
      `Retention: raw rows kept ${config.retentionDays} day(s), daily stats ` +
        `${config.statsRetentionDays} day(s).\n` +
        `Rolled up ${result.rolledUpDays.length} day(s), finalized ${result.finalizedDays.length}` +
        `${result.horizon ? `; raw rows before ${result.horizon.toISOString()} are deleted` : ''}.\n` +
        `Deleted ${d.deliveries} deliver${d.deliveries === 1 ? 'y' : 'ies'} ` +
        `(${d.unfinishedDeliveries} never finished), ${d.attempts} attempt(s), ` +
        `${d.messages} message(s), ${d.idempotencyKeys} idempotency key(s), ` +
        `${d.portalTokens} portal token(s), ${d.operationalEvents} operational event(s), ` +
        `${d.dailyStats} daily stats row(s) in ${result.batches} batch(es), ` +
        `${(result.durationMs / 1000).toFixed(1)} s.\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

async function withStore<T>(
  io: CommandIo,
  fn: (opened: {
    store: ReturnType<typeof createStore>;
    database: Database;
    cipher: KeyRingCipher;
  }) => Promise<T>,
): Promise<T> {
  const config = loadConfig(io.env);
  const database = await openDatabase(
    config.embedded
      ? { kind: 'embedded', dataDir: config.dataDir }
      : { kind: 'postgres', url: config.databaseUrl!, poolSize: 2 },
  );
  try {
    const cipher = keyRingCipher(await loadKeyRing(config));
    return await fn({ store: createStore(database.sql, { cipher }), database, cipher });
  } finally {
    await database.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, USAGE } from './cli';
import { generatePortalToken, hashToken } from './domain/auth';
import { createStore, insecureDevelopmentCipher, openDatabase, sql } from './storage';

describe('hookline-gateway commands', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function run(args: string[], dataDir: string) {
    let stdout = '';
    let stderr = '';
    const code = await runCommand(args, {
      env: { HOOKLINE_DATA_DIR: dataDir },
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
    return { code, stdout, stderr };
  }

  async function dataDir() {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-cli-'));
    dirs.push(dir);
    return dir;
  }

  it('creates a key shown once, lists it by hint only, and revokes it', async () => {
    const dir = await dataDir();
    const created = await run(['keys', 'create', '--name', 'ci deploys'], dir);
    expect(created.code).toBe(0);
    const key = /hl_sk_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
    expect(key).toBeDefined();
    const id = /Created API key (key_\w+)/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();

    const listed = await run(['keys', 'list'], dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('ci deploys');
    expect(listed.stdout).toContain(`${key!.slice(0, 10)}…`);
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).toMatch(/active/);

    // The key is stored only as a hash.
    const database = await openDatabase({ kind: 'embedded', dataDir: dir });
    try {
      const store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
      const rows = JSON.stringify(await database.sql.query(sql`select * from api_keys`));
      expect(rows).toContain(id);
      expect(rows).not.toContain(key!.slice(10));
      expect((await store.apiKeys.list())[0]?.revokedAt).toBeNull();
    } finally {
      await database.close();
    }

    expect((await run(['keys', 'revoke', id!], dir)).code).toBe(0);
    expect((await run(['keys', 'list'], dir)).stdout).toMatch(/revoked \d{4}-/);
    const again = await run(['keys', 'revoke', id!], dir);
    expect(again).toMatchObject({ code: 1 });
    expect(again.stderr).toContain(`no active API key has the id ${id}`);
  });

  it('revokes a portal token, or every live token of a tenant, with immediate effect', async () => {
    const dir = await dataDir();
    const mint = async (tenantId: string) => {
      const database = await openDatabase({ kind: 'embedded', dataDir: dir });
      try {
        const store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
        const token = generatePortalToken();
        await store.portalTokens.create({
          tokenHash: hashToken(token),
          tenantId,
          endpointId: null,
          expiresAt: new Date(Date.now() + 3_600_000),
        });
        return token;
      } finally {
        await database.close();
      }
    };
    const live = async (token: string) => {
      const database = await openDatabase({ kind: 'embedded', dataDir: dir });
      try {
        const store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
        return (await store.portalTokens.findValidByHash(hashToken(token))) !== null;
      } finally {
        await database.close();
      }
    };
    const one = await mint('acme');
    const [two, three] = [await mint('globex'), await mint('globex')];
    const other = await mint('initech');

    const revoked = await run(['portal', 'revoke', one], dir);
    expect(revoked).toMatchObject({ code: 0, stdout: 'Revoked the portal token.\n' });
    expect(await live(one)).toBe(false);
    const again = await run(['portal', 'revoke', one], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).not.toContain(one);

    expect((await run(['portal', 'revoke', '--tenant', 'globex'], dir)).stdout).toBe(
      'Revoked 2 portal token(s) of tenant globex.\n',
    );
    expect([await live(two), await live(three), await live(other)]).toEqual([false, false, true]);
    expect((await run(['portal', 'revoke', 'not-a-token'], dir)).code).toBe(2);
  });

  it('runs retention once: prints what it deleted and leaves recent rows', async () => {
    const dir = await dataDir();
    const database = await openDatabase({ kind: 'embedded', dataDir: dir });
    try {
      const store = createStore(database.sql, { cipher: insecureDevelopmentCipher });
      const endpoint = await store.endpoints.create({
        tenantId: 't1',
        url: 'https://receiver.example/hook',
        secret: `whsec_${'k'.repeat(32)}`,
      });
      for (let i = 0; i < 4; i++) {
        await store.messages.create({ tenantId: 't1', eventType: 'a.b', payloadJson: '{}' });
      }
      // Three of the four are 20 days old, never delivered (no worker ran).
      await database.sql.query(sql`
        update deliveries set created_at = now() - interval '20 days'
        where id in (select id from deliveries order by id limit 3)`);
      await database.sql.query(sql`
        update messages set created_at = now() - interval '20 days'
        where id in (select message_id from deliveries where created_at < now() - interval '1 day')`);
      expect(endpoint.id).toMatch(/^ep_/);
    } finally {
      await database.close();
    }
    let stdout = '';
    let stderr = '';
    const code = await runCommand(['retention', 'run'], {
      env: { HOOKLINE_DATA_DIR: dir, HOOKLINE_RETENTION_DAYS: '7' },
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('raw rows kept 7 day(s), daily stats 400 day(s)');
    expect(stdout).toContain('Deleted 3 deliveries (3 never finished), 0 attempt(s), 3 message(s)');
    expect(stdout).not.toMatch(/(dlv|msg|ep)_[0-9a-z]/);

    const after = await openDatabase({ kind: 'embedded', dataDir: dir });
    try {
      const [row] = await after.sql.query<{ deliveries: number; messages: number }>(sql`
        select (select count(*)::int from deliveries) as deliveries,
          (select count(*)::int from messages) as messages`);
      expect(row).toEqual({ deliveries: 1, messages: 1 });
    } finally {
      await after.close();
    }
    expect((await run(['retention', 'run', 'extra'], dir)).code).toBe(2);
    expect(USAGE).toContain('retention run');
  });

  it('answers usage errors with exit code 2 and the usage', async () => {
    const dir = await dataDir();
    for (const args of [
      ['keys'],
      ['keys', 'revoke'],
      ['keys', 'create', '--name'],
      ['keys', 'create', 'extra'],
      ['secrets'],
      ['nonsense'],
    ]) {
      const result = await run(args, dir);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage: hookline-gateway');
    }
    const help = await run(['help'], dir);
    expect(help).toMatchObject({ code: 0, stdout: USAGE });
  });

  it('refuses to start without the keys PostgreSQL mode needs, naming the variable', async () => {
    let stderr = '';
    const code = await runCommand(['keys', 'list'], {
      env: { HOOKLINE_DATABASE_URL: 'postgres://127.0.0.1:1/none' },
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
    });
    expect(code).toBe(1);
    expect(stderr).toContain('HOOKLINE_ENCRYPTION_KEYS');
  });
});

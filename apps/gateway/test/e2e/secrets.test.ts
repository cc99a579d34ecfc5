/**
 * Secrets at rest and in logs, end to end with the gateway binary: after endpoints of every kind
 * are created (generated, imported, ed25519, mid-rotation), no table holds a secret in the clear;
 * re-encrypting under a new master key and dropping the old one keeps every endpoint deliverable;
 * and a whole run's logs at debug level hold no secret, signature, key or payload.
 */
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Webhook } from '@hookline/verify';
import { Webhook as Ed25519Webhook } from '@hookline/verify/ed25519';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli';
import {
  connectPostgres,
  ENCRYPTION_KEY_FILE,
  openEmbedded,
  type SqlClient,
  SqlFragment,
  sql,
} from '../../src/storage';
import { type GatewayProcess, spawnGateway, stopGateway } from '../gateway-process';
import { type Receiver, startReceiver } from '../receivers';
import {
  apiClient,
  type GatewayStorage,
  gatewayStorage,
  LOCAL_ENV,
  testDrivers,
  waitFor,
} from './harness';

const PAYLOAD_MARKER = 'payload-marker-5f1c9e';
// The path of a tenant's Slack incoming-webhook URL: a bearer credential.
const SLACK_MARKER = 'slack-path-marker-8d3b1f';

/** Every row of every table of the public schema, bytea columns spelled every way they could leak. */
async function dumpEveryTable(db: SqlClient): Promise<string> {
  const tables = await db.query<{ table_name: string }>(sql`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`);
  expect(tables.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(['endpoints', 'messages', 'deliveries', 'attempts', 'api_keys']),
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    // Names read from the catalog just above, quoted: not user input.
    const rows = await db.query<Record<string, unknown>>(
      new SqlFragment([`select * from "${table_name}"`], []),
    );
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        if (value instanceof Uint8Array) {
          const bytes = Buffer.from(value);
          parts.push(`${table_name}.${column}`, bytes.toString('utf8'), bytes.toString('latin1'));
          parts.push(bytes.toString('hex'), bytes.toString('base64'));
        } else {
          parts.push(`${table_name}.${column}`, JSON.stringify(value));
        }
      }
    }
  }
  return parts.join('\n');
}

/** The spellings of a secret that must never be stored or logged. */
function spellings(secret: string): string[] {
  const body = secret.replace(/^(whsec|whsk)_/, '');
  const raw = Buffer.from(body, 'base64');
  return [secret, body, raw.toString('hex'), raw.toString('base64url')];
}

describe.each(testDrivers)('secrets at rest and in logs (%s)', (driver) => {
  let storage: GatewayStorage | undefined;
  let gateway: GatewayProcess | undefined;
  let receiver: Receiver | undefined;
  const logLines: string[] = [];

  afterAll(async () => {
    await stopGateway(gateway, 2_000);
    await receiver?.close();
    await storage?.dispose();
  });

  async function openDatabaseDirectly(): Promise<SqlClient> {
    return driver === 'postgres'
      ? connectPostgres(storage!.env.HOOKLINE_DATABASE_URL!, { max: 1 })
      : openEmbedded(storage!.dataDir);
  }

  async function start(env: Record<string, string>): Promise<GatewayProcess> {
    const started = await spawnGateway({
      env: { ...LOCAL_ENV, ...env, HOOKLINE_LOG_LEVEL: 'debug' },
      startTimeoutMs: 60_000,
    });
    gateway = started;
    return started;
  }

  async function stop(): Promise<void> {
    if (!gateway) return;
    await stopGateway(gateway, 5_000);
    logLines.push(...gateway.lines.filter((line) => line.startsWith('{')));
    gateway = undefined;
  }

  it('stores no secret in the clear, stays deliverable across a master-key rotation, and logs no secret, signature or payload', {
    timeout: 180_000,
  }, async () => {
    storage = await gatewayStorage(driver);
    const signatures: string[] = [];
    receiver = await startReceiver((req, res) => {
      signatures.push(String(req.headers['webhook-signature']));
      // An answer that echoes nothing of the request.
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const keyA = randomBytes(32).toString('base64');
    const envA: Record<string, string> = { ...storage.env };
    if (driver === 'postgres') envA.HOOKLINE_ENCRYPTION_KEYS = keyA;
    let running = await start(envA);
    const apiKey = storage.env.HOOKLINE_API_KEY ?? running.apiKey!;
    let api = apiClient(running.url, apiKey);

    const imported = `whsec_${randomBytes(32).toString('base64')}`;
    const created = [
      await api('POST', '/v1/endpoints', { tenant_id: 'sec', url: `${receiver.url}/gen` }),
      await api('POST', '/v1/endpoints', {
        tenant_id: 'sec',
        url: `${receiver.url}/imported`,
        secret: imported,
      }),
      await api('POST', '/v1/endpoints', {
        tenant_id: 'sec',
        url: `${receiver.url}/ed`,
        signing: 'ed25519',
      }),
      await api('POST', '/v1/endpoints', { tenant_id: 'sec', url: `${receiver.url}/rotated` }),
    ];
    expect(created.map((answer) => answer.status)).toEqual([201, 201, 201, 201]);
    const [generated, importedEp, ed, rotating] = created.map((answer) => answer.body);
    expect(importedEp.secret).toBe(imported);
    const rotated = await api('POST', `/v1/endpoints/${rotating.id}/rotate-secret`, {
      grace_period_seconds: 3_600,
    });
    expect(rotated.status).toBe(200);
    const slackUrl = `${receiver.url}/services/T0/B0/${SLACK_MARKER}`;
    const channels = await api('PUT', '/v1/tenants/sec/alert-channels', {
      slack_webhook_url: slackUrl,
    });
    expect(channels.status).toBe(200);
    expect(channels.body.slack_webhook_url).toBe(slackUrl);
    const secrets: string[] = [
      generated.secret,
      imported,
      ed.secret,
      rotating.secret,
      rotated.body.secret,
    ];
    for (const secret of secrets) expect(secret).toMatch(/^(whsec|whsk)_/);
    // Read back: hints only.
    for (const endpoint of [generated, importedEp, ed, rotating]) {
      const read = await api('GET', `/v1/endpoints/${endpoint.id}`);
      for (const secret of secrets) expect(JSON.stringify(read.body)).not.toContain(secret);
    }

    const send = async (seq: number) => {
      const sent = await api('POST', '/v1/messages', {
        tenant_id: 'sec',
        event_type: 'invoice.paid',
        payload: { marker: PAYLOAD_MARKER, seq },
      });
      expect(sent.status).toBe(202);
      return sent.body.id as string;
    };
    const firstId = await send(1);
    await waitFor(() => receiver!.requests.length >= 4, {
      what: 'the first deliveries',
      timeoutMs: 30_000,
    });
    // Also a test event: its stored attempt holds request headers with signatures.
    const tested = await api('POST', `/v1/endpoints/${generated.id}/test`, {});
    expect(tested.status).toBeLessThan(300);
    await stop();

    // At rest: no table holds a secret, in any spelling, nor the admin key.
    let db = await openDatabaseDirectly();
    try {
      const dump = await dumpEveryTable(db);
      expect(dump).toContain(firstId);
      for (const secret of secrets) {
        for (const spelling of spellings(secret)) expect(dump).not.toContain(spelling);
      }
      expect(dump).not.toContain(apiKey);
      expect(dump).not.toContain(apiKey.slice(6));
      expect(dump).toContain('tenant_alert_channels.slack_webhook_url_ciphertext');
      expect(dump).not.toContain(SLACK_MARKER);
      // (Attempt records keep the request as sent, signature header included, for the delivery
      // log: a signature is no secret, and the receiver saw it anyway.)
    } finally {
      await db.close();
    }

    // Rotate the master key: re-encrypt under key B (A still in the ring), then drop A.
    const keyB = randomBytes(32).toString('base64');
    const ring = driver === 'postgres' ? `${keyB},${keyA}` : keyB;
    let out = '';
    const code = await runCommand(['secrets', 'reencrypt'], {
      env: { ...storage.env, HOOKLINE_ENCRYPTION_KEYS: ring },
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        out += text;
      },
    });
    expect(out).toMatch(/Re-encrypted 5 secret\(s\) of 4 endpoint\(s\)/);
    expect(out).toMatch(/Re-encrypted 1 Slack webhook URL\(s\)/);
    expect(code).toBe(0);
    if (driver === 'pglite') await unlink(join(storage.dataDir, ENCRYPTION_KEY_FILE));
    running = await start({ ...storage.env, HOOKLINE_ENCRYPTION_KEYS: keyB });
    api = apiClient(running.url, apiKey);
    // Readable under the new key alone.
    expect((await api('GET', '/v1/tenants/sec/alert-channels')).body.slack_webhook_url).toBe(
      slackUrl,
    );
    const before = receiver.requests.length;
    const secondId = await send(2);
    await waitFor(() => receiver!.requests.length >= before + 4, {
      what: 'deliveries after the key rotation',
      timeoutMs: 30_000,
    });
    const after = receiver.requests.slice(before);
    const verifiers: Record<string, Webhook | Ed25519Webhook> = {
      '/gen': new Webhook(generated.secret),
      '/imported': new Webhook(imported),
      '/ed': new Ed25519Webhook(ed.public_key),
      // Mid-rotation: both signatures, either verifies.
      '/rotated': new Webhook(rotating.secret),
    };
    for (const request of after) {
      const verifier = verifiers[request.url];
      expect(verifier, request.url).toBeDefined();
      const verified = verifier!.verify(request.body, request.headers as Record<string, string>);
      expect(verified).toMatchObject({ data: { marker: PAYLOAD_MARKER, seq: 2 } });
      expect(request.headers['webhook-id']).toBe(secondId);
    }
    new Webhook(rotated.body.secret).verify(
      after.find((r) => r.url === '/rotated')!.body,
      after.find((r) => r.url === '/rotated')!.headers as Record<string, string>,
    );
    await stop();

    // Still nothing in the clear after re-encryption.
    db = await openDatabaseDirectly();
    try {
      const dump = await dumpEveryTable(db);
      for (const secret of secrets) {
        for (const spelling of spellings(secret)) expect(dump).not.toContain(spelling);
      }
      expect(dump).not.toContain(SLACK_MARKER);
    } finally {
      await db.close();
    }

    // Logs of the whole run, at debug level: no secret, key, signature or payload.
    const logs = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(20);
    expect(logs).toContain('"msg":"delivered"');
    for (const secret of secrets) {
      for (const spelling of spellings(secret)) expect(logs).not.toContain(spelling);
    }
    expect(logs).not.toContain(apiKey);
    expect(logs).not.toContain(PAYLOAD_MARKER);
    expect(logs).not.toContain(SLACK_MARKER);
    expect(logs).not.toContain(keyA);
    expect(logs).not.toContain(keyB);
    for (const signature of signatures) {
      for (const part of signature.split(' ')) {
        expect(logs).not.toContain(part.slice(part.indexOf(',') + 1));
      }
    }
  });
});

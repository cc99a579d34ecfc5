import type { StorageContext } from './common';
import type { KeyRingCipher } from './key-ring';
import { sql } from './sql';

/** What `reencryptSecrets` did. */
export interface ReencryptResult {
  /** Endpoints looked at. */
  endpoints: number;
  /** Secret blobs rewritten under the current key (current and previous secrets count apart). */
  reencrypted: number;
  /** Blobs already under the current key. */
  current: number;
  /** Tenants' Slack webhook URLs rewritten under the current key (or encrypted, if stored plain). */
  slackUrlsReencrypted: number;
  /** Slack webhook URLs already under the current key. */
  slackUrlsCurrent: number;
}

type SecretRow = {
  id: string;
  secret_ciphertext: Uint8Array;
  previous_secret_ciphertext: Uint8Array | null;
};

/**
 * Rewrites every endpoint secret (current and previous) that an older key of the ring encrypted
 * under the ring's current key, in batches of `batchSize` endpoints. Each blob is replaced only
 * if it is still the one read (a rotation meanwhile wrote a blob under the current key anyway),
 * so this can run while gateways serve. Afterwards the older keys can leave the ring.
 */
export async function reencryptSecrets(
  ctx: StorageContext,
  cipher: KeyRingCipher,
  options: { batchSize?: number } = {},
): Promise<ReencryptResult> {
  const batchSize = options.batchSize ?? 200;
  const result: ReencryptResult = {
    endpoints: 0,
    reencrypted: 0,
    current: 0,
    slackUrlsReencrypted: 0,
    slackUrlsCurrent: 0,
  };
  let after = '';
  for (;;) {
    const rows = await ctx.sql.query<SecretRow>(sql`
      select id, secret_ciphertext, previous_secret_ciphertext from endpoints
      where id > ${after} order by id limit ${batchSize}::int`);
    if (rows.length === 0) break;
    for (const row of rows) {
      result.endpoints++;
      for (const column of ['secret_ciphertext', 'previous_secret_ciphertext'] as const) {
        const blob = row[column];
        if (blob === null) continue;
        if (cipher.keyIdOf(blob) === cipher.currentKeyId) {
          result.current++;
          continue;
        }
        const fresh = cipher.encrypt(cipher.decrypt(blob));
        const updated = await ctx.sql.query(
          column === 'secret_ciphertext'
            ? sql`update endpoints set secret_ciphertext = ${fresh}
                where id = ${row.id} and secret_ciphertext = ${blob} returning id`
            : sql`update endpoints set previous_secret_ciphertext = ${fresh}
                where id = ${row.id} and previous_secret_ciphertext = ${blob} returning id`,
        );
        if (updated.length > 0) result.reencrypted++;
      }
    }
    after = rows[rows.length - 1]!.id;
  }
  await reencryptSlackUrls(ctx, cipher, batchSize, result);
  return result;
}

type SlackRow = {
  tenant_id: string;
  slack_webhook_url: string | null;
  slack_webhook_url_ciphertext: Uint8Array | null;
};

/**
 * The tenants' Slack webhook URLs (bearer credentials): re-encrypts those under an older key and
 * encrypts those stored in the clear before schema 5. Conditional on the value read, like above.
 */
async function reencryptSlackUrls(
  ctx: StorageContext,
  cipher: KeyRingCipher,
  batchSize: number,
  result: ReencryptResult,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await ctx.sql.query<SlackRow>(sql`
      select tenant_id, slack_webhook_url, slack_webhook_url_ciphertext from tenant_alert_channels
      where tenant_id > ${after}
        and (slack_webhook_url is not null or slack_webhook_url_ciphertext is not null)
      order by tenant_id limit ${batchSize}::int`);
    if (rows.length === 0) return;
    for (const row of rows) {
      const blob = row.slack_webhook_url_ciphertext;
      if (blob !== null && cipher.keyIdOf(blob) === cipher.currentKeyId) {
        result.slackUrlsCurrent++;
        continue;
      }
      const plain = blob !== null ? cipher.decrypt(blob) : row.slack_webhook_url!;
      const fresh = cipher.encrypt(plain);
      const updated = await ctx.sql.query(
        blob !== null
          ? sql`update tenant_alert_channels set slack_webhook_url_ciphertext = ${fresh},
              slack_webhook_url = null
              where tenant_id = ${row.tenant_id} and slack_webhook_url_ciphertext = ${blob}
              returning tenant_id`
          : sql`update tenant_alert_channels set slack_webhook_url_ciphertext = ${fresh},
              slack_webhook_url = null
              where tenant_id = ${row.tenant_id} and slack_webhook_url = ${plain}
                and slack_webhook_url_ciphertext is null
              returning tenant_id`,
      );
      if (updated.length > 0) result.slackUrlsReencrypted++;
    }
    after = rows[rows.length - 1]!.tenant_id;
  }
}

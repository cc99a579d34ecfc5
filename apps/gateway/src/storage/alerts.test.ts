import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import type { AlertChannelKind, NewOperationalEvent } from './alerts';
import { insecureDevelopmentCipher } from './cipher';
import { keyRingCipher } from './key-ring';
import { reencryptSecrets } from './secrets';
import { sql } from './sql';
import { createStore } from './store';

const ALL = { operationalWebhook: true, email: true, slack: true };
const HOUR = 60 * 60 * 1000;
const CHANNELS: AlertChannelKind[] = ['operational_webhook', 'email', 'slack'];

describe.each(testDrivers)('alert notifications (%s)', (driver) => {
  const t = useTestDatabase(driver);

  beforeEach(async () => {
    await t.database.sql.exec(
      'delete from alert_notifications; delete from alert_rate_limits; delete from operational_events;',
    );
  });

  function dead(endpointId: string, tenantId = 't1', extra: Partial<NewOperationalEvent> = {}) {
    return t.store.alerts.recordEvent({
      type: 'delivery.dead',
      tenantId,
      endpointId,
      deliveryId: 'dlv_x',
      messageId: 'msg_x',
      data: { attempt_count: 5, http_status: 500, outcome: 'http_5xx', event_type: 'invoice.paid' },
      ...extra,
    });
  }

  async function pendingEvents(): Promise<number> {
    const [row] = await t.database.sql.query<{ n: number }>(
      sql`select count(*)::int as n from operational_events where dispatched_at is null`,
    );
    return Number(row!.n);
  }

  it('expands an event into one notification per configured channel and marks it dispatched', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput({ tenantId: 'acme' }));
    await t.store.alertChannels.put('acme', {
      emails: ['ops@acme.example'],
      slackWebhookUrl: 'https://hooks.slack.test/services/T/B/secret',
    });
    const event = await dead(endpoint.id, 'acme');
    expect(event.id).toMatch(/^evt_/);
    expect(event.data).toMatchObject({ http_status: 500 });

    const result = await t.store.alerts.expandEvents({ ...ALL, intervalMs: HOUR });
    expect(result).toEqual({ events: 1, created: 3, folded: 0 });
    expect(await pendingEvents()).toBe(0);
    const made = await t.store.alerts.list();
    expect(made.map((n) => n.channel).sort()).toEqual(['email', 'operational_webhook', 'slack']);
    for (const n of made) {
      expect(n).toMatchObject({
        tenantId: 'acme',
        endpointId: endpoint.id,
        type: 'delivery.dead',
        firstEventId: event.id,
        lastEventId: event.id,
        eventCount: 1,
        status: 'pending',
        attemptCount: 0,
      });
    }
    // Expanding again finds nothing: an event is expanded once.
    expect(await t.store.alerts.expandEvents({ ...ALL, intervalMs: HOUR })).toEqual({
      events: 0,
      created: 0,
      folded: 0,
    });
  });

  it('dispatches events with no channel configured without making notifications', async () => {
    await dead('ep_nochannels', 'lonely');
    const result = await t.store.alerts.expandEvents({
      operationalWebhook: false,
      email: true,
      slack: true,
      intervalMs: HOUR,
    });
    expect(result).toEqual({ events: 1, created: 0, folded: 0 });
    expect(await pendingEvents()).toBe(0);
    expect(await t.store.alerts.list()).toEqual([]);
  });

  it('makes no email notifications where SMTP is not configured', async () => {
    await t.store.alertChannels.put('acme', { emails: ['ops@acme.example'] });
    await dead('ep_a', 'acme');
    await t.store.alerts.expandEvents({
      operationalWebhook: false,
      email: false,
      slack: true,
      intervalMs: HOUR,
    });
    expect(await t.store.alerts.list()).toEqual([]);
  });

  it('folds a burst for one endpoint and type into one notification, other endpoints and types apart', async () => {
    const first = await dead('ep_a');
    let last = first;
    for (let i = 0; i < 4; i++) last = await dead('ep_a');
    await dead('ep_b');
    await t.store.alerts.recordEvent({
      type: 'endpoint.disabled',
      tenantId: 't1',
      endpointId: 'ep_a',
      data: { reason: 'failing' },
    });
    const result = await t.store.alerts.expandEvents({
      operationalWebhook: true,
      email: false,
      slack: false,
      intervalMs: HOUR,
    });
    expect(result).toEqual({ events: 7, created: 3, folded: 4 });
    const made = await t.store.alerts.list();
    const key = (n: (typeof made)[number]) => `${n.endpointId} ${n.type}`;
    expect(Object.fromEntries(made.map((n) => [key(n), n.eventCount]))).toEqual({
      'ep_a delivery.dead': 5,
      'ep_b delivery.dead': 1,
      'ep_a endpoint.disabled': 1,
    });
    const folded = made.find((n) => key(n) === 'ep_a delivery.dead')!;
    expect(folded.firstEventId).toBe(first.id);
    expect(folded.lastEventId).toBe(last.id);
  });

  it('sends the next notification of a key one interval after a tried one, folding events into it meanwhile', async () => {
    const options = { operationalWebhook: true, email: false, slack: false, intervalMs: HOUR };
    await dead('ep_a');
    await t.store.alerts.expandEvents(options);
    const [claimed] = await t.store.alerts.claim({
      channels: CHANNELS,
      limit: 10,
      leaseMs: 60_000,
    });
    expect(claimed).toBeDefined();
    expect(claimed!.attemptCount).toBe(1);
    await t.store.alerts.record({
      id: claimed!.id,
      leaseToken: claimed!.leaseToken,
      result: { status: 'sent' },
    });

    // Tried already: the next events wait for the next slot, one interval on, all in one.
    await dead('ep_a');
    await dead('ep_a');
    expect(await t.store.alerts.expandEvents(options)).toEqual({
      events: 2,
      created: 1,
      folded: 1,
    });
    const [sent, next] = await t.store.alerts.list();
    expect(sent).toMatchObject({ status: 'sent', eventCount: 1 });
    expect(sent!.sentAt).not.toBeNull();
    expect(next).toMatchObject({ status: 'pending', eventCount: 2, attemptCount: 0 });
    expect(next!.scheduledAt.getTime() - sent!.scheduledAt.getTime()).toBeCloseTo(HOUR, -3);
    // Not due yet: nothing to claim, and the next due time is the slot.
    expect(await t.store.alerts.claim({ channels: CHANNELS, limit: 10, leaseMs: 60_000 })).toEqual(
      [],
    );
    expect((await t.store.alerts.nextDueAt(CHANNELS))!.getTime()).toBe(next!.scheduledAt.getTime());
  });

  it('with an interval of 0 makes one notification per event', async () => {
    for (let i = 0; i < 3; i++) await dead('ep_a');
    const result = await t.store.alerts.expandEvents({
      operationalWebhook: true,
      email: false,
      slack: false,
      intervalMs: 0,
    });
    expect(result).toEqual({ events: 3, created: 3, folded: 0 });
    expect((await t.store.alerts.list()).every((n) => n.eventCount === 1)).toBe(true);
  });

  it("never puts one tenant's events into another tenant's channels", async () => {
    await t.store.alertChannels.put('tenant-a', { emails: ['a@a.example'] });
    await t.store.alertChannels.put('tenant-b', {
      emails: ['b@b.example'],
      slackWebhookUrl: 'https://hooks.slack.test/services/B',
    });
    await dead('ep_of_a', 'tenant-a');
    await t.store.alerts.expandEvents({ ...ALL, operationalWebhook: false, intervalMs: HOUR });
    const made = await t.store.alerts.list();
    expect(made.map((n) => [n.tenantId, n.channel])).toEqual([['tenant-a', 'email']]);
    const claimed = await t.store.alerts.claim({ channels: CHANNELS, limit: 10, leaseMs: 60_000 });
    expect(claimed.map((n) => n.tenantId)).toEqual(['tenant-a']);
    expect(await t.store.alerts.list({ tenantId: 'tenant-b' })).toEqual([]);
  });

  it('leases a claimed notification: nobody else claims it until the lease ends, and only the holder records', async () => {
    const endpoint = await t.store.endpoints.create(endpointInput());
    await dead(endpoint.id);
    await t.store.alerts.expandEvents({
      operationalWebhook: true,
      email: false,
      slack: false,
      intervalMs: HOUR,
    });
    const options = { channels: CHANNELS, limit: 10, leaseMs: 300 };
    const [first] = await t.store.alerts.claim(options);
    expect(first).toMatchObject({ attemptCount: 1, endpointUrl: endpoint.url, eventCount: 1 });
    expect(first!.lastEvent.data).toMatchObject({ http_status: 500 });
    expect(await t.store.alerts.claim(options)).toEqual([]);
    // Only the channels asked for are claimed.
    await new Promise((done) => setTimeout(done, 400));
    expect(await t.store.alerts.claim({ ...options, channels: ['email'] })).toEqual([]);
    const [again] = await t.store.alerts.claim(options);
    expect(again).toMatchObject({ id: first!.id, attemptCount: 2 });
    expect(again!.leaseToken).not.toBe(first!.leaseToken);
    // The first holder lost its lease: its record does not count.
    expect(
      await t.store.alerts.record({
        id: first!.id,
        leaseToken: first!.leaseToken,
        result: { status: 'sent' },
      }),
    ).toBe(false);
    const before = Date.now();
    expect(
      await t.store.alerts.record({
        id: again!.id,
        leaseToken: again!.leaseToken,
        result: { status: 'retry', delayMs: 60_000, error: 'http 5xx (HTTP 503)' },
      }),
    ).toBe(true);
    const [stored] = await t.store.alerts.list();
    expect(stored).toMatchObject({
      status: 'pending',
      attemptCount: 2,
      lastError: 'http 5xx (HTTP 503)',
    });
    const due = stored!.nextAttemptAt!.getTime();
    // The database's clock plus the delay (host and database clocks agree here within a second).
    expect(due).toBeGreaterThan(before + 59_000);
    expect(due).toBeLessThan(Date.now() + 61_000);
  });

  it('expands each event once when dispatchers expand at the same time', async () => {
    for (let i = 0; i < 40; i++) await dead(i % 2 === 0 ? 'ep_even' : 'ep_odd');
    // A second store over the same pool: on PostgreSQL its transactions run on other connections.
    const other = createStore(t.database.sql, { cipher: insecureDevelopmentCipher });
    const options = {
      operationalWebhook: true,
      email: false,
      slack: false,
      intervalMs: HOUR,
      limit: 7,
    };
    const runs = async (store: typeof t.store) => {
      let total = 0;
      for (;;) {
        const r = await store.alerts.expandEvents(options);
        total += r.events;
        if (r.events === 0) return total;
      }
    };
    const [a, b] = await Promise.all([runs(t.store), runs(other)]);
    expect(a + b).toBe(40);
    const made = await t.store.alerts.list();
    expect(made.map((n) => [n.endpointId, n.eventCount]).sort()).toEqual([
      ['ep_even', 20],
      ['ep_odd', 20],
    ]);
  });

  it('deletes finished notifications after the keep period, never pending ones', async () => {
    await dead('ep_a');
    await dead('ep_b');
    await t.store.alerts.expandEvents({
      operationalWebhook: true,
      email: false,
      slack: false,
      intervalMs: HOUR,
    });
    const [claimed] = await t.store.alerts.claim({ channels: CHANNELS, limit: 1, leaseMs: 60_000 });
    await t.store.alerts.record({
      id: claimed!.id,
      leaseToken: claimed!.leaseToken,
      result: { status: 'failed', error: 'gave up' },
    });
    await t.database.sql.query(
      sql`update alert_notifications set updated_at = now() - interval '20 days'`,
    );
    expect(await t.store.alerts.prune({ keepDays: 14, intervalMs: HOUR })).toBe(1);
    const left = await t.store.alerts.list();
    expect(left.map((n) => n.status)).toEqual(['pending']);
  });

  it('stores the Slack webhook URL encrypted and reads it back unchanged', async () => {
    const cipher = keyRingCipher([randomBytes(32)]);
    const store = createStore(t.database.sql, { cipher });
    const url = 'https://hooks.slack.test/services/T0/B0/marker-4e1d7a';
    const put = await store.alertChannels.put('acme', {
      emails: ['ops@acme.example'],
      slackWebhookUrl: url,
    });
    expect(put.slackWebhookUrl).toBe(url);
    expect((await store.alertChannels.get('acme')).slackWebhookUrl).toBe(url);
    const rows = await t.database.sql.query<Record<string, unknown>>(
      sql`select * from tenant_alert_channels`,
    );
    const stored = rows
      .flatMap((row) => Object.values(row))
      .map((value) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : JSON.stringify(value),
      )
      .join('\n');
    expect(stored).toContain('ops@acme.example');
    expect(stored).not.toContain('marker-4e1d7a');
    expect(stored).not.toContain('hooks.slack.test');
    // Clearing it clears the ciphertext too.
    await store.alertChannels.put('acme', { emails: [] });
    const [cleared] = await t.database.sql.query<{ c: Uint8Array | null; p: string | null }>(
      sql`select slack_webhook_url_ciphertext as c, slack_webhook_url as p from tenant_alert_channels`,
    );
    expect(cleared).toEqual({ c: null, p: null });
  });

  it('re-encrypts Slack webhook URLs under the new key, and encrypts those stored in the clear before', async () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const storeA = createStore(t.database.sql, { cipher: keyRingCipher([keyA]) });
    await storeA.alertChannels.put('encrypted', { slackWebhookUrl: 'https://hooks.slack.test/a' });
    // A row as schema 4 left it: the URL in the clear.
    await t.database.sql.query(sql`
      insert into tenant_alert_channels (tenant_id, emails, slack_webhook_url)
      values ('legacy', '{}', 'https://hooks.slack.test/legacy-marker')`);
    await storeA.alertChannels.put('none', { emails: ['x@x.example'] });
    expect((await storeA.alertChannels.get('legacy')).slackWebhookUrl).toBe(
      'https://hooks.slack.test/legacy-marker',
    );

    const ring = keyRingCipher([keyB, keyA]);
    const result = await reencryptSecrets(
      { sql: t.database.sql, cipher: ring, wake: () => {} },
      ring,
    );
    expect(result).toMatchObject({ slackUrlsReencrypted: 2, slackUrlsCurrent: 0 });
    const again = await reencryptSecrets(
      { sql: t.database.sql, cipher: ring, wake: () => {} },
      ring,
    );
    expect(again).toMatchObject({ slackUrlsReencrypted: 0, slackUrlsCurrent: 2 });

    const storeB = createStore(t.database.sql, { cipher: keyRingCipher([keyB]) });
    expect((await storeB.alertChannels.get('encrypted')).slackWebhookUrl).toBe(
      'https://hooks.slack.test/a',
    );
    expect((await storeB.alertChannels.get('legacy')).slackWebhookUrl).toBe(
      'https://hooks.slack.test/legacy-marker',
    );
    const plain = await t.database.sql.query(
      sql`select tenant_id from tenant_alert_channels where slack_webhook_url is not null`,
    );
    expect(plain).toEqual([]);
  });
});

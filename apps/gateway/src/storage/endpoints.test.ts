import { describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../../test/databases';
import type { SecretCipher } from './cipher';
import { healthFromSuccessRate } from './endpoints';
import { sql } from './sql';
import { createStore } from './store';

// A reversible stand-in for AES-GCM that makes stored bytes differ from the plaintext.
const xorCipher: SecretCipher = {
  encrypt: (plain) => Uint8Array.from(Buffer.from(plain, 'utf8'), (b) => b ^ 0x5a),
  decrypt: (blob) => Buffer.from(Uint8Array.from(blob, (b) => b ^ 0x5a)).toString('utf8'),
};

describe.each(testDrivers)('endpoints on %s', (driver) => {
  const t = useTestDatabase(driver);

  it('creates an endpoint with defaults and reads it back without any secret material', async () => {
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0';
    const created = await t.store.endpoints.create(endpointInput({ secret }));
    expect(created).toMatchObject({
      tenantId: 't1',
      description: '',
      eventTypes: [],
      status: 'active',
      disabledReason: null,
      rateLimitPerMinute: null,
      retrySchedule: null,
      headers: {},
      metadata: {},
      signing: 'hmac',
      secretHint: 'whsec_c2Vj',
      publicKey: null,
      rotation: null,
      failingSince: null,
    });
    expect(created.id).toMatch(/^ep_/);
    const read = await t.store.endpoints.get(created.id);
    expect(read).toEqual(created);
    const listed = await t.store.endpoints.list({ tenantId: 't1' });
    for (const value of [created, read, listed]) {
      expect(JSON.stringify(value)).not.toContain(secret);
      expect(JSON.stringify(value)).not.toMatch(/ciphertext/i);
    }
  });

  it('stores every field it is given', async () => {
    const created = await t.store.endpoints.create(
      endpointInput({
        description: 'Billing',
        eventTypes: ['invoice.paid', 'invoice.voided'],
        status: 'paused',
        rateLimitPerMinute: 120,
        retrySchedule: [5, 60],
        headers: { 'x-team': 'billing' },
        metadata: { owner: 'ana' },
        signing: 'ed25519',
        secret: 'whsk_secretkeymaterial',
        publicKey: 'whpk_publickey',
      }),
    );
    expect(await t.store.endpoints.get(created.id)).toMatchObject({
      description: 'Billing',
      eventTypes: ['invoice.paid', 'invoice.voided'],
      status: 'paused',
      rateLimitPerMinute: 120,
      retrySchedule: [5, 60],
      headers: { 'x-team': 'billing' },
      metadata: { owner: 'ana' },
      signing: 'ed25519',
      secretHint: 'whsk_secre',
      publicKey: 'whpk_publickey',
    });
  });

  it('stores the secret only as cipher output and decrypts it for the worker', async () => {
    const store = createStore(t.database.sql, { cipher: xorCipher });
    const secret = 'whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0';
    const created = await store.endpoints.create(endpointInput({ secret }));
    const [row] = await t.database.sql.query<{ secret_ciphertext: Uint8Array }>(
      sql`select secret_ciphertext from endpoints where id = ${created.id}`,
    );
    expect(Buffer.from(row!.secret_ciphertext).toString('utf8')).not.toContain('whsec_');
    expect(await store.endpoints.getSigningKeys(created.id)).toEqual({
      signing: 'hmac',
      current: secret,
      previous: null,
      previousExpiresAt: null,
    });
    expect(await store.endpoints.getSigningKeys('ep_missing')).toBeNull();
  });

  it('keeps the previous secret signing during a rotation grace period only', async () => {
    const created = await t.store.endpoints.create(endpointInput({ secret: 'whsec_old_old_old' }));
    const before = Date.now();
    const rotated = await t.store.endpoints.rotateSecret(created.id, {
      secret: 'whsec_new_new_new',
      gracePeriodSeconds: 3600,
    });
    const expires = rotated!.previousSecretExpiresAt.getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 3_600_000 - 5_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000 + 5_000);
    const keys = await t.store.endpoints.getSigningKeys(created.id);
    expect(keys).toMatchObject({ current: 'whsec_new_new_new', previous: 'whsec_old_old_old' });
    const shown = await t.store.endpoints.get(created.id);
    expect(shown?.secretHint).toBe('whsec_new_');
    expect(shown?.rotation?.previousSecretExpiresAt.getTime()).toBe(expires);

    await t.store.endpoints.rotateSecret(created.id, {
      secret: 'whsec_newest',
      gracePeriodSeconds: 0,
    });
    expect(await t.store.endpoints.getSigningKeys(created.id)).toMatchObject({
      current: 'whsec_newest',
      previous: null,
    });
    expect((await t.store.endpoints.get(created.id))?.rotation).toBeNull();
    expect(
      await t.store.endpoints.rotateSecret('ep_missing', { secret: 'x', gracePeriodSeconds: 1 }),
    ).toBeNull();
  });

  it('changes only the fields a partial update names', async () => {
    const created = await t.store.endpoints.create(
      endpointInput({ description: 'keep', eventTypes: ['a.b'], metadata: { k: 'v' } }),
    );
    const updated = await t.store.endpoints.update(created.id, {
      url: 'https://new.example/hook',
      rateLimitPerMinute: 10,
      retrySchedule: [1, 2, 3],
    });
    expect(updated).toMatchObject({
      url: 'https://new.example/hook',
      description: 'keep',
      eventTypes: ['a.b'],
      metadata: { k: 'v' },
      rateLimitPerMinute: 10,
      retrySchedule: [1, 2, 3],
    });
    expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    const cleared = await t.store.endpoints.update(created.id, {
      rateLimitPerMinute: null,
      retrySchedule: null,
      eventTypes: [],
      headers: { 'x-a': '1' },
    });
    expect(cleared).toMatchObject({
      rateLimitPerMinute: null,
      retrySchedule: null,
      eventTypes: [],
      headers: { 'x-a': '1' },
    });
    expect(await t.store.endpoints.update('ep_missing', { description: 'x' })).toBeNull();
  });

  it('records a reason when disabling and clears it when resuming', async () => {
    const created = await t.store.endpoints.create(endpointInput());
    const gone = await t.store.endpoints.setStatus(created.id, 'disabled', { reason: 'gone' });
    expect(gone).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
    const manual = await t.store.endpoints.update(created.id, { status: 'disabled' });
    expect(manual?.disabledReason).toBe('manual');
    const paused = await t.store.endpoints.setStatus(created.id, 'paused');
    expect(paused).toMatchObject({ status: 'paused', disabledReason: null });
    const active = await t.store.endpoints.setStatus(created.id, 'active');
    expect(active).toMatchObject({ status: 'active', disabledReason: null });
  });

  it('hides other tenants’ endpoints from a scoped caller', async () => {
    const mine = await t.store.endpoints.create(endpointInput({ tenantId: 'mine' }));
    const theirs = await t.store.endpoints.create(endpointInput({ tenantId: 'theirs' }));
    const scope = { tenantId: 'mine' };
    expect(await t.store.endpoints.get(theirs.id, scope)).toBeNull();
    expect(await t.store.endpoints.get(mine.id, scope)).not.toBeNull();
    expect((await t.store.endpoints.list({}, scope)).data.map((e) => e.id)).toEqual([mine.id]);
    // A scope wins over a filter naming another tenant.
    expect((await t.store.endpoints.list({ tenantId: 'theirs' }, scope)).data).toEqual([]);
    expect(await t.store.endpoints.update(theirs.id, { description: 'x' }, scope)).toBeNull();
    expect(
      await t.store.endpoints.rotateSecret(
        theirs.id,
        { secret: 'x', gracePeriodSeconds: 0 },
        scope,
      ),
    ).toBeNull();
    expect(await t.store.endpoints.stats(theirs.id, '24h', { scope })).toBeNull();
    expect(await t.store.endpoints.delete(theirs.id, scope)).toBe(false);
    expect(await t.store.endpoints.get(theirs.id)).not.toBeNull();
  });

  it('limits a scope bound to one endpoint to that endpoint', async () => {
    const a = await t.store.endpoints.create(endpointInput());
    const b = await t.store.endpoints.create(endpointInput());
    const scope = { tenantId: 't1', endpointId: a.id };
    expect(await t.store.endpoints.get(b.id, scope)).toBeNull();
    expect((await t.store.endpoints.list({}, scope)).data.map((e) => e.id)).toEqual([a.id]);
  });

  it('lists newest first in pages without gaps or duplicates', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await t.store.endpoints.create(endpointInput())).id);
    await t.store.endpoints.create(endpointInput({ tenantId: 'other' }));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await t.store.endpoints.list({ tenantId: 't1', limit: 3, cursor });
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters the list by status', async () => {
    const active = await t.store.endpoints.create(endpointInput());
    const paused = await t.store.endpoints.create(endpointInput({ status: 'paused' }));
    expect((await t.store.endpoints.list({ status: 'paused' })).data.map((e) => e.id)).toEqual([
      paused.id,
    ]);
    expect((await t.store.endpoints.list({ status: 'active' })).data.map((e) => e.id)).toEqual([
      active.id,
    ]);
  });

  it('counts a tenant’s endpoints', async () => {
    await t.store.endpoints.create(endpointInput({ tenantId: 'c' }));
    await t.store.endpoints.create(endpointInput({ tenantId: 'c' }));
    await t.store.endpoints.create(endpointInput({ tenantId: 'd' }));
    expect(await t.store.endpoints.countForTenant('c')).toBe(2);
    expect(await t.store.endpoints.countForTenant('nobody')).toBe(0);
  });
});

describe('health', () => {
  it('is green at 95 % success or with no finished deliveries, yellow from 80 %, else red', () => {
    expect(healthFromSuccessRate(null)).toBe('green');
    expect(healthFromSuccessRate(0.95)).toBe('green');
    expect(healthFromSuccessRate(0.9)).toBe('yellow');
    expect(healthFromSuccessRate(0.8)).toBe('yellow');
    expect(healthFromSuccessRate(0.5)).toBe('red');
  });
});

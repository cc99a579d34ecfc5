import { describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../../test/databases';

describe.each(testDrivers)('catalog tables on %s', (driver) => {
  const t = useTestDatabase(driver);

  describe('event types', () => {
    it('creates an entry once and reads it back', async () => {
      const created = await t.store.eventTypes.create({
        name: 'invoice.paid',
        description: 'An invoice was paid.',
        schema: { type: 'object' },
        example: { id: 'in_1' },
      });
      expect(created).toMatchObject({
        name: 'invoice.paid',
        description: 'An invoice was paid.',
        schema: { type: 'object' },
        example: { id: 'in_1' },
        archivedAt: null,
      });
      expect(await t.store.eventTypes.create({ name: 'invoice.paid' })).toBeNull();
      expect(await t.store.eventTypes.get('invoice.paid')).toEqual(created);
      expect(await t.store.eventTypes.get('nope')).toBeNull();
    });

    it('updates fields, clears schema and example with null, and archives', async () => {
      await t.store.eventTypes.create({ name: 'a.b', schema: { type: 'object' }, example: {} });
      const updated = await t.store.eventTypes.update('a.b', {
        description: 'new',
        schema: null,
      });
      expect(updated).toMatchObject({ description: 'new', schema: null, example: {} });
      expect(await t.store.eventTypes.archive('a.b')).toBe(true);
      expect((await t.store.eventTypes.get('a.b'))?.archivedAt).toBeInstanceOf(Date);
      expect((await t.store.eventTypes.list()).data).toEqual([]);
      expect((await t.store.eventTypes.list({ includeArchived: true })).data).toHaveLength(1);
      const restored = await t.store.eventTypes.update('a.b', { archived: false });
      expect(restored?.archivedAt).toBeNull();
      expect(await t.store.eventTypes.archive('missing')).toBe(false);
      expect(await t.store.eventTypes.update('missing', { description: 'x' })).toBeNull();
    });

    it('lists entries newest first in pages without gaps or duplicates', async () => {
      const names = ['e.one', 'e.two', 'e.three', 'e.four', 'e.five'];
      for (const name of names) await t.store.eventTypes.create({ name });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await t.store.eventTypes.list({ limit: 2, cursor });
        seen.push(...page.data.map((e) => e.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      const created = await Promise.all(seen.map((n) => t.store.eventTypes.get(n)));
      const times = created.map((e) => e!.createdAt.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });
  });

  describe('alert channels', () => {
    it('are empty until set, and a put replaces them', async () => {
      expect(await t.store.alertChannels.get('t1')).toEqual({
        tenantId: 't1',
        emails: [],
        slackWebhookUrl: null,
        updatedAt: null,
      });
      const put = await t.store.alertChannels.put('t1', {
        emails: ['ops@example.com'],
        slackWebhookUrl: 'https://hooks.slack.example/x',
      });
      expect(put).toMatchObject({
        emails: ['ops@example.com'],
        slackWebhookUrl: 'https://hooks.slack.example/x',
      });
      expect(await t.store.alertChannels.get('t1')).toEqual(put);
      const cleared = await t.store.alertChannels.put('t1', { emails: ['a@example.com'] });
      expect(cleared).toMatchObject({ emails: ['a@example.com'], slackWebhookUrl: null });
      expect((await t.store.alertChannels.get('t2')).emails).toEqual([]);
    });
  });

  describe('API keys', () => {
    it('finds a key by its hash until it is revoked', async () => {
      const key = await t.store.apiKeys.create({ keyHash: 'h1', name: 'ci', keyHint: 'hl_sk_ab' });
      expect(key).toMatchObject({ name: 'ci', keyHint: 'hl_sk_ab', revokedAt: null });
      expect(key.id).toMatch(/^key_/);
      expect(key).not.toHaveProperty('keyHash');
      expect(await t.store.apiKeys.findByHash('h1')).toEqual(key);
      expect(await t.store.apiKeys.create({ keyHash: 'h1' })).toMatchObject({ id: key.id });
      await t.store.apiKeys.touch(key.id);
      expect((await t.store.apiKeys.findByHash('h1'))?.lastUsedAt).toBeInstanceOf(Date);
      const other = await t.store.apiKeys.create({ keyHash: 'h2' });
      expect((await t.store.apiKeys.list()).map((k) => k.id)).toEqual([other.id, key.id]);
      expect(await t.store.apiKeys.revoke(key.id)).toBe(true);
      expect(await t.store.apiKeys.revoke(key.id)).toBe(false);
      expect(await t.store.apiKeys.findByHash('h1')).toBeNull();
      expect(await t.store.apiKeys.findByHash('unknown')).toBeNull();
    });
  });

  describe('portal tokens', () => {
    it('finds a token by its hash only while it is unexpired and unrevoked', async () => {
      const endpoint = await t.store.endpoints.create(endpointInput());
      const expiresAt = new Date(Date.now() + 3_600_000);
      const token = await t.store.portalTokens.create({
        tokenHash: 'ph',
        tenantId: 't1',
        endpointId: endpoint.id,
        expiresAt,
      });
      expect(token).toMatchObject({ tenantId: 't1', endpointId: endpoint.id, expiresAt });
      expect(await t.store.portalTokens.findValidByHash('ph')).toEqual(token);
      expect(
        await t.store.portalTokens.findValidByHash('ph', new Date(expiresAt.getTime() + 1)),
      ).toBeNull();
      expect(await t.store.portalTokens.revoke(token.id)).toBe(true);
      expect(await t.store.portalTokens.findValidByHash('ph')).toBeNull();
      expect(await t.store.portalTokens.revoke(token.id)).toBe(false);
    });

    it('goes away with the endpoint it is bound to', async () => {
      const endpoint = await t.store.endpoints.create(endpointInput());
      await t.store.portalTokens.create({
        tokenHash: 'bound',
        tenantId: 't1',
        endpointId: endpoint.id,
        expiresAt: new Date(Date.now() + 60_000),
      });
      const tenantWide = await t.store.portalTokens.create({
        tokenHash: 'wide',
        tenantId: 't1',
        expiresAt: new Date(Date.now() + 60_000),
      });
      await t.store.endpoints.delete(endpoint.id);
      expect(await t.store.portalTokens.findValidByHash('bound')).toBeNull();
      expect(await t.store.portalTokens.findValidByHash('wide')).toEqual(tenantWide);
    });
  });
});

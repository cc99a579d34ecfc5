import { describe, expect, it } from 'vitest';
import { endpointInput, testDrivers, useTestDatabase } from '../../test/databases';

describe.each(testDrivers)('endpoints.createWithinLimit (%s)', (driver) => {
  const t = useTestDatabase(driver);

  it('creates endpoints up to the limit, then answers null without inserting', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await t.store.endpoints.createWithinLimit(3, endpointInput())).not.toBeNull();
    }
    expect(await t.store.endpoints.createWithinLimit(3, endpointInput())).toBeNull();
    expect(await t.store.endpoints.countForTenant('t1')).toBe(3);
  });

  it('counts each tenant on its own', async () => {
    await t.store.endpoints.createWithinLimit(1, endpointInput({ tenantId: 'a' }));
    expect(
      await t.store.endpoints.createWithinLimit(1, endpointInput({ tenantId: 'a' })),
    ).toBeNull();
    const other = await t.store.endpoints.createWithinLimit(1, endpointInput({ tenantId: 'b' }));
    expect(other?.tenantId).toBe('b');
  });

  it('never exceeds the limit under concurrent creates', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () => t.store.endpoints.createWithinLimit(5, endpointInput())),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(5);
    expect(await t.store.endpoints.countForTenant('t1')).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { countStatements, testDrivers, useTestDatabase } from '../../test/databases';
import { createWaker } from './common';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe.each(testDrivers)('waker (%s)', (driver) => {
  const t = useTestDatabase(driver);

  /**
   * Two wakers on one database, as two gateway processes: `here` counts its statements (its
   * NOTIFYs), `elsewhere` has a subscriber that counts the wake-ups it gets.
   */
  async function twoProcesses() {
    const counted = countStatements(t.database.sql);
    const here = createWaker(counted.sql, { minGapMs: 0 });
    const elsewhere = createWaker(t.database.sql, { minGapMs: 0 });
    let remoteWakes = 0;
    const stopRemote = await elsewhere.subscribe(() => remoteWakes++);
    return {
      here,
      notifies: () => counted.count(),
      remoteWakes: () => remoteWakes,
      stop: stopRemote,
    };
  }

  it('sends no NOTIFY while a local subscriber has room, and wakes it directly', async () => {
    const p = await twoProcesses();
    let localWakes = 0;
    const stopLocal = await p.here.subscribe(() => localWakes++, { hasRoom: () => true });
    for (let i = 0; i < 5; i++) p.here.wake();
    expect(localWakes).toBe(5);
    await sleep(200);
    expect(p.notifies()).toBe(0);
    expect(p.remoteWakes()).toBe(0);
    await stopLocal();
    await p.stop();
  });

  it('tells other processes once the local subscriber is full', async () => {
    const p = await twoProcesses();
    let room = true;
    let localWakes = 0;
    const stopLocal = await p.here.subscribe(() => localWakes++, { hasRoom: () => room });
    p.here.wake();
    room = false;
    p.here.wake();
    expect(localWakes).toBe(2);
    await expect.poll(() => p.remoteWakes(), { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect(p.notifies()).toBe(1);
    await stopLocal();
    await p.stop();
  });

  it('wakeOthers tells other processes, though a local subscriber has room, and not the local one', async () => {
    const p = await twoProcesses();
    let localWakes = 0;
    const stopLocal = await p.here.subscribe(() => localWakes++, { hasRoom: () => true });
    p.here.wakeOthers();
    await expect.poll(() => p.remoteWakes(), { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect(p.notifies()).toBe(1);
    // The NOTIFY also reaches this process's own LISTEN (a harmless extra wake-up), but
    // wakeOthers itself calls no local subscriber.
    expect(localWakes).toBeLessThanOrEqual(1);
    await stopLocal();
    await p.stop();
  });

  it('tells other processes when no local subscriber says it has room', async () => {
    const p = await twoProcesses();
    // No local subscriber at all (HOOKLINE_ROLE=api), then one that does not report room.
    p.here.wake();
    await expect.poll(() => p.remoteWakes(), { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect(p.notifies()).toBe(1);
    let localWakes = 0;
    const stopLocal = await p.here.subscribe(() => localWakes++);
    const before = p.remoteWakes();
    p.here.wake();
    expect(localWakes).toBe(1);
    await expect.poll(() => p.remoteWakes(), { timeout: 5000 }).toBeGreaterThan(before);
    expect(p.notifies()).toBe(2);
    await stopLocal();
    await p.stop();
  });
});

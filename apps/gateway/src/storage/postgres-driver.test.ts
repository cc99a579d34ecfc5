import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testDrivers } from '../../test/databases';
import {
  connectPostgres,
  MAX_RECONNECT_DELAY_SECONDS,
  reconnectDelaySeconds,
} from './postgres-driver';
import { sql } from './sql';

describe('reconnect delays', () => {
  it('grow from milliseconds and never exceed a second, however many connections failed', () => {
    expect(reconnectDelaySeconds(1, () => 0.999)).toBeLessThan(0.05);
    for (const retries of [0, 1, 2, 5, 10, 100, 10_000]) {
      for (const r of [0, 0.5, 0.999]) {
        const delay = reconnectDelaySeconds(retries, () => r);
        expect(delay).toBeGreaterThan(0);
        expect(delay).toBeLessThanOrEqual(MAX_RECONNECT_DELAY_SECONDS);
      }
    }
    expect(reconnectDelaySeconds(50, () => 0)).toBe(MAX_RECONNECT_DELAY_SECONDS / 2);
  });
});

/** A loopback TCP proxy in front of PostgreSQL that can refuse connections for a while. */
async function outageProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address();
        port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  await open();
  return {
    url: () => {
      const url = new URL(target);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    /** Drops every connection and refuses new ones (nothing listens on the port). */
    cut: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server!.close(() => done());
      }),
    /** Listens again on the same port. */
    restore: open,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => (server?.listening ? server.close(() => done()) : done()));
    },
  };
}

describe.runIf(testDrivers.includes('postgres'))('the PostgreSQL driver after an outage', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('answers again within about a second of the server coming back after a 3-second outage', {
    timeout: 60_000,
  }, async () => {
    const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
    const client = connectPostgres(proxy.url(), { max: 3 });
    cleanup = async () => {
      await client.close().catch(() => {});
      await proxy.close();
    };
    expect(await client.query(sql`select 1 as one`)).toEqual([{ one: 1 }]);

    await proxy.cut();
    // As a busy gateway does: queries keep coming and fail while nothing answers, and every
    // refused connection lengthens postgres.js's wait before the next attempt.
    let failed = 0;
    const during: Promise<unknown>[] = [];
    const outageEnds = performance.now() + 3_000;
    while (performance.now() < outageEnds) {
      for (let i = 0; i < 3; i++) {
        during.push(
          client.query(sql`select 1`).catch(() => {
            failed++;
          }),
        );
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(failed).toBeGreaterThan(0);
    await proxy.restore();
    const restoredAt = performance.now();
    // Bounded: without the cap the query waits up to 20 s for its connection's next attempt.
    const rows = await Promise.race([
      client.query(sql`select 2 as two`),
      new Promise<'still waiting'>((done) => setTimeout(() => done('still waiting'), 5_000)),
    ]);
    const recoveryMs = performance.now() - restoredAt;
    await Promise.all(during);

    expect(rows).toEqual([{ two: 2 }]);
    // At most one capped reconnect delay, plus connecting: not postgres.js's up-to-20 s.
    expect(recoveryMs).toBeLessThan(MAX_RECONNECT_DELAY_SECONDS * 1000 + 500);
  });
});

describe.runIf(testDrivers.includes('postgres'))('transactions on PostgreSQL', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('reject, without crashing the process, when their connection is terminated mid-transaction, and the pool answers afterwards', {
    timeout: 30_000,
  }, async () => {
    const adminUrl = process.env.HOOKLINE_TEST_DATABASE_URL!;
    const client = connectPostgres(adminUrl, { max: 2, applicationName: 'hookline-driver-test' });
    const killer = connectPostgres(adminUrl, { max: 1, applicationName: 'hookline-driver-test' });
    cleanup = async () => {
      await client.close().catch(() => {});
      await killer.close().catch(() => {});
    };
    // An uncaught exception (postgres.js writing to a dead socket from a setImmediate) would end
    // a gateway; here it is caught and counted.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (let round = 0; round < 3; round++) {
        let pid: number | undefined;
        let afterLoss: unknown;
        // Its rejection is taken at once (as a value): the kill below may settle it while the
        // killer's own answer is still on its way, and a rejection nobody handles yet is reported.
        const outcome = client
          .transaction(async (tx) => {
            const [row] = await tx.query<{ pid: number }>(sql`select pg_backend_pid() as pid`);
            pid = row!.pid;
            try {
              await tx.query(sql`select pg_sleep(5)`);
            } finally {
              // A statement after the loss fails at once, without touching the connection.
              afterLoss = await tx.query(sql`select 1`).catch((error: unknown) => error);
            }
          })
          .then(
            () => 'committed',
            (error: unknown) => error,
          );
        while (pid === undefined) await new Promise((done) => setTimeout(done, 20));
        await killer.query(sql`select pg_terminate_backend(${pid}::int)`);
        expect(await outcome).toBeInstanceOf(Error);
        expect(afterLoss).toBeInstanceOf(Error);
        // Immediates and close events of the dead connection run here.
        await new Promise((done) => setTimeout(done, 200));
        // The pool answers again: the dead connection may fail one statement, then reconnects.
        let answer: unknown;
        for (let tries = 0; tries < 3 && answer === undefined; tries++) {
          answer = await client.query(sql`select ${round}::int as n`).catch(() => undefined);
        }
        expect(answer).toEqual([{ n: round }]);
      }
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testDrivers } from '../../test/databases';
import {
  connectPostgres,
  MAX_RECONNECT_DELAY_SECONDS,
  reconnectDelaySeconds,
} from './postgres-driver';
import { type SqlClient, sql } from './sql';

// What a test opened (pools, proxies): closed after it, the last opened first.
const toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of toClose.splice(0).reverse()) await close().catch(() => {});
});

/** A pool of `max` connections to the test server (or to `url`), closed after the test. */
function testPool(max: number, url = process.env.HOOKLINE_TEST_DATABASE_URL!): SqlClient {
  const client = connectPostgres(url, { max, applicationName: 'hookline-driver-test' });
  toClose.push(() => client.close());
  return client;
}

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
  toClose.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => (server?.listening ? server.close(() => done()) : done()));
  });
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
  };
}

describe.runIf(testDrivers.includes('postgres'))('the PostgreSQL driver after an outage', () => {
  it('answers again within about a second of the server coming back after a 3-second outage', {
    timeout: 60_000,
  }, async () => {
    const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
    const client = testPool(3, proxy.url());
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
  it('reject, without crashing the process, when their connection is terminated mid-transaction, and the pool answers afterwards', {
    timeout: 30_000,
  }, async () => {
    const client = testPool(2);
    const killer = testPool(1);
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

/** Settles with `fallback` after `ms` if `promise` has not settled by then. */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<F>((done) => {
      timer = setTimeout(() => done(fallback), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe.runIf(testDrivers.includes('postgres'))(
  'the pool when connections die (postgres.js reserve)',
  () => {
    it('gives a transaction waiting for the only connection one, when that connection is terminated', {
      timeout: 30_000,
    }, async () => {
      // porsager/postgres#1195: the waiting reserve was handed to the reconnect and dropped there.
      const client = testPool(1);
      const killer = testPool(1);
      await killer.query(sql`select 1`);
      let pid: number | undefined;
      const holder = client
        .transaction(async (tx) => {
          const [row] = await tx.query<{ pid: number }>(sql`select pg_backend_pid() as pid`);
          pid = row!.pid;
          await tx.query(sql`select pg_sleep(10)`);
        })
        .then(
          () => 'committed',
          (error: unknown) => error,
        );
      while (pid === undefined) await new Promise((done) => setTimeout(done, 20));
      // Waits for the pool's only connection, which the holder has.
      const waiting = client.transaction(async (tx) => tx.query(sql`select 7 as n`));
      await new Promise((done) => setTimeout(done, 100));
      await killer.query(sql`select pg_terminate_backend(${pid}::int)`);
      expect(await holder).toBeInstanceOf(Error);
      expect(await within(waiting, 5_000, 'never settled')).toEqual([{ n: 7 }]);
    });

    it('keeps every connection usable through repeated refusals and restores under concurrent transactions', {
      timeout: 60_000,
    }, async () => {
      const size = 4;
      const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
      const client = testPool(size, proxy.url());
      // Operations under way and when each started: none may hang.
      const pending = new Map<number, number>();
      let next = 0;
      let stop = false;
      let ok = 0;
      let failed = 0;
      const track = async (op: () => Promise<unknown>) => {
        const id = next++;
        pending.set(id, performance.now());
        try {
          await op();
          ok++;
        } catch {
          failed++;
        } finally {
          pending.delete(id);
        }
      };
      const loops = Array.from({ length: 3 * size }, async (_, i) => {
        while (!stop) {
          await track(() =>
            i % 3 === 0
              ? client.query(sql`select ${i}::int as i`)
              : client.transaction(async (tx) => {
                  await tx.query(sql`select pg_sleep(0.002)`);
                  await tx.query(sql`select ${i}::int as i`);
                }),
          );
          // A failing loop does not spin while nothing answers.
          await new Promise((done) => setTimeout(done, failed > 0 ? 20 : 1));
        }
      });
      for (let cycle = 0; cycle < 6; cycle++) {
        await new Promise((done) => setTimeout(done, 300 + cycle * 60));
        await proxy.cut();
        await new Promise((done) => setTimeout(done, 200 + cycle * 150));
        await proxy.restore();
      }
      // After the last restore every loop gets answers again, and nothing is left hanging.
      await new Promise((done) => setTimeout(done, 3_000));
      const okBefore = ok;
      await new Promise((done) => setTimeout(done, 1_000));
      stop = true;
      const finished = await within(Promise.all(loops), 10_000, 'loops still waiting');
      const oldest = Math.max(0, ...[...pending.values()].map((at) => performance.now() - at));
      expect(
        finished,
        `${pending.size} operations pending, the oldest for ${Math.round(oldest)} ms`,
      ).not.toBe('loops still waiting');
      expect(ok - okBefore).toBeGreaterThan(50);
      expect(failed).toBeGreaterThan(0);
      // Every connection is still in the pool: `size` transactions hold one each at the same time.
      const started = performance.now();
      const parallel = await within(
        Promise.all(
          Array.from({ length: size }, () =>
            client.transaction(async (tx) => tx.query(sql`select pg_sleep(0.5)`)),
          ),
        ),
        5_000,
        'not all connections answered',
      );
      expect(parallel).not.toBe('not all connections answered');
      expect(
        performance.now() - started,
        'four 0.5 s transactions on four connections',
      ).toBeLessThan(1_400);
    });

    it('does not reuse a reserved connection released after its backend was terminated', {
      timeout: 30_000,
    }, async () => {
      // porsager/postgres#1199, through the driver's own guard: a lost transaction's connection is
      // never released, so the pool's next statements answer.
      const client = testPool(1);
      const killer = testPool(1);
      // Connected before the rounds: each kill lands while its transaction sits idle.
      await killer.query(sql`select 1`);
      for (let round = 0; round < 3; round++) {
        let pid: number | undefined;
        const outcome = client
          .transaction(async (tx) => {
            const [row] = await tx.query<{ pid: number }>(sql`select pg_backend_pid() as pid`);
            pid = row!.pid;
            // Idle inside the transaction while the backend is terminated.
            await new Promise((done) => setTimeout(done, 300));
            await tx.query(sql`select 1`);
          })
          .then(
            () => 'committed',
            (error: unknown) => error,
          );
        while (pid === undefined) await new Promise((done) => setTimeout(done, 20));
        await killer.query(sql`select pg_terminate_backend(${pid}::int)`);
        expect(await within(outcome, 5_000, 'never settled')).toBeInstanceOf(Error);
        let answer: unknown;
        for (let tries = 0; tries < 3 && answer === undefined; tries++) {
          answer = await within(
            client.query(sql`select ${round}::int as n`),
            3_000,
            undefined,
          ).catch(() => undefined);
        }
        expect(answer).toEqual([{ n: round }]);
      }
    });
  },
);

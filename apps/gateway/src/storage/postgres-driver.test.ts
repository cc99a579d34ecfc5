import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { testDrivers } from '../../test/databases';
import { findPgBouncer, startPgBouncer } from '../../test/pgbouncer';
import { startTcpProxy, type TcpProxy } from '../../test/tcp-proxy';
import type { StorageError } from './errors';
import {
  connectPostgres,
  isConnectionLost,
  MAX_RECONNECT_DELAY_SECONDS,
  reconnectDelaySeconds,
} from './postgres-driver';
import { type SqlClient, SqlFragment, sql } from './sql';

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

/** A loopback proxy to the test server (test/tcp-proxy.ts), closed after the test. */
async function outageProxy(target: URL): Promise<TcpProxy> {
  const proxy = await startTcpProxy(target);
  toClose.push(() => proxy.close());
  return proxy;
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

/**
 * Through a proxy, a pool of `connections` (deadline 1.5 s), each opened and left idle; then the
 * proxy goes silent, one statement is sent at once and another `gapMs` later. Both must fail as
 * timed out; `at` is when each failed, in ms after the silence began.
 */
async function twoStatementsOnSilence(connections: number, gapMs: number) {
  const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
  const client = limitedPool(
    { timeoutSeconds: 1, responseGraceSeconds: 0.5, max: connections },
    proxy.url(),
  );
  await Promise.all(
    Array.from({ length: connections }, () => client.query(sql`select pg_sleep(0.05)`)),
  );
  expect(proxy.open).toBe(connections);
  proxy.silence();
  const silencedAt = performance.now();
  const failedAt = (promise: Promise<unknown>) =>
    settled(promise).then((outcome) => ({ outcome, at: performance.now() - silencedAt }));
  const first = failedAt(client.query(sql`select 1`));
  await new Promise((done) => setTimeout(done, gapMs));
  const second = failedAt(client.query(sql`select 2`));
  const both = await within(Promise.all([first, second]), 10_000, 'hung' as const);
  expect(both).not.toBe('hung');
  const [a, b] = both as Awaited<typeof first>[];
  expect(a!.outcome).toMatchObject({ error: { code: 'RESPONSE_TIMEOUT' } });
  expect(b!.outcome).toMatchObject({ error: { code: 'RESPONSE_TIMEOUT' } });
  return { client, a: a!, b: b! };
}

/** A pool with the given timeouts (through `url`), closed after the test. */
function limitedPool(
  options: { timeoutSeconds: number; responseGraceSeconds?: number; max?: number },
  url = process.env.HOOKLINE_TEST_DATABASE_URL!,
): SqlClient {
  const client = connectPostgres(url, {
    max: options.max ?? 2,
    applicationName: 'hookline-driver-test',
    timeoutSeconds: options.timeoutSeconds,
    ...(options.responseGraceSeconds === undefined
      ? {}
      : { responseGraceSeconds: options.responseGraceSeconds }),
  });
  toClose.push(() => client.close());
  return client;
}

/** A statement from trusted test text (a generated table name), without parameters. */
function statement(text: string): SqlFragment {
  return new SqlFragment([text], []);
}

/** What a promise settled with: its value, or its error as `{ error }`. */
async function settled<T>(promise: Promise<T>): Promise<T | { error: StorageError }> {
  return promise.then(
    (value) => value,
    (error: StorageError) => ({ error }),
  );
}

describe.runIf(testDrivers.includes('postgres'))('statement and response timeouts', () => {
  it('sets statement_timeout and idle_in_transaction_session_timeout on every connection, or neither with 0', async () => {
    const limits = (client: SqlClient) =>
      client.query(
        sql`select current_setting('statement_timeout') as statement,
          current_setting('idle_in_transaction_session_timeout') as idle`,
      );
    expect(await limits(limitedPool({ timeoutSeconds: 2.5 }))).toEqual([
      { statement: '2500ms', idle: '2500ms' },
    ]);
    expect(await limits(limitedPool({ timeoutSeconds: 0 }))).toEqual([
      { statement: '0', idle: '0' },
    ]);
  });

  it('has the server cancel a statement that runs past the timeout, and the connection answers afterwards', {
    timeout: 20_000,
  }, async () => {
    const client = limitedPool({ timeoutSeconds: 0.5, max: 1 });
    const started = performance.now();
    const outcome = await settled(client.query(sql`select pg_sleep(5)`));
    expect(outcome).toMatchObject({ error: { code: '57014' } });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await client.query(sql`select 1 as one`)).toEqual([{ one: 1 }]);
  });

  it('lets a statement run past the grace period while within the timeout', {
    timeout: 20_000,
  }, async () => {
    // Silent for 1 s: longer than the grace (0.3 s), shorter than timeout + grace (2.3 s).
    const client = limitedPool({ timeoutSeconds: 2, responseGraceSeconds: 0.3, max: 1 });
    expect(await client.query(sql`select pg_sleep(1)::text as slept`)).toEqual([{ slept: '' }]);
  });

  it('fails a statement whose connection goes silent as a lost connection after timeout + grace, and answers on a new connection', {
    timeout: 30_000,
  }, async () => {
    const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
    const client = limitedPool({ timeoutSeconds: 1, responseGraceSeconds: 0.5 }, proxy.url());
    expect(await client.query(sql`select 1 as one`)).toEqual([{ one: 1 }]);
    expect(proxy.silence()).toBeGreaterThan(0);

    const started = performance.now();
    const outcome = await within(settled(client.query(sql`select 2 as two`)), 10_000, 'hung');
    const failedAfter = performance.now() - started;
    expect(outcome).not.toBe('hung');
    expect(outcome).toMatchObject({ error: { code: 'RESPONSE_TIMEOUT' } });
    expect(isConnectionLost((outcome as { error: StorageError }).error)).toBe(true);
    expect(failedAfter).toBeGreaterThan(1_400);
    expect(failedAfter).toBeLessThan(3_000);
    // The silent connection is gone; the next statement gets a new one (the proxy lets it pass).
    expect(await within(client.query(sql`select 3 as three`), 5_000, 'hung')).toEqual([
      { three: 3 },
    ]);
  });

  it('gives up, with the first silent connection, the idle ones and those silent for half the deadline', {
    timeout: 30_000,
  }, async () => {
    // Three connections open, all idle; the second statement waits 0.9 s when the first is
    // given up: more than half the deadline (0.75 s).
    const { client, a, b } = await twoStatementsOnSilence(3, 600);
    expect(a.at).toBeGreaterThan(1_400);
    // With the first, not 1.5 s after it was sent (2.1 s).
    expect(b.at).toBeLessThan(a.at + 300);
    // The idle third connection went too: the next statement gets a new one and answers at once.
    const asked = performance.now();
    expect(await within(client.query(sql`select 3 as three`), 5_000, 'hung')).toEqual([
      { three: 3 },
    ]);
    expect(performance.now() - asked).toBeLessThan(1_000);
  });

  it('gives up with the first silent connection a busy one idle since before the silence, however recently its statement began', {
    timeout: 30_000,
  }, async () => {
    // The second statement is sent 0.3 s before the first is given up: waiting for less than half
    // the deadline, but its connection has heard nothing since the silence began (1.5 s).
    const { a, b } = await twoStatementsOnSilence(2, 1_200);
    // With the first, not at its own deadline (1.2 + 1.5 = 2.7 s).
    expect(b.at).toBeLessThan(a.at + 300);
  });

  it('fails a transaction whose connection goes silent, and the server ends its session and releases its row locks', {
    timeout: 30_000,
  }, async () => {
    const table = `hookline_driver_silent_${Math.random().toString(36).slice(2, 10)}`;
    const direct = testPool(1);
    await direct.exec(`create table ${table} (id int primary key, n int not null)`);
    toClose.push(() => direct.exec(`drop table if exists ${table}`));
    await direct.exec(`insert into ${table} values (1, 0)`);
    const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
    const client = limitedPool({ timeoutSeconds: 1, responseGraceSeconds: 0.5 }, proxy.url());
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      let updated = false;
      const transaction = settled(
        client.transaction(async (tx) => {
          await tx.query(statement(`update ${table} set n = n + 1 where id = 1`));
          updated = true;
          // The network path dies with the row locked.
          proxy.silence();
          await tx.query(sql`select 1`);
        }),
      );
      while (!updated) await new Promise((done) => setTimeout(done, 10));
      // Waits for the row lock, which the silent session holds until the server ends it (its
      // transaction idle for 1 s), not until its client's socket times out.
      const started = performance.now();
      const blocked = await within(
        direct.query(statement(`update ${table} set n = n + 10 where id = 1`)),
        8_000,
        'still blocked',
      );
      expect(blocked).not.toBe('still blocked');
      expect(performance.now() - started).toBeLessThan(4_000);
      const outcome = await within(transaction, 8_000, 'hung');
      expect(outcome).toMatchObject({ error: {} });
      expect(isConnectionLost((outcome as { error: StorageError }).error)).toBe(true);
      // The silent transaction's update was rolled back with its session.
      expect(await direct.query(statement(`select n from ${table}`))).toEqual([{ n: 10 }]);
      // And the limited pool works again, in a transaction too.
      expect(await client.transaction((tx) => tx.query(sql`select 4 as four`))).toEqual([
        { four: 4 },
      ]);
      await new Promise((done) => setTimeout(done, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('replaces a LISTEN connection that went silent, tells the subscriber, and receives notifications again', {
    timeout: 30_000,
  }, async () => {
    const channel = `hookline_driver_${Math.random().toString(36).slice(2, 10)}`;
    const proxy = await outageProxy(new URL(process.env.HOOKLINE_TEST_DATABASE_URL!));
    // Checks every second; a silent connection is given up after 1.5 s.
    const client = limitedPool({ timeoutSeconds: 1, responseGraceSeconds: 0.5 }, proxy.url());
    const direct = testPool(1);
    const got: string[] = [];
    const unlisten = await client.listen(channel, (payload) => got.push(payload));
    toClose.push(unlisten);
    const notified = async (payload: string, ms: number) => {
      const until = performance.now() + ms;
      while (!got.includes(payload) && performance.now() < until) {
        await new Promise((done) => setTimeout(done, 20));
      }
      return got.includes(payload);
    };
    await direct.query(sql`select pg_notify(${channel}, 'before')`);
    expect(await notified('before', 3_000)).toBe(true);

    proxy.silence();
    await direct.query(sql`select pg_notify(${channel}, 'lost')`);
    // Re-subscribed on a new connection: the subscriber hears '' (it may have missed some).
    const silencedAt = performance.now();
    expect(await notified('', 8_000)).toBe(true);
    const resubscribedAfter = performance.now() - silencedAt;
    expect(resubscribedAfter).toBeLessThan(5_000);
    expect(got).not.toContain('lost');
    await direct.query(sql`select pg_notify(${channel}, 'after')`);
    expect(await notified('after', 3_000)).toBe(true);
  });
});

/** The settings the driver gives a session (through `client`), with the session's pid. */
type SessionSettings = typeof configured & { pid: number };
const settingsOf = (client: SqlClient) =>
  client.query<SessionSettings>(
    sql`select pg_backend_pid() as pid,
      current_setting('plan_cache_mode') as plan_cache_mode,
      current_setting('enable_seqscan') as enable_seqscan,
      current_setting('jit') as jit,
      current_setting('statement_timeout') as statement_timeout,
      current_setting('idle_in_transaction_session_timeout') as idle,
      current_setting('application_name') as application_name,
      current_setting('tcp_keepalives_idle') as keepalives_idle,
      current_setting('tcp_keepalives_interval') as keepalives_interval,
      current_setting('tcp_keepalives_count') as keepalives_count,
      current_setting('tcp_user_timeout') as user_timeout`,
  );
/** What `limitedPool({ timeoutSeconds: 2.5 })` sessions must show. */
const configured = {
  plan_cache_mode: 'force_generic_plan',
  enable_seqscan: 'off',
  jit: 'off',
  statement_timeout: '2500ms',
  idle: '2500ms',
  application_name: 'hookline-driver-test',
  // The server notices a vanished client within about a minute, not the OS's two hours.
  keepalives_idle: '30',
  keepalives_interval: '10',
  keepalives_count: '3',
  user_timeout: '60000',
};

describe.runIf(testDrivers.includes('postgres'))('session settings', () => {
  it('are set when each connection opens, before its first statement, on every connection of the pool', async () => {
    const client = limitedPool({ timeoutSeconds: 2.5, max: 3 });
    // Three at once: three connections, each opened for a statement of its own.
    const rows = (await Promise.all([1, 2, 3].map(() => settingsOf(client)))).flat();
    expect(new Set(rows.map((row) => row.pid)).size).toBe(3);
    for (const row of rows) expect(row).toEqual({ pid: row.pid, ...configured });
  });

  it('fail a connection whose settings the server refuses, with that error, instead of using it unconfigured', async () => {
    const pool = postgres(process.env.HOOKLINE_TEST_DATABASE_URL!, {
      max: 1,
      onnotice: () => {},
      session_settings: { jit: 'off', hookline_no_such_setting: 'on' },
    });
    toClose.push(() => pool.end({ timeout: 1 }));
    for (let i = 0; i < 2; i++) {
      await expect(pool`select current_setting('jit') as jit`).rejects.toMatchObject({
        code: '42704',
      });
    }
    await expect(pool.reserve()).rejects.toMatchObject({ code: '42704' });
  });
});

describe.runIf(testDrivers.includes('postgres') && findPgBouncer() !== null)(
  'through PgBouncer in session mode',
  () => {
    async function bouncer() {
      const pgbouncer = await startPgBouncer(process.env.HOOKLINE_TEST_DATABASE_URL!);
      toClose.push(() => pgbouncer.close());
      return pgbouncer;
    }

    it('connects with every session setting applied, where startup parameters are refused', {
      timeout: 30_000,
    }, async () => {
      const pgbouncer = await bouncer();
      const url = pgbouncer.url(process.env.HOOKLINE_TEST_DATABASE_URL!);
      // What the driver did before: settings as startup parameters, which PgBouncer refuses.
      const startup = postgres(url, {
        max: 1,
        connection: { plan_cache_mode: 'force_generic_plan' },
      });
      toClose.push(() => startup.end({ timeout: 1 }));
      await expect(startup`select 1`).rejects.toMatchObject({
        message: expect.stringContaining('unsupported startup parameter'),
      });

      const client = limitedPool({ timeoutSeconds: 2.5, max: 2 }, url);
      const rows = (await Promise.all([1, 2].map(() => settingsOf(client)))).flat();
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row).toEqual({ pid: row.pid, ...configured });
      }
    });

    it('applies them again after its server session is terminated, and LISTEN/NOTIFY works', {
      timeout: 30_000,
    }, async () => {
      const pgbouncer = await bouncer();
      const url = pgbouncer.url(process.env.HOOKLINE_TEST_DATABASE_URL!);
      const client = limitedPool({ timeoutSeconds: 2.5, max: 1 }, url);
      const direct = testPool(1);
      const [first] = await settingsOf(client);
      await direct.query(sql`select pg_terminate_backend(${first!.pid}::int)`);
      // The next statements may meet the closed session; once one answers, on a new session,
      // the settings hold there too.
      let row: SessionSettings | undefined;
      for (let i = 0; i < 20 && !row; i++) {
        row = (await settingsOf(client).catch(() => []))[0];
        if (!row) await new Promise((done) => setTimeout(done, 100));
      }
      expect(row).toEqual({ pid: row!.pid, ...configured });
      expect(row!.pid).not.toBe(first!.pid);

      const channel = `hookline_bouncer_${Math.random().toString(36).slice(2, 10)}`;
      const got: string[] = [];
      const unlisten = await client.listen(channel, (payload) => got.push(payload));
      toClose.push(unlisten);
      await direct.query(sql`select pg_notify(${channel}, 'through the bouncer')`);
      const until = performance.now() + 3_000;
      while (!got.includes('through the bouncer') && performance.now() < until) {
        await new Promise((done) => setTimeout(done, 20));
      }
      expect(got).toContain('through the bouncer');
    });
  },
);

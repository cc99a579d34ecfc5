// The gateway benchmark: the real gateway binary as a child process, a real PostgreSQL database
// of its own, a local receiver, and an HTTP load generator, all on this machine. Run with
// `pnpm bench:gateway` from the repository root (builds @hookline/gateway first).
// Flags: --quick (short phases: a smoke run, figures mean little), --json (machine output),
// --embedded (the gateway uses embedded PGlite in a temp dir; no PostgreSQL needed, the
// insert-commit baseline is skipped), --source (run apps/gateway/src/main.ts through tsx
// instead of the built dist/main.js), --database-url=postgres://… (the server to create the
// benchmark database on; default $HOOKLINE_TEST_DATABASE_URL, else
// postgres://postgres@127.0.0.1:5432/test).
// Environment: the gateway tuning variables in PASS_THROUGH below reach the gateway when set
// (the report prints them; unset = the gateway's defaults); HOOKLINE_BENCH_LOG=<file> keeps the
// gateway's log (with HOOKLINE_LOG_LEVEL=debug it has one line per delivery).
//
// Phases, each bounded in time, all in one run so that the ratios compare like with like:
//   1. baselines: (a) the receiver alone, hit by the same undici client, at the fixed offered
//      load and then as fast as 64 requests in flight go; (b) a bare insert-commit loop (one
//      statement inserting a message and its delivery) on the same database, 32 connections.
//   2. fixed offered load: 200 messages/s, open loop (sent at scheduled times, never waiting for
//      answers), one endpoint → latency from the 202 to the receiver's receipt.
//   3. throughput: 64 requests in flight, four endpoints per message → accepted messages/s and
//      deliveries/s in a window after warm-up; then the backlog drains and its time is reported.
// The gateway's peak RSS is its VmHWM at the end. CPU use per phase (gateway process, the
// PostgreSQL backends of the benchmark's database, this process, the whole machine) comes from
// /proc, to show which of them is the bottleneck.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { Pool, request } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));
const gatewayDir = join(here, '../../apps/gateway');
const builtMain = join(gatewayDir, 'dist/main.js');
const sourceMain = join(gatewayDir, 'src/main.ts');

// ---------------------------------------------------------------------------------------
// Options

const FLAGS = ['--quick', '--json', '--embedded', '--source'];
const argv = process.argv.slice(2);
let databaseUrlFlag;
for (const a of argv) {
  if (a.startsWith('--database-url=')) databaseUrlFlag = a.slice('--database-url='.length);
  else if (!FLAGS.includes(a)) {
    throw new Error(`Unknown flag ${a} (use ${FLAGS.join(', ')}, --database-url=…).`);
  }
}
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');
const EMBEDDED = argv.includes('--embedded');
const SOURCE = argv.includes('--source');
const ADMIN_URL =
  databaseUrlFlag ||
  process.env.HOOKLINE_TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/test';

const RATE = 200; // messages/s offered in phase 2 (the target's load)
// Messages/s offered in the sustained phase, to ENDPOINTS endpoints each: 1,040 deliveries/s,
// just over the target, so a gateway that keeps up delivers ≥ 1,000/s in the window.
const SUSTAINED_RATE = 260;
const IN_FLIGHT = 64; // requests in flight in phase 3 and in the receiver's max baseline
const ENDPOINTS = 4; // endpoints of the throughput tenant: deliveries = 4 × messages
const INSERT_CONNECTIONS = 32;
const T = QUICK
  ? {
      receiverFixedMs: 1000,
      receiverMaxWarmMs: 300,
      receiverMaxMs: 1000,
      insertWarmMs: 200,
      insertMs: 1000,
      fixedWarmMs: 500,
      fixedMs: 2000,
      fixedSettleMs: 15_000,
      susWarmMs: 0,
      susMs: 1000,
      susSettleMs: 15_000,
      thrWarmMs: 0,
      thrMs: 2000,
      // A smoke run checks that every delivery arrives, not how fast: few enough messages that
      // even a slow drain ends within the smoke test's time.
      thrMaxMessages: 150,
      drainMs: 25_000,
      watchdogMs: 150_000,
    }
  : {
      receiverFixedMs: 5000,
      receiverMaxWarmMs: 1000,
      receiverMaxMs: 5000,
      insertWarmMs: 1000,
      insertMs: 5000,
      fixedWarmMs: 2000,
      fixedMs: 15_000,
      fixedSettleMs: 30_000,
      susWarmMs: 3000,
      susMs: 15_000,
      susSettleMs: 30_000,
      thrWarmMs: 3000,
      thrMs: 15_000,
      thrMaxMessages: Number.POSITIVE_INFINITY,
      drainMs: 120_000,
      watchdogMs: 600_000,
    };
const TARGETS = { p50Ms: 50, deliveriesPerSec: 1000 };

// Gateway tuning passed through from this environment (defaults otherwise), for experiments.
const PASS_THROUGH = [
  'HOOKLINE_WORKER_CONCURRENCY',
  'HOOKLINE_ENDPOINT_CONCURRENCY',
  'HOOKLINE_DATABASE_POOL_SIZE',
  'HOOKLINE_POLL_INTERVAL_MS',
  'HOOKLINE_LEASE_SECONDS',
  'HOOKLINE_LOG_LEVEL',
];

// ---------------------------------------------------------------------------------------
// Small helpers

/** Wall-clock milliseconds with sub-millisecond resolution (same clock in the receiver). */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((done) => setTimeout(done, Math.max(0, ms)));
const progress = (text) => process.stderr.write(`[bench:gateway] ${text}\n`);

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function latencyStats(values) {
  const sorted = Float64Array.from(values).sort();
  const r = (v) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    count: sorted.length,
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted.length ? sorted[sorted.length - 1] : null),
  };
}

const round = (v, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? null
    : Math.round(v * 10 ** digits) / 10 ** digits;

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) of a process, from /proc; null where there is no /proc. */
function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for machine CPU use per phase. */
function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function statusField(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds of the PostgreSQL backends serving the benchmark's database (their process title
 * names it), by pid: the database's share of the machine. Empty in embedded mode or without
 * /proc (and for a server on another machine).
 */
function databaseCpu() {
  const found = new Map();
  if (!running.database) return found;
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.includes(` ${running.database} `)) continue;
      const seconds = processCpuSeconds(pid);
      if (seconds !== null) found.set(pid, seconds);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * CPU use over a phase, in cores: the gateway's, its database backends', this process's (load
 * generator and receiver); and the whole machine's busy share (other work included).
 */
function cpuMeter(gatewayPid) {
  const t0 = now();
  const g0 = gatewayPid ? processCpuSeconds(gatewayPid) : null;
  const d0 = databaseCpu();
  const b0 = process.cpuUsage();
  const m0 = machineCpu();
  return () => {
    const seconds = (now() - t0) / 1000;
    const g1 = gatewayPid ? processCpuSeconds(gatewayPid) : null;
    const d1 = databaseCpu();
    const b1 = process.cpuUsage(b0);
    const m1 = machineCpu();
    let database = 0;
    for (const [pid, cpu] of d1) database += cpu - (d0.get(pid) ?? 0);
    return {
      gatewayCores: g0 === null || g1 === null ? null : round((g1 - g0) / seconds, 2),
      databaseCores: running.database ? round(database / seconds, 2) : null,
      benchCores: round((b1.user + b1.system) / 1e6 / seconds, 2),
      machineBusyPct:
        m0 && m1 && m1.total > m0.total
          ? round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total), 0)
          : null,
    };
  };
}

// ---------------------------------------------------------------------------------------
// Load generation (one undici Pool per origin, keep-alive)

function makePool(origin) {
  return new Pool(origin, {
    connections: IN_FLIGHT,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
  });
}

/**
 * Open loop: request i is sent at t0 + i / rate whatever happened to earlier ones, so a slow
 * answer never delays the next request (no coordinated omission); latencies count from the
 * scheduled time. `fire(i, scheduledAt)` must not reject. Resolves with every result.
 */
async function openLoop({ rate, durationMs, fire, settleMs }) {
  const interval = 1000 / rate;
  const total = Math.round((durationMs / 1000) * rate);
  const t0 = now() + 5;
  const results = [];
  let i = 0;
  let maxLag = 0;
  while (i < total) {
    const t = now();
    while (i < total && t0 + i * interval <= t) {
      const at = t0 + i * interval;
      maxLag = Math.max(maxLag, t - at);
      results.push(fire(i, at));
      i++;
    }
    if (i < total) await sleep(t0 + i * interval - now());
  }
  const sentBy = now();
  const settled = await Promise.race([Promise.all(results), sleep(settleMs).then(() => null)]);
  if (!settled) throw new Error(`Answers were still missing ${settleMs} ms after the last send.`);
  return { results: settled, t0, sentBy, maxSendLagMs: maxLag };
}

/** Closed loop: `concurrency` loops, each sending its next request when the last answered. */
async function closedLoop({ concurrency, durationMs, fire, max = Number.POSITIVE_INFINITY }) {
  const results = [];
  const end = now() + durationMs;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end && i < max) {
        const n = i++;
        results.push(await fire(n, now()));
      }
    }),
  );
  return results;
}

const PAYLOAD = {
  id: 'in_1PqRsTuVwXyZ',
  customer: 'cus_9sT8uV7wX6yZ',
  status: 'paid',
  currency: 'eur',
  amount_due: 4200,
  amount_paid: 4200,
  lines: [
    { id: 'il_1', description: 'Seat 1 (monthly)', amount: 2100, quantity: 1 },
    { id: 'il_2', description: 'Seat 2 (monthly)', amount: 2100, quantity: 1 },
  ],
  metadata: { tenant: 'acme', region: 'eu-west-1' },
};

/** POST of a body like a delivery's to the receiver: what the gateway's worker sends it. */
function receiverFire(pool) {
  const body = JSON.stringify({
    type: 'invoice.paid',
    timestamp: new Date().toISOString(),
    data: PAYLOAD,
  });
  const runId = randomBytes(4).toString('hex');
  return async (i, scheduledAt) => {
    try {
      const res = await pool.request({
        method: 'POST',
        path: '/baseline',
        headers: {
          'content-type': 'application/json',
          'webhook-id': `msg_baseline_${runId}_${i}`,
        },
        body,
      });
      const at = now();
      await res.body.dump();
      return { ok: res.statusCode === 204, scheduledAt, at };
    } catch (error) {
      return { ok: false, scheduledAt, at: now(), error: String(error) };
    }
  };
}

/** POST /v1/messages; resolves with the message id and when the 202 arrived. */
function messageFire(pool, apiKey, tenantId) {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  return async (i, scheduledAt) => {
    try {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/messages',
        headers,
        body: JSON.stringify({
          tenant_id: tenantId,
          event_type: 'invoice.paid',
          payload: { ...PAYLOAD, seq: i },
        }),
      });
      const at = now();
      const text = await res.body.text();
      if (res.statusCode !== 202) {
        return { ok: false, scheduledAt, at, error: `${res.statusCode} ${text.slice(0, 200)}` };
      }
      return { ok: true, scheduledAt, at, id: JSON.parse(text).id };
    } catch (error) {
      return { ok: false, scheduledAt, at: now(), error: String(error) };
    }
  };
}

function firstErrors(results) {
  return [...new Set(results.filter((r) => !r.ok).map((r) => r.error))].slice(0, 3);
}

// ---------------------------------------------------------------------------------------
// The receiver (worker thread) and the gateway (child process)

async function startReceiver() {
  const counters = new SharedArrayBuffer(8);
  const worker = new Worker(join(here, 'receiver.mjs'), { workerData: { counters } });
  const waiting = new Map();
  let seq = 0;
  let port;
  await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m) => {
      if (m.type === 'listening') {
        port = m.port;
        resolve();
      } else waiting.get(m.seq)?.(m);
    });
  });
  const ask = (message) =>
    new Promise((resolve) => {
      const n = ++seq;
      waiting.set(n, (m) => {
        waiting.delete(n);
        resolve(m);
      });
      worker.postMessage({ ...message, seq: n });
    });
  // The receiver's clock is this process's clock read from another thread: check the offset
  // (half the round trip is the uncertainty), and correct receipts by it.
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let k = 0; k < 20; k++) {
    const t1 = now();
    const { now: t } = await ask({ type: 'ping' });
    const t2 = now();
    if (t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: t - (t1 + t2) / 2 };
  }
  const view = new Int32Array(counters);
  return {
    url: `http://127.0.0.1:${port}`,
    clockOffsetMs: best.offset,
    clockUncertaintyMs: best.rtt / 2,
    received: () => Atomics.load(view, 0),
    duplicates: () => Atomics.load(view, 1),
    /** Everything received since the last collect: Map "path|webhook-id" → receipt time. */
    async collect() {
      const { keys, times } = await ask({ type: 'collect' });
      const map = new Map();
      for (let k = 0; k < keys.length; k++) map.set(keys[k], times[k] - best.offset);
      return map;
    },
    async close() {
      worker.postMessage({ type: 'close' });
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await new Promise((done) => worker.once('exit', done));
      clearTimeout(timer);
    },
  };
}

async function startGateway({ env, dir }) {
  const port = await freePort();
  let args = [builtMain];
  if (SOURCE) {
    args = ['--conditions=@hookline/source', '--import', import.meta.resolve('tsx'), sourceMain];
  } else if (!existsSync(builtMain)) {
    throw new Error(
      'apps/gateway/dist/main.js is missing: build first (pnpm --filter @hookline/gateway build), or run pnpm bench:gateway.',
    );
  }
  // HOOKLINE_BENCH_CPU_PROF=<dir>: the gateway writes a V8 CPU profile there when it stops.
  if (process.env.HOOKLINE_BENCH_CPU_PROF) {
    args = ['--cpu-prof', `--cpu-prof-dir=${process.env.HOOKLINE_BENCH_CPU_PROF}`, ...args];
  }
  const logPath = join(dir, 'gateway.log');
  const out = openSync(logPath, 'a');
  // Its own process group, so that stopping it takes anything it started along.
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, HOOKLINE_PORT: String(port) },
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  let exit = null;
  const exited = new Promise((done) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      done(exit);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const logTail = () => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };
  const gateway = {
    pid: child.pid,
    logPath,
    url,
    logTail,
    alive: () => exit === null,
    async stop() {
      if (exit !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const killed = await Promise.race([exited, sleep(10_000).then(() => null)]);
      if (!killed) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
        await exited;
      }
    },
    killNow() {
      if (exit !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    },
  };
  running.gateway = gateway;
  const deadline = now() + 60_000;
  for (;;) {
    if (exit !== null) {
      throw new Error(
        `The gateway exited (${exit.code ?? exit.signal}) before it was ready.${
          exit.code === 0 && !SOURCE
            ? ' (dist/main.js exited at once with code 0: its entry-point check did not recognise it as the binary.)'
            : ''
        }\n--- gateway log ---\n${logTail()}`,
      );
    }
    try {
      const res = await request(`${url}/readyz`, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode === 200) return gateway;
    } catch {
      // not listening yet
    }
    if (now() > deadline) {
      throw new Error(`The gateway was not ready within 60 s.\n--- gateway log ---\n${logTail()}`);
    }
    await sleep(100);
  }
}

/**
 * What the gateway logged that is not routine: warnings, errors and failed attempts, counted by
 * message (the first example of each kept), so that a slow phase can be explained.
 */
function summariseLog(path) {
  const counts = new Map();
  let lines = 0;
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { lines: 0, notable: [] };
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    lines++;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = { level: 40, msg: line.slice(0, 200) };
    }
    if (entry.level < 40 && entry.msg !== 'attempt failed') continue;
    const key = `${entry.level >= 50 ? 'error' : entry.level >= 40 ? 'warn' : 'info'}: ${entry.msg}`;
    const found = counts.get(key);
    if (found) found.count++;
    else {
      const detail = entry.err?.message ?? entry.error ?? entry.outcome ?? undefined;
      counts.set(key, {
        message: key,
        count: 1,
        example: detail ? String(detail).slice(0, 300) : undefined,
      });
    }
  }
  return { lines, notable: [...counts.values()].sort((a, b) => b.count - a.count).slice(0, 8) };
}

async function api(pool, apiKey, method, path, body) {
  const res = await pool.request({
    method,
    path,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode}: ${text}`);
  return text ? JSON.parse(text) : null;
}

// ---------------------------------------------------------------------------------------
// Cleanup: every process started and the database created go away, also on error or signal

const running = {
  gateway: null,
  receiver: null,
  pools: [],
  admin: null,
  benchSql: null,
  database: null,
  dir: null,
};
let cleaning = null;

function cleanup() {
  cleaning ??= (async () => {
    await running.gateway?.stop().catch(() => {});
    await running.receiver?.close().catch(() => {});
    await Promise.all(running.pools.map((p) => p.destroy().catch(() => {})));
    await running.benchSql?.end({ timeout: 2 }).catch(() => {});
    if (running.admin) {
      if (running.database) {
        await running.admin
          .unsafe(`drop database if exists "${running.database}" with (force)`)
          .catch((error) => progress(`could not drop ${running.database}: ${error.message}`));
      }
      await running.admin.end({ timeout: 2 }).catch(() => {});
    }
    if (running.dir) {
      // HOOKLINE_BENCH_LOG=<file> keeps the gateway's log (e.g. with HOOKLINE_LOG_LEVEL=debug).
      const keep = process.env.HOOKLINE_BENCH_LOG;
      if (keep) {
        try {
          copyFileSync(join(running.dir, 'gateway.log'), keep);
        } catch {}
      }
      rmSync(running.dir, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

process.once('exit', () => running.gateway?.killNow());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------
// The phases

async function receiverBaseline(receiver) {
  const pool = makePool(receiver.url);
  running.pools.push(pool);
  const fire = receiverFire(pool);
  progress(`baseline: receiver alone at ${RATE} req/s for ${T.receiverFixedMs} ms`);
  const fixed = await openLoop({
    rate: RATE,
    durationMs: T.receiverFixedMs,
    fire,
    settleMs: 10_000,
  });
  progress(`baseline: receiver alone, ${IN_FLIGHT} in flight for ${T.receiverMaxMs} ms`);
  await closedLoop({ concurrency: IN_FLIGHT, durationMs: T.receiverMaxWarmMs, fire });
  const start = now();
  const max = await closedLoop({ concurrency: IN_FLIGHT, durationMs: T.receiverMaxMs, fire });
  const seconds = (now() - start) / 1000;
  await receiver.collect();
  await pool.close();
  const ok = max.filter((r) => r.ok);
  return {
    fixed: {
      rate: RATE,
      latencyMs: latencyStats(fixed.results.filter((r) => r.ok).map((r) => r.at - r.scheduledAt)),
      errors: fixed.results.length - fixed.results.filter((r) => r.ok).length,
    },
    max: {
      inFlight: IN_FLIGHT,
      requestsPerSec: round(ok.length / seconds),
      latencyMs: latencyStats(ok.map((r) => r.at - r.scheduledAt)),
      errors: max.length - ok.length,
    },
  };
}

/**
 * The database's bare commit rate with the gateway's tables: one statement inserts a message and
 * its delivery, autocommit, 32 connections. The delivery is `pending` (so the due index is
 * maintained as for a real one) but due in a year, for a disabled endpoint of its own tenant, so
 * the gateway's worker never claims it; the rows are deleted (and the tables vacuumed) after.
 */
async function insertBaseline(url) {
  const sql = postgres(url, {
    max: INSERT_CONNECTIONS,
    onnotice: () => {},
    idle_timeout: 5,
  });
  running.benchSql = sql;
  const tenant = 'bench-baseline';
  const endpointId = `ep_${'0'.repeat(26)}`;
  await sql`
    insert into endpoints (id, tenant_id, url, status, disabled_reason, secret_ciphertext, secret_hint)
    values (${endpointId}, ${tenant}, 'http://127.0.0.1:9/none', 'disabled', 'manual', '\\x00', '')`;
  const payload = JSON.stringify(PAYLOAD);
  // k-sortable like the gateway's ids (the primary keys grow at the right), unique per run.
  const prefix = Date.now().toString(32).padStart(10, '0');
  let n = 0;
  const insert = () => {
    const suffix = (n++).toString(32).padStart(16, '0');
    return sql`
      with m as (
        insert into messages (id, tenant_id, event_type, payload, delivery_count, created_at)
        values (${`msg_${prefix}${suffix}`}, ${tenant}, 'invoice.paid', ${payload}, 1,
          date_trunc('milliseconds', now()))
        returning id
      )
      insert into deliveries (id, message_id, endpoint_id, tenant_id, event_type, status,
        next_attempt_at)
      select ${`dlv_${prefix}${suffix}`}, m.id, ${endpointId}, ${tenant}, 'invoice.paid',
        'pending', now() + interval '365 days'
      from m`;
  };
  /** `connections` loops of insert-commit: commits/s over `ms` after `warmMs`, and latencies. */
  const measure = async (connections, warmMs, ms) => {
    let counting = false;
    let stop = false;
    const latencies = [];
    const loop = async () => {
      while (!stop) {
        const t = now();
        await insert();
        if (counting) latencies.push(now() - t);
      }
    };
    const loops = Array.from({ length: connections }, loop);
    await sleep(warmMs);
    counting = true;
    const start = now();
    await sleep(ms);
    counting = false;
    const seconds = (now() - start) / 1000;
    stop = true;
    await Promise.all(loops);
    return {
      connections,
      commitsPerSec: round(latencies.length / seconds),
      latencyMs: latencyStats(latencies),
    };
  };
  progress(`baseline: insert-commit loop, ${INSERT_CONNECTIONS} connections for ${T.insertMs} ms`);
  const many = await measure(INSERT_CONNECTIONS, T.insertWarmMs, T.insertMs);
  // One connection: the latency of one commit, which every serial step of the gateway pays.
  progress(`baseline: insert-commit loop, 1 connection for ${T.insertMs / 2} ms`);
  const one = await measure(1, T.insertWarmMs / 2, T.insertMs / 2);
  await sql`delete from deliveries where tenant_id = ${tenant}`;
  await sql`delete from messages where tenant_id = ${tenant}`;
  await sql`delete from endpoints where id = ${endpointId}`;
  // No analyze: the gateway starts with no statistics, as on a fresh database.
  await sql.unsafe('vacuum messages, deliveries, endpoints');
  await sql.end({ timeout: 2 });
  running.benchSql = null;
  return { ...many, single: one };
}

async function fixedLoad(gateway, receiver, pool, apiKey) {
  const tenant = 'bench-fixed';
  await api(pool, apiKey, 'POST', '/v1/endpoints', {
    tenant_id: tenant,
    url: `${receiver.url}/fixed`,
  });
  const fire = messageFire(pool, apiKey, tenant);
  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  progress(`fixed load: ${RATE} messages/s for ${T.fixedWarmMs} + ${T.fixedMs} ms`);
  const cpu = cpuMeter(gateway.pid);
  const run = await openLoop({
    rate: RATE,
    durationMs: T.fixedWarmMs + T.fixedMs,
    fire,
    settleMs: T.fixedSettleMs,
  });
  const accepted = run.results.filter((r) => r.ok);
  // Every accepted message should arrive; wait (bounded) for stragglers.
  const deadline = now() + T.fixedSettleMs;
  while (receiver.received() - rec0 < accepted.length && now() < deadline) await sleep(20);
  const usage = cpu();
  const receipts = await receiver.collect();
  const measuredFrom = run.t0 + T.fixedWarmMs;
  const measured = accepted.filter((r) => r.scheduledAt >= measuredFrom);
  const acceptToReceipt = [];
  const sendToReceipt = [];
  let missing = 0;
  for (const r of accepted) {
    const at = receipts.get(`/fixed|${r.id}`);
    if (at === undefined) {
      missing++;
      continue;
    }
    if (r.scheduledAt >= measuredFrom) {
      acceptToReceipt.push(at - r.at);
      sendToReceipt.push(at - r.scheduledAt);
    }
  }
  const lastAnswer = Math.max(...run.results.map((r) => r.at));
  return {
    rate: RATE,
    warmupMs: T.fixedWarmMs,
    durationMs: T.fixedMs,
    sent: run.results.length,
    accepted: accepted.length,
    errors: run.results.length - accepted.length,
    firstErrors: firstErrors(run.results),
    acceptedPerSec: round(
      (accepted.filter((r) => r.scheduledAt >= run.t0).length * 1000) / (lastAnswer - run.t0),
      1,
    ),
    maxSendLagMs: round(run.maxSendLagMs, 1),
    acceptToReceiptMs: latencyStats(acceptToReceipt),
    sendToReceiptMs: latencyStats(sendToReceipt),
    acceptLatencyMs: latencyStats(measured.map((r) => r.at - r.scheduledAt)),
    received: accepted.length - missing,
    missing,
    duplicates: receiver.duplicates() - dup0,
    cpu: usage,
  };
}

/**
 * Sustained deliveries: an open loop of SUSTAINED_RATE messages/s to a tenant with ENDPOINTS
 * endpoints (1,040 deliveries/s offered). A gateway that keeps up delivers at the offered rate
 * in the window and has next to nothing queued when the sending stops.
 */
async function sustained(gateway, receiver, pool, apiKey) {
  const tenant = 'bench-sustained';
  for (let e = 0; e < ENDPOINTS; e++) {
    await api(pool, apiKey, 'POST', '/v1/endpoints', {
      tenant_id: tenant,
      url: `${receiver.url}/sus${e}`,
    });
  }
  const fire = messageFire(pool, apiKey, tenant);
  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  progress(
    `sustained: ${SUSTAINED_RATE} messages/s × ${ENDPOINTS} endpoints for ${T.susWarmMs} + ${T.susMs} ms`,
  );
  let cpu;
  const cpuTimer = setTimeout(() => {
    cpu = cpuMeter(gateway.pid);
  }, T.susWarmMs);
  const run = await openLoop({
    rate: SUSTAINED_RATE,
    durationMs: T.susWarmMs + T.susMs,
    fire,
    settleMs: T.susSettleMs,
  });
  clearTimeout(cpuTimer);
  const usage = cpu?.() ?? null;
  const windowStart = run.t0 + T.susWarmMs;
  const windowEnd = run.t0 + T.susWarmMs + T.susMs;
  const accepted = run.results.filter((r) => r.ok);
  const expected = accepted.length * ENDPOINTS;
  const sendEnd = now();
  const deadline = now() + T.susSettleMs;
  while (receiver.received() - rec0 < expected && now() < deadline) await sleep(20);
  const receipts = await receiver.collect();
  let inWindow = 0;
  let byWindowEnd = 0;
  for (const [key, t] of receipts) {
    if (!key.startsWith('/sus')) continue;
    if (t >= windowStart && t < windowEnd) inWindow++;
    if (t < sendEnd) byWindowEnd++;
  }
  const acceptToReceipt = [];
  let missing = 0;
  for (const r of accepted) {
    for (let e = 0; e < ENDPOINTS; e++) {
      const at = receipts.get(`/sus${e}|${r.id}`);
      if (at === undefined) missing++;
      else if (r.scheduledAt >= windowStart) acceptToReceipt.push(at - r.at);
    }
  }
  const windowSeconds = T.susMs / 1000;
  return {
    rate: SUSTAINED_RATE,
    endpoints: ENDPOINTS,
    offeredDeliveriesPerSec: SUSTAINED_RATE * ENDPOINTS,
    warmupMs: T.susWarmMs,
    durationMs: T.susMs,
    sent: run.results.length,
    accepted: accepted.length,
    errors: run.results.length - accepted.length,
    firstErrors: firstErrors(run.results),
    deliveriesPerSec: round(inWindow / windowSeconds),
    // Accepted deliveries not yet received when the last message was sent.
    backlogAtSendEnd: expected - byWindowEnd,
    acceptToReceiptMs: latencyStats(acceptToReceipt),
    maxSendLagMs: round(run.maxSendLagMs, 1),
    expectedDeliveries: expected,
    missingDeliveries: missing,
    duplicates: receiver.duplicates() - dup0,
    cpu: usage,
  };
}

async function throughput(gateway, receiver, pool, apiKey) {
  const tenant = 'bench-throughput';
  for (let e = 0; e < ENDPOINTS; e++) {
    await api(pool, apiKey, 'POST', '/v1/endpoints', {
      tenant_id: tenant,
      url: `${receiver.url}/thr${e}`,
    });
  }
  const fire = messageFire(pool, apiKey, tenant);
  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  progress(
    `throughput: ${IN_FLIGHT} in flight, ${ENDPOINTS} endpoints, ${T.thrWarmMs} + ${T.thrMs} ms`,
  );
  const start = now();
  const windowStart = start + T.thrWarmMs;
  const plannedEnd = windowStart + T.thrMs;
  let cpu;
  const cpuTimer = setTimeout(() => {
    cpu = cpuMeter(gateway.pid);
  }, T.thrWarmMs);
  const results = await closedLoop({
    concurrency: IN_FLIGHT,
    durationMs: T.thrWarmMs + T.thrMs,
    fire,
    max: T.thrMaxMessages,
  });
  clearTimeout(cpuTimer);
  const sendEnd = now();
  // The window ends with the sending (earlier than planned when a message cap stopped it).
  const windowEnd = Math.min(plannedEnd, sendEnd);
  const windowSeconds = Math.max(0.001, (windowEnd - windowStart) / 1000);
  const usage = cpu?.() ?? null;
  const accepted = results.filter((r) => r.ok);
  const expected = accepted.length * ENDPOINTS;
  progress(`throughput: draining the backlog (${expected - (receiver.received() - rec0)} left)`);
  const drainCpu = cpuMeter(gateway.pid);
  const drainDeadline = now() + T.drainMs;
  while (receiver.received() - rec0 < expected && now() < drainDeadline) await sleep(20);
  const drainUsage = drainCpu();
  const receipts = await receiver.collect();
  let inWindow = 0;
  let afterLoad = 0;
  let last = 0;
  for (const t of receipts.values()) {
    if (t >= windowStart && t < windowEnd) inWindow++;
    if (t >= sendEnd) afterLoad++;
    if (t > last) last = t;
  }
  let missingDeliveries = 0;
  let messagesMissing = 0;
  for (const r of accepted) {
    let got = 0;
    for (let e = 0; e < ENDPOINTS; e++) if (receipts.has(`/thr${e}|${r.id}`)) got++;
    missingDeliveries += ENDPOINTS - got;
    if (got === 0) messagesMissing++;
  }
  const backlogAtSendEnd = expected - (receipts.size - afterLoad);
  // Until the last receipt when drained; until the deadline when not.
  const drainSeconds = Math.max(0, ((missingDeliveries === 0 ? last : now()) - sendEnd) / 1000);
  const acceptedInWindow = accepted.filter((r) => r.at >= windowStart && r.at < windowEnd).length;
  const okInWindow = accepted.filter((r) => r.scheduledAt >= windowStart);
  return {
    inFlight: IN_FLIGHT,
    endpoints: ENDPOINTS,
    warmupMs: T.thrWarmMs,
    durationMs: T.thrMs,
    sent: results.length,
    accepted: accepted.length,
    errors: results.length - accepted.length,
    firstErrors: firstErrors(results),
    windowSeconds: round(windowSeconds, 2),
    acceptedPerSec: round(acceptedInWindow / windowSeconds),
    deliveriesPerSec: round(inWindow / windowSeconds),
    acceptLatencyMs: latencyStats(okInWindow.map((r) => r.at - r.scheduledAt)),
    expectedDeliveries: expected,
    receivedDeliveries: receipts.size,
    missingDeliveries,
    messagesMissing,
    duplicates: receiver.duplicates() - dup0,
    backlogAtSendEnd,
    drainSeconds: round(drainSeconds, 2),
    deliveredAfterSending: afterLoad,
    drainDeliveriesPerSec: drainSeconds > 0.2 ? round(afterLoad / drainSeconds) : null,
    drained: missingDeliveries === 0,
    overallDeliveriesPerSec: round((receipts.size * 1000) / (last - start)),
    cpu: usage,
    drainCpu: drainUsage,
  };
}

// ---------------------------------------------------------------------------------------
// Main

async function main() {
  const loadAtStart = os.loadavg()[0];
  const cpus = os.cpus();
  const dir = mkdtempSync(join(os.tmpdir(), 'hookline-bench-'));
  running.dir = dir;
  const apiKey = `hl_sk_${randomBytes(24).toString('base64url')}`;
  const encryptionKey = randomBytes(32).toString('base64');

  let databaseUrl = null;
  let postgresVersion = null;
  if (!EMBEDDED) {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    running.admin = admin;
    const [{ server_version: v }] = await admin`show server_version`;
    postgresVersion = v;
    const name = `hookline_bench_${randomBytes(6).toString('hex')}`;
    await admin.unsafe(`create database "${name}"`);
    running.database = name;
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
  }

  const receiver = await startReceiver();
  running.receiver = receiver;
  const receiverBase = await receiverBaseline(receiver);

  const passed = Object.fromEntries(
    PASS_THROUGH.filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
  );
  const env = {
    HOOKLINE_API_KEY: apiKey,
    HOOKLINE_ENCRYPTION_KEYS: encryptionKey,
    HOOKLINE_ALLOW_HTTP: 'true',
    HOOKLINE_ALLOW_NETWORKS: '127.0.0.0/8',
    HOOKLINE_HOST: '127.0.0.1',
    ...(databaseUrl ? { HOOKLINE_DATABASE_URL: databaseUrl } : {}),
    HOOKLINE_DATA_DIR: join(dir, 'data'),
    ...passed,
  };
  progress(`starting the gateway (${SOURCE ? 'src/main.ts via tsx' : 'dist/main.js'})`);
  const startedAt = now();
  const gateway = await startGateway({ env, dir });
  const startupMs = now() - startedAt;

  const insertBase = databaseUrl ? await insertBaseline(databaseUrl) : null;

  const pool = makePool(gateway.url);
  running.pools.push(pool);
  const fixed = await fixedLoad(gateway, receiver, pool, apiKey);
  const sus = await sustained(gateway, receiver, pool, apiKey);
  const thr = await throughput(gateway, receiver, pool, apiKey);
  const peakRssBytes = statusField(gateway.pid, 'VmHWM');
  const logSummary = summariseLog(gateway.logPath);
  if (!gateway.alive()) throw new Error(`The gateway died.\n${gateway.logTail()}`);

  const report = {
    bench: 'gateway',
    quick: QUICK,
    mode: EMBEDDED ? 'embedded' : 'postgres',
    gatewayBinary: SOURCE ? 'src/main.ts (tsx)' : 'dist/main.js',
    env: {
      node: process.version,
      cpu: cpus[0]?.model ?? 'unknown',
      cores: os.availableParallelism?.() ?? cpus.length,
      platform: `${process.platform} ${process.arch}`,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      postgres: postgresVersion,
      loadAverage: [loadAtStart, os.loadavg()[0]].map((l) => round(l, 2)),
      gatewayTuning: passed,
      receiverClockOffsetMs: round(receiver.clockOffsetMs, 3),
    },
    gateway: {
      startupMs: round(startupMs),
      log: logSummary,
      peakRssBytes,
      peakRssMiB: peakRssBytes === null ? null : round(peakRssBytes / 2 ** 20, 1),
    },
    baselines: { receiver: receiverBase, insertCommit: insertBase },
    fixedLoad: fixed,
    sustained: sus,
    throughput: thr,
  };
  const ratio = (a, b) => (a && b ? round(a / b, 3) : null);
  report.ratios = {
    acceptedPerSecVsReceiver: ratio(thr.acceptedPerSec, receiverBase.max.requestsPerSec),
    deliveriesPerSecVsReceiver: ratio(thr.deliveriesPerSec, receiverBase.max.requestsPerSec),
    acceptedPerSecVsInsertCommit: ratio(thr.acceptedPerSec, insertBase?.commitsPerSec),
    acceptLatencyP50VsReceiver: ratio(fixed.acceptLatencyMs.p50, receiverBase.fixed.latencyMs.p50),
    acceptToReceiptP50VsReceiver: ratio(
      fixed.acceptToReceiptMs.p50,
      receiverBase.fixed.latencyMs.p50,
    ),
  };
  const everyMessage =
    fixed.missing === 0 &&
    sus.missingDeliveries === 0 &&
    thr.messagesMissing === 0 &&
    thr.missingDeliveries === 0;
  report.targets = [
    {
      name: `p50 accept→receipt < ${TARGETS.p50Ms} ms at ${RATE} messages/s offered`,
      value: fixed.acceptToReceiptMs.p50,
      unit: 'ms',
      pass: fixed.acceptToReceiptMs.p50 !== null && fixed.acceptToReceiptMs.p50 < TARGETS.p50Ms,
    },
    {
      // Kept up: the window's deliveries at the target, and at most a second of them still
      // queued when the sending stopped.
      name: `≥ ${TARGETS.deliveriesPerSec.toLocaleString('en')} deliveries/s sustained (${n(sus.offeredDeliveriesPerSec)} /s offered for ${T.susMs / 1000} s, ≤ 1 s of backlog at the end)`,
      value: sus.deliveriesPerSec,
      unit: '/s',
      pass:
        sus.deliveriesPerSec >= TARGETS.deliveriesPerSec &&
        sus.backlogAtSendEnd <= sus.offeredDeliveriesPerSec,
    },
    {
      name: `every accepted message received at least once, on every endpoint, within ${T.drainMs / 1000} s of the last send`,
      value: fixed.missing + sus.missingDeliveries + thr.missingDeliveries,
      unit: 'missing',
      pass: everyMessage,
    },
  ];
  report.env.loadAverage[1] = round(os.loadavg()[0], 2);
  return report;
}

// ---------------------------------------------------------------------------------------
// Output

const n = (v, digits = 0) =>
  v === null || v === undefined
    ? '—'
    : v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (v) => (v === null || v === undefined ? '—' : `${n(v, v < 10 ? 2 : 1)} ms`);
const lat = (s) => `p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`;
const x = (v) =>
  v === null || v === undefined ? '—' : `${v < 0.1 ? v.toFixed(3) : v.toFixed(2)}×`;
const cores = (c) =>
  c
    ? `gateway ${n(c.gatewayCores, 2)} · database ${n(c.databaseCores, 2)} · bench ${n(c.benchCores, 2)} cores · machine ${n(c.machineBusyPct)} % busy`
    : '—';

function print(r) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const row = (label, value) => out(`  ${label.padEnd(38)} ${value}`);
  out(`Hookline gateway benchmark${r.quick ? ' (--quick: figures are not meaningful)' : ''}`);
  out(
    `Node ${r.env.node} · ${r.env.cpu} · ${r.env.cores} cores · ${r.env.memoryGiB} GiB · ${r.env.platform}`,
  );
  out(
    r.mode === 'postgres'
      ? `PostgreSQL ${r.env.postgres} (a fresh database, dropped at the end) · gateway ${r.gatewayBinary}`
      : `embedded PGlite (temp data dir) · gateway ${r.gatewayBinary}`,
  );
  out(
    `load average (1 min) ${r.env.loadAverage[0]} at start, ${r.env.loadAverage[1]} at end · gateway, database, receiver and load generator share the machine`,
  );
  const tuning = Object.entries(r.env.gatewayTuning);
  out(
    `gateway settings: ${tuning.length ? tuning.map(([k, v]) => `${k}=${v}`).join(' ') : 'defaults'} · receiver in a worker thread (clock offset ${r.env.receiverClockOffsetMs} ms)`,
  );

  const rb = r.baselines.receiver;
  out('\nbaselines (same run)');
  row(`receiver alone, ${rb.fixed.rate} req/s open loop`, lat(rb.fixed.latencyMs));
  row(
    `receiver alone, ${rb.max.inFlight} in flight`,
    `${n(rb.max.requestsPerSec)} req/s  (p50 ${ms(rb.max.latencyMs.p50)}  p99 ${ms(rb.max.latencyMs.p99)})`,
  );
  const ib = r.baselines.insertCommit;
  row(
    `insert-commit loop, ${ib?.connections ?? INSERT_CONNECTIONS} connections`,
    ib
      ? `${n(ib.commitsPerSec)} commits/s (message + delivery, one statement; p50 ${ms(ib.latencyMs.p50)})`
      : 'skipped (embedded)',
  );
  if (ib) {
    row(
      'insert-commit loop, 1 connection',
      `${n(ib.single.commitsPerSec)} commits/s (p50 ${ms(ib.single.latencyMs.p50)}  p99 ${ms(ib.single.latencyMs.p99)})`,
    );
  }

  const f = r.fixedLoad;
  out(
    `\nfixed offered load: ${f.rate} messages/s, open loop, 1 endpoint (${f.warmupMs / 1000} s warm-up + ${f.durationMs / 1000} s measured)`,
  );
  row(
    'accepted',
    `${n(f.accepted)} of ${n(f.sent)} sent · ${n(f.acceptedPerSec, 1)} /s · ${n(f.errors)} errors`,
  );
  row('accept (202) → receipt', lat(f.acceptToReceiptMs));
  row('scheduled send → receipt', lat(f.sendToReceiptMs));
  row('202 latency (from scheduled send)', lat(f.acceptLatencyMs));
  row(
    'received',
    `${n(f.received)} of ${n(f.accepted)} · ${n(f.duplicates)} duplicates · send lag ≤ ${ms(f.maxSendLagMs)}`,
  );
  row('CPU', cores(f.cpu));
  if (f.firstErrors.length) row('first errors', f.firstErrors.join(' | '));

  const s = r.sustained;
  out(
    `\nsustained: ${s.rate} messages/s × ${s.endpoints} endpoints = ${n(s.offeredDeliveriesPerSec)} deliveries/s offered, open loop (${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s window)`,
  );
  row('accepted', `${n(s.accepted)} of ${n(s.sent)} sent · ${n(s.errors)} errors`);
  row('deliveries/s (window)', n(s.deliveriesPerSec));
  row('backlog when sending stopped', `${n(s.backlogAtSendEnd)} deliveries`);
  row('accept (202) → receipt', lat(s.acceptToReceiptMs));
  row(
    'received',
    `${n(s.expectedDeliveries - s.missingDeliveries)} of ${n(s.expectedDeliveries)} deliveries · ${n(s.duplicates)} duplicates · send lag ≤ ${ms(s.maxSendLagMs)}`,
  );
  row('CPU', cores(s.cpu));
  if (s.firstErrors.length) row('first errors', s.firstErrors.join(' | '));

  const t = r.throughput;
  out(
    `\nmaximum intake: ${t.inFlight} requests in flight, ${t.endpoints} endpoints per message (${t.warmupMs / 1000} s warm-up + ${t.windowSeconds} s window)`,
  );
  row(
    'accepted messages/s (window)',
    `${n(t.acceptedPerSec)} · ${n(t.errors)} errors of ${n(t.sent)} sent`,
  );
  row('deliveries/s (window)', n(t.deliveriesPerSec));
  row('202 latency (window)', lat(t.acceptLatencyMs));
  row(
    'backlog when sending stopped',
    `${n(t.backlogAtSendEnd)} deliveries · ${
      t.drained
        ? `drained in ${n(t.drainSeconds, 2)} s at`
        : `NOT drained within ${n(t.drainSeconds, 0)} s: ${n(t.missingDeliveries)} left, ≈ ${
            t.drainDeliveriesPerSec ? n(t.missingDeliveries / t.drainDeliveriesPerSec) : '—'
          } s more at`
    } ${n(t.drainDeliveriesPerSec)} /s`,
  );
  row('deliveries/s over the whole phase', n(t.overallDeliveriesPerSec));
  row(
    'received',
    `${n(t.receivedDeliveries)} of ${n(t.expectedDeliveries)} deliveries · ${n(t.duplicates)} duplicates`,
  );
  row('CPU while sending', cores(t.cpu));
  row('CPU while draining', cores(t.drainCpu));
  if (t.firstErrors.length) row('first errors', t.firstErrors.join(' | '));

  out('\ngateway process');
  row(
    'peak RSS (VmHWM)',
    r.gateway.peakRssMiB === null ? '—' : `${n(r.gateway.peakRssMiB, 1)} MiB`,
  );
  row('start to ready', ms(r.gateway.startupMs));
  row('log lines', n(r.gateway.log.lines));
  for (const entry of r.gateway.log.notable) {
    row(`  ${n(entry.count)} ×`, `${entry.message}${entry.example ? ` (${entry.example})` : ''}`);
  }

  out('\ntargets');
  for (const g of r.targets) {
    const v =
      g.unit === 'ms'
        ? ms(g.value)
        : g.unit === '/s'
          ? `${n(g.value)} /s`
          : `${n(g.value)} ${g.unit}`;
    out(`  ${g.pass ? 'PASS' : 'FAIL'}  ${g.name}: ${v}`);
  }

  const q = r.ratios;
  out('\nratios to the baselines of this run');
  row('accepted msg/s ÷ receiver req/s', x(q.acceptedPerSecVsReceiver));
  row('deliveries/s ÷ receiver req/s', x(q.deliveriesPerSecVsReceiver));
  row('accepted msg/s ÷ insert commits/s', x(q.acceptedPerSecVsInsertCommit));
  row(`202 p50 ÷ receiver p50 (${RATE}/s)`, x(q.acceptLatencyP50VsReceiver));
  row(`accept→receipt p50 ÷ receiver p50`, x(q.acceptToReceiptP50VsReceiver));
  console.log(lines.join('\n'));
}

const watchdog = setTimeout(() => {
  progress(`the run exceeded ${T.watchdogMs / 1000} s: stopping`);
  void cleanup().finally(() => process.exit(2));
}, T.watchdogMs);
watchdog.unref();

let code = 0;
try {
  const report = await main();
  if (JSON_OUT) console.log(JSON.stringify(report, null, 2));
  else print(report);
} catch (error) {
  progress(`failed: ${error?.stack ?? error}`);
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);

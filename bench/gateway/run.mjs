// The gateway benchmark: the real gateway binary as a child process, a real PostgreSQL database
// of its own, a local receiver, and an HTTP load generator, all on this machine. Run with
// `pnpm bench:gateway` from the repository root (builds @hookline/gateway first).
// Flags: --quick (short phases and scaled-down counts: a smoke run, figures mean little, targets
// are printed but never fail the run), --json (machine output), --embedded (the gateway uses
// embedded PGlite in a temp dir; no PostgreSQL needed, the insert-commit baseline is skipped),
// --source (run apps/gateway/src/main.ts through tsx instead of the built dist/main.js),
// --database-url=postgres://… (the server to create the benchmark database on; default
// $HOOKLINE_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test).
// Environment: HOOKLINE_BENCH_GATEWAY=/path/to/main.js runs that build of the gateway instead
// (e.g. an older commit built elsewhere, for before/after comparisons); HOOKLINE_BENCH_CPU_PROF=
// <dir> makes the gateway write a V8 CPU profile there when it stops; HOOKLINE_BENCH_LOG=<file>
// keeps the gateway's log (with HOOKLINE_LOG_LEVEL=debug it has one line per delivery); the
// gateway tuning variables in PASS_THROUGH below reach the gateway when set (the report prints
// them; unset = the gateway's defaults).
//
// Phases, each bounded in time, all in one run so that the ratios compare like with like, and
// ordered so that an earlier one leaves nothing behind that disturbs a later one:
//   1. baselines: (a) the receiver alone, hit by the same undici client, at the fixed offered
//      load and then as fast as 64 requests in flight go; (b) a bare Hono JSON route
//      (bare-hono.mjs, its own child process) at 64 in flight for as long as phase 4; (c) a bare
//      insert-commit loop (one statement inserting a message and its delivery) on the same
//      database, 32 connections and then 1.
//   2. fixed offered load: 500 messages/s, open loop (sent at scheduled times, never waiting for
//      answers), one endpoint → latency from the 202 to the receiver's receipt (target: p99).
//   3. sustained deliveries: 650 messages/s, open loop, round-robin over 4 tenants of 4
//      endpoints each → 2,600 deliveries/s offered; deliveries/s in a window after warm-up.
//   4. maximum intake: 64 requests in flight, closed loop, one endpoint → accepted messages/s in
//      a window after warm-up (and the deliveries/s meanwhile); then the backlog drains.
//   5. fan-out: 10,000 endpoints on one tenant (created through the API), then ONE message to
//      it → the time to its 202, i.e. to the commit of the message and its 10,000 deliveries;
//      then the time until all of them reached the receiver.
// The gateway's peak RSS is its VmHWM at the end (after phase 5). CPU use per phase (gateway
// process, the PostgreSQL backends of the benchmark's database, this process, the whole
// machine) comes from /proc, to show which of them is the bottleneck.
// Exit code: 0, or 1 when the run itself broke, or 3 when a full (not --quick) run measured a
// target as failed.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
// Another build of the gateway (its dist/main.js), e.g. of an older commit, for comparisons.
const OTHER_GATEWAY = process.env.HOOKLINE_BENCH_GATEWAY
  ? resolve(process.env.HOOKLINE_BENCH_GATEWAY)
  : null;
if (OTHER_GATEWAY && SOURCE) {
  throw new Error('--source and HOOKLINE_BENCH_GATEWAY each name the gateway to run: use one.');
}

const FIXED_RATE = 500; // messages/s offered in phase 2 (the latency target's load)
// Phase 3: one endpoint is capped at HOOKLINE_ENDPOINT_CONCURRENCY (default 10) requests in
// flight by design, so its throughput is at most 10 / round trip; the sustained target is
// measured the way real traffic arrives, spread over tenants and endpoints. 650 messages/s
// round-robin over 4 tenants × 4 endpoints = 2,600 deliveries/s offered, just over the target,
// so a gateway that keeps up delivers ≥ 2,500/s in the window.
const SUSTAINED_RATE = 650;
const SUSTAINED_TENANTS = 4;
const SUSTAINED_ENDPOINTS = 4; // per tenant
const IN_FLIGHT = 64; // requests in flight in phase 4, the bare-Hono and the receiver's max baseline
const INSERT_CONNECTIONS = 32;
// Phase 5's endpoints (a smoke run creates fewer: it checks the plumbing, not the speed).
const FANOUT_ENDPOINTS = QUICK ? 300 : 10_000;
const FANOUT_CREATE_IN_FLIGHT = 16;
const T = QUICK
  ? {
      receiverFixedMs: 1000,
      receiverMaxWarmMs: 300,
      receiverMaxMs: 1000,
      honoWarmMs: 300,
      insertWarmMs: 200,
      insertMs: 1000,
      // A smoke run checks that every delivery arrives, not how fast: the offered rates are the
      // full run's, for short enough that even embedded PGlite on a loaded machine (tens of
      // messages/s) catches up within the settle times and the smoke test's budget.
      fixedWarmMs: 200,
      fixedMs: 800,
      fixedSettleMs: 30_000,
      susWarmMs: 0,
      susMs: 500,
      susSettleMs: 30_000,
      intakeWarmMs: 0,
      intakeMs: 2000,
      intakeMaxMessages: 300,
      drainMs: 25_000,
      fanCreateMs: 30_000,
      fanDrainMs: 30_000,
      // Below the smoke test's own timeout, so that the bench cleans up after itself.
      watchdogMs: 110_000,
    }
  : {
      receiverFixedMs: 5000,
      receiverMaxWarmMs: 1000,
      receiverMaxMs: 5000,
      honoWarmMs: 3000, // = intakeWarmMs: the same duration as the gateway's max-intake phase
      insertWarmMs: 1000,
      insertMs: 5000,
      // The fixed phase is the gateway's first load: its connections open, its statements are
      // planned and its code is compiled during the warm-up (the cold start is printed too).
      fixedWarmMs: 5000,
      fixedMs: 15_000,
      fixedSettleMs: 30_000,
      susWarmMs: 3000,
      susMs: 15_000,
      susSettleMs: 30_000,
      intakeWarmMs: 3000,
      intakeMs: 15_000,
      intakeMaxMessages: Number.POSITIVE_INFINITY,
      drainMs: 120_000,
      fanCreateMs: 120_000,
      fanDrainMs: 180_000,
      watchdogMs: 660_000,
    };
// Issue 7's targets for this machine.
const TARGETS = {
  acceptedPerSec: 5000,
  deliveriesPerSec: 2500,
  p99Ms: 100,
  fanOutCommitMs: 1000,
  peakRssBytes: 300_000_000, // 300 MB (decimal), = 286.1 MiB
};

// Gateway tuning passed through from this environment (defaults otherwise), for experiments.
const PASS_THROUGH = [
  'HOOKLINE_WORKER_CONCURRENCY',
  'HOOKLINE_ENDPOINT_CONCURRENCY',
  'HOOKLINE_DATABASE_POOL_SIZE',
  'HOOKLINE_POLL_INTERVAL_MS',
  'HOOKLINE_LEASE_SECONDS',
  'HOOKLINE_LOG_LEVEL',
  'HOOKLINE_API_RATE_LIMIT_PER_SECOND',
  'HOOKLINE_MAX_ENDPOINTS_PER_TENANT',
];
// What the bench itself sets (unless passed through): the fan-out tenant needs its endpoints.
const BENCH_SETS =
  FANOUT_ENDPOINTS > 1000 ? { HOOKLINE_MAX_ENDPOINTS_PER_TENANT: String(FANOUT_ENDPOINTS) } : {};

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
/**
 * POST /v1/messages, round-robin over `tenants` (message i goes to tenants[i % length]);
 * resolves with the message id, its tenant's index and when the 202 arrived.
 */
function messageFire(pool, apiKey, tenants) {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  return async (i, scheduledAt) => {
    const tenant = i % tenants.length;
    try {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/messages',
        headers,
        body: JSON.stringify({
          tenant_id: tenants[tenant],
          event_type: 'invoice.paid',
          payload: { ...PAYLOAD, seq: i },
        }),
      });
      const at = now();
      const text = await res.body.text();
      if (res.statusCode !== 202) {
        return {
          ok: false,
          scheduledAt,
          at,
          tenant,
          error: `${res.statusCode} ${text.slice(0, 200)}`,
        };
      }
      return { ok: true, scheduledAt, at, tenant, id: JSON.parse(text).id };
    } catch (error) {
      return { ok: false, scheduledAt, at: now(), tenant, error: String(error) };
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

/** The gateway's main.js under test (its migrations sit at ../src/storage/migrations). */
function gatewayMain() {
  return SOURCE ? sourceMain : (OTHER_GATEWAY ?? builtMain);
}

async function startGateway({ env, dir }) {
  const port = await freePort();
  const entry = OTHER_GATEWAY ?? builtMain;
  let args = [entry];
  if (SOURCE) {
    args = ['--conditions=@hookline/source', '--import', import.meta.resolve('tsx'), sourceMain];
  } else if (OTHER_GATEWAY && !existsSync(OTHER_GATEWAY)) {
    throw new Error(`HOOKLINE_BENCH_GATEWAY names ${OTHER_GATEWAY}, which does not exist.`);
  } else if (!existsSync(entry)) {
    throw new Error(
      'apps/gateway/dist/main.js is missing: build first (pnpm --filter @hookline/gateway build), or run pnpm bench:gateway.',
    );
  }
  // HOOKLINE_BENCH_CPU_PROF=<dir>: the gateway writes a V8 CPU profile there when it stops.
  // Absolute, because the gateway runs in the scratch directory that is deleted at the end.
  if (process.env.HOOKLINE_BENCH_CPU_PROF) {
    const profileDir = resolve(process.env.HOOKLINE_BENCH_CPU_PROF);
    mkdirSync(profileDir, { recursive: true });
    args = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...args];
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
  const handle = childHandle(child, 10_000);
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
    alive: () => handle.exit() === null,
    stop: handle.stop,
    killNow: handle.killNow,
  };
  running.gateway = gateway;
  const deadline = now() + 60_000;
  for (;;) {
    const exit = handle.exit();
    if (exit !== null) {
      throw new Error(
        `The gateway exited (${exit.code ?? exit.signal}) before it was ready.${
          exit.code === 0 && !SOURCE
            ? ` (${entry} exited at once with code 0: its entry-point check did not recognise it as the binary.)`
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

/** Creates `count` endpoints of `tenant` (URL `${base}${k}`), `inFlight` at a time. */
async function createEndpoints(pool, apiKey, { tenant, count, urlOf, inFlight = 1, timeoutMs }) {
  const deadline = now() + timeoutMs;
  let next = 0;
  let created = 0;
  let error = null;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (error === null && next < count) {
        if (now() > deadline) {
          error = `${created} of ${count} endpoints created within ${timeoutMs / 1000} s`;
          break;
        }
        const k = next++;
        try {
          await api(pool, apiKey, 'POST', '/v1/endpoints', { tenant_id: tenant, url: urlOf(k) });
          created++;
        } catch (e) {
          error ??= e.message.slice(0, 300);
        }
      }
    }),
  );
  return { created, error };
}

// ---------------------------------------------------------------------------------------
// Cleanup: every process started and the database created go away, also on error or signal

const running = {
  gateway: null,
  hono: null,
  receiver: null,
  pools: [],
  admin: null,
  benchSql: null,
  database: null,
  baselineDatabase: null,
  dir: null,
};
let cleaning = null;

function cleanup() {
  cleaning ??= (async () => {
    await running.gateway?.stop().catch(() => {});
    await running.hono?.stop().catch(() => {});
    await running.receiver?.close().catch(() => {});
    await Promise.all(running.pools.map((p) => p.destroy().catch(() => {})));
    await running.benchSql?.end({ timeout: 2 }).catch(() => {});
    if (running.admin) {
      if (running.baselineDatabase) {
        await running.admin
          .unsafe(`drop database if exists "${running.baselineDatabase}" with (force)`)
          .catch(() => {});
      }
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

process.once('exit', () => {
  running.gateway?.killNow();
  running.hono?.killNow();
});
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
  progress(`baseline: receiver alone at ${FIXED_RATE} req/s for ${T.receiverFixedMs} ms`);
  const fixed = await openLoop({
    rate: FIXED_RATE,
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
      rate: FIXED_RATE,
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
 * maintained as for a real one) but due in a year, for a disabled endpoint of its own tenant.
 * It runs in a database of its own with the gateway's schema (the migrations of the gateway build
 * under test), dropped afterwards: tens of thousands of rows inserted and deleted in the
 * gateway's own tables would leave them bloated, and with statistics (autovacuum analyses them
 * meanwhile) that describe a table the gateway never has, which changes its query plans.
 */
async function insertBaseline(adminSql, gatewayDatabase) {
  const name = `${gatewayDatabase}_insert`;
  await adminSql.unsafe(`create database "${name}"`);
  running.baselineDatabase = name;
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const migrations = join(dirname(gatewayMain()), '../src/storage/migrations');
  const schema = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const file of readdirSync(migrations)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      await schema.unsafe(readFileSync(join(migrations, file), 'utf8'));
    }
  } finally {
    await schema.end({ timeout: 2 });
  }
  try {
    return await insertLoop(url);
  } finally {
    await adminSql
      .unsafe(`drop database if exists "${name}" with (force)`)
      .catch((error) => progress(`could not drop ${name}: ${error.message}`));
    running.baselineDatabase = null;
  }
}

async function insertLoop(url) {
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
  const fire = messageFire(pool, apiKey, [tenant]);
  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  progress(`fixed load: ${FIXED_RATE} messages/s for ${T.fixedWarmMs} + ${T.fixedMs} ms`);
  const cpu = cpuMeter(gateway.pid);
  const run = await openLoop({
    rate: FIXED_RATE,
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
  const warmupAcceptToReceipt = [];
  let missing = 0;
  for (const r of accepted) {
    const at = receipts.get(`/fixed|${r.id}`);
    if (at === undefined) {
      missing++;
      continue;
    }
    if (r.scheduledAt < measuredFrom) warmupAcceptToReceipt.push(at - r.at);
    else {
      acceptToReceipt.push(at - r.at);
      sendToReceipt.push(at - r.scheduledAt);
    }
  }
  const lastAnswer = Math.max(...run.results.map((r) => r.at));
  return {
    rate: FIXED_RATE,
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
    // The cold start: the same load during the warm-up, not counted in the target.
    warmupAcceptToReceiptMs: latencyStats(warmupAcceptToReceipt),
    sendToReceiptMs: latencyStats(sendToReceipt),
    acceptLatencyMs: latencyStats(measured.map((r) => r.at - r.scheduledAt)),
    received: accepted.length - missing,
    missing,
    duplicates: receiver.duplicates() - dup0,
    cpu: usage,
  };
}

/**
 * Sustained deliveries: an open loop of SUSTAINED_RATE messages/s, round-robin over
 * SUSTAINED_TENANTS tenants of SUSTAINED_ENDPOINTS endpoints each (2,600 deliveries/s offered).
 * A gateway that keeps up delivers at the offered rate in the window and has next to nothing
 * queued when the sending stops. Spread over 16 endpoints because one endpoint is capped at
 * HOOKLINE_ENDPOINT_CONCURRENCY requests in flight (10 by default), by design.
 */
async function sustained(gateway, receiver, pool, apiKey) {
  const tenants = Array.from({ length: SUSTAINED_TENANTS }, (_, t) => `bench-sustained-${t}`);
  const path = (t, e) => `/sus${t}-${e}`;
  for (let t = 0; t < SUSTAINED_TENANTS; t++) {
    const { error } = await createEndpoints(pool, apiKey, {
      tenant: tenants[t],
      count: SUSTAINED_ENDPOINTS,
      urlOf: (e) => `${receiver.url}${path(t, e)}`,
      timeoutMs: 30_000,
    });
    if (error) throw new Error(`sustained: creating the endpoints failed: ${error}`);
  }
  const fire = messageFire(pool, apiKey, tenants);
  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  const offered = SUSTAINED_RATE * SUSTAINED_ENDPOINTS;
  progress(
    `sustained: ${SUSTAINED_RATE} messages/s over ${SUSTAINED_TENANTS} tenants × ${SUSTAINED_ENDPOINTS} endpoints (${offered} deliveries/s) for ${T.susWarmMs} + ${T.susMs} ms`,
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
  const expected = accepted.length * SUSTAINED_ENDPOINTS;
  // The sending has stopped when the last message is answered.
  const sendEnd = now();
  const deadline = now() + T.susSettleMs;
  while (receiver.received() - rec0 < expected && now() < deadline) await sleep(20);
  const receipts = await receiver.collect();
  let inWindow = 0;
  let bySendEnd = 0;
  for (const [key, t] of receipts) {
    if (!key.startsWith('/sus')) continue;
    if (t >= windowStart && t < windowEnd) inWindow++;
    if (t < sendEnd) bySendEnd++;
  }
  const acceptToReceipt = [];
  let missing = 0;
  for (const r of accepted) {
    for (let e = 0; e < SUSTAINED_ENDPOINTS; e++) {
      const at = receipts.get(`${path(r.tenant, e)}|${r.id}`);
      if (at === undefined) missing++;
      else if (r.scheduledAt >= windowStart) acceptToReceipt.push(at - r.at);
    }
  }
  const windowSeconds = T.susMs / 1000;
  return {
    rate: SUSTAINED_RATE,
    tenants: SUSTAINED_TENANTS,
    endpointsPerTenant: SUSTAINED_ENDPOINTS,
    endpoints: SUSTAINED_TENANTS * SUSTAINED_ENDPOINTS,
    offeredDeliveriesPerSec: offered,
    warmupMs: T.susWarmMs,
    durationMs: T.susMs,
    sent: run.results.length,
    accepted: accepted.length,
    errors: run.results.length - accepted.length,
    firstErrors: firstErrors(run.results),
    deliveriesPerSec: round(inWindow / windowSeconds),
    // Accepted deliveries not yet received when the last message was answered.
    backlogAtSendEnd: expected - bySendEnd,
    acceptToReceiptMs: latencyStats(acceptToReceipt),
    maxSendLagMs: round(run.maxSendLagMs, 1),
    expectedDeliveries: expected,
    missingDeliveries: missing,
    duplicates: receiver.duplicates() - dup0,
    cpu: usage,
  };
}

/**
 * Maximum intake: IN_FLIGHT requests in flight, closed loop, to a tenant with ONE endpoint, so
 * that accepted messages/s measures intake rather than fan-out. The worker delivers meanwhile
 * (same process); then the backlog drains, bounded by T.drainMs.
 */
async function maxIntake(gateway, receiver, pool, apiKey) {
  const tenant = 'bench-intake';
  const path = '/intake';
  await api(pool, apiKey, 'POST', '/v1/endpoints', {
    tenant_id: tenant,
    url: `${receiver.url}${path}`,
  });
  const fire = messageFire(pool, apiKey, [tenant]);
  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  progress(
    `maximum intake: ${IN_FLIGHT} in flight, 1 endpoint, ${T.intakeWarmMs} + ${T.intakeMs} ms`,
  );
  const start = now();
  const windowStart = start + T.intakeWarmMs;
  const plannedEnd = windowStart + T.intakeMs;
  let cpu;
  const cpuTimer = setTimeout(() => {
    cpu = cpuMeter(gateway.pid);
  }, T.intakeWarmMs);
  const results = await closedLoop({
    concurrency: IN_FLIGHT,
    durationMs: T.intakeWarmMs + T.intakeMs,
    fire,
    max: T.intakeMaxMessages,
  });
  clearTimeout(cpuTimer);
  const sendEnd = now();
  // The window ends with the sending (earlier than planned when a message cap stopped it).
  const windowEnd = Math.min(plannedEnd, sendEnd);
  const windowSeconds = Math.max(0.001, (windowEnd - windowStart) / 1000);
  const usage = cpu?.() ?? null;
  const accepted = results.filter((r) => r.ok);
  const expected = accepted.length;
  progress(
    `maximum intake: draining the backlog (${expected - (receiver.received() - rec0)} left)`,
  );
  const drainCpu = cpuMeter(gateway.pid);
  const drainDeadline = now() + T.drainMs;
  while (receiver.received() - rec0 < expected && now() < drainDeadline) await sleep(20);
  const drainUsage = drainCpu();
  const receipts = await receiver.collect();
  let inWindow = 0;
  let afterLoad = 0;
  let received = 0;
  let last = 0;
  for (const [key, t] of receipts) {
    if (!key.startsWith(`${path}|`)) continue;
    received++;
    if (t >= windowStart && t < windowEnd) inWindow++;
    if (t >= sendEnd) afterLoad++;
    if (t > last) last = t;
  }
  let missing = 0;
  for (const r of accepted) if (!receipts.has(`${path}|${r.id}`)) missing++;
  const backlogAtSendEnd = expected - (received - afterLoad);
  // Until the last receipt when drained; until the deadline when not.
  const drainSeconds = Math.max(0, ((missing === 0 ? last : now()) - sendEnd) / 1000);
  const acceptedInWindow = accepted.filter((r) => r.at >= windowStart && r.at < windowEnd).length;
  const okInWindow = accepted.filter((r) => r.scheduledAt >= windowStart);
  return {
    inFlight: IN_FLIGHT,
    endpoints: 1,
    warmupMs: T.intakeWarmMs,
    durationMs: T.intakeMs,
    sent: results.length,
    accepted: accepted.length,
    errors: results.length - accepted.length,
    firstErrors: firstErrors(results),
    windowSeconds: round(windowSeconds, 2),
    acceptedPerSec: round(acceptedInWindow / windowSeconds),
    deliveriesPerSec: round(inWindow / windowSeconds),
    acceptLatencyMs: latencyStats(okInWindow.map((r) => r.at - r.scheduledAt)),
    expectedDeliveries: expected,
    receivedDeliveries: received,
    missingDeliveries: missing,
    duplicates: receiver.duplicates() - dup0,
    backlogAtSendEnd,
    drainSeconds: round(drainSeconds, 2),
    deliveredAfterSending: afterLoad,
    drainDeliveriesPerSec: drainSeconds > 0.2 ? round(afterLoad / drainSeconds) : null,
    drained: missing === 0,
    overallDeliveriesPerSec: last > start ? round((received * 1000) / (last - start)) : null,
    cpu: usage,
    drainCpu: drainUsage,
  };
}

/**
 * Fan-out: FANOUT_ENDPOINTS endpoints on one tenant, each with a URL path of its own on the
 * receiver (so that receipts are per endpoint), created through the API with
 * FANOUT_CREATE_IN_FLIGHT requests in flight; then ONE message to that tenant. Its 202 comes
 * after the commit of the message and all its deliveries, so send → 202 is the fan-out's commit
 * time. Then the time until every delivery reached the receiver, bounded by T.fanDrainMs.
 */
async function fanOut(gateway, receiver, pool, apiKey) {
  const tenant = 'bench-fanout';
  const count = FANOUT_ENDPOINTS;
  const base = {
    endpoints: count,
    createInFlight: FANOUT_CREATE_IN_FLIGHT,
    created: 0,
    createSeconds: null,
    createdPerSec: null,
    error: null,
    commitMs: null,
    deliveryCount: null,
    firstReceiptMs: null,
    drainSeconds: null,
    drainDeliveriesPerSec: null,
    receivedDeliveries: 0,
    missingDeliveries: 0,
    duplicates: 0,
    drained: false,
    createCpu: null,
    drainCpu: null,
  };
  progress(`fan-out: creating ${count} endpoints, ${FANOUT_CREATE_IN_FLIGHT} requests in flight`);
  const createCpu = cpuMeter(gateway.pid);
  const createStart = now();
  const { created, error } = await createEndpoints(pool, apiKey, {
    tenant,
    count,
    urlOf: (k) => `${receiver.url}/fan/${k}`,
    inFlight: FANOUT_CREATE_IN_FLIGHT,
    timeoutMs: T.fanCreateMs,
  });
  const createSeconds = (now() - createStart) / 1000;
  Object.assign(base, {
    created,
    createSeconds: round(createSeconds, 2),
    createdPerSec: round(created / createSeconds),
    createCpu: createCpu(),
  });
  if (error) {
    progress(`fan-out: creating the endpoints failed, no message sent: ${error}`);
    return { ...base, error: `creating the endpoints: ${error}` };
  }

  const dup0 = receiver.duplicates();
  const rec0 = receiver.received();
  progress(`fan-out: one message to ${count} endpoints`);
  const drainCpu = cpuMeter(gateway.pid);
  const sentAt = now();
  let acceptedAt;
  let message;
  try {
    const res = await pool.request({
      method: 'POST',
      path: '/v1/messages',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenant, event_type: 'invoice.paid', payload: PAYLOAD }),
    });
    acceptedAt = now();
    const text = await res.body.text();
    if (res.statusCode !== 202) {
      return { ...base, error: `POST /v1/messages → ${res.statusCode}: ${text.slice(0, 300)}` };
    }
    message = JSON.parse(text);
  } catch (e) {
    return { ...base, error: `POST /v1/messages: ${String(e)}` };
  }
  const deadline = now() + T.fanDrainMs;
  while (receiver.received() - rec0 < count && now() < deadline) await sleep(20);
  const usage = drainCpu();
  const receipts = await receiver.collect();
  let received = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let k = 0; k < count; k++) {
    const t = receipts.get(`/fan/${k}|${message.id}`);
    if (t === undefined) continue;
    received++;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const missing = count - received;
  const drainSeconds = ((missing === 0 ? last : now()) - acceptedAt) / 1000;
  return {
    ...base,
    commitMs: round(acceptedAt - sentAt, 1),
    deliveryCount: message.delivery_count ?? null,
    firstReceiptMs: received > 0 ? round(first - acceptedAt, 1) : null,
    drainSeconds: round(drainSeconds, 2),
    drainDeliveriesPerSec: drainSeconds > 0 ? round(received / drainSeconds) : null,
    receivedDeliveries: received,
    missingDeliveries: missing,
    duplicates: receiver.duplicates() - dup0,
    drained: missing === 0,
    drainCpu: usage,
  };
}

/**
 * Exit tracking and stopping for a child spawned `detached` (its own process group, so a signal
 * reaches anything it started): `stop` sends SIGTERM and, after `graceMs`, SIGKILL.
 */
function childHandle(child, graceMs) {
  let exit = null;
  const exited = new Promise((done) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      done(exit);
    }),
  );
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {}
  };
  return {
    exit: () => exit,
    exited,
    async stop() {
      if (exit !== null) return;
      signal('SIGTERM');
      const stopped = await Promise.race([exited, sleep(graceMs).then(() => null)]);
      if (!stopped) {
        signal('SIGKILL');
        await exited;
      }
    },
    killNow() {
      if (exit === null) signal('SIGKILL');
    },
  };
}

/** The bare Hono route (bare-hono.mjs) in a child process of its own. */
async function startBareHono() {
  const port = await freePort();
  const child = spawn(process.execPath, [join(here, 'bare-hono.mjs'), gatewayDir, String(port)], {
    cwd: here,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const handle = childHandle(child, 5000);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const hono = {
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    versions: null,
    stop: handle.stop,
    killNow: handle.killNow,
  };
  running.hono = hono;
  await new Promise((ready, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`The bare Hono app did not listen within 15 s.\n${stderr}`)),
      15_000,
    );
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      hono.versions = JSON.parse(line).versions ?? null;
      ready();
    });
    void handle.exited.then((exit) => {
      clearTimeout(timer);
      fail(new Error(`The bare Hono app exited (${exit.code ?? exit.signal}).\n${stderr}`));
    });
  });
  return hono;
}

/**
 * The HTTP ceiling: the same load generator against a bare Hono JSON route at IN_FLIGHT in
 * flight, for as long as the maximum-intake phase (warm-up + window). Run before the gateway
 * starts, so that nothing else uses the CPU meanwhile.
 */
async function bareHonoBaseline() {
  progress(
    `baseline: bare Hono route, ${IN_FLIGHT} in flight for ${T.honoWarmMs} + ${T.intakeMs} ms`,
  );
  const hono = await startBareHono();
  const pool = makePool(hono.url);
  running.pools.push(pool);
  const fire = messageFire(pool, 'hl_sk_bare', ['bench-bare']);
  const windowStart = now() + T.honoWarmMs;
  const windowEnd = windowStart + T.intakeMs;
  let cpu;
  const cpuTimer = setTimeout(() => {
    cpu = cpuMeter(hono.pid);
  }, T.honoWarmMs);
  const results = await closedLoop({
    concurrency: IN_FLIGHT,
    durationMs: T.honoWarmMs + T.intakeMs,
    fire,
  });
  clearTimeout(cpuTimer);
  const usage = cpu?.() ?? null;
  const windowSeconds = (Math.min(windowEnd, now()) - windowStart) / 1000;
  const ok = results.filter((r) => r.ok);
  const inWindow = ok.filter((r) => r.at >= windowStart && r.at < windowEnd);
  await pool.close();
  await hono.stop();
  running.hono = null;
  return {
    inFlight: IN_FLIGHT,
    warmupMs: T.honoWarmMs,
    durationMs: T.intakeMs,
    versions: hono.versions,
    requestsPerSec: round(inWindow.length / windowSeconds),
    latencyMs: latencyStats(inWindow.map((r) => r.at - r.scheduledAt)),
    errors: results.length - ok.length,
    firstErrors: firstErrors(results),
    cpu: usage,
  };
}

// ---------------------------------------------------------------------------------------
// Main

function gatewayBinaryName() {
  if (SOURCE) return 'src/main.ts (tsx)';
  if (OTHER_GATEWAY) return `${OTHER_GATEWAY} (HOOKLINE_BENCH_GATEWAY)`;
  return 'apps/gateway/dist/main.js';
}

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
  const honoBase = await bareHonoBaseline();

  const passed = Object.fromEntries(
    PASS_THROUGH.filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
  );
  const benchSet = Object.fromEntries(Object.entries(BENCH_SETS).filter(([k]) => !(k in passed)));
  const env = {
    HOOKLINE_API_KEY: apiKey,
    HOOKLINE_ENCRYPTION_KEYS: encryptionKey,
    HOOKLINE_ALLOW_HTTP: 'true',
    HOOKLINE_ALLOW_NETWORKS: '127.0.0.0/8',
    HOOKLINE_HOST: '127.0.0.1',
    ...(databaseUrl ? { HOOKLINE_DATABASE_URL: databaseUrl } : {}),
    HOOKLINE_DATA_DIR: join(dir, 'data'),
    ...benchSet,
    ...passed,
  };
  progress(`starting the gateway (${gatewayBinaryName()})`);
  const startedAt = now();
  const gateway = await startGateway({ env, dir });
  const startupMs = now() - startedAt;

  let insertBase = null;
  if (databaseUrl) {
    try {
      insertBase = await insertBaseline(running.admin, running.database);
    } catch (error) {
      // E.g. another build's schema (HOOKLINE_BENCH_GATEWAY) without a column the loop writes.
      progress(`baseline: the insert-commit loop failed: ${error.message}`);
      insertBase = { error: error.message, commitsPerSec: null, single: null };
      await running.benchSql?.end({ timeout: 2 }).catch(() => {});
      running.benchSql = null;
    }
  }

  const pool = makePool(gateway.url);
  running.pools.push(pool);
  const fixed = await fixedLoad(gateway, receiver, pool, apiKey);
  const sus = await sustained(gateway, receiver, pool, apiKey);
  const intake = await maxIntake(gateway, receiver, pool, apiKey);
  if (!intake.drained) {
    progress(
      `maximum intake: ${intake.missingDeliveries} deliveries still queued; the fan-out phase shares the worker with them`,
    );
  }
  const peakRssBeforeFanOutBytes = statusField(gateway.pid, 'VmHWM');
  const fan = await fanOut(gateway, receiver, pool, apiKey);
  const peakRssBytes = statusField(gateway.pid, 'VmHWM');
  const rssAtEndBytes = statusField(gateway.pid, 'VmRSS');
  const logSummary = summariseLog(gateway.logPath);
  if (!gateway.alive()) throw new Error(`The gateway died.\n${gateway.logTail()}`);

  const mib = (bytes) => (bytes === null ? null : round(bytes / 2 ** 20, 1));
  const report = {
    bench: 'gateway',
    quick: QUICK,
    mode: EMBEDDED ? 'embedded' : 'postgres',
    gatewayBinary: gatewayBinaryName(),
    env: {
      node: process.version,
      cpu: cpus[0]?.model ?? 'unknown',
      cores: os.availableParallelism?.() ?? cpus.length,
      platform: `${process.platform} ${process.arch}`,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      postgres: postgresVersion,
      loadAverage: [loadAtStart, os.loadavg()[0]].map((l) => round(l, 2)),
      gatewayTuning: passed,
      setByBench: benchSet,
      receiverClockOffsetMs: round(receiver.clockOffsetMs, 3),
    },
    gateway: {
      startupMs: round(startupMs),
      log: logSummary,
      peakRssBytes,
      peakRssMiB: mib(peakRssBytes),
      peakRssMB: peakRssBytes === null ? null : round(peakRssBytes / 1e6, 1),
      peakRssBeforeFanOutBytes,
      peakRssBeforeFanOutMiB: mib(peakRssBeforeFanOutBytes),
      rssAtEndMiB: mib(rssAtEndBytes),
    },
    baselines: { receiver: receiverBase, bareHono: honoBase, insertCommit: insertBase },
    fixedLoad: fixed,
    sustained: sus,
    maxIntake: intake,
    fanOut: fan,
  };
  const ratio = (a, b) => (a && b ? round(a / b, 3) : null);
  report.ratios = {
    acceptedPerSecVsBareHono: ratio(intake.acceptedPerSec, honoBase.requestsPerSec),
    acceptedPerSecVsInsertCommit: ratio(intake.acceptedPerSec, insertBase?.commitsPerSec),
    sustainedDeliveriesPerSecVsReceiver: ratio(
      sus.deliveriesPerSec,
      receiverBase.max.requestsPerSec,
    ),
    intakeDeliveriesPerSecVsReceiver: ratio(
      intake.deliveriesPerSec,
      receiverBase.max.requestsPerSec,
    ),
    acceptLatencyP50VsReceiver: ratio(fixed.acceptLatencyMs.p50, receiverBase.fixed.latencyMs.p50),
    acceptToReceiptP50VsReceiver: ratio(
      fixed.acceptToReceiptMs.p50,
      receiverBase.fixed.latencyMs.p50,
    ),
  };
  const missing =
    fixed.missing + sus.missingDeliveries + intake.missingDeliveries + fan.missingDeliveries;
  const p99 = fixed.acceptToReceiptMs.p99;
  report.targets = [
    {
      id: 'acceptedPerSec',
      name: `≥ ${n(TARGETS.acceptedPerSec)} accepted messages/s (${IN_FLIGHT} in flight, 1 endpoint, ${intake.windowSeconds} s window)`,
      value: intake.acceptedPerSec,
      unit: '/s',
      pass: intake.acceptedPerSec !== null && intake.acceptedPerSec >= TARGETS.acceptedPerSec,
    },
    {
      // Kept up: the window's deliveries at the target, and at most a second of them still
      // queued when the sending stopped.
      id: 'deliveriesPerSec',
      name: `≥ ${n(TARGETS.deliveriesPerSec)} deliveries/s sustained (${n(sus.offeredDeliveriesPerSec)} /s offered over ${sus.tenants} tenants × ${sus.endpointsPerTenant} endpoints for ${T.susMs / 1000} s, ≤ 1 s of backlog at the end: ${n(sus.backlogAtSendEnd)})`,
      value: sus.deliveriesPerSec,
      unit: '/s',
      pass:
        sus.deliveriesPerSec >= TARGETS.deliveriesPerSec &&
        sus.backlogAtSendEnd <= sus.offeredDeliveriesPerSec,
    },
    {
      id: 'p99AcceptToReceipt',
      name: `p99 accept→receipt ≤ ${TARGETS.p99Ms} ms at ${FIXED_RATE} messages/s offered`,
      value: p99,
      unit: 'ms',
      pass: p99 !== null && p99 <= TARGETS.p99Ms,
    },
    {
      id: 'fanOutCommit',
      name: `fan-out of one message to ${n(FANOUT_ENDPOINTS)} endpoints committed (send → 202) in ≤ ${n(TARGETS.fanOutCommitMs)} ms`,
      value: fan.commitMs,
      unit: 'ms',
      pass:
        fan.error === null &&
        fan.deliveryCount === FANOUT_ENDPOINTS &&
        fan.commitMs !== null &&
        fan.commitMs <= TARGETS.fanOutCommitMs,
    },
    {
      id: 'peakRss',
      name: `peak RSS ≤ 300 MB (${n(TARGETS.peakRssBytes)} bytes = ${n(TARGETS.peakRssBytes / 2 ** 20, 1)} MiB) with ${n(FANOUT_ENDPOINTS)} endpoints`,
      value: peakRssBytes,
      unit: 'bytes',
      pass: peakRssBytes !== null && fan.error === null && peakRssBytes <= TARGETS.peakRssBytes,
    },
    {
      id: 'noneLost',
      name: `every accepted message received at least once, on every endpoint, in every phase (drains bounded: ${T.drainMs / 1000} s after maximum intake, ${T.fanDrainMs / 1000} s after the fan-out)`,
      value: missing,
      unit: 'missing',
      pass: missing === 0,
    },
  ];
  report.env.loadAverage[1] = round(os.loadavg()[0], 2);
  return report;
}

// ---------------------------------------------------------------------------------------
// Output

function n(v, digits = 0) {
  return v === null || v === undefined
    ? '—'
    : v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ms = (v) => (v === null || v === undefined ? '—' : `${n(v, v < 10 ? 2 : 1)} ms`);
const lat = (s) => `p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`;
const x = (v) =>
  v === null || v === undefined ? '—' : `${v < 0.1 ? v.toFixed(3) : v.toFixed(2)}×`;
const cores = (c, label = 'gateway') =>
  c
    ? `${label} ${n(c.gatewayCores, 2)} · database ${n(c.databaseCores, 2)} · bench ${n(c.benchCores, 2)} cores · machine ${n(c.machineBusyPct)} % busy`
    : '—';
const bytes = (b) =>
  b === null || b === undefined ? '—' : `${n(b / 2 ** 20, 1)} MiB (${n(b / 1e6, 1)} MB)`;

function print(r) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const row = (label, value) => out(`  ${label.padEnd(42)} ${value}`);
  out(
    `Hookline gateway benchmark${r.quick ? ' (--quick: a smoke run with scaled-down counts; figures are not meaningful)' : ''}`,
  );
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
  const benchSet = Object.entries(r.env.setByBench);
  out(
    `gateway settings: ${tuning.length ? tuning.map(([k, v]) => `${k}=${v}`).join(' ') : 'defaults'}${
      benchSet.length
        ? ` (the bench sets ${benchSet.map(([k, v]) => `${k}=${v}`).join(' ')} for the fan-out tenant)`
        : ''
    } · role all (API and worker in one process) · receiver in a worker thread (clock offset ${r.env.receiverClockOffsetMs} ms)`,
  );

  const rb = r.baselines.receiver;
  out('\nbaselines (same run)');
  row(`receiver alone, ${rb.fixed.rate} req/s open loop`, lat(rb.fixed.latencyMs));
  row(
    `receiver alone, ${rb.max.inFlight} in flight`,
    `${n(rb.max.requestsPerSec)} req/s  (p50 ${ms(rb.max.latencyMs.p50)}  p99 ${ms(rb.max.latencyMs.p99)})`,
  );
  const hb = r.baselines.bareHono;
  row(
    `bare Hono JSON route, ${hb.inFlight} in flight`,
    `${n(hb.requestsPerSec)} req/s  (p50 ${ms(hb.latencyMs.p50)}  p99 ${ms(hb.latencyMs.p99)}; ${hb.warmupMs / 1000} s warm-up + ${hb.durationMs / 1000} s; ${n(hb.errors)} errors)`,
  );
  if (hb.versions) {
    row(
      '',
      `hono ${hb.versions.hono} on @hono/node-server ${hb.versions.nodeServer}, own process; ${cores(hb.cpu, 'Hono')}`,
    );
  }
  if (hb.firstErrors.length) row('  first errors', hb.firstErrors.join(' | '));
  const ib = r.baselines.insertCommit;
  if (!ib) row(`insert-commit loop`, 'skipped (embedded)');
  else if (ib.error) row('insert-commit loop', `failed: ${ib.error}`);
  else {
    row(
      `insert-commit loop, ${ib.connections} connections`,
      `${n(ib.commitsPerSec)} commits/s (message + delivery, one statement; p50 ${ms(ib.latencyMs.p50)})`,
    );
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
  row('  during the warm-up (cold start)', lat(f.warmupAcceptToReceiptMs));
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
    `\nsustained: ${s.rate} messages/s round-robin over ${s.tenants} tenants × ${s.endpointsPerTenant} endpoints = ${n(s.offeredDeliveriesPerSec)} deliveries/s offered, open loop (${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s window)`,
  );
  out(
    `  (${s.endpoints} endpoints because one endpoint is capped at HOOKLINE_ENDPOINT_CONCURRENCY requests in flight, 10 by default: by design, one endpoint's throughput is at most 10 / round trip)`,
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

  const t = r.maxIntake;
  out(
    `\nmaximum intake: ${t.inFlight} requests in flight, closed loop, 1 endpoint (${t.warmupMs / 1000} s warm-up + ${t.windowSeconds} s window)`,
  );
  row(
    'accepted messages/s (window)',
    `${n(t.acceptedPerSec)} · ${n(t.errors)} errors of ${n(t.sent)} sent`,
  );
  row('deliveries/s during intake (window)', n(t.deliveriesPerSec));
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

  const o = r.fanOut;
  out(`\nfan-out: one message to a tenant with ${n(o.endpoints)} endpoints`);
  row(
    'endpoints created through the API',
    `${n(o.created)} of ${n(o.endpoints)} in ${n(o.createSeconds, 2)} s (${n(o.createdPerSec)} /s, ${o.createInFlight} in flight)`,
  );
  row('CPU while creating', cores(o.createCpu));
  if (o.error) row('FAILED', o.error);
  if (o.commitMs !== null) {
    row(
      'send → 202 (all deliveries committed)',
      `${ms(o.commitMs)} · delivery_count ${n(o.deliveryCount)}`,
    );
    row('202 → first receipt', ms(o.firstReceiptMs));
    row(
      '202 → last receipt',
      o.drained
        ? `${n(o.drainSeconds, 2)} s (${n(o.drainDeliveriesPerSec)} deliveries/s)`
        : `NOT drained within ${n(o.drainSeconds, 0)} s: ${n(o.missingDeliveries)} missing`,
    );
    row(
      'received',
      `${n(o.receivedDeliveries)} of ${n(o.endpoints)} deliveries · ${n(o.duplicates)} duplicates`,
    );
    row('CPU while delivering', cores(o.drainCpu));
  }

  out('\ngateway process');
  row('peak RSS (VmHWM, at the end)', bytes(r.gateway.peakRssBytes));
  row('  of it before the fan-out phase', bytes(r.gateway.peakRssBeforeFanOutBytes));
  row(
    'RSS at the end',
    r.gateway.rssAtEndMiB === null ? '—' : `${n(r.gateway.rssAtEndMiB, 1)} MiB`,
  );
  row('start to ready', ms(r.gateway.startupMs));
  row('log lines', n(r.gateway.log.lines));
  for (const entry of r.gateway.log.notable) {
    row(`  ${n(entry.count)} ×`, `${entry.message}${entry.example ? ` (${entry.example})` : ''}`);
  }

  out(`\ntargets${r.quick ? ' (--quick: printed for the plumbing, never fail the run)' : ''}`);
  for (const g of r.targets) {
    const v =
      g.unit === 'ms'
        ? ms(g.value)
        : g.unit === '/s'
          ? `${n(g.value)} /s`
          : g.unit === 'bytes'
            ? bytes(g.value)
            : `${n(g.value)} ${g.unit}`;
    out(`  ${g.pass ? 'PASS' : 'FAIL'}  ${g.name}: ${v}`);
  }

  const q = r.ratios;
  out('\nratios to the baselines of this run');
  row('accepted msg/s ÷ bare Hono req/s', x(q.acceptedPerSecVsBareHono));
  row('accepted msg/s ÷ insert commits/s (32)', x(q.acceptedPerSecVsInsertCommit));
  row('sustained deliveries/s ÷ receiver req/s', x(q.sustainedDeliveriesPerSecVsReceiver));
  row('intake deliveries/s ÷ receiver req/s', x(q.intakeDeliveriesPerSecVsReceiver));
  row(`202 p50 ÷ receiver p50 (${FIXED_RATE}/s)`, x(q.acceptLatencyP50VsReceiver));
  row('accept→receipt p50 ÷ receiver p50', x(q.acceptToReceiptP50VsReceiver));
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
  const failed = report.targets.filter((g) => !g.pass);
  // A full run is a gate: a failed target is a non-zero exit (3, apart from 1 = the run broke).
  if (failed.length && !QUICK) {
    progress(`${failed.length} target(s) not met: ${failed.map((g) => g.id).join(', ')}`);
    code = 3;
  }
} catch (error) {
  progress(`failed: ${error?.stack ?? error}`);
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);

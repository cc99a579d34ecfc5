// The benchmark's webhook receiver, run in a worker thread of run.mjs so that it never shares an
// event loop with the load generator: a node:http server on 127.0.0.1 that answers 204 at once
// and records, per (path, webhook-id), when the request's headers arrived. Duplicates (a second
// request for the same path and id) are counted, never recorded twice.
//
// Protocol (parentPort): → {type:'listening', port, now} once it listens;
// ← {type:'collect', seq} → {type:'collected', seq, keys: string[], times: Float64Array} and the
// record is cleared; ← {type:'ping', seq} → {type:'pong', seq, now} (clock offset check);
// ← {type:'close'} → closes the server and exits.
// `counters` (workerData, Int32Array over a SharedArrayBuffer): [0] receipts, [1] duplicates,
// readable by the parent at any time without a round trip.

import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const now = () => performance.timeOrigin + performance.now();
const counters = new Int32Array(workerData.counters);

/** key → index into `times`; cleared by 'collect'. */
let seen = new Map();
let keys = [];
let times = [];

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const t = now();
  const id = req.headers['webhook-id'];
  if (typeof id === 'string') {
    const key = `${req.url}|${id}`;
    if (seen.has(key)) {
      Atomics.add(counters, 1, 1);
    } else {
      seen.set(key, keys.length);
      keys.push(key);
      times.push(t);
      Atomics.add(counters, 0, 1);
    }
  }
  // The body is not needed; draining it keeps the keep-alive connection reusable.
  req.resume();
  res.writeHead(204);
  res.end();
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

server.listen(0, '127.0.0.1', () => {
  parentPort.postMessage({ type: 'listening', port: server.address().port, now: now() });
});

parentPort.on('message', (message) => {
  if (message.type === 'collect') {
    const out = Float64Array.from(times);
    parentPort.postMessage({ type: 'collected', seq: message.seq, keys, times: out }, [out.buffer]);
    seen = new Map();
    keys = [];
    times = [];
  } else if (message.type === 'ping') {
    parentPort.postMessage({ type: 'pong', seq: message.seq, now: now() });
  } else if (message.type === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});

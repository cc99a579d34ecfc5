// The bare-Hono ceiling of the gateway benchmark: the same web framework and server adapter as
// the gateway (hono on @hono/node-server, resolved from apps/gateway's own dependencies so that
// the versions match), with one route, `POST /v1/messages`, that reads the JSON body and answers
// 202 with a small JSON object. No auth, validation or database: what is left is the HTTP,
// framework and JSON cost that every accepted message pays, so the gateway's accepted
// messages/s divided by this route's requests/s shows how much of the ceiling the gateway keeps.
//
// Run by run.mjs as a child process of its own (as the gateway is, so that it has its own event
// loop and its CPU can be metered): `node bare-hono.mjs <apps/gateway dir> <port>`. Prints one
// JSON line, {"listening": <port>, "versions": {…}}, on stdout once it listens; exits on SIGTERM.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [gatewayDir, portArg] = process.argv.slice(2);
if (!gatewayDir || !portArg) {
  throw new Error('Usage: node bare-hono.mjs <apps/gateway directory> <port>');
}
const requireFromGateway = createRequire(join(gatewayDir, 'package.json'));

/**
 * A dependency of the gateway as the gateway's ESM code imports it: resolve the package from
 * apps/gateway (require.resolve gives its CommonJS entry), find its package.json, and import
 * the `import` entry of its exports (the CommonJS build when there is none). Also returns the
 * package's version, for the report.
 */
async function importFromGateway(name) {
  const cjsEntry = requireFromGateway.resolve(name);
  for (let dir = dirname(cjsEntry); dirname(dir) !== dir; dir = dirname(dir)) {
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.name !== name) continue;
    const entry = manifest.exports?.['.']?.import ?? manifest.module;
    const file = typeof entry === 'string' ? entry : entry?.default;
    const module = file
      ? await import(pathToFileURL(join(dir, file)).href)
      : requireFromGateway(name);
    return { module, version: manifest.version };
  }
  return { module: requireFromGateway(name), version: null };
}

const hono = await importFromGateway('hono');
const nodeServer = await importFromGateway('@hono/node-server');
const { Hono } = hono.module;
const { serve } = nodeServer.module;

let count = 0;
const app = new Hono();
app.post('/v1/messages', async (c) => {
  const body = await c.req.json();
  count++;
  // The shape of the gateway's 202, so that the client parses as much.
  return c.json(
    {
      id: `msg_bare${String(count).padStart(22, '0')}`,
      tenant_id: body.tenant_id,
      event_type: body.event_type,
      created_at: new Date().toISOString(),
      delivery_count: 1,
    },
    202,
  );
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(portArg) }, (info) => {
  const versions = { hono: hono.version, nodeServer: nodeServer.version };
  process.stdout.write(`${JSON.stringify({ listening: info.port, versions })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}

// The real gateway in process on embedded PGlite (a fresh temp directory), allowed to deliver to
// loopback over http, and a receiver on 127.0.0.1 that records what it gets.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '@hookline/gateway';

export async function startTestGateway() {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-example-'));
  const gateway = await startGateway({
    env: {
      HOOKLINE_DATA_DIR: dataDir,
      HOOKLINE_HOST: '127.0.0.1',
      HOOKLINE_PORT: '0',
      HOOKLINE_ALLOW_NETWORKS: '127.0.0.0/8',
      HOOKLINE_ALLOW_HTTP: 'true',
      HOOKLINE_LOG_LEVEL: 'silent',
    },
    printBanner: false,
  }).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: gateway.url!,
    apiKey: gateway.apiKey!,
    stop: async () => {
      await gateway.stop({ graceMs: 1_000 });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export async function startReceiver() {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

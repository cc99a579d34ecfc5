/**
 * A loopback TCP proxy in front of PostgreSQL, for database faults: it can refuse connections for
 * a while (`cut`, `restore`), or leave its open connections silent (`silence`): nothing more is
 * forwarded either way and nothing is closed, as when a network path drops packets or a primary
 * vanishes in a failover, while new connections pass as before (to "the new primary"). It dials
 * only the target it was given, on loopback.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export interface TcpProxy {
  /** The target URL with the proxy's host and port. */
  url(): string;
  /** Drops every connection and refuses new ones (nothing listens on the port). */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Stops forwarding on every open connection, both ways, without closing it; returns how many. */
  silence(): number;
  /** Connections open now (silenced ones included). */
  readonly open: number;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  silent: boolean;
}

export async function startTcpProxy(target: URL): Promise<TcpProxy> {
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(target.hostname)) {
    throw new Error(`The test proxy forwards to loopback only, not ${target.hostname}.`);
  }
  // Every open connection, silenced ones included (they stay open until close()).
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = tcpConnect(Number(target.port || 5432), '127.0.0.1');
        const pair: Pair = { client, upstream, silent: false };
        pairs.add(pair);
        for (const socket of [client, upstream]) {
          socket.on('error', () => {});
          socket.on('close', () => {
            pairs.delete(pair);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address();
        port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  const destroyAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  await open();
  return {
    url: () => {
      const url = new URL(target);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    cut: () =>
      new Promise<void>((done) => {
        destroyAll();
        server!.close(() => done());
      }),
    restore: open,
    silence: () => {
      let silenced = 0;
      for (const pair of pairs) {
        if (pair.silent) continue;
        pair.silent = true;
        silenced++;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        // Read nothing more: what either side sends stays in the kernel's buffers.
        pair.client.pause();
        pair.upstream.pause();
      }
      return silenced;
    },
    get open() {
      return pairs.size;
    },
    close: async () => {
      destroyAll();
      await new Promise<void>((done) => (server?.listening ? server.close(() => done()) : done()));
    },
  };
}

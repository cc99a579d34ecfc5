import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request a test receiver got, body included. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Answers a request; gets the full request body. May leave the response hanging. */
export type ReceiverHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A local HTTP(S) server on 127.0.0.1 that records what it receives. */
export interface Receiver {
  /** `http://127.0.0.1:<port>` (or https). */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** TCP connections accepted so far (to see keep-alive reuse, or that nothing dialled). */
  readonly connections: number;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1, port 0; default answer 204. Pass `tls` for HTTPS. */
export async function startReceiver(
  handler: ReceiverHandler = (_req, res) => res.writeHead(204).end(),
  options: { tls?: { cert: string; key: string } } = {},
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let connections = 0;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttpServer(listener);
  server.on('connection', () => {
    connections++;
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

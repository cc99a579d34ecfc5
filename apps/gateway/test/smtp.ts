/**
 * A real SMTP server on 127.0.0.1 for alert email tests (smtp-server), keeping every message it
 * accepted, parsed (mailparser). No TLS, authentication optional.
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One accepted message: its SMTP envelope and the parsed mail. */
export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  mail: ParsedMail;
}

/** A running test SMTP server. */
export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`. */
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Stops listening and drops open sessions. */
  close(): Promise<void>;
}

/** What to answer to a message instead of accepting it (e.g. `{ code: 451 }`), or null. */
export type SmtpRefusal = (count: number) => { code: number; message: string } | null;

/** Starts a server on 127.0.0.1 (port 0 = any free port); `refuse` may turn messages away. */
export async function startSmtpServer(
  options: { port?: number; refuse?: SmtpRefusal } = {},
): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  let seen = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        seen++;
        const refusal = options.refuse?.(seen) ?? null;
        if (refusal) {
          callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (mail) => {
            const from = session.envelope.mailFrom;
            messages.push({
              envelopeFrom: from === false ? '' : from.address,
              envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              mail,
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of server.connections) connection.close();
        server.close(() => resolve());
      }),
  };
}

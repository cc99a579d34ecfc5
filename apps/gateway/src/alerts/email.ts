/**
 * Alert emails over SMTP (`HOOKLINE_SMTP_URL`) through nodemailer. `smtp://` upgrades with
 * STARTTLS when the server offers it; `smtps://` is TLS from the first byte. Connection options
 * nodemailer reads from the URL's query (e.g. `?requireTLS=true`) apply too.
 */
import { createTransport } from 'nodemailer';

/** One alert email. */
export interface EmailMessage {
  from: string;
  to: readonly string[];
  subject: string;
  text: string;
  html: string;
  /** Extra headers (e.g. to tie retries of one alert together). */
  headers?: Record<string, string>;
}

/** What the server did with the recipients. */
export interface EmailResult {
  accepted: string[];
  rejected: string[];
}

/** Sends alert emails; one per process, closed at stop. */
export interface EmailTransport {
  /** Sends one message; rejects when the server refused it (or every recipient). */
  send(message: EmailMessage): Promise<EmailResult>;
  /** Closes pooled connections. */
  close(): void;
}

/** Options beyond the URL (tests, private CAs). */
export interface EmailTransportOptions {
  /** TLS options for STARTTLS and smtps (e.g. `{ rejectUnauthorized: false }` for a test server). */
  tls?: { rejectUnauthorized?: boolean; ca?: string | string[] };
  /** Connect, greeting and idle-socket limits (defaults 10 s, 10 s, 30 s). */
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
}

function addressOf(entry: unknown): string {
  return typeof entry === 'string' ? entry : String((entry as { address?: unknown }).address);
}

/** A transport over `smtp://` or `smtps://` (user and password may be in the URL). */
export function createEmailTransport(
  smtpUrl: string,
  options: EmailTransportOptions = {},
): EmailTransport {
  const transport = createTransport({
    url: smtpUrl,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    // Never log through nodemailer: its transcripts hold addresses and message bodies.
    logger: false,
    debug: false,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  return {
    async send(message) {
      const info = await transport.sendMail({
        from: message.from,
        to: [...message.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
        ...(message.headers ? { headers: message.headers } : {}),
      });
      return {
        accepted: (info.accepted ?? []).map(addressOf),
        rejected: (info.rejected ?? []).map(addressOf),
      };
    },
    close() {
      transport.close();
    },
  };
}

/**
 * A short description of a send failure without addresses (they go to debug logs only), and
 * whether retrying can help: an SMTP 5xx refusal is permanent, anything else (4xx, a
 * connection or TLS problem, a timeout) may pass.
 */
export function describeEmailError(error: unknown): { message: string; permanent: boolean } {
  const e = error as {
    code?: unknown;
    responseCode?: unknown;
    command?: unknown;
    message?: unknown;
  };
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
  const code = typeof e.code === 'string' ? e.code : null;
  const command = typeof e.command === 'string' ? e.command.split(' ')[0] : null;
  const parts: string[] = [];
  if (responseCode !== null) parts.push(`SMTP ${responseCode}`);
  if (command) parts.push(`on ${command}`);
  if (code) parts.push(`(${code})`);
  if (parts.length === 0) {
    const text = typeof e.message === 'string' ? e.message : String(error);
    // Addresses are the tenant's: kept out of errors that reach warn-level logs.
    parts.push(text.replace(/[^\s<>"']+@[^\s<>"']+/g, '[address]').slice(0, 300));
  }
  return {
    message: `email not sent: ${parts.join(' ')}`,
    permanent: responseCode !== null && responseCode >= 500 && responseCode < 600,
  };
}

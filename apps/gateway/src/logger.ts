import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Field paths that must never reach a log line, whatever a caller passes in.
 * Logging code should not pass these at all; this is the safety net.
 */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  'secrets',
  'payload',
  '*.payload',
  'body',
  '*.body',
  'headers.authorization',
  '*.headers.authorization',
  'headers["webhook-signature"]',
  '*.headers["webhook-signature"]',
  'token',
  '*.token',
  'apiKey',
  'params',
  '*.params',
];

/** The gateway's structured JSON logger (pino), with secrets and payloads redacted. */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'hookline-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

export type { Logger };

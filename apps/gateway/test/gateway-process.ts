/**
 * Runs the real gateway binary (`src/main.ts` through tsx, or the built `dist/main.js`) as a child
 * process for end-to-end tests, and reads what it prints: JSON log lines, the listening URL and
 * the one-time API key banner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const GATEWAY_DIR = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const BUILT_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const API_KEY = /\bhl_sk_[A-Za-z0-9_-]{20,}/;

/** A gateway child process. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` once it listens ('' for a worker-only process). */
  readonly url: string;
  /** The key from the one-time banner, when this start printed one. */
  readonly apiKey: string | undefined;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal; SIGKILL kills at once. */
  kill(signal?: NodeJS.Signals): void;
}

/** Options of `spawnGateway`. */
export interface SpawnOptions {
  /** The gateway's environment on top of a minimal one (PATH, HOME). */
  env: Record<string, string | undefined>;
  /** Run `dist/main.js` instead of `src/main.ts` through tsx. */
  built?: boolean;
  /** How long to wait for the listening line. Default 30 s. */
  startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A test that fails before its afterAll must still not leave a gateway behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** True when `dist/main.js` exists (the built binary can be tested). */
export function builtGatewayExists(): boolean {
  return existsSync(BUILT_MAIN);
}

/** Starts the gateway and resolves once it logged its listening URL. */
export async function spawnGateway(options: SpawnOptions): Promise<GatewayProcess> {
  const args = options.built
    ? [BUILT_MAIN]
    : [
        // Workspace siblings from their src/, as in tests: no build needed.
        '--conditions=@hookline/source',
        '--import',
        import.meta.resolve('tsx'),
        SOURCE_MAIN,
      ];
  const child = spawn(process.execPath, args, {
    cwd: GATEWAY_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      done({ code, signal });
    });
  });

  const lines: string[] = [];
  let stderr = '';
  let apiKey: string | undefined;
  let url: string | undefined;
  let onUrl: (() => void) | undefined;
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      const key = API_KEY.exec(line);
      if (key && !line.startsWith('{')) apiKey ??= key[0];
      if (line.startsWith('{')) {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string | null; role?: string };
          // A worker-only process (HOOKLINE_ROLE=worker) is ready with no URL.
          if (
            entry.msg === 'listening' &&
            (typeof entry.url === 'string' || entry.role === 'worker')
          ) {
            url = entry.url ?? '';
            onUrl?.();
          }
        } catch {
          // not a log line
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The gateway did not start within ${timeoutMs} ms.\n${stderr}`));
    }, timeoutMs);
    onUrl = () => {
      clearTimeout(timer);
      resolve();
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `The gateway exited (${code ?? signal}) before listening.\n${stderr}\n${lines.join('\n')}`,
        ),
      );
    });
  });

  return {
    child,
    url: url!,
    get apiKey() {
      return apiKey;
    },
    lines,
    stderr: () => stderr,
    logs: () =>
      lines.flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Stops a gateway: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopGateway(
  gateway: GatewayProcess | undefined,
  graceMs = 10_000,
): Promise<void> {
  if (!gateway) return;
  gateway.kill('SIGTERM');
  const timer = setTimeout(() => gateway.kill('SIGKILL'), graceMs);
  await gateway.exited;
  clearTimeout(timer);
}

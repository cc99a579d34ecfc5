/**
 * A private PgBouncer on loopback in front of a loopback PostgreSQL, in session mode (what the
 * gateway supports: LISTEN needs it), with PgBouncer's default handling of startup parameters:
 * any it does not know is refused. Debian's `pgbouncer` package provides the binary (`.ci/run`
 * installs it).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './faults/private-postgres';

/** The PgBouncer binary, or null when this machine has none. */
export function findPgBouncer(): string | null {
  for (const path of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) {
    if (existsSync(path)) return path;
  }
  return null;
}

/** A running PgBouncer. */
export interface PgBouncer {
  /** `target` with PgBouncer's host and port. */
  url(target: string): string;
  readonly port: number;
  /** `pgbouncer --version`'s first line. */
  readonly version: string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its directory. */
  close(): Promise<void>;
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts PgBouncer in front of the PostgreSQL server of `target` (loopback only). */
export async function startPgBouncer(target: string): Promise<PgBouncer> {
  const binary = findPgBouncer();
  if (!binary) throw new Error('No pgbouncer binary on this machine (apt-get install pgbouncer).');
  const server = new URL(target);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(server.hostname)) {
    throw new Error(`The test PgBouncer forwards to loopback only, not ${server.hostname}.`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'hookline-pgbouncer-'));
  // PgBouncer will not run as root: as root, it runs as nobody, who must read and write here.
  await chmod(dir, 0o777);
  const port = await freePort();
  const user = decodeURIComponent(server.username || 'postgres');
  await writeFile(join(dir, 'users.txt'), `"${user}" ""\n`, { mode: 0o644 });
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname.replace(/^\[|\]$/g, '')} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = session',
      'max_client_conn = 200',
      'default_pool_size = 40',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const version = execFileSync(binary, ['--version']).toString().split('\n')[0]!.trim();
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const child = spawn(binary, [...(asRoot ? ['-u', 'nobody'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = performance.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      running.delete(child);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`PgBouncer did not start: ${stderr.trim() || `exit ${child.exitCode}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    version,
    url(of: string) {
      const url = new URL(of);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

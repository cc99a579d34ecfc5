/**
 * A private PostgreSQL cluster for one test, so that it can be restarted under load without
 * touching the shared test server: `initdb` into a temp directory, `pg_ctl start` on a free
 * loopback port (no TCP elsewhere, socket in the data directory), `restart -m fast`, and an
 * immediate stop plus removal of the directory afterwards (also if the test process exits).
 * PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where `initdb` and `pg_ctl` live, or null when this machine has no PostgreSQL server binaries. */
export function findPostgresBinaries(): { initdb: string; pgCtl: string } | null {
  const dirs = [
    '/usr/local/bin',
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort()
          .reverse()
          .map((version) => `/usr/lib/postgresql/${version}/bin`)
      : []),
  ];
  for (const dir of dirs) {
    const initdb = join(dir, 'initdb');
    const pgCtl = join(dir, 'pg_ctl');
    if (existsSync(initdb) && existsSync(pgCtl)) return { initdb, pgCtl };
  }
  return null;
}

/** A running private cluster. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  /**
   * `pg_ctl restart -m fast`, or with `downMs` a fast stop, that long with no server, and a start;
   * resolves once it accepts connections again, with the ms taken.
   */
  restart(options?: { downMs?: number }): Promise<number>;
  /** Stops it at once and removes its directory. */
  dispose(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const started = new Set<string>();
process.once('exit', () => {
  const binaries = findPostgresBinaries();
  for (const dir of started) {
    try {
      execFileSync(...asPostgres(binaries!.pgCtl, ['-D', dir, '-m', 'immediate', 'stop']), {
        stdio: 'ignore',
      });
    } catch {
      // already stopped
    }
  }
});

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function asPostgres(bin: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/** Creates and starts a private cluster (a few seconds). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const binaries = findPostgresBinaries();
  if (!binaries) throw new Error('No initdb/pg_ctl on this machine.');
  const dir = await mkdtemp(join(tmpdir(), 'hookline-faults-pg-'));
  const dataDir = join(dir, 'data');
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
  }
  const pgCtl = (args: string[]) => run(...asPostgres(binaries.pgCtl, ['-D', dataDir, ...args]));
  try {
    await run(
      ...asPostgres(binaries.initdb, [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--no-sync',
        '--no-instructions',
      ]),
    );
    const port = await freePort();
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c max_connections=40',
      '-c shared_buffers=32MB',
    ].join(' ');
    await pgCtl(['-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    started.add(dataDir);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      restart: async ({ downMs } = {}) => {
        const t0 = performance.now();
        const log = join(dir, 'server.log');
        if (downMs === undefined) {
          // Keeps the options of the first start (postmaster.opts); the log file must be named
          // again, or the server would hold this call's stdout open.
          await pgCtl(['-m', 'fast', '-l', log, '-w', '-t', '30', 'restart']);
        } else {
          await pgCtl(['-m', 'fast', '-w', '-t', '30', 'stop']);
          await new Promise((done) => setTimeout(done, downMs));
          await pgCtl(['-o', options, '-l', log, '-w', '-t', '30', 'start']);
        }
        return performance.now() - t0;
      },
      dispose: async () => {
        await pgCtl(['-m', 'immediate', 'stop']).catch(() => {});
        started.delete(dataDir);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await pgCtl(['-m', 'immediate', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

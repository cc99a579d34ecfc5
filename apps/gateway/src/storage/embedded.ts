import { existsSync, mkdirSync } from 'node:fs';
import { open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { DataDirLockedError } from './errors';
import { wrapPglite } from './pglite-driver';
import type { SqlClient } from './sql';

/** The gateway's own lock file in the data directory. */
export const LOCK_FILE = 'hookline.lock';
/** The PostgreSQL data directory inside the gateway's data directory. */
export const PGDATA_DIR = 'pgdata';

/** What the lock file records about its holder. */
interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** A held data-directory lock. */
export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file (only if it is still ours). */
  release(): Promise<void>;
}

// Directories this process holds: a second open in the same process would corrupt it just the same.
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder; null when there is no lock file; 'unreadable' when it is not ours to parse. */
async function readLock(path: string): Promise<LockInfo | null | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const info = JSON.parse(text) as Partial<LockInfo>;
    if (typeof info.pid !== 'number') return 'unreadable';
    return {
      pid: info.pid,
      hostname: String(info.hostname ?? ''),
      startedAt: String(info.startedAt),
    };
  } catch {
    return 'unreadable';
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Takes the data directory for this process: creates `hookline.lock` holding our pid, or, when it
 * exists, fails with `DataDirLockedError` naming the live holder. A lock left by a dead process on
 * this host is stale and is replaced.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  mkdirSync(dir, { recursive: true });
  if (heldHere.has(dir)) throw new DataDirLockedError(dir, process.pid, path, ' (this process)');

  for (let tries = 0; tries < 50; tries++) {
    const mine: LockInfo = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
    };
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(JSON.stringify(mine));
        await handle.sync();
      } finally {
        await handle.close();
      }
      heldHere.add(dir);
      return {
        path,
        release: async () => {
          heldHere.delete(dir);
          const current = await readLock(path);
          if (current !== null && current !== 'unreadable' && current.pid === process.pid) {
            await rm(path, { force: true });
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLock(path);
    if (holder === null) continue; // removed meanwhile: try again
    if (holder === 'unreadable') {
      // Another process may be between creating and writing it; only an old one is garbage.
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (age < 2000) {
        await sleep(100);
        continue;
      }
      await rm(path, { force: true });
      continue;
    }
    if (holder.hostname !== '' && holder.hostname !== hostname()) {
      // A shared volume: a pid on another host cannot be checked, so never assume it is dead.
      throw new DataDirLockedError(dir, holder.pid, path, ` on host ${holder.hostname}`);
    }
    if (holder.pid === process.pid || isAlive(holder.pid)) {
      throw new DataDirLockedError(dir, holder.pid, path);
    }
    // The holder is gone (killed or crashed): its lock is stale.
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  throw new Error(`Could not take the lock ${path}: it keeps changing hands.`);
}

/**
 * Opens the embedded database in `<dataDir>/pgdata` under the data-directory lock. A
 * `postmaster.pid` found there is stale by then (its owner is dead, or the lock would not be
 * ours) and would make PGlite hang, so it is removed. Closing the client releases the lock.
 */
export async function openEmbedded(dataDir: string): Promise<SqlClient> {
  const lock = await lockDataDir(dataDir);
  try {
    const pgdata = join(resolve(dataDir), PGDATA_DIR);
    const stalePid = join(pgdata, 'postmaster.pid');
    if (existsSync(stalePid)) await rm(stalePid, { force: true });
    const db = await PGlite.create(pgdata);
    return wrapPglite(db, () => lock.release());
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Opens a throwaway in-memory PGlite database (tests, `--memory`). */
export async function openInMemory(): Promise<SqlClient> {
  return wrapPglite(await PGlite.create());
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { LOCK_FILE, lockDataDir, PGDATA_DIR } from './embedded';
import { DataDirLockedError } from './errors';
import { sql } from './sql';

const holder = fileURLToPath(new URL('../../test/hold-data-dir.ts', import.meta.url));

function startHolder(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', holder, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`holder exited (${code}): ${output}`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('the embedded data directory', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hookline-embedded-'));
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await killHard(child);
    child = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a second process naming the holder, and reopens with every committed row after the holder is SIGKILLed', {
    timeout: 90_000,
  }, async () => {
    child = await startHolder(dataDir);
    const error = await openDatabase({ kind: 'embedded', dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).pid).toBe(child.pid);
    expect((error as Error).message).toContain(`process ${child.pid}`);

    await killHard(child);
    // What a SIGKILL leaves behind: our lock file and PGlite's postmaster.pid.
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true);
    expect(existsSync(join(dataDir, PGDATA_DIR, 'postmaster.pid'))).toBe(true);

    const started = performance.now();
    const db = await openDatabase({ kind: 'embedded', dataDir });
    try {
      console.info(`reopened after SIGKILL in ${(performance.now() - started).toFixed(0)} ms`);
      const rows = await db.sql.query(sql`select note from survivors`);
      expect(rows).toEqual([{ note: 'committed before the kill' }]);
      const lock = JSON.parse(await readFile(join(dataDir, LOCK_FILE), 'utf8'));
      expect(lock.pid).toBe(process.pid);
    } finally {
      await db.close();
    }
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('refuses to open the same directory twice in one process', async () => {
    const lock = await lockDataDir(dataDir);
    try {
      await expect(lockDataDir(dataDir)).rejects.toThrow(/this process/);
    } finally {
      await lock.release();
    }
    const again = await lockDataDir(dataDir);
    await again.release();
  });

  it('replaces a lock whose holder is dead, and respects one from another host', async () => {
    const exited = spawn(process.execPath, ['-e', '']);
    await new Promise((done) => exited.once('exit', done));
    await writeFile(
      join(dataDir, LOCK_FILE),
      JSON.stringify({ pid: exited.pid, hostname: (await import('node:os')).hostname() }),
    );
    const lock = await lockDataDir(dataDir);
    await lock.release();

    await writeFile(
      join(dataDir, LOCK_FILE),
      JSON.stringify({ pid: 12345, hostname: 'another-host.example' }),
    );
    await expect(lockDataDir(dataDir)).rejects.toThrow(/another-host\.example/);
  });

  it('keeps data across a clean close and reopen', { timeout: 60_000 }, async () => {
    const first = await openDatabase({ kind: 'embedded', dataDir });
    await first.sql.query(sql`insert into api_keys (id, key_hash) values ('key_1', 'h')`);
    await first.close();
    expect(existsSync(join(dataDir, PGDATA_DIR, 'postmaster.pid'))).toBe(false);
    const second = await openDatabase({ kind: 'embedded', dataDir });
    try {
      expect((await second.migrationStatus()).ready).toBe(true);
      expect(await second.sql.query(sql`select id from api_keys`)).toEqual([{ id: 'key_1' }]);
    } finally {
      await second.close();
    }
  });
});

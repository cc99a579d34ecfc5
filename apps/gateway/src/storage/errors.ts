/**
 * A database failure, re-thrown without the statement's parameters: drivers attach the
 * parameters to their errors, and those may hold payloads or secrets that must never be logged.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  /** SQLSTATE, e.g. `23505` for a unique violation. */
  readonly code: string | undefined;
  /** The violated constraint's name, when there is one. */
  readonly constraint: string | undefined;

  constructor(message: string, code?: string, constraint?: string) {
    super(message);
    this.code = code;
    this.constraint = constraint;
  }

  /** Wraps any driver error, keeping only its message, SQLSTATE and constraint name. */
  static from(error: unknown): StorageError {
    if (error instanceof StorageError) return error;
    const e = error as {
      message?: unknown;
      code?: unknown;
      constraint?: unknown;
      constraint_name?: unknown;
    };
    const message = typeof e?.message === 'string' ? e.message : 'Database error.';
    const code = typeof e?.code === 'string' ? e.code : undefined;
    const constraint =
      typeof e?.constraint === 'string'
        ? e.constraint
        : typeof e?.constraint_name === 'string'
          ? e.constraint_name
          : undefined;
    return new StorageError(message, code, constraint);
  }
}

/** Thrown when the embedded data directory is already open in another (or this) process. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'data_dir_locked';
  /** The pid that holds the directory. */
  readonly pid: number;

  constructor(dataDir: string, pid: number, lockFile: string, detail = '') {
    super(
      `The data directory ${dataDir} is in use by process ${pid}${detail}. Stop that process, or ` +
        `point HOOKLINE_DATA_DIR elsewhere; if no Hookline gateway is running, delete ${lockFile}.`,
    );
    this.pid = pid;
  }
}

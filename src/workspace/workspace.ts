import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from './errors.js';
import { log } from './log.js';

/** A row returned by {@link Workspace.query}: big integers and decimals become numbers, dates and timestamps ISO-like strings. */
export type Row = Record<string, unknown>;

export type SqlParams = readonly DuckDBValue[] | Record<string, DuckDBValue>;

/** Explicit parameter types, needed where DuckDB cannot infer one (lists, NULLs). */
export type SqlParamTypes = Record<string, DuckDBType | undefined>;

export interface WorkspaceOptions {
  /** Database file, or ':memory:'. */
  readonly path: string;
  /** Directories DuckDB may read. Empty means the engine reads no external files. */
  readonly allowedDirectories?: readonly string[];
  /** DuckDB memory_limit, e.g. '2GB'. */
  readonly memoryLimit?: string;
  /** Number of DuckDB threads; defaults to DuckDB's own choice. */
  readonly threads?: number;
  /** Turn on external-access lockdown (allowed directories only, configuration locked). */
  readonly lockdown?: boolean;
  /**
   * Maximum time one SQL statement may run, in milliseconds; a statement still running
   * then is interrupted and fails with a UserInputError. Unset or 0 means no limit.
   */
  readonly statementTimeoutMs?: number;
  /** Folder where DuckDB spills data that does not fit in memory; DuckDB's default when unset. */
  readonly tempDirectory?: string;
}

/** Default workspace file: `$SEGMENTATION_MCP_WORKSPACE`, else `./segmentation.duckdb` in the working directory. */
export function defaultWorkspacePath(): string {
  return process.env.SEGMENTATION_MCP_WORKSPACE ?? path.resolve('segmentation.duckdb');
}

const NUMERIC_STRING_TYPES = new Set<number>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
]);

/**
 * A DuckDB database that holds the canonical tables, computed results and settings.
 * One connection serves all work; DuckDB runs statements of one connection one at a
 * time, so callers never see a half-built table from another call.
 */
export class Workspace {
  private queue: Promise<unknown> = Promise.resolve();
  /** Tail of the statement chain: each statement starts after the previous one settles. */
  private statements: Promise<unknown> = Promise.resolve();
  private currentInstance: DuckDBInstance;
  private currentConnection: DuckDBConnection;
  private allowed: readonly string[];

  private constructor(
    instance: DuckDBInstance,
    connection: DuckDBConnection,
    readonly path: string,
    private readonly options: WorkspaceOptions,
  ) {
    this.currentInstance = instance;
    this.currentConnection = connection;
    this.allowed = options.allowedDirectories ?? [];
  }

  static async open(options: WorkspaceOptions): Promise<Workspace> {
    const { instance, connection } = await connect(options);
    const workspace = new Workspace(instance, connection, options.path, options);
    await workspace.ensureSchema();
    if (options.lockdown) await workspace.lockDown(workspace.allowed);
    log.info('workspace opened', { path: options.path, lockdown: options.lockdown === true });
    return workspace;
  }

  /** The DuckDB instance; {@link reopen} replaces it, so do not keep a reference. */
  get instance(): DuckDBInstance {
    return this.currentInstance;
  }

  /**
   * The one connection; {@link reopen} replaces it, so do not keep a reference.
   * NOTE: statements run on it directly skip the statement queue and the statement
   * timeout; prefer {@link run}, {@link query} and {@link columns}.
   */
  get connection(): DuckDBConnection {
    return this.currentConnection;
  }

  /** Whether DuckDB runs locked down: external access only to {@link allowedDirectories}, configuration frozen. */
  get lockedDown(): boolean {
    return this.options.lockdown === true;
  }

  /** Directories DuckDB may read and write when locked down. */
  get allowedDirectories(): readonly string[] {
    return this.allowed;
  }

  /**
   * Closes and reopens the workspace file with a new list of allowed directories. A locked
   * configuration cannot be changed in place, so a wider list needs a new DuckDB instance.
   * It waits for running work (exclusive sections and statements) to finish first.
   * An in-memory workspace would lose its tables, so it raises a UserInputError instead.
   */
  async reopen(allowedDirectories: readonly string[]): Promise<void> {
    if (this.path === ':memory:') {
      throw new UserInputError(
        `Cannot allow ${allowedDirectories.filter((dir) => !this.allowed.includes(dir)).join(', ')}: the workspace is in memory, ` +
          'and DuckDB fixes the folders it may read when an in-memory workspace opens (reopening it would lose its tables). ' +
          'Restart the server with --allow DIR for each folder, or use a workspace file.',
      );
    }
    await this.exclusive(() =>
      this.serialize(async () => {
        this.currentConnection.closeSync();
        this.currentInstance.closeSync();
        const { instance, connection } = await connect(this.options);
        this.currentInstance = instance;
        this.currentConnection = connection;
        this.allowed = [...allowedDirectories];
        if (this.options.lockdown) await this.lockDown(this.allowed);
        log.info('workspace reopened', { path: this.path, allowedDirectories: this.allowed.length });
      }),
    );
  }

  /**
   * Restricts DuckDB to the allowed directories and freezes its configuration. The order
   * matters: allowed_directories cannot be set once external access is off, and nothing
   * can be set once the configuration is locked. (DuckDB 1.5.6 rejected allowed_directories
   * among the options of DuckDBInstance.create, so it is set here.)
   */
  private async lockDown(allowedDirectories: readonly string[]): Promise<void> {
    const list = allowedDirectories.map(quoteLiteral).join(', ');
    if (this.options.tempDirectory) await this.currentConnection.run(`SET temp_directory = ${quoteLiteral(this.options.tempDirectory)}`);
    await this.currentConnection.run(`SET allowed_directories = [${list}]`);
    await this.currentConnection.run('SET enable_external_access = false');
    await this.currentConnection.run('SET lock_configuration = true');
  }

  private async ensureSchema(): Promise<void> {
    await this.connection.run(
      'CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value JSON NOT NULL)',
    );
  }

  /**
   * Runs `work` after every earlier exclusive section has finished. Multi-statement
   * work (load, score) uses this so that concurrent tool calls never interleave.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async run(sql: string, params?: SqlParams, types?: SqlParamTypes): Promise<void> {
    await this.statement(sql, (connection) =>
      connection.run(sql, params as DuckDBValue[] | Record<string, DuckDBValue> | undefined, types),
    );
  }

  async query<T extends Row = Row>(sql: string, params?: SqlParams, types?: SqlParamTypes): Promise<T[]> {
    const reader = await this.statement(sql, (connection) =>
      connection.runAndReadAll(sql, params as DuckDBValue[] | Record<string, DuckDBValue> | undefined, types),
    );
    const names = reader.columnNames();
    const columnTypes = reader.columnTypes();
    const numericColumns = names.filter((_, i) => NUMERIC_STRING_TYPES.has(columnTypes[i].typeId));
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    if (numericColumns.length > 0) {
      for (const row of rows) {
        for (const name of numericColumns) {
          const value = row[name];
          if (typeof value === 'string') row[name] = Number(value);
        }
      }
    }
    return rows as T[];
  }

  /** Returns the names and DuckDB types of a query's columns; a query with LIMIT 0 reads no rows. */
  async columns(sql: string, params?: SqlParams, types?: SqlParamTypes): Promise<{ name: string; type: DuckDBType }[]> {
    const reader = await this.statement(sql, (connection) =>
      connection.runAndReadAll(sql, params as DuckDBValue[] | Record<string, DuckDBValue> | undefined, types),
    );
    const columnTypes = reader.columnTypes();
    return reader.columnNames().map((name, i) => ({ name, type: columnTypes[i] }));
  }

  /** Runs one statement after the previous one has settled, under the statement timeout. */
  private statement<T>(sql: string, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.serialize(async () => {
      const limit = this.options.statementTimeoutMs ?? 0;
      if (limit <= 0) return work(this.currentConnection);

      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.currentConnection.interrupt();
      }, limit);
      try {
        return await work(this.currentConnection);
      } catch (error) {
        if (!timedOut) throw error;
        log.warn('statement timed out', { timeoutMs: limit, statement: sql.slice(0, 60) });
        throw new UserInputError(
          `The query was stopped after ${formatDuration(limit)}, the statement timeout. ` +
            'Narrow the request (fewer files, a shorter period), or restart the server with a larger --timeout.',
        );
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * Chains `work` after every earlier statement. A DuckDB connection runs one statement
   * at a time anyway; the chain makes a timeout count from the moment a statement starts,
   * and lets {@link interrupt} reach the statement that is actually running.
   */
  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.statements.then(work, work);
    this.statements = next.catch(() => undefined);
    return next;
  }

  async queryOne<T extends Row = Row>(
    sql: string,
    params?: SqlParams,
    types?: SqlParamTypes,
  ): Promise<T | undefined> {
    const rows = await this.query<T>(sql, params, types);
    return rows[0];
  }

  /** Runs statements in one transaction; on any error the workspace is rolled back unchanged. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.run('COMMIT');
      return result;
    } catch (error) {
      await this.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async tableExists(name: string): Promise<boolean> {
    const row = await this.queryOne<{ n: number }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'main' AND table_name = $1",
      [name],
    );
    return (row?.n ?? 0) > 0;
  }

  async rowCount(table: string): Promise<number> {
    if (!(await this.tableExists(table))) return 0;
    const row = await this.queryOne<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(table)}`);
    return row?.n ?? 0;
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    const row = await this.queryOne<{ value: string }>('SELECT value FROM _meta WHERE key = $1', [key]);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.run(
      'INSERT INTO _meta (key, value) VALUES ($1, $2::JSON) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, JSON.stringify(value)],
    );
  }

  /** Stops the statement that is running now, if any (used for cancellation). */
  interrupt(): void {
    this.currentConnection.interrupt();
  }

  close(): void {
    this.currentConnection.closeSync();
    this.currentInstance.closeSync();
    log.info('workspace closed', { path: this.path });
  }
}

/** Creates the DuckDB instance and its connection; the memory limit and threads are set at creation. */
async function connect(options: WorkspaceOptions): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  const file = options.path;
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const instanceOptions: Record<string, string> = {};
  if (options.threads) instanceOptions.threads = String(options.threads);
  if (options.memoryLimit) instanceOptions.memory_limit = options.memoryLimit;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, instanceOptions);
  } catch (error) {
    throw new Error(
      `Could not open the workspace database ${file}: ${(error as Error).message}. ` +
        'Check that the path is writable and that no other process holds the file open.',
    );
  }
  return { instance, connection: await instance.connect() };
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Quotes an SQL identifier; every identifier built from a name goes through here. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal, for the few places DuckDB takes no parameter (file paths in COPY). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

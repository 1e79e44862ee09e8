import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
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

  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly path: string,
  ) {}

  static async open(options: WorkspaceOptions): Promise<Workspace> {
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
    const connection = await instance.connect();
    const workspace = new Workspace(instance, connection, file);
    await workspace.ensureSchema();
    if (options.lockdown) await workspace.lockDown(options.allowedDirectories ?? []);
    log.info('workspace opened', { path: file });
    return workspace;
  }

  /** Restrict DuckDB to the allowed directories and freeze its configuration. */
  private async lockDown(allowedDirectories: readonly string[]): Promise<void> {
    const list = allowedDirectories.map((dir) => `'${dir.replaceAll("'", "''")}'`).join(', ');
    await this.connection.run(`SET allowed_directories = [${list}]`);
    await this.connection.run('SET enable_external_access = false');
    await this.connection.run('SET lock_configuration = true');
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
    await this.connection.run(sql, params as DuckDBValue[] | Record<string, DuckDBValue> | undefined, types);
  }

  async query<T extends Row = Row>(sql: string, params?: SqlParams, types?: SqlParamTypes): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(
      sql,
      params as DuckDBValue[] | Record<string, DuckDBValue> | undefined,
      types,
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
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (error) {
      await this.connection.run('ROLLBACK').catch(() => undefined);
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
    this.connection.interrupt();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    log.info('workspace closed', { path: this.path });
  }
}

/** Quotes an SQL identifier; every identifier built from a name goes through here. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal, for the few places DuckDB takes no parameter (file paths in COPY). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral, UserInputError, type Workspace } from '../workspace/index.js';
import { isGzip, type SourceFormat } from './files.js';
import { normalizeName } from './columns.js';

/** Temporary table with the source rows as read, plus `__ingest_row` (1-based row number). */
export const RAW_TABLE = '_ingest_raw';

export interface SourceColumn {
  readonly name: string;
  readonly type: DuckDBType;
}

export interface ReadOptions {
  readonly files: readonly string[];
  readonly format: SourceFormat;
  readonly delimiter?: string;
  readonly header?: boolean;
}

/** Builds the table-function call; files and options are quoted literals, never raw text. */
function readerSql(options: ReadOptions, varcharColumns: readonly string[] | 'all'): string {
  const files = `[${options.files.map(quoteLiteral).join(', ')}]`;
  const gzip = options.files.some(isGzip);
  if (options.format === 'parquet') return `read_parquet(${files}, union_by_name = true)`;
  if (options.format === 'json' || options.format === 'ndjson') {
    const layout = options.format === 'ndjson' ? 'newline_delimited' : 'auto';
    return `read_json(${files}, format = '${layout}', compression = '${gzip ? 'gzip' : 'uncompressed'}', union_by_name = true)`;
  }
  const compression = gzip ? 'gzip' : 'none';

  const parts = [files, `compression = '${compression}'`, `header = ${options.header === false ? 'false' : 'true'}`];
  const delimiter = options.delimiter ?? (options.files.every((f) => /\.tsv(\.gz)?$/i.test(f)) ? '\t' : undefined);
  if (delimiter !== undefined) parts.push(`delim = ${quoteLiteral(delimiter)}`);
  if (varcharColumns === 'all') parts.push('all_varchar = true');
  else if (varcharColumns.length > 0) {
    // The CSV sniffer (seen in DuckDB 1.5) picks a day/month order for slash dates and drops
    // leading zeros of numeric ids, so the columns this loader interprets are read as text.
    parts.push(`types = {${varcharColumns.map((c) => `${quoteLiteral(c)}: 'VARCHAR'`).join(', ')}}`);
  }
  if (options.files.length > 1) parts.push('union_by_name = true');
  return `read_csv(${parts.join(', ')})`;
}

/** Lists the source columns: for CSV from a text-only probe, for JSON and Parquet from the data. */
export async function probeColumns(ws: Workspace, options: ReadOptions): Promise<SourceColumn[]> {
  if (options.format !== 'csv') {
    await readRaw(ws, options, []);
    return describeTable(ws, RAW_TABLE, true);
  }
  return describeQuery(ws, `SELECT * FROM ${readerSql(options, 'all')} LIMIT 0`, options);
}

/** Reads the files into {@link RAW_TABLE}; for CSV the given columns are read as VARCHAR. */
export async function readRaw(ws: Workspace, options: ReadOptions, varcharColumns: readonly string[]): Promise<void> {
  await ws.run(`DROP TABLE IF EXISTS ${RAW_TABLE}`);
  // NOTE: row_number() OVER () follows the scan order, which DuckDB keeps for file reads
  // (preserve_insertion_order), but SQL does not promise it, so sample row numbers may drift.
  try {
    await ws.run(
      `CREATE TEMP TABLE ${RAW_TABLE} AS SELECT row_number() OVER () AS __ingest_row, * FROM ${readerSql(options, varcharColumns)}`,
    );
  } catch (error) {
    throw readError(error, options);
  }
}

/** Returns the columns of a table, without the row number column. */
export async function describeTable(ws: Workspace, table: string, skipRowNumber = false): Promise<SourceColumn[]> {
  const reader = await ws.connection.runAndReadAll(`SELECT * FROM ${quoteIdent(table)} LIMIT 0`);
  const columns = reader.columnNames().map((name, i) => ({ name, type: reader.columnTypes()[i] }));
  return skipRowNumber ? columns.filter((c) => c.name !== '__ingest_row') : columns;
}

async function describeQuery(ws: Workspace, sql: string, options: ReadOptions): Promise<SourceColumn[]> {
  try {
    const reader = await ws.connection.runAndReadAll(sql);
    return reader.columnNames().map((name, i) => ({ name, type: reader.columnTypes()[i] }));
  } catch (error) {
    throw readError(error, options);
  }
}

/**
 * Lifts the fields of a Mixpanel-style `properties` struct to top-level columns when
 * the top level has no time column. Returns true when it did.
 */
export async function flattenPropertiesStruct(ws: Workspace, columns: readonly SourceColumn[]): Promise<boolean> {
  const properties = columns.find((c) => normalizeName(c.name) === 'properties' && c.type.typeId === DuckDBTypeId.STRUCT);
  if (!properties) return false;
  const topLevel = new Set(columns.map((c) => normalizeName(c.name)));
  if (topLevel.has('time') || topLevel.has('timestamp')) return false;

  const inner = await ws.connection.runAndReadAll(`SELECT ${quoteIdent(properties.name)}.* FROM ${RAW_TABLE} LIMIT 0`);
  const innerNames = inner.columnNames();
  if (!innerNames.some((name) => normalizeName(name) === 'time')) return false;

  const outer = ['__ingest_row', ...columns.filter((c) => c !== properties).map((c) => c.name)];
  const lifted = innerNames
    .filter((name) => !topLevel.has(normalizeName(name)) && name !== '__ingest_row')
    .map((name) => `${quoteIdent(properties.name)}.${quoteIdent(name)} AS ${quoteIdent(name)}`);
  await ws.run(`CREATE TEMP TABLE _ingest_flat AS SELECT ${[...outer.map(quoteIdent), ...lifted].join(', ')} FROM ${RAW_TABLE}`);
  await ws.run(`DROP TABLE ${RAW_TABLE}`);
  await ws.run(`ALTER TABLE _ingest_flat RENAME TO ${RAW_TABLE}`);
  return true;
}

/** Rewrites a DuckDB read error into a UserInputError that names the files. */
function readError(error: unknown, options: ReadOptions): Error {
  if (error instanceof UserInputError) return error;
  const message = firstLine(error);
  const label = options.files.length === 1 ? options.files[0] : `${options.files.length} files (${options.files[0]}, …)`;
  let advice = `Check that it is valid ${options.format}, or pass format, delimiter or header.`;
  if (/permission|allowed|external access/i.test(message)) advice = 'The file is outside the directories this server may read. Move it into an allowed directory.';
  else if (/gzip|compress/i.test(message)) advice = 'The compressed data is damaged or not gzip. Check the file or decompress it first.';
  return new UserInputError(`Could not read ${label} as ${options.format}: ${message}. ${advice}`, { files: options.files });
}

/** Returns the first line of an error message, without DuckDB's multi-line context or a stack trace. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim().replace(/[.:]$/, '');
}

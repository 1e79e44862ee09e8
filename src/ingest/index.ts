import { CancelledError, log, noProgress, quoteLiteral, UserInputError, type ProgressReporter, type Workspace } from '../workspace/index.js';
import { detectVendorShape, resolveMapping, TABLE_FIELDS, TABLE_NAMES, type MappingEntry, type TableName, type VendorShape } from './columns.js';
import { checkFileContents, checkGzipComplete, detectFormat, isGzip, resolveFiles, type SourceFormat } from './files.js';
import { describeTable, firstLine, flattenPropertiesStruct, probeColumns, RAW_TABLE, readRaw, type ReadOptions, type SourceColumn } from './read.js';
import { createTableSql, DUPLICATE_KEYS, storedColumns } from './schema.js';
import { FINAL_TABLE, finalSql, STAGE_TABLE, stageSql, unmappedColumns, type StagePlan } from './stage.js';
import { planTimestamp, type TimestampPlan } from './timestamps.js';

export type { TableName } from './columns.js';
export { describeTables, type TableDescription } from './describe.js';

export interface LoadRequest {
  table: TableName;
  /** One file, several files, or a DuckDB glob; relative paths start at the working directory. */
  path: string | string[];
  /** Defaults to the extension: .csv .tsv .txt .parquet .json .ndjson .jsonl, each optionally .gz. */
  format?: SourceFormat;
  /** Canonical column -> source column; overrides detection. */
  mapping?: Partial<Record<string, string>>;
  /** strptime format such as '%d/%m/%Y', or 'epoch_s' / 'epoch_ms'. */
  timestampFormat?: string;
  /** Zone of timestamps without an offset; defaults to the workspace time zone. */
  sourceTimeZone?: string;
  /** Constant event name for a source without an event column (a login log). */
  eventName?: string;
  mode?: 'replace' | 'append';
  delimiter?: string;
  header?: boolean;
}

export interface Rejection {
  reason: string;
  count: number;
  /** Up to five 1-based source row numbers, counted across the files in order. */
  sampleRows: number[];
}

export interface LoadReport {
  table: TableName;
  files: string[];
  format: string;
  /** Vendor export shape recognised from the columns, e.g. 'Mixpanel raw export'. */
  sourceShape: string | null;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  rejections: Rejection[];
  duplicatesDropped: number;
  mapping: Record<string, MappingEntry>;
  timestampFormat: string;
  /** False for date-only data, so session length is unknown. */
  hasTimeOfDay: boolean;
  dateRange: { min: string; max: string } | null;
  /** Source columns kept inside `properties`. */
  unmappedColumns: string[];
  warnings: string[];
  /** Users inserted into `users` from user-level columns of an events file. */
  derivedUsers?: number;
}

/** Event name used when an events file has no event column and no eventName is given. */
export const DEFAULT_EVENT_NAME = 'activity';

const TEMP_TABLES = [RAW_TABLE, '_ingest_flat', STAGE_TABLE, FINAL_TABLE, '_ingest_derived'];
const STAGES = 4;

/**
 * Loads files into one canonical table. Rows are read and validated in temporary tables,
 * then the canonical table is replaced or appended to in one transaction, so a failure or
 * cancellation leaves the workspace as it was. The report is stored in `_meta` as `load:<table>`.
 */
export async function loadData(ws: Workspace, request: LoadRequest, reporter: ProgressReporter = noProgress): Promise<LoadReport> {
  validateRequest(request);
  return ws.exclusive(async () => {
    const onAbort = () => ws.interrupt();
    reporter = withStageLog(reporter, request.table);
    reporter.signal?.addEventListener('abort', onAbort);
    let files: string[] = [];
    try {
      throwIfCancelled(reporter);
      reporter.report({ progress: 0, total: STAGES, message: 'reading' });
      files = await resolveFiles(ws, request.path);
      const format = detectFormat(files, request.format);
      for (const file of files) checkFileContents(file, format);
      for (const file of files.filter(isGzip)) await checkGzipComplete(file, reporter.signal);
      const report = await runLoad(ws, request, files, format, reporter);
      log.info('data loaded', { table: request.table, files: files.length, rows: report.rowsLoaded });
      return report;
    } catch (error) {
      if (reporter.signal?.aborted) throw new CancelledError();
      if (error instanceof UserInputError || error instanceof CancelledError) throw error;
      let label = `${files.length} files`;
      if (files.length === 0) label = String(request.path);
      if (files.length === 1) label = files[0];
      log.error('load failed', { table: request.table, error: (error as Error).message });
      throw new UserInputError(`Loading ${label} into ${request.table} failed: ${firstLine(error)}. Check the file and the mapping.`, {
        files,
      });
    } finally {
      reporter.signal?.removeEventListener('abort', onAbort);
      for (const table of TEMP_TABLES) await ws.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    }
  });
}

/** Wraps a reporter so that each stage is also logged at debug level with the elapsed time. */
function withStageLog(reporter: ProgressReporter, table: TableName): ProgressReporter {
  const started = Date.now();
  return {
    signal: reporter.signal,
    report(progress) {
      log.debug('load stage', { table, stage: progress.message, elapsedMs: Date.now() - started });
      reporter.report(progress);
    },
  };
}

function validateRequest(request: LoadRequest): void {
  if (!TABLE_NAMES.includes(request.table)) {
    throw new UserInputError(`Unknown table '${String(request.table)}'. Use one of: ${TABLE_NAMES.join(', ')}.`);
  }
  if (request.mode !== undefined && request.mode !== 'replace' && request.mode !== 'append') {
    throw new UserInputError(`Unknown mode '${String(request.mode)}'. Use 'replace' or 'append'.`);
  }
  if (request.eventName !== undefined && request.eventName.trim() === '') {
    throw new UserInputError('eventName is empty. Pass a name such as "login", or leave it out.');
  }
}

function throwIfCancelled(reporter: ProgressReporter): void {
  if (reporter.signal?.aborted) throw new CancelledError();
}

async function runLoad(
  ws: Workspace,
  request: LoadRequest,
  files: string[],
  format: SourceFormat,
  reporter: ProgressReporter,
): Promise<LoadReport> {
  const table = request.table;
  const warnings: string[] = [];
  const zone = await resolveZone(ws, request.sourceTimeZone);
  const readOptions: ReadOptions = { files, format, delimiter: request.delimiter, header: request.header };
  const fileLabel = files.length === 1 ? files[0] : `the ${files.length} files`;

  let columns = await probeColumns(ws, readOptions);
  if (format !== 'csv' && (await ws.rowCount(RAW_TABLE)) === 0) throw noRows(fileLabel);
  let flattened = false;
  if (format === 'json' || format === 'ndjson') {
    flattened = await flattenPropertiesStruct(ws, columns);
    if (flattened) columns = await describeRaw(ws);
  }
  const names = columns.map((c) => c.name);
  const vendor: VendorShape | null = table === 'events' ? detectVendorShape(names, flattened) : null;

  const constantEvent = table === 'events' ? request.eventName : undefined;
  const mapping = resolveMapping({
    table,
    columns: names,
    explicit: request.mapping ?? {},
    vendor: vendor?.picks ?? {},
    constants: new Set(table === 'events' ? ['event'] : []),
    skip: new Set(constantEvent !== undefined && !request.mapping?.event ? ['event'] : []),
    fileLabel,
  });
  let eventConstant: string | undefined;
  if (table === 'events' && !mapping.event) {
    eventConstant = constantEvent ?? DEFAULT_EVENT_NAME;
    mapping.event = { source: null, how: 'constant' };
    if (constantEvent === undefined) {
      warnings.push(`The file has no event column, so every row is the event '${DEFAULT_EVENT_NAME}'. Pass eventName to name it.`);
    }
  }

  if (format === 'csv') {
    const textColumns = Object.entries(mapping)
      .filter(([name, entry]) => entry.source && isInterpretedAsText(table, name))
      .map(([, entry]) => entry.source as string)
      .filter((source) => names.includes(source));
    await readRaw(ws, readOptions, textColumns);
    columns = await describeRaw(ws);
  }

  const rowsRead = await ws.rowCount(RAW_TABLE);
  if (rowsRead === 0) throw noRows(fileLabel);
  throwIfCancelled(reporter);
  reporter.report({ progress: 1, total: STAGES, message: `validating ${rowsRead} rows` });

  const timestamps = await planTimestamps(ws, table, mapping, columns, zone, request.timestampFormat, warnings);
  const plan: StagePlan = { table, mapping, columns, timestamps, constantEvent: eventConstant, vendor, zone };
  await ws.run(stageSql(plan));
  const rejections = await summarizeRejections(ws, warnings);
  const append = request.mode === 'append';
  await ws.run(finalSql(table, DUPLICATE_KEYS[table], Boolean(vendor?.insertId), append && table !== 'users' && (await ws.tableExists(table))));

  const counts = await ws.queryOne<{ accepted: number; loaded: number }>(
    `SELECT (SELECT count(*) FROM ${STAGE_TABLE} WHERE reject_reason IS NULL) AS accepted, (SELECT count(*) FROM ${FINAL_TABLE}) AS loaded`,
  );
  const accepted = counts?.accepted ?? 0;
  const rowsLoaded = counts?.loaded ?? 0;
  if (accepted === 0) throw allRowsRejected(fileLabel, table, rowsRead, rejections, warnings);
  await addStageWarnings(ws, table, vendor, warnings);

  const timeColumn = table === 'users' ? 'signup_at' : 'ts';
  const range = await summarizeTimes(ws, timeColumn, zone);
  throwIfCancelled(reporter);
  reporter.report({ progress: 2, total: STAGES, message: `writing ${rowsLoaded} rows` });

  const rowsRejected = rejections.reduce((sum, r) => sum + r.count, 0);
  const report: LoadReport = {
    table,
    files,
    format,
    sourceShape: vendor?.name ?? null,
    rowsRead,
    rowsLoaded,
    rowsRejected,
    rejections,
    duplicatesDropped: accepted - rowsLoaded,
    mapping: reportedMapping(mapping, vendor),
    timestampFormat: timestamps[timeColumn]?.description ?? 'none',
    hasTimeOfDay: range.hasTimeOfDay,
    dateRange: range.dateRange,
    unmappedColumns: unmappedColumns(plan),
    warnings,
  };

  await ws.transaction(async () => {
    await writeTable(ws, table, append);
    if (table === 'events' && (mapping.plan || mapping.signup_at)) {
      report.derivedUsers = await deriveUsers(ws, Boolean(mapping.plan), Boolean(timestamps.signup_at));
    }
    await ws.setMeta(`load:${table}`, { ...report, loadedAt: new Date().toISOString(), mode: append ? 'append' : 'replace' });
    reporter.report({ progress: 3, total: STAGES, message: 'committing' });
    // The last chance to cancel: throwing here rolls the whole write back.
    throwIfCancelled(reporter);
  });
  reporter.report({ progress: STAGES, total: STAGES, message: 'done' });
  return report;
}

/** Raised before anything is written, so that a file whose every row is invalid cannot empty the table. */
function allRowsRejected(
  fileLabel: string,
  table: TableName,
  rowsRead: number,
  rejections: readonly { reason: string; count: number }[],
  warnings: readonly string[],
): UserInputError {
  const reasons = rejections.map((r) => `${r.count} ${r.reason}`).join('; ');
  const examples = warnings.filter((warning) => warning.startsWith('Rejected')).join(' ');
  return new UserInputError(
    `None of the ${rowsRead} rows of ${fileLabel} can be loaded into ${table}: ${reasons}.${examples ? ` ${examples}` : ''} ` +
      `The ${table} table is unchanged. Fix these values in the file, or check the mapping and timestampFormat.`,
  );
}

function noRows(fileLabel: string): UserInputError {
  return new UserInputError(`${fileLabel} has no data rows (only a header, or an empty array). Check the export.`);
}

/** Returns the mapping for the report, where a user id with a vendor fallback column names both columns. */
function reportedMapping(mapping: Record<string, MappingEntry>, vendor: VendorShape | null): Record<string, MappingEntry> {
  const reported = { ...mapping };
  if (vendor?.fallbackUserId && mapping.user_id?.how === 'detected') {
    reported.user_id = { source: `${mapping.user_id.source} | ${vendor.fallbackUserId}`, how: 'derived' };
  }
  return reported;
}

/** Canonical columns whose CSV source is read as text because this loader parses it itself. */
function isInterpretedAsText(table: TableName, canonical: string): boolean {
  const spec = TABLE_FIELDS[table].find((f) => f.name === canonical);
  return spec !== undefined && (spec.kind === 'id' || spec.kind === 'timestamp');
}

function describeRaw(ws: Workspace): Promise<SourceColumn[]> {
  return describeTable(ws, RAW_TABLE, true);
}

async function resolveZone(ws: Workspace, requested: string | undefined): Promise<string> {
  const settings = await ws.getMeta<{ timeZone?: string; time_zone?: string }>('settings');
  const zone = requested ?? settings?.timeZone ?? settings?.time_zone ?? 'UTC';
  const row = await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM pg_timezone_names() WHERE name = $1', [zone]);
  if ((row?.n ?? 0) === 0) {
    throw new UserInputError(`Unknown time zone '${zone}'. Use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'.`);
  }
  return zone;
}

async function planTimestamps(
  ws: Workspace,
  table: TableName,
  mapping: Record<string, MappingEntry>,
  columns: readonly SourceColumn[],
  zone: string,
  explicitFormat: string | undefined,
  warnings: string[],
): Promise<Record<string, TimestampPlan>> {
  const plans: Record<string, TimestampPlan> = {};
  const primary = table === 'users' ? 'signup_at' : 'ts';
  for (const name of ['ts', 'signup_at']) {
    const source = mapping[name]?.source;
    if (!source) continue;
    const column = columns.find((c) => c.name === source) as SourceColumn;
    const format = name === primary ? explicitFormat : undefined;
    try {
      plans[name] = await planTimestamp(ws, RAW_TABLE, source, column.type, zone, format);
    } catch (error) {
      // The signup column of an events file is optional: a column that does not parse is skipped.
      if (name === primary || !(error instanceof UserInputError)) throw error;
      warnings.push(`Skipped the signup column '${source}': ${error.message}`);
      delete mapping[name];
      continue;
    }
    warnings.push(...plans[name].warnings);
  }
  return plans;
}

async function summarizeRejections(ws: Workspace, warnings: string[]): Promise<Rejection[]> {
  const rows = await ws.query<{ reason: string; n: number; rows: number[]; sample: string | null }>(
    `SELECT reject_reason AS reason, count(*) AS n,
            list(source_row ORDER BY source_row)[1:5] AS rows,
            min_by(reject_sample, source_row) AS sample
     FROM ${STAGE_TABLE} WHERE reject_reason IS NOT NULL
     GROUP BY reject_reason ORDER BY n DESC, reason`,
  );
  const rejections: Rejection[] = [];
  for (const row of rows) {
    const reason = row.sample !== null && row.reason !== 'timestamp before 1990' && row.reason !== 'timestamp in the future'
      ? `${row.reason} '${row.sample}'`
      : row.reason;
    rejections.push({ reason, count: Number(row.n), sampleRows: row.rows.map(Number) });
    if (row.reason === 'timestamp before 1990' || row.reason === 'timestamp in the future') {
      warnings.push(`Rejected ${row.n} rows with a ${row.reason} (for example '${row.sample}').`);
    }
  }
  return rejections;
}

async function addStageWarnings(ws: Workspace, table: TableName, vendor: VendorShape | null, warnings: string[]): Promise<void> {
  if (table === 'events' || table === 'users') {
    const row = await ws.queryOne<{ badSignup: number }>(
      `SELECT count(*) FILTER (WHERE signup_raw IS NOT NULL AND signup_at IS NULL) AS "badSignup" FROM ${STAGE_TABLE}`,
    );
    if ((row?.badSignup ?? 0) > 0) warnings.push(`${row?.badSignup} signup values could not be parsed and were left empty.`);
  }
  if (vendor?.fallbackUserId) {
    warnings.push(`Rows without ${vendor.picks.user_id} use ${vendor.fallbackUserId} as the user id (anonymous visitors).`);
  }
  if (table === 'users') {
    const dup = await ws.queryOne<{ n: number }>(
      `SELECT count(*) - count(DISTINCT user_id) AS n FROM ${STAGE_TABLE} WHERE reject_reason IS NULL`,
    );
    if ((dup?.n ?? 0) > 0) warnings.push(`${dup?.n} rows repeat a user_id; the first row of each user was kept.`);
  }
}

async function summarizeTimes(
  ws: Workspace,
  column: string,
  zone: string,
): Promise<{ hasTimeOfDay: boolean; dateRange: { min: string; max: string } | null }> {
  const row = await ws.queryOne<{ min: string | null; max: string | null; timed: boolean | null }>(
    `SELECT strftime(min(${column}), '%Y-%m-%dT%H:%M:%SZ') AS min, strftime(max(${column}), '%Y-%m-%dT%H:%M:%SZ') AS max,
            bool_or(CAST((${column} AT TIME ZONE 'UTC') AT TIME ZONE ${quoteLiteral(zone)} AS TIME) <> TIME '00:00:00') AS timed
     FROM ${FINAL_TABLE}`,
  );
  return {
    hasTimeOfDay: row?.timed === true,
    dateRange: row?.min && row.max ? { min: row.min, max: row.max } : null,
  };
}

async function writeTable(ws: Workspace, table: TableName, append: boolean): Promise<void> {
  await ws.run(createTableSql(table));
  if (!append) await ws.run(`DELETE FROM ${table}`);
  else if (table === 'users') await ws.run(`DELETE FROM users WHERE user_id IN (SELECT user_id FROM ${FINAL_TABLE})`);
  const names = storedColumns(table).join(', ');
  await ws.run(`INSERT INTO ${table} (${names}) SELECT ${names} FROM ${FINAL_TABLE} ORDER BY source_row`);
}

/**
 * Fills `users` from the user-level columns of the loaded events: the latest plan per
 * user by event time and the earliest signup. New users are inserted; existing users get
 * only their empty fields filled. Returns the number of users inserted.
 */
async function deriveUsers(ws: Workspace, hasPlan: boolean, hasSignup: boolean): Promise<number> {
  await ws.run(createTableSql('users'));
  await ws.run(
    `CREATE TEMP TABLE _ingest_derived AS
     SELECT user_id,
            ${hasPlan ? 'arg_max(plan, ts) FILTER (WHERE plan IS NOT NULL)' : 'CAST(NULL AS VARCHAR)'} AS plan,
            ${hasSignup ? 'min(signup_at)' : 'CAST(NULL AS TIMESTAMP)'} AS signup_at
     FROM ${FINAL_TABLE} GROUP BY user_id`,
  );
  await ws.run(
    `UPDATE users SET plan = COALESCE(users.plan, d.plan), signup_at = COALESCE(users.signup_at, d.signup_at)
     FROM _ingest_derived AS d WHERE users.user_id = d.user_id`,
  );
  const inserted = await ws.queryOne<{ n: number }>(
    'SELECT count(*) AS n FROM _ingest_derived AS d WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = d.user_id)',
  );
  await ws.run(
    `INSERT INTO users (user_id, plan, signup_at)
     SELECT user_id, plan, signup_at FROM _ingest_derived AS d
     WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = d.user_id) ORDER BY user_id`,
  );
  return inserted?.n ?? 0;
}

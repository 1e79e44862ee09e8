import { z } from 'zod';
import { loadData } from '../src/ingest/index.js';
import { defineTool } from './tool.js';

const TABLES = ['events', 'users', 'billing', 'support', 'nps'] as const;

export const loadDataTool = defineTool({
  name: 'load_data',
  title: 'Load a data file',
  description:
    "Load a product's export into the workspace: events (required before scoring), users, billing, support or nps. " +
    'Reads CSV (tab-separated .tsv files too, detected from the extension), Parquet, JSON and NDJSON, gzip-compressed too, from local files under the allowed folders only. ' +
    'Columns are detected from common names (user_id/userId/distinct_id, event/event_type/page, ' +
    'timestamp/time/ts/event_time) unless a mapping is given. Returns rows loaded and rejected with reasons, the mapping ' +
    'used and the date range. It replaces the table by default (mode "append" adds rows). An ambiguous date format ' +
    '(03/04/2024) is an error asking for timestampFormat. It cannot fetch URLs or read databases.',
  inputSchema: {
    table: z.enum(TABLES).describe('Canonical table to fill.'),
    path: z
      .union([z.string(), z.array(z.string()).min(1).max(1000)])
      .describe('A file path, a list of paths, or a glob such as "/data/logs/*.json". Relative paths start at the server working directory.'),
    format: z.enum(['csv', 'parquet', 'json', 'ndjson']).optional().describe('File format; by default taken from the extension.'),
    mapping: z
      .record(z.string(), z.string())
      .optional()
      .describe('Canonical column -> source column, e.g. {"user_id": "object_id", "ts": "time_stamp"}. Overrides detection.'),
    timestampFormat: z
      .string()
      .optional()
      .describe('strptime format of the timestamp column, e.g. "%d/%m/%Y %H:%M", or "epoch_s" / "epoch_ms".'),
    sourceTimeZone: z
      .string()
      .optional()
      .describe('IANA zone of timestamps written without an offset; default the workspace time zone (UTC).'),
    eventName: z
      .string()
      .optional()
      .describe('Event name to use when the file has no event column, e.g. "login" for a login log.'),
    mode: z.enum(['replace', 'append']).optional().describe('"replace" (default) swaps the table; "append" adds rows.'),
    delimiter: z.string().max(4).optional().describe('CSV delimiter, when detection picks the wrong one.'),
    header: z.boolean().optional().describe('Whether the CSV has a header row; detected by default.'),
  },
  outputSchema: {
    table: z.string().describe('Canonical table filled.'),
    files: z.array(z.string()).describe('Files read.'),
    format: z.string().describe('File format read.'),
    sourceShape: z.string().nullable().describe('Vendor export shape recognised, if any.'),
    rowsRead: z.number().describe('Rows read from the files.'),
    rowsLoaded: z.number().describe('Rows written to the table.'),
    rowsRejected: z.number().describe('Rows left out because a required value was missing or invalid.'),
    rejections: z
      .array(z.object({ reason: z.string(), count: z.number(), sampleRows: z.array(z.number()) }))
      .describe('Rejected rows grouped by reason, with a few row numbers of the source.'),
    duplicatesDropped: z.number().describe('Exact duplicate rows dropped.'),
    mapping: z
      .record(z.string(), z.object({ source: z.string().nullable(), how: z.string() }).passthrough())
      .describe('Canonical column -> source column and how it was chosen (given, detected, constant).'),
    timestampFormat: z.string().describe('How the timestamps were read.'),
    hasTimeOfDay: z.boolean().describe('False when timestamps are dates only; session length is then unknown.'),
    dateRange: z.object({ min: z.string(), max: z.string() }).nullable().describe('Earliest and latest timestamp loaded, UTC.'),
    unmappedColumns: z.array(z.string()).describe('Source columns kept inside the properties JSON.'),
    warnings: z.array(z.string()).describe('Things to check in the data, such as dates in the future.'),
    derivedUsers: z.number().optional().describe('Users created from user-level columns of an events file.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async handler({ ws, paths }, args, progress) {
    const requested = Array.isArray(args.path) ? args.path : [args.path];
    const resolved = requested.map((p) => paths.resolveReadable(p));
    const report = await loadData(
      ws,
      { ...args, path: Array.isArray(args.path) ? resolved : resolved[0] },
      progress,
    );
    const mapping = Object.entries(report.mapping)
      .filter(([, entry]) => entry.source !== null || entry.how === 'constant')
      .map(([column, entry]) => `${column} <- ${entry.source ?? '(constant)'} (${entry.how})`)
      .join(', ');
    const rejected = report.rejections.map((r) => `${r.count} ${r.reason}`).join('; ');
    const summary = [
      `Loaded ${report.rowsLoaded} of ${report.rowsRead} rows into ${report.table} from ${report.files.length} file(s).`,
      report.rowsRejected > 0 ? `Rejected ${report.rowsRejected}: ${rejected}.` : 'No row rejected.',
      report.duplicatesDropped > 0 ? `Dropped ${report.duplicatesDropped} exact duplicates.` : '',
      `Mapping: ${mapping}.`,
      report.dateRange ? `Dates ${report.dateRange.min} to ${report.dateRange.max} (${report.timestampFormat}).` : '',
      report.hasTimeOfDay ? '' : 'Timestamps carry no time of day, so session length is unknown.',
      ...report.warnings,
    ]
      .filter(Boolean)
      .join(' ');
    return { summary, structured: report as never };
  },
});

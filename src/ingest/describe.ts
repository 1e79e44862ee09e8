import { quoteIdent, type Workspace } from '../workspace/index.js';
import { TABLE_NAMES, type TableName } from './columns.js';

/** The state of one canonical table, for status tools and the assistant. */
export interface TableDescription {
  table: TableName;
  loaded: boolean;
  rows: number;
  columns: { name: string; type: string }[];
  /** The stored load report (`_meta` key `load:<table>`), or null if the table was never loaded. */
  loadReport: Record<string, unknown> | null;
  dateRange: { min: string; max: string } | null;
  distinctUsers: number | null;
}

/** Describes every canonical table: row count, columns, last load report, date range and distinct users. */
export async function describeTables(ws: Workspace): Promise<TableDescription[]> {
  const descriptions: TableDescription[] = [];
  for (const table of TABLE_NAMES) {
    const loadReport = (await ws.getMeta<Record<string, unknown>>(`load:${table}`)) ?? null;
    if (!(await ws.tableExists(table))) {
      descriptions.push({ table, loaded: false, rows: 0, columns: [], loadReport, dateRange: null, distinctUsers: null });
      continue;
    }
    const columns = await ws.query<{ name: string; type: string }>(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns
       WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    const timeColumn = table === 'users' ? 'signup_at' : 'ts';
    const stats = await ws.queryOne<{ rows: number; min: string | null; max: string | null; users: number }>(
      `SELECT count(*) AS rows,
              strftime(min(${quoteIdent(timeColumn)}), '%Y-%m-%dT%H:%M:%SZ') AS min,
              strftime(max(${quoteIdent(timeColumn)}), '%Y-%m-%dT%H:%M:%SZ') AS max,
              count(DISTINCT user_id) AS users
       FROM ${quoteIdent(table)}`,
    );
    descriptions.push({
      table,
      loaded: true,
      rows: stats?.rows ?? 0,
      columns,
      loadReport,
      dateRange: stats?.min && stats.max ? { min: stats.min, max: stats.max } : null,
      distinctUsers: stats?.users ?? 0,
    });
  }
  return descriptions;
}

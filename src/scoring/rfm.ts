import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { UserInputError, quoteLiteral, type Workspace } from '../workspace/index.js';
import { parseIsoDate } from './compute.js';
import { RFM_SEGMENT_SQL } from './segment-sql.js';
import { loadSettings } from './store.js';

/** RFM segment names, in the order the map tries them, with the rule each one applies. */
export const RFM_SEGMENTS = [
  { id: 'champions', rule: 'R = 5, F >= 4, M >= 4 (or unknown) and R + F + M >= 14' },
  { id: 'loyal', rule: 'R >= 4 and F >= 4' },
  { id: 'promising', rule: 'R >= 3 and F >= 3' },
  { id: 'recent_infrequent', rule: 'R >= 3 (and F <= 2)' },
  { id: 'need_attention', rule: 'R = 2 and F >= 2' },
  { id: 'hibernating', rule: 'R = 2 and F = 1' },
  { id: 'cannot_lose', rule: 'R = 1 and F >= 3' },
  { id: 'lost', rule: 'R = 1 and F <= 2' },
] as const;

/**
 * Returns the segment of one RFM code; it mirrors RFM_SEGMENT_SQL (a test checks that
 * both agree on all 125 codes). `m` null means the monetary score is unknown.
 */
export function rfmSegmentOf(r: number, f: number, m: number | null): string {
  if (r === 5 && f >= 4 && (m === null || m >= 4) && r + f + (m ?? 5) >= 14) return 'champions';
  if (r >= 4 && f >= 4) return 'loyal';
  if (r >= 3 && f >= 3) return 'promising';
  if (r >= 3) return 'recent_infrequent';
  if (r === 2 && f >= 2) return 'need_attention';
  if (r === 2) return 'hibernating';
  if (f >= 3) return 'cannot_lose';
  return 'lost';
}

/** Renders the 125-code map as a Markdown table: one row per R and F, one column per M. */
export function rfmSegmentTable(): string {
  const lines = ['| R | F | M = 1 | M = 2 | M = 3 | M = 4 | M = 5 |', '|---|---|---|---|---|---|---|'];
  for (let r = 5; r >= 1; r--) {
    for (let f = 5; f >= 1; f--) {
      const cells = [1, 2, 3, 4, 5].map((m) => rfmSegmentOf(r, f, m));
      lines.push(`| ${r} | ${f} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/** Source of the purchases: the billing payments or a transactions file. */
export type TransactionSource =
  | { readonly kind: 'billing' }
  | {
      readonly kind: 'file';
      /** Absolute path, already checked against the allowed folders. */
      readonly path: string;
      /** 'csv' (header row, delimiter detected) or 'whitespace' (columns separated by runs of blanks, header row first). */
      readonly format: 'csv' | 'whitespace';
      readonly userColumn: string;
      readonly dateColumn: string;
      readonly amountColumn: string;
      /** strptime format of the date column, e.g. '%Y%m%d'; default: DuckDB's date parsing. */
      readonly dateFormat?: string;
    };

export interface RfmQuantileRequest {
  readonly source: TransactionSource;
  /** Last calendar day included, YYYY-MM-DD; default: the latest purchase day. */
  readonly asOf?: string;
  /** M from the mean value per purchase day (default) or the total value. */
  readonly monetary?: 'mean' | 'total';
}

export interface RfmQuantileResult {
  readonly asOf: string;
  readonly customers: number;
  readonly transactions: number;
  readonly rowsRejected: number;
  /** Customers per score, for R, F and M; a score nobody has is absent. */
  readonly bins: { readonly r: Record<string, number>; readonly f: Record<string, number>; readonly m: Record<string, number> };
  readonly segments: Record<string, number>;
  /** Table with one row per customer: values, scores, code and segment. */
  readonly table: string;
}

const RESULT_TABLE = 'rfm_quantile_scores';

/**
 * Classic RFM over purchases. Purchases are grouped by customer and calendar day first,
 * so two orders on one day are one purchase. R is the days from the last purchase day to
 * the as-of day, F the number of distinct purchase days, M the mean (or total) value per
 * purchase day. Each score is 1 + floor(5 * (rank - 1) / customers), with rank() over
 * the values (best last), so equal values always share a score, heavy ties leave some
 * scores empty instead of failing, and the result does not depend on row order.
 */
export async function rfmQuantiles(ws: Workspace, request: RfmQuantileRequest): Promise<RfmQuantileResult> {
  return ws.exclusive(async () => {
    const settings = await loadSettings(ws);
    const { relation, rejected, total } = await stageTransactions(ws, request.source, settings.timeZone);
    if (total - rejected === 0) {
      throw new UserInputError(
        request.source.kind === 'billing'
          ? 'No payments to score: the billing table has no row of kind "payment" with a user_id and an amount. Load a billing file first.'
          : `No purchase could be read from ${request.source.path}: check the column names and the date format.`,
      );
    }
    const lastDay = await ws.queryOne<{ d: string }>(`SELECT max(purchase_date)::VARCHAR AS d FROM ${relation}`);
    const asOf = request.asOf === undefined ? String(lastDay?.d) : parseIsoDate(request.asOf, 'as-of date');
    const monetary = request.monetary === 'total' ? 'total_value' : 'mean_value';
    const score = (order: string) =>
      `least(5, 1 + floor(5 * (rank() OVER (ORDER BY ${order}) - 1) / count(*) OVER ()))::INTEGER`;

    await ws.run(
      `CREATE OR REPLACE TABLE ${RESULT_TABLE} AS
       WITH purchase_days AS (
         SELECT user_id, purchase_date, sum(amount) AS day_value
         FROM ${relation}
         WHERE purchase_date <= CAST($as_of AS DATE)
         GROUP BY user_id, purchase_date
       ),
       ordered AS (
         SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY purchase_date) AS purchase_number FROM purchase_days
       ),
       customers AS (
         SELECT
           user_id,
           CAST($as_of AS DATE) - max(purchase_date) AS recency_days,
           count(*) AS purchase_days,
           count(*) - 1 AS repeat_purchases,
           sum(day_value) AS total_value,
           avg(day_value) AS mean_value,
           avg(day_value) FILTER (WHERE purchase_number > 1) AS mean_repeat_value
         FROM ordered
         GROUP BY user_id
       ),
       scored AS (
         SELECT
           *,
           ${score('recency_days DESC')} AS rfm_r,
           ${score('purchase_days')} AS rfm_f,
           ${score(monetary)} AS rfm_m
         FROM customers
       )
       SELECT *, rfm_r::VARCHAR || rfm_f::VARCHAR || rfm_m::VARCHAR AS rfm_code, ${RFM_SEGMENT_SQL} AS rfm_segment
       FROM scored
       ORDER BY user_id`,
      { as_of: asOf },
    );

    const counts = async (column: string) => {
      const rows = await ws.query<{ k: string; n: number }>(
        `SELECT ${column}::VARCHAR AS k, count(*) AS n FROM ${RESULT_TABLE} GROUP BY 1 ORDER BY 1`,
      );
      return Object.fromEntries(rows.map((row) => [row.k, Number(row.n)]));
    };
    const customers = await ws.rowCount(RESULT_TABLE);
    return {
      asOf,
      customers,
      transactions: total - rejected,
      rowsRejected: rejected,
      bins: { r: await counts('rfm_r'), f: await counts('rfm_f'), m: await counts('rfm_m') },
      segments: await counts('rfm_segment'),
      table: RESULT_TABLE,
    };
  });
}

/**
 * Puts the purchases into a temporary table `rfm_transactions (user_id, purchase_date,
 * amount)` and returns its name with the count of rows read and rejected.
 */
async function stageTransactions(
  ws: Workspace,
  source: TransactionSource,
  timeZone: string,
): Promise<{ relation: string; rejected: number; total: number }> {
  const relation = 'rfm_transactions';
  if (source.kind === 'billing') {
    if (!(await ws.tableExists('billing'))) {
      throw new UserInputError('No billing table is loaded. Load a billing file with payments, or pass a transactions file.');
    }
    await ws.run(
      `CREATE OR REPLACE TEMP TABLE ${relation} AS
       SELECT user_id, CAST(timezone(${quoteLiteral(timeZone)}, timezone('UTC', ts)) AS DATE) AS purchase_date, amount
       FROM billing
       WHERE lower(kind) = 'payment' AND user_id IS NOT NULL AND amount IS NOT NULL`,
    );
    return { relation, rejected: 0, total: await ws.rowCount(relation) };
  }

  const raw = 'rfm_transactions_raw';
  if (source.format === 'csv') {
    await ws.run(
      `CREATE OR REPLACE TEMP TABLE ${raw} AS SELECT * FROM read_csv($path, header = true, all_varchar = true)`,
      { path: source.path },
    );
  } else {
    await readWhitespaceFile(ws, source.path, raw);
  }
  const columns = (await ws.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
    [raw],
  )).map((row) => row.column_name);
  for (const [what, name] of [
    ['user', source.userColumn],
    ['date', source.dateColumn],
    ['amount', source.amountColumn],
  ] as const) {
    if (!columns.includes(name)) {
      throw new UserInputError(
        `The ${what} column "${name}" is not in ${source.path}. Columns found: ${columns.join(', ')}.`,
      );
    }
  }
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const date = source.dateFormat
    ? `TRY_CAST(try_strptime(${quote(source.dateColumn)}, $date_format) AS DATE)`
    : `TRY_CAST(${quote(source.dateColumn)} AS DATE)`;
  await ws.run(
    `CREATE OR REPLACE TEMP TABLE ${relation} AS
     SELECT user_id, purchase_date, amount FROM (
       SELECT trim(${quote(source.userColumn)}) AS user_id, ${date} AS purchase_date,
         TRY_CAST(${quote(source.amountColumn)} AS DOUBLE) AS amount
       FROM ${raw}
     )
     WHERE user_id IS NOT NULL AND user_id <> '' AND purchase_date IS NOT NULL AND amount IS NOT NULL`,
    source.dateFormat ? { date_format: source.dateFormat } : undefined,
  );
  const total = await ws.rowCount(raw);
  const kept = await ws.rowCount(relation);
  return { relation, rejected: total - kept, total };
}

/** Reads a file whose columns are separated by runs of blanks; the first line holds the column names. */
async function readWhitespaceFile(ws: Workspace, file: string, table: string): Promise<void> {
  // One VARCHAR column per line: the unit separator (0x1F) does not occur in such files.
  await ws.run(
    `CREATE OR REPLACE TEMP TABLE ${table}_lines AS
     SELECT regexp_split_to_array(regexp_replace(line, '^\\s+|\\s+$', '', 'g'), '\\s+') AS fields
     FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(31), quote = '', escape = '')
     WHERE regexp_replace(line, '\\s+', '', 'g') <> ''`,
    { path: file },
  );
  // DuckDB keeps the file's row order here (preserve_insertion_order is on by default).
  const header = await ws.queryOne<{ fields: string[] }>(`SELECT fields FROM ${table}_lines LIMIT 1`);
  const names = (header?.fields ?? []).map(String);
  if (names.length === 0) throw new UserInputError(`The file ${file} is empty.`);
  const selections = names.map((name, index) => `fields[${index + 1}] AS "${name.replaceAll('"', '""')}"`);
  await ws.run(
    `CREATE OR REPLACE TEMP TABLE ${table} AS
     SELECT ${selections.join(', ')} FROM ${table}_lines WHERE fields <> $header`,
    { header: listValue(names) },
    { header: LIST(VARCHAR) },
  );
}

import { DuckDBInstance } from '@duckdb/node-api';
import { COMPARED_COLUMNS, type ComparedColumn } from './columns.js';

export interface Difference {
  readonly userId: string;
  readonly column: string;
  readonly expected: string | null;
  readonly actual: string | null;
}

export interface Comparison {
  readonly expectedRows: number;
  readonly actualRows: number;
  /** Users present on one side only. */
  readonly missingUsers: number;
  /** (user, column) pairs that differ, over users present on both sides. */
  readonly differingValues: number;
  /** Columns of the compared list absent from one of the files. */
  readonly missingColumns: string[];
  /** The first differences in user_id order, at most `limit`. */
  readonly examples: Difference[];
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** SQL that normalises one CSV text value so that equal results compare equal across writers (True/true, 5/5.0, ''/NULL). */
function normalized(column: ComparedColumn, side: 'a' | 'b'): string {
  const value = `nullif(${side}.${column.name}, '')`;
  switch (column.type) {
    case 'integer':
    case 'float':
      return `TRY_CAST(${value} AS DOUBLE)`;
    case 'boolean':
      return `CASE lower(${value}) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'false' THEN false WHEN '0' THEN false END`;
    case 'text':
    case 'list':
      return value;
  }
}

function differs(column: ComparedColumn): string {
  const a = normalized(column, 'a');
  const b = normalized(column, 'b');
  if (column.type === 'float') {
    return `NOT ((${a} IS NULL AND ${b} IS NULL) OR coalesce(abs(${a} - ${b}) <= 1e-9, false))`;
  }
  return `${a} IS DISTINCT FROM ${b}`;
}

/**
 * Compares two per-user result files (CSV with a user_id column) on every column of
 * {@link COMPARED_COLUMNS}: integers, booleans and text exactly, floats within 1e-9.
 */
export async function compareResults(expectedCsv: string, actualCsv: string, limit = 10): Promise<Comparison> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
  try {
    await connection.run(`CREATE TABLE a AS SELECT * FROM read_csv(${sqlString(expectedCsv)}, all_varchar = true, header = true)`);
    await connection.run(`CREATE TABLE b AS SELECT * FROM read_csv(${sqlString(actualCsv)}, all_varchar = true, header = true)`);
    const names = async (table: string) =>
      new Set((await query(`SELECT column_name FROM information_schema.columns WHERE table_name = '${table}'`)).map((r) => String(r.column_name)));
    const aColumns = await names('a');
    const bColumns = await names('b');
    const missingColumns = COMPARED_COLUMNS.map((c) => c.name).filter((name) => !aColumns.has(name) || !bColumns.has(name));
    const columns = COMPARED_COLUMNS.filter((c) => !missingColumns.includes(c.name));

    const counts = (
      await query(`SELECT (SELECT count(*) FROM a)::INTEGER AS a, (SELECT count(*) FROM b)::INTEGER AS b,
        (SELECT count(*) FROM a FULL JOIN b USING (user_id) WHERE a.user_id IS NULL OR b.user_id IS NULL)::INTEGER AS missing`)
    )[0];
    const unions = columns.map(
      (column) =>
        `SELECT user_id, ${sqlString(column.name)} AS column_name, a.${column.name} AS expected, b.${column.name} AS actual
         FROM a JOIN b USING (user_id) WHERE ${differs(column)}`,
    );
    await connection.run(`CREATE TABLE diffs AS ${unions.length > 0 ? unions.join(' UNION ALL ') : 'SELECT NULL AS user_id WHERE false'}`);
    const total = (await query('SELECT count(*)::INTEGER AS n FROM diffs'))[0];
    const examples = unions.length === 0 ? [] : await query(`SELECT * FROM diffs ORDER BY user_id, column_name LIMIT ${limit}`);
    return {
      expectedRows: Number(counts.a),
      actualRows: Number(counts.b),
      missingUsers: Number(counts.missing),
      differingValues: Number(total.n),
      missingColumns,
      examples: examples.map((row) => ({
        userId: String(row.user_id),
        column: String(row.column_name),
        expected: row.expected === null ? null : String(row.expected),
        actual: row.actual === null ? null : String(row.actual),
      })),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** True when the two files hold the same users and every compared value agrees. */
export function isEqual(comparison: Comparison): boolean {
  return comparison.missingUsers === 0 && comparison.differingValues === 0 && comparison.missingColumns.length === 0;
}

/** Describes the comparison in a few lines for the console, listing the first differences. */
export function describeComparison(label: string, comparison: Comparison): string {
  if (isEqual(comparison)) return `${label}: identical (${comparison.expectedRows} users, ${COMPARED_COLUMNS.length} columns)`;
  const lines = [
    `${label}: DIFFERENT: ${comparison.expectedRows} vs ${comparison.actualRows} users, ${comparison.missingUsers} users on one side only, ` +
      `${comparison.differingValues} differing values`,
  ];
  if (comparison.missingColumns.length > 0) lines.push(`  columns missing from a file: ${comparison.missingColumns.join(', ')}`);
  for (const d of comparison.examples) lines.push(`  user ${d.userId} ${d.column}: expected ${d.expected ?? 'NULL'}, got ${d.actual ?? 'NULL'}`);
  return lines.join('\n');
}

import { DuckDBTypeId } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../workspace/index.js';
import { TABLE_FIELDS, type FieldSpec, type MappingEntry, type TableName, type VendorShape } from './columns.js';
import { RAW_TABLE, type SourceColumn } from './read.js';
import { BILLING_KIND_SPELLINGS, storedColumns } from './schema.js';
import type { TimestampPlan } from './timestamps.js';

/** Typed rows with a rejection reason per row, before duplicates are dropped. */
export const STAGE_TABLE = '_ingest_stage';
/** Accepted rows without duplicates, ready to insert. */
export const FINAL_TABLE = '_ingest_final';

/** Oldest accepted timestamp; earlier values are nearly always a placeholder or a unit error. */
export const EARLIEST_TIMESTAMP = '1990-01-01';

export interface StagePlan {
  readonly table: TableName;
  readonly mapping: Record<string, MappingEntry>;
  readonly columns: readonly SourceColumn[];
  readonly timestamps: Record<string, TimestampPlan>;
  readonly constantEvent?: string;
  readonly vendor: VendorShape | null;
  readonly zone: string;
}

function text(sql: string): string {
  return `NULLIF(trim(CAST(${sql} AS VARCHAR)), '')`;
}

function idSql(column: SourceColumn): string {
  const ident = quoteIdent(column.name);
  // A float id such as 39.0 (JSON numbers read as DOUBLE) is stored as '39'.
  if (column.type.typeId === DuckDBTypeId.DOUBLE || column.type.typeId === DuckDBTypeId.FLOAT) {
    return `regexp_replace(${text(ident)}, '\\.0$', '')`;
  }
  return text(ident);
}

function sentimentSql(value: string): string {
  const lower = `lower(${value})`;
  return `CASE
    WHEN ${lower} IN ('negative', 'neg', 'bad', 'unsatisfied', 'dissatisfied') THEN 'negative'
    WHEN ${lower} IN ('neutral', 'ok', 'okay', 'mixed') THEN 'neutral'
    WHEN ${lower} IN ('positive', 'pos', 'good', 'satisfied') THEN 'positive'
    WHEN TRY_CAST(${value} AS DOUBLE) < 0 THEN 'negative'
    WHEN TRY_CAST(${value} AS DOUBLE) > 0 THEN 'positive'
    WHEN TRY_CAST(${value} AS DOUBLE) = 0 THEN 'neutral'
  END`;
}

function billingKindSql(value: string): string {
  const normalized = `lower(regexp_replace(${value}, '[\\s-]+', '_', 'g'))`;
  const branches = Object.entries(BILLING_KIND_SPELLINGS).map(
    ([kind, spellings]) => `WHEN ${normalized} IN (${spellings.map(quoteLiteral).join(', ')}) THEN '${kind}'`,
  );
  return `CASE ${branches.join(' ')} END`;
}

/** SQL for one canonical column, or NULL when nothing maps to it. */
function fieldSql(spec: FieldSpec, plan: StagePlan): string {
  const entry = plan.mapping[spec.name];
  if (spec.name === 'event' && plan.constantEvent !== undefined && !entry?.source) return quoteLiteral(plan.constantEvent);
  if (!entry?.source) return 'NULL';
  const column = plan.columns.find((c) => c.name === entry.source) as SourceColumn;
  const value = text(quoteIdent(column.name));

  switch (spec.kind) {
    case 'id': {
      let sql = idSql(column);
      if (spec.name === 'user_id' && plan.vendor?.fallbackUserId) sql = `COALESCE(${sql}, ${text(quoteIdent(plan.vendor.fallbackUserId))})`;
      if (spec.name === 'session_id' && plan.vendor?.noSessionValues) {
        sql = `CASE WHEN ${sql} IN (${plan.vendor.noSessionValues.map(quoteLiteral).join(', ')}) THEN NULL ELSE ${sql} END`;
      }
      return sql;
    }
    case 'text':
      return value;
    case 'timestamp':
      return plan.timestamps[spec.name].sql;
    case 'integer':
      return `TRY_CAST(TRY_CAST(${value} AS DOUBLE) AS INTEGER)`;
    case 'double':
      return `TRY_CAST(regexp_replace(${value}, '[$€£,\\s]', '', 'g') AS DOUBLE)`;
    case 'sentiment':
      return sentimentSql(value);
    case 'billingKind':
      return billingKindSql(value);
  }
}

/** Builds `properties` from every source column not stored in a canonical column of this table. */
export function unmappedColumns(plan: StagePlan): string[] {
  const stored = new Set(storedColumns(plan.table));
  const used = new Set(
    Object.entries(plan.mapping)
      .filter(([canonical, entry]) => stored.has(canonical) && entry.source)
      .map(([, entry]) => entry.source as string),
  );
  return plan.columns.map((c) => c.name).filter((name) => !used.has(name));
}

function propertiesSql(plan: StagePlan): string {
  const names = unmappedColumns(plan);
  if (names.length === 0) return 'CAST(NULL AS JSON)';
  return `json_object(${names.map((name) => `${quoteLiteral(name)}, ${quoteIdent(name)}`).join(', ')})`;
}

/** Returns the rejection checks in order. The first check that matches gives the row's reason. */
function rejectionCases(plan: StagePlan): { when: string; reason: string; sample: string }[] {
  const cases: { when: string; reason: string; sample: string }[] = [];
  if (plan.table === 'billing') {
    cases.push({ when: 'user_id IS NULL AND account_id IS NULL', reason: 'empty user id and account id', sample: 'NULL' });
  } else {
    cases.push({ when: 'user_id IS NULL', reason: 'empty user id', sample: 'NULL' });
  }
  if (plan.table === 'events') cases.push({ when: 'event IS NULL', reason: 'empty event name', sample: 'NULL' });
  if (plan.table !== 'users') {
    cases.push({ when: 'ts_raw IS NULL', reason: 'empty timestamp', sample: 'NULL' });
    cases.push({ when: 'ts IS NULL', reason: 'unparseable timestamp', sample: 'ts_raw' });
    cases.push({ when: `ts < TIMESTAMP '${EARLIEST_TIMESTAMP}'`, reason: 'timestamp before 1990', sample: 'ts_raw' });
    cases.push({
      when: "ts > CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP) + INTERVAL 1 DAY",
      reason: 'timestamp in the future',
      sample: 'ts_raw',
    });
  }
  if (plan.table === 'billing') {
    cases.push({ when: 'kind_raw IS NULL', reason: 'empty billing kind', sample: 'NULL' });
    cases.push({ when: 'kind IS NULL', reason: 'unknown billing kind', sample: 'kind_raw' });
    cases.push({ when: 'amount IS NOT NULL AND NOT isfinite(amount)', reason: 'amount is not a finite number', sample: 'CAST(amount AS VARCHAR)' });
    // A refund is recorded with kind refund; a payment below zero is a sign error in the export.
    cases.push({ when: "kind = 'payment' AND amount < 0", reason: 'negative payment amount', sample: 'CAST(amount AS VARCHAR)' });
  }
  if (plan.table === 'nps') {
    cases.push({ when: 'score IS NULL OR score NOT BETWEEN 0 AND 10', reason: 'score not between 0 and 10', sample: 'score_raw' });
  }
  return cases;
}

/** Returns the statement that creates {@link STAGE_TABLE} from the raw rows. */
export function stageSql(plan: StagePlan): string {
  const selections = ['__ingest_row AS source_row'];
  for (const spec of TABLE_FIELDS[plan.table]) selections.push(`${fieldSql(spec, plan)} AS ${spec.name}`);

  const tsPlan = plan.timestamps.ts;
  selections.push(`${tsPlan ? tsPlan.rawSql : 'NULL'} AS ts_raw`);
  const signupPlan = plan.timestamps.signup_at;
  selections.push(`${signupPlan ? signupPlan.rawSql : 'NULL'} AS signup_raw`);
  const kindSource = plan.mapping.kind?.source;
  selections.push(`${kindSource ? text(quoteIdent(kindSource)) : 'NULL'} AS kind_raw`);
  const scoreSource = plan.mapping.score?.source;
  selections.push(`${scoreSource ? text(quoteIdent(scoreSource)) : 'NULL'} AS score_raw`);
  const insertId = plan.vendor?.insertId;
  selections.push(`${insertId ? text(quoteIdent(insertId)) : 'NULL'} AS insert_id`);
  selections.push(`${propertiesSql(plan)} AS properties`);

  const cases = rejectionCases(plan);
  const reason = `CASE ${cases.map((c) => `WHEN ${c.when} THEN ${quoteLiteral(c.reason)}`).join(' ')} END`;
  const sample = `CASE ${cases.map((c) => `WHEN ${c.when} THEN ${c.sample}`).join(' ')} END`;
  return `CREATE TEMP TABLE ${STAGE_TABLE} AS
    SELECT *, ${reason} AS reject_reason, ${sample} AS reject_sample
    FROM (SELECT ${selections.join(',\n      ')} FROM ${RAW_TABLE})`;
}

/**
 * Returns the statement that keeps the first of each group of exact duplicates among
 * accepted rows. Events also use the vendor's insert id when the export has one, and in
 * append mode skip rows already stored.
 */
export function finalSql(table: TableName, keys: readonly string[], withInsertId: boolean, skipStored: boolean): string {
  const partition = [...keys, ...(withInsertId ? ['insert_id'] : [])].join(', ');
  const stored = skipStored
    ? `AND NOT EXISTS (SELECT 1 FROM ${table} AS t WHERE ${keys.map((k) => `t.${k} IS NOT DISTINCT FROM s.${k}`).join(' AND ')})`
    : '';
  return `CREATE TEMP TABLE ${FINAL_TABLE} AS
    SELECT * FROM ${STAGE_TABLE} AS s
    WHERE reject_reason IS NULL ${stored}
    QUALIFY row_number() OVER (PARTITION BY ${partition} ORDER BY source_row) = 1`;
}

import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral, UserInputError, type Workspace } from '../workspace/index.js';

/** A timestamp column turned into SQL that yields a UTC `TIMESTAMP` (NULL when a value does not parse). */
export interface TimestampPlan {
  /** SQL over the raw table producing a naive UTC TIMESTAMP. */
  readonly sql: string;
  /** The source value as trimmed text, NULL when empty (kept for rejection samples). */
  readonly rawSql: string;
  /** Human-readable name of the format used, stored in the load report. */
  readonly description: string;
  readonly warnings: string[];
}

const NUMERIC_TYPES = new Set<number>([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL,
]);
const NAIVE_TIMESTAMP_TYPES = new Set<number>([
  DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_MS, DuckDBTypeId.TIMESTAMP_NS,
]);

const ISO = String.raw`^\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|UTC|[+-]\d{2}(:?\d{2})?)?)?$`;
const DATE_ONLY = String.raw`^\d{4}-\d{2}-\d{2}$`;
const COMPACT_DATE = String.raw`^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$`;
const NUMBER = String.raw`^-?\d+(\.\d+)?([eE][+-]?\d+)?$`;
const SLASH = String.raw`^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})([ T]\d{1,2}:\d{2}(:\d{2})?)?$`;

/** Epoch unit boundaries on the column's median absolute value (see docs/loading.md). */
const EPOCH_SECONDS_BELOW = 1e11;
const EPOCH_MILLISECONDS_BELOW = 1e14;
const EPOCH_MICROSECONDS_BELOW = 1e17;

interface ColumnProfile {
  nonEmpty: number;
  iso: number;
  dateOnly: number;
  compact: number;
  numeric: number;
  slash: number;
  slashFirstOver12: number;
  slashSecondOver12: number;
  slashTwoDigitYear: number;
  medianMagnitude: number | null;
  sample: string | null;
}

/** Converts naive local time in `zone` to naive UTC. */
function localToUtc(sql: string, zone: string): string {
  return `((${sql}) AT TIME ZONE ${quoteLiteral(zone)}) AT TIME ZONE 'UTC'`;
}

function epochSql(numberSql: string, unit: 's' | 'ms' | 'us' | 'ns'): string {
  const factor = { s: '1e6', ms: '1e3', us: '1', ns: '1e-3' }[unit];
  return `make_timestamp(TRY_CAST(round(${numberSql} * ${factor}) AS BIGINT))`;
}

const EPOCH_NAMES = { s: 'epoch seconds', ms: 'epoch milliseconds', us: 'epoch microseconds', ns: 'epoch nanoseconds' };

/**
 * Decides how to read one timestamp column and returns the SQL that parses it. The
 * decision is made from aggregate counts computed in DuckDB over the whole column.
 */
export async function planTimestamp(
  ws: Workspace,
  rawTable: string,
  column: string,
  type: DuckDBType,
  zone: string,
  explicitFormat: string | undefined,
): Promise<TimestampPlan> {
  const ident = quoteIdent(column);
  const text = `NULLIF(trim(CAST(${ident} AS VARCHAR)), '')`;
  const warnings: string[] = [];

  if (explicitFormat !== undefined) return planExplicit(text, zone, explicitFormat);

  if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ) {
    return { sql: `(${ident}) AT TIME ZONE 'UTC'`, rawSql: text, description: 'zoned timestamp', warnings };
  }
  if (NAIVE_TIMESTAMP_TYPES.has(type.typeId)) {
    return { sql: localToUtc(`CAST(${ident} AS TIMESTAMP)`, zone), rawSql: text, description: `timestamp in ${zone}`, warnings };
  }
  if (type.typeId === DuckDBTypeId.DATE) {
    return { sql: localToUtc(`CAST(${ident} AS TIMESTAMP)`, zone), rawSql: text, description: 'date only', warnings };
  }
  if (!NUMERIC_TYPES.has(type.typeId) && type.typeId !== DuckDBTypeId.VARCHAR) {
    throw new UserInputError(
      `The timestamp column '${column}' has type ${type.toString()}, which is not a date, time or number. ` +
        'Map ts to another column with mapping: { ts: "<column>" }.',
    );
  }

  const profile = await profileColumn(ws, rawTable, text);
  if (profile.nonEmpty === 0) {
    throw new UserInputError(`The timestamp column '${column}' has no values. Map ts to a column that contains dates, with mapping: { ts: '<column>' }.`);
  }

  const counts: [string, number][] = [
    ['iso', profile.iso],
    ['compact', profile.compact],
    ['numeric', profile.numeric - profile.compact],
    ['slash', profile.slash],
  ];
  counts.sort((a, b) => b[1] - a[1]);
  const [kind, count] = counts[0];
  if (count === 0) {
    throw new UserInputError(
      `The values of '${column}' (for example '${profile.sample}') are not a recognised timestamp format. ` +
        "Pass timestampFormat as a strptime format such as '%d.%m.%Y %H:%M', or 'epoch_s' / 'epoch_ms'.",
    );
  }

  if (kind === 'iso') {
    // A zone can only follow the time, so looking for Z, UTC, + or - after the date part
    // (from character 11) is enough and much cheaper than a regular expression per row.
    const afterDate = `substr(${text}, 11)`;
    const hasZone = `(regexp_matches(${afterDate}, '[zZ+-]|UTC'))`;
    const zonedSql = `COALESCE(TRY_CAST(${text} AS TIMESTAMPTZ), TRY_CAST(${normalizeZone(text)} AS TIMESTAMPTZ)) AT TIME ZONE 'UTC'`;
    const zoned = `CASE WHEN ${hasZone} THEN ${zonedSql} ELSE ${localToUtc(`TRY_CAST(${text} AS TIMESTAMP)`, zone)} END`;
    const allDates = profile.dateOnly === profile.iso;
    return {
      sql: zoned,
      rawSql: text,
      description: allDates ? 'date only' : 'ISO 8601 timestamp',
      warnings,
    };
  }
  if (kind === 'compact') {
    return { sql: localToUtc(`try_strptime(${text}, '%Y%m%d')`, zone), rawSql: text, description: 'date only (YYYYMMDD)', warnings };
  }
  if (kind === 'numeric') {
    const magnitude = profile.medianMagnitude ?? 0;
    const unit = epochUnit(magnitude);
    return { sql: epochSql(`TRY_CAST(${text} AS DOUBLE)`, unit), rawSql: text, description: EPOCH_NAMES[unit], warnings };
  }
  return planSlash(column, text, zone, profile, warnings);
}

function epochUnit(medianMagnitude: number): 's' | 'ms' | 'us' | 'ns' {
  if (medianMagnitude < EPOCH_SECONDS_BELOW) return 's';
  if (medianMagnitude < EPOCH_MILLISECONDS_BELOW) return 'ms';
  if (medianMagnitude < EPOCH_MICROSECONDS_BELOW) return 'us';
  return 'ns';
}

/** Rewrites zoned text into the form the TIMESTAMPTZ cast accepts: ' UTC' and ' Z' as 'Z', no space before an offset. */
function normalizeZone(text: string): string {
  const utc = `regexp_replace(${text}, '\\s*(UTC|[zZ])$', 'Z')`;
  const offset = `regexp_replace(${utc}, '\\s+([+-]\\d{2}(:?\\d{2})?)$', '\\1')`;
  // The cast also needs seconds before a zone: '10:00+05:30' becomes '10:00:00+05:30'.
  return `regexp_replace(${offset}, '([T ]\\d{1,2}:\\d{2})([zZ]|[+-]\\d)', '\\1:00\\2')`;
}

function planSlash(column: string, text: string, zone: string, profile: ColumnProfile, warnings: string[]): TimestampPlan {
  const dayFirstProven = profile.slashFirstOver12 > 0;
  const monthFirstProven = profile.slashSecondOver12 > 0;
  if (dayFirstProven && monthFirstProven) {
    throw new UserInputError(
      `The slash dates in '${column}' mix day-first and month-first values. ` +
        "Pass timestampFormat ('%d/%m/%Y' or '%m/%d/%Y') and fix the rows that do not match.",
    );
  }
  if (!dayFirstProven && !monthFirstProven) {
    throw new UserInputError(
      `The slash dates in '${column}' (for example '${profile.sample}') could be day/month or month/day: ` +
        "no value has a part above 12. Pass timestampFormat: '%d/%m/%Y' for day first or '%m/%d/%Y' for month first.",
    );
  }
  const year = profile.slashTwoDigitYear > 0 ? '%y' : '%Y';
  const order = dayFirstProven ? `%d/%m/${year}` : `%m/%d/${year}`;
  warnings.push(
    `Read '${column}' as ${dayFirstProven ? 'day/month/year' : 'month/day/year'} because ${dayFirstProven ? 'a first' : 'a second'} part above 12 occurs.`,
  );
  const formats = [`${order} %H:%M:%S`, `${order} %H:%M`, `${order}T%H:%M:%S`, order].map(quoteLiteral).join(', ');
  return {
    sql: localToUtc(`try_strptime(${text}, [${formats}])`, zone),
    rawSql: text,
    description: `slash date ${order}`,
    warnings,
  };
}

function planExplicit(text: string, zone: string, format: string): TimestampPlan {
  if (format === 'epoch_s' || format === 'epoch_ms') {
    const unit = format === 'epoch_s' ? 's' : 'ms';
    return { sql: epochSql(`TRY_CAST(${text} AS DOUBLE)`, unit), rawSql: text, description: EPOCH_NAMES[unit], warnings: [] };
  }
  if (!format.includes('%')) {
    throw new UserInputError(
      `timestampFormat '${format}' is not a strptime format. Use codes such as '%d/%m/%Y %H:%M', or 'epoch_s' / 'epoch_ms'.`,
    );
  }
  const parsed = `try_strptime(${text}, ${quoteLiteral(format)})`;
  // %z and %Z give a zoned result; every other format gives naive local time.
  const sql = /%[zZ]/.test(format) ? `(${parsed}) AT TIME ZONE 'UTC'` : localToUtc(parsed, zone);
  return { sql, rawSql: text, description: `strptime ${format}`, warnings: [] };
}

async function profileColumn(ws: Workspace, rawTable: string, text: string): Promise<ColumnProfile> {
  // Each value is classified by the first pattern it matches, so most rows pay for one or
  // two regular expressions. The slash-date parts are extracted only for slash rows.
  const slashPart = (index: number) => `TRY_CAST(regexp_extract(v, ${quoteLiteral(SLASH)}, ${index}) AS INTEGER)`;
  const row = await ws.queryOne<Record<string, number | string | null>>(
    `WITH classified AS (
       SELECT v, rowid,
              CASE
                WHEN regexp_matches(v, ${quoteLiteral(ISO)}) THEN (CASE WHEN regexp_matches(v, ${quoteLiteral(DATE_ONLY)}) THEN 'date' ELSE 'iso' END)
                WHEN regexp_matches(v, ${quoteLiteral(COMPACT_DATE)}) THEN 'compact'
                WHEN regexp_matches(v, ${quoteLiteral(NUMBER)}) THEN 'numeric'
                WHEN regexp_matches(v, ${quoteLiteral(SLASH)}) THEN 'slash'
              END AS kind
       FROM (SELECT ${text} AS v, __ingest_row AS rowid FROM ${quoteIdent(rawTable)}) WHERE v IS NOT NULL)
     SELECT
       count(*) AS "nonEmpty",
       count(*) FILTER (WHERE kind IN ('iso', 'date')) AS iso,
       count(*) FILTER (WHERE kind = 'date') AS "dateOnly",
       count(*) FILTER (WHERE kind = 'compact') AS compact,
       count(*) FILTER (WHERE kind IN ('compact', 'numeric')) AS numeric,
       count(*) FILTER (WHERE kind = 'slash') AS slash,
       count(*) FILTER (WHERE kind = 'slash' AND ${slashPart(1)} > 12) AS "slashFirstOver12",
       count(*) FILTER (WHERE kind = 'slash' AND ${slashPart(2)} > 12) AS "slashSecondOver12",
       count(*) FILTER (WHERE kind = 'slash' AND length(regexp_extract(v, ${quoteLiteral(SLASH)}, 3)) = 2) AS "slashTwoDigitYear",
       median(abs(TRY_CAST(v AS DOUBLE))) FILTER (WHERE kind IN ('compact', 'numeric')) AS "medianMagnitude",
       min_by(v, rowid) AS sample
     FROM classified`,
  );
  const value = (key: string) => Number(row?.[key] ?? 0);
  return {
    nonEmpty: value('nonEmpty'),
    iso: value('iso'),
    dateOnly: value('dateOnly'),
    compact: value('compact'),
    numeric: value('numeric'),
    slash: value('slash'),
    slashFirstOver12: value('slashFirstOver12'),
    slashSecondOver12: value('slashSecondOver12'),
    slashTwoDigitYear: value('slashTwoDigitYear'),
    medianMagnitude: row?.medianMagnitude == null ? null : Number(row.medianMagnitude),
    sample: row?.sample == null ? null : String(row.sample),
  };
}

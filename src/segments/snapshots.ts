import { createHash } from 'node:crypto';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { detectInputs } from '../metrics/inputs.js';
import { compileSegmentSnapshots, compileSnapshotBatch, segmentAttributes, snapshotLookbackDays, snapshotUnsupported } from '../rules/compiler.js';
import { buildEventFacts } from '../metrics/facts.js';
import type { Input } from '../scoring/config.js';
import { BEHAVIORAL_SEGMENTS, orderedSegmentSql } from '../scoring/segment-sql.js';
import type { Settings } from '../scoring/settings.js';
import { loadSettings } from '../scoring/store.js';
import { CancelledError, UserInputError, log, noProgress, quoteLiteral, type ProgressReporter, type Workspace } from '../workspace/index.js';
import { allSegments, ensureSegmentTables, workspaceEventNames, type RuleSegment } from './definitions.js';

export const PERIODS = ['week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

/** Week start days, in ISO day-of-week order (monday = 1). */
export const WEEK_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];

/** Most snapshot periods one backfill computes: ten years of weeks. Longer histories should use months. */
export const MAX_PERIODS = 530;

export interface BackfillRequest {
  readonly period?: Period;
  /** First day of a week bucket; default monday. Ignored for months. */
  readonly weekStart?: WeekDay;
}

export interface SnapshotPeriod {
  readonly periodKey: string;
  readonly periodStart: string;
  /** Last calendar day included in the snapshot: the period's last day, or the last data day for the current period. */
  readonly asOf: string;
  /** True when the data ends before the period does. */
  readonly partial: boolean;
}

export interface BackfillResult {
  readonly period: Period;
  readonly weekStart: WeekDay;
  readonly periods: number;
  readonly firstPeriod: string;
  readonly lastPeriod: string;
  /** Behavioural snapshot rows stored: one per user known at each as-of date. */
  readonly rows: number;
  /** Behavioural segment ids. */
  readonly segments: readonly string[];
  /** Built-in and saved rule segments whose members were stored at every date. */
  readonly ruleSegments: readonly string[];
  /** Rule segment rows stored: one per member at each as-of date. */
  readonly ruleRows: number;
  /** Rule segments without history, each with the reason. */
  readonly skippedSegments: readonly SkippedSegment[];
}

export interface SkippedSegment {
  readonly segment: string;
  readonly reason: string;
}

/** The inputs of a stored backfill. A mismatch with the workspace means the snapshots are stale. */
interface SnapshotStamp {
  readonly period: Period;
  readonly weekStart: WeekDay;
  readonly inputs: string;
  readonly builtAt: string;
  readonly ruleSegments?: readonly string[];
  readonly skippedSegments?: readonly SkippedSegment[];
}

const stampKey = (period: Period) => `snapshots:${period}`;

/**
 * Per-boundary definitions of the `user_metrics` columns that BEHAVIORAL_SEGMENTS and rule
 * segments read, over the relation `metrics` built in {@link snapshotMetricsSql}. Each
 * mirrors the column of the same name in src/metrics/user-metrics.ts with the boundary
 * date as a column. A rule attribute on any other `user_metrics` column has no history.
 */
const SNAPSHOT_METRICS: Readonly<Record<string, string>> = {
  signup_date: 'signup_date',
  first_active_date: 'first_active_date',
  last_active_date: 'last_active_date',
  days_since_last_active: '(boundary - 1) - last_active_date',
  days_since_signup: '(boundary - 1) - start_date',
  total_sessions: 'total_sessions',
  total_active_days: 'total_active_days',
  total_features: 'total_features',
  sessions_7d: 'sessions_7d',
  week_over_week_drop: 'CASE WHEN sessions_prev_7d > 0 THEN 1 - sessions_7d / sessions_prev_7d END',
  gone_after_trying: 'coalesce((boundary - 1) - last_active_date >= 30 AND total_sessions < 3, false)',
  feature_breadth_30d: 'CASE WHEN total_features > 0 THEN features_30d / total_features END',
  usage_decline: `CASE WHEN sessions_baseline_28d / 4.0 > 0
    THEN greatest(0, 1 - sessions_7d / (sessions_baseline_28d / 4.0)) END`,
};

const METRIC_COLUMNS: ReadonlySet<string> = new Set(Object.keys(SNAPSHOT_METRICS));

/** Members of built-in and saved rule segments at each snapshot date: `(as_of, period_key, segment, user_id)`. */
export const RULE_SNAPSHOTS_TABLE = 'rule_segment_snapshots';

/** Temporary tables the backfill builds and drops inside its transaction. */
const DATES_TABLE = 'snapshot_boundaries';
const RULE_WINDOWS_TABLE = 'snapshot_rule_event_windows';
const USER_DATES_TABLE = 'snapshot_user_metrics';

/** Fails loudly when the behavioural segments read a metric the snapshot SQL does not compute. */
function checkSupportedMetrics(): void {
  const missing = BEHAVIORAL_SEGMENTS.flatMap((segment) => segment.criteria.map((criterion) => criterion.metric)).filter(
    (metric) => !(metric in SNAPSHOT_METRICS),
  );
  if (missing.length > 0) {
    throw new Error(`Internal error: snapshots have no per-date definition of ${[...new Set(missing)].join(', ')}; add it to SNAPSHOT_METRICS.`);
  }
}

/**
 * Builds the behavioural segment as a CASE over `m`. As in scoring, feature breadth is
 * skipped when fewer than two feature events exist before the boundary. Every other
 * input is taken as available or not from the workspace as it is now.
 */
function segmentCase(available: ReadonlySet<Input>): string {
  const withFeatures = new Set(available);
  withFeatures.add('feature_variety');
  const withoutFeatures = new Set(available);
  withoutFeatures.delete('feature_variety');
  return `CASE WHEN m.total_features >= 2
    THEN ${orderedSegmentSql(BEHAVIORAL_SEGMENTS, withFeatures)}
    ELSE ${orderedSegmentSql(BEHAVIORAL_SEGMENTS, withoutFeatures)} END`;
}

/**
 * Fills `snapshot_dates` for one period kind: one row per week or month from the one
 * holding the first event to the one holding the last, as of its last day (or the last
 * data day for the current period). Week keys are the ISO week-year and week number of
 * the bucket's fourth day. For Monday weeks that is the ISO week itself ('2020-W53' for
 * 2020-12-28..2021-01-03). A week starting on another day takes the key of the ISO week
 * that shares most of its days.
 */
async function fillSnapshotDates(ws: Workspace, period: Period, weekStart: WeekDay): Promise<SnapshotPeriod[]> {
  await ws.run('DELETE FROM snapshot_dates WHERE period = $1', [period]);
  const startDay = WEEK_DAYS.indexOf(weekStart) + 1;
  const first = period === 'week' ? `first_day - CAST((isodow(first_day) - ${startDay} + 7) % 7 AS INTEGER)` : "CAST(date_trunc('month', first_day) AS DATE)";
  const last = period === 'week' ? `last_day - CAST((isodow(last_day) - ${startDay} + 7) % 7 AS INTEGER)` : "CAST(date_trunc('month', last_day) AS DATE)";
  const step = period === 'week' ? 'INTERVAL 7 DAY' : 'INTERVAL 1 MONTH';
  const periodEnd = period === 'week' ? 'period_start + 6' : "CAST(period_start + INTERVAL 1 MONTH AS DATE) - 1";
  const key = period === 'week' ? "strftime(period_start + 3, '%G-W%V')" : "strftime(period_start, '%Y-%m')";
  await ws.run(
    `INSERT INTO snapshot_dates
     WITH bounds AS (SELECT min(local_date) AS first_day, max(local_date) AS last_day FROM event_facts),
     starts AS (
       SELECT CAST(s AS DATE) AS period_start, last_day
       FROM bounds, generate_series(CAST(${first} AS TIMESTAMP), CAST(${last} AS TIMESTAMP), ${step}) AS t(s)
     )
     SELECT $1, ${key}, period_start, least(${periodEnd}, last_day), least(${periodEnd}, last_day) + 1, ${periodEnd} > last_day
     FROM starts`,
    [period],
  );
  const rows = await ws.query<{ period_key: string; period_start: string; as_of: string; partial: boolean }>(
    'SELECT period_key, period_start::VARCHAR AS period_start, as_of::VARCHAR AS as_of, partial FROM snapshot_dates WHERE period = $1 ORDER BY as_of',
    [period],
  );
  return rows.map((row) => ({ periodKey: row.period_key, periodStart: row.period_start, asOf: row.as_of, partial: row.partial }));
}

/**
 * Builds one statement that stores the metrics of every user at every boundary of `snapshot_dates`
 * in the temporary table USER_DATES_TABLE. Whole-history values (last active day, sessions
 * and active days so far) come from one ASOF join against per-user running totals. Windowed
 * counts come from range joins of per-user-day rows to the boundaries whose window contains
 * them. So the work grows with users × periods plus events × (windows per event), never
 * events × periods.
 */
function snapshotMetricsSql(settings: Settings, hasUsers: boolean): string {
  const zone = quoteLiteral(settings.timeZone);
  const signups = hasUsers
    ? `SELECT user_id, CAST(timezone(${zone}, timezone('UTC', signup_at)) AS DATE) AS signup_date FROM users`
    : 'SELECT NULL::VARCHAR AS user_id, NULL::DATE AS signup_date WHERE false';
  const columns = Object.entries(SNAPSHOT_METRICS).map(([name, sql]) => `${sql} AS ${name}`);
  return `
    CREATE OR REPLACE TEMP TABLE ${USER_DATES_TABLE} AS
    WITH
    dates AS (SELECT as_of, boundary, period_key FROM snapshot_dates WHERE period = $period),
    facts AS (
      SELECT user_id, event, local_date, NOT list_contains($non_feature, event) AS is_feature FROM event_facts
    ),
    active_days AS (SELECT DISTINCT user_id, local_date FROM facts),
    first_seen AS (SELECT user_id, min(local_date) AS first_active_date FROM active_days GROUP BY user_id),
    signups AS (${signups}),
    population AS (
      SELECT coalesce(s.user_id, f.user_id) AS user_id, s.signup_date, f.first_active_date, s.user_id IS NOT NULL AS in_users
      FROM signups s FULL JOIN first_seen f ON f.user_id = s.user_id
    ),
    grid AS (
      SELECT d.as_of, d.boundary, d.period_key, p.user_id, p.signup_date,
        CASE WHEN p.first_active_date < d.boundary THEN p.first_active_date END AS first_active_date
      FROM population p CROSS JOIN dates d
      WHERE p.in_users OR p.first_active_date < d.boundary
    ),
    session_days AS (SELECT user_id, local_date, count(*) AS n FROM sessions GROUP BY user_id, local_date),
    -- A session's date is the date of its first event, so every session day is an active
    -- day, and one ASOF join on this table gives both the last active day and the sessions so far.
    user_days AS (
      SELECT a.user_id, a.local_date,
        CAST(sum(coalesce(s.n, 0)) OVER (PARTITION BY a.user_id ORDER BY a.local_date ROWS UNBOUNDED PRECEDING) AS BIGINT) AS cumulative_sessions,
        CAST(row_number() OVER (PARTITION BY a.user_id ORDER BY a.local_date) AS BIGINT) AS cumulative_active_days
      FROM active_days a LEFT JOIN session_days s ON s.user_id = a.user_id AND s.local_date = a.local_date
    ),
    recent_sessions AS (
      SELECT d.as_of, s.user_id,
        CAST(coalesce(sum(s.n) FILTER (WHERE s.local_date >= d.boundary - 7), 0) AS BIGINT) AS sessions_7d,
        CAST(coalesce(sum(s.n) FILTER (WHERE s.local_date >= d.boundary - 14 AND s.local_date < d.boundary - 7), 0) AS BIGINT) AS sessions_prev_7d,
        CAST(coalesce(sum(s.n) FILTER (WHERE s.local_date < d.boundary - 7), 0) AS BIGINT) AS sessions_baseline_28d
      FROM session_days s JOIN dates d ON s.local_date >= d.boundary - 35 AND s.local_date < d.boundary
      GROUP BY d.as_of, s.user_id
    ),
    feature_days AS (SELECT DISTINCT user_id, event, local_date FROM facts WHERE is_feature),
    recent_features AS (
      SELECT d.as_of, f.user_id, count(DISTINCT f.event) AS features_30d
      FROM feature_days f JOIN dates d ON f.local_date >= d.boundary - 30 AND f.local_date < d.boundary
      GROUP BY d.as_of, f.user_id
    ),
    catalogue AS (
      SELECT d.as_of, count(f.event) AS total_features
      FROM dates d
      LEFT JOIN (SELECT event, min(local_date) AS first_day FROM facts WHERE is_feature GROUP BY event) f ON f.first_day < d.boundary
      GROUP BY d.as_of
    ),
    metrics AS (
      SELECT
        g.as_of, g.boundary, g.period_key, g.user_id,
        g.signup_date,
        g.first_active_date,
        ud.local_date AS last_active_date,
        coalesce(g.signup_date, g.first_active_date) AS start_date,
        coalesce(ud.cumulative_sessions, 0) AS total_sessions,
        coalesce(ud.cumulative_active_days, 0) AS total_active_days,
        coalesce(rs.sessions_7d, 0) AS sessions_7d,
        coalesce(rs.sessions_prev_7d, 0) AS sessions_prev_7d,
        coalesce(rs.sessions_baseline_28d, 0) AS sessions_baseline_28d,
        coalesce(rf.features_30d, 0) AS features_30d,
        c.total_features
      FROM grid g
      ASOF LEFT JOIN user_days ud ON ud.user_id = g.user_id AND g.boundary > ud.local_date
      LEFT JOIN recent_sessions rs ON rs.as_of = g.as_of AND rs.user_id = g.user_id
      LEFT JOIN recent_features rf ON rf.as_of = g.as_of AND rf.user_id = g.user_id
      JOIN catalogue c ON c.as_of = g.as_of
    )
    SELECT as_of, boundary, period_key, user_id, ${columns.join(', ')} FROM metrics`;
}

/** Builds one INSERT of every user's behavioural segment at every boundary, from USER_DATES_TABLE. */
function behavioralSnapshotSql(available: ReadonlySet<Input>): string {
  return `
    INSERT INTO segment_snapshots (as_of, period_key, segment, user_id)
    SELECT m.as_of, m.period_key, ${segmentCase(available)} AS segment, m.user_id
    FROM ${USER_DATES_TABLE} m`;
}

/**
 * Creates the table of rule segment members per snapshot date, if missing. It is kept apart
 * from `segment_snapshots`, which contains exactly one behavioural segment per user and date.
 */
export async function ensureRuleSnapshotTable(ws: Workspace): Promise<void> {
  await ws.run(
    `CREATE TABLE IF NOT EXISTS ${RULE_SNAPSHOTS_TABLE} (as_of DATE NOT NULL, period_key VARCHAR NOT NULL, segment VARCHAR NOT NULL, user_id VARCHAR NOT NULL)`,
  );
}

/**
 * Tells why a rule segment gets no snapshots, or returns undefined when it does: scores and
 * most usage metrics exist only for the current as-of day.
 * NOTE: `users` columns (plan, role, …) are read as loaded now, because the users file has
 * no history. A user who changed plan counts under the current plan at every past date.
 */
function skipReason(segment: RuleSegment, hasUsers: boolean): string | undefined {
  const unsupported = snapshotUnsupported(segment.ast, METRIC_COLUMNS);
  if (unsupported.length > 0) {
    return `uses ${unsupported.join(', ')}, which ${unsupported.length === 1 ? 'is' : 'are'} computed only for the current as-of day.`;
  }
  const fromUsers = segmentAttributes(segment.ast).filter(({ attribute }) => attribute.table === 'users');
  if (fromUsers.length > 0 && !hasUsers) {
    return `reads ${fromUsers.map(({ name }) => name).join(', ')}, but no users file is loaded.`;
  }
  return undefined;
}

/**
 * Stores the members of every rule segment that has per-date inputs at every boundary. The
 * segments whose event functions stay inside their windows share one event pass, stored in a
 * temporary table. Those that read the whole history (first_time, started_again) share
 * another. Then each segment is one INSERT over all dates. Returns the stored and the
 * skipped segments, in catalogue order.
 */
async function snapshotRuleSegments(
  ws: Workspace,
  segments: readonly RuleSegment[],
  settings: Settings,
  hasUsers: boolean,
  beforeStep: (index: number, message: string) => void,
): Promise<{ stored: string[]; skipped: SkippedSegment[] }> {
  const context = {
    datesTable: DATES_TABLE,
    metricsTable: USER_DATES_TABLE,
    metricColumns: METRIC_COLUMNS,
    nonFeatureEvents: settings.events.nonFeature,
    eventNames: await workspaceEventNames(ws),
    eventWindowsTable: RULE_WINDOWS_TABLE,
  };
  const eligible: RuleSegment[] = [];
  const skipped: SkippedSegment[] = [];
  for (const segment of segments) {
    const reason = skipReason(segment, hasUsers) ?? checkFailure(segment, context);
    if (reason) skipped.push({ segment: segment.name, reason: `Segment "${segment.name}" has no history: it ${reason}` });
    else eligible.push(segment);
  }

  const bounded = eligible.filter((segment) => snapshotLookbackDays(segment.ast) !== undefined);
  const unbounded = eligible.filter((segment) => snapshotLookbackDays(segment.ast) === undefined);
  let done = 0;
  for (const batch of [bounded, unbounded]) {
    if (batch.length === 0) continue;
    const compiled = compileSnapshotBatch(batch.map((segment) => segment.ast), context);
    if (compiled.eventPass) {
      beforeStep(done, `computing event windows of ${batch.length} rule segments`);
      await ws.run(`CREATE OR REPLACE TEMP TABLE ${RULE_WINDOWS_TABLE} AS ${compiled.eventPass.sql}`, compiled.eventPass.params as never);
    }
    for (const [index, members] of compiled.members.entries()) {
      const name = batch[index].name;
      beforeStep(done, `storing rule segment "${name}"`);
      await ws.run(
        `INSERT INTO ${RULE_SNAPSHOTS_TABLE} (as_of, period_key, segment, user_id)
         SELECT members.as_of, members.period_key, $${members.params.length + 1}, members.user_id FROM (${members.sql}) AS members`,
        [...members.params, name] as never,
      );
      done += 1;
    }
    await ws.run(`DROP TABLE IF EXISTS ${RULE_WINDOWS_TABLE}`);
  }
  const stored = new Set(eligible.map((segment) => segment.name));
  return { stored: segments.map((segment) => segment.name).filter((name) => stored.has(name)), skipped };
}

/** Tells why a saved rule no longer compiles against the workspace (an event that is gone), or returns undefined. */
function checkFailure(segment: RuleSegment, context: Parameters<typeof compileSegmentSnapshots>[1]): string | undefined {
  try {
    compileSegmentSnapshots(segment.ast, context);
    return undefined;
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    return `no longer checks against this workspace: ${error.message}`;
  }
}

async function countSnapshotRows(ws: Workspace, table: string, period: Period): Promise<number> {
  const row = await ws.queryOne<{ n: number }>(
    `SELECT count(*) AS n FROM ${table} WHERE period_key IN (SELECT period_key FROM snapshot_dates WHERE period = $1)`,
    [period],
  );
  return row?.n ?? 0;
}

/** Hashes everything snapshots depend on: the loaded events and users, and the settings. */
async function snapshotInputs(ws: Workspace, settings: Settings): Promise<string> {
  const parts = {
    events: await ws.getMeta<unknown>('load:events'),
    users: await ws.getMeta<unknown>('load:users'),
    settings,
    // Saving, replacing or deleting a rule segment changes the rule snapshots too.
    rules: (await allSegments(ws)).map((segment) => [segment.name, segment.source]),
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/**
 * Computes behavioural-segment snapshots at every week or month of the data's history,
 * then the members of every built-in and saved rule segment whose inputs exist per date,
 * and replaces the stored ones of that period kind, in one transaction. It builds the
 * event facts if scoring has not run yet, and never touches the scores themselves.
 */
export async function backfillHistory(
  ws: Workspace,
  request: BackfillRequest = {},
  reporter: ProgressReporter = noProgress,
): Promise<BackfillResult> {
  const period = request.period ?? 'week';
  const weekStart = request.weekStart ?? 'monday';
  if (!PERIODS.includes(period)) throw new UserInputError(`Unknown period "${String(period)}": use week or month.`);
  if (!WEEK_DAYS.includes(weekStart)) {
    throw new UserInputError(`Unknown week start "${String(weekStart)}": use one of ${WEEK_DAYS.join(', ')}.`);
  }
  if ((await ws.rowCount('events')) === 0) {
    throw new UserInputError('No events are loaded, so there is no history to snapshot. Load an events file with load_data first.');
  }
  checkSupportedMetrics();

  const segments = await allSegments(ws);
  // Facts, boundaries, behavioural segments, one step per rule segment, recording.
  const steps = 4 + segments.length;
  const checkCancelled = () => {
    if (reporter.signal?.aborted) throw new CancelledError();
  };
  const onAbort = () => ws.interrupt();
  reporter.signal?.addEventListener('abort', onAbort);
  try {
    reporter.report({ progress: 0, total: steps, message: 'building event facts and sessions' });
    const settings = await loadSettings(ws);
    await buildEventFacts(ws, settings.timeZone, settings.sessionGapMinutes);
    await ensureSegmentTables(ws);
    await ensureRuleSnapshotTable(ws);
    const inputs = await detectInputs(ws, settings);
    const available = new Set<Input>((Object.keys(inputs) as Input[]).filter((input) => inputs[input].available));
    checkCancelled();

    return await ws.transaction(async () => {
      reporter.report({ progress: 1, total: steps, message: `listing ${period} boundaries` });
      for (const table of ['segment_snapshots', RULE_SNAPSHOTS_TABLE]) {
        await ws.run(`DELETE FROM ${table} WHERE period_key IN (SELECT period_key FROM snapshot_dates WHERE period = $1)`, [period]);
      }
      const periods = await fillSnapshotDates(ws, period, weekStart);
      if (periods.length > MAX_PERIODS) {
        throw new UserInputError(
          `The data spans ${periods.length} ${period}s; a backfill computes at most ${MAX_PERIODS}. Use period: "month" for a history this long.`,
        );
      }
      checkCancelled();

      reporter.report({ progress: 2, total: steps, message: `computing segments at ${periods.length} ${period} boundaries` });
      const hasUsers = await ws.tableExists('users');
      await ws.run(`CREATE OR REPLACE TEMP TABLE ${DATES_TABLE} AS SELECT as_of, boundary FROM snapshot_dates WHERE period = $1`, [period]);
      await ws.run(
        snapshotMetricsSql(settings, hasUsers),
        { period, non_feature: listValue([...settings.events.nonFeature]) },
        { non_feature: LIST(VARCHAR) },
      );
      await ws.run(behavioralSnapshotSql(available));
      const behavioralRows = await countSnapshotRows(ws, 'segment_snapshots', period);
      checkCancelled();

      const rules = await snapshotRuleSegments(ws, segments, settings, hasUsers, (done, message) => {
        checkCancelled();
        reporter.report({ progress: 3 + done, total: steps, message: `${message} at ${periods.length} ${period} boundaries` });
      });
      await ws.run(`DROP TABLE ${USER_DATES_TABLE}`);
      await ws.run(`DROP TABLE ${DATES_TABLE}`);
      checkCancelled();

      reporter.report({ progress: steps - 1, total: steps, message: 'recording the backfill' });
      const ruleRows = await countSnapshotRows(ws, RULE_SNAPSHOTS_TABLE, period);
      const stamp: SnapshotStamp = {
        period,
        weekStart,
        inputs: await snapshotInputs(ws, settings),
        builtAt: new Date().toISOString(),
        ruleSegments: rules.stored,
        skippedSegments: rules.skipped,
      };
      await ws.setMeta(stampKey(period), stamp);
      const result: BackfillResult = {
        period,
        weekStart,
        periods: periods.length,
        firstPeriod: periods[0]?.periodKey ?? '',
        lastPeriod: periods.at(-1)?.periodKey ?? '',
        rows: behavioralRows,
        segments: BEHAVIORAL_SEGMENTS.map((segment) => segment.id),
        ruleSegments: rules.stored,
        ruleRows,
        skippedSegments: rules.skipped,
      };
      reporter.report({ progress: steps, total: steps, message: `stored ${behavioralRows + ruleRows} snapshot rows over ${periods.length} ${period}s` });
      log.info('history backfilled', {
        period,
        periods: periods.length,
        rows: result.rows,
        ruleSegments: rules.stored.length,
        ruleRows: result.ruleRows,
        skippedSegments: rules.skipped.length,
      });
      return result;
    });
  } catch (error) {
    if (reporter.signal?.aborted) throw new CancelledError();
    throw error;
  } finally {
    reporter.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs the backfill when the stored snapshots of a period kind are missing, were built
 * for another week start, or predate the loaded data or settings. Otherwise it does
 * nothing. The backfill is one set-based statement, so it is cheap enough to run on the
 * first history request.
 */
export async function ensureHistory(
  ws: Workspace,
  request: BackfillRequest = {},
  reporter: ProgressReporter = noProgress,
): Promise<{ backfilledNow: boolean; weekStart: WeekDay }> {
  const period = request.period ?? 'week';
  const stamp = await ws.getMeta<SnapshotStamp>(stampKey(period));
  const weekStart = request.weekStart ?? stamp?.weekStart ?? 'monday';
  if (stamp && (period === 'month' || stamp.weekStart === weekStart)) {
    const settings = await loadSettings(ws);
    if (stamp.inputs === (await snapshotInputs(ws, settings)) && (await ws.tableExists('snapshot_dates'))) {
      return { backfilledNow: false, weekStart: stamp.weekStart };
    }
  }
  await backfillHistory(ws, { period, weekStart }, reporter);
  return { backfilledNow: true, weekStart };
}

/** Lists the stored periods of one kind, oldest first. */
export async function snapshotPeriods(ws: Workspace, period: Period): Promise<SnapshotPeriod[]> {
  if (!(await ws.tableExists('snapshot_dates'))) return [];
  const rows = await ws.query<{ period_key: string; period_start: string; as_of: string; partial: boolean }>(
    'SELECT period_key, period_start::VARCHAR AS period_start, as_of::VARCHAR AS as_of, partial FROM snapshot_dates WHERE period = $1 ORDER BY as_of',
    [period],
  );
  return rows.map((row) => ({ periodKey: row.period_key, periodStart: row.period_start, asOf: row.as_of, partial: row.partial }));
}

/** Rule segments of the stored backfill of one period kind: those with snapshots and those skipped with the reason. */
export async function ruleSnapshotStatus(
  ws: Workspace,
  period: Period,
): Promise<{ readonly stored: readonly string[]; readonly skipped: readonly SkippedSegment[] }> {
  const stamp = await ws.getMeta<SnapshotStamp>(stampKey(period));
  return { stored: stamp?.ruleSegments ?? [], skipped: stamp?.skippedSegments ?? [] };
}

import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { buildEventFacts } from '../metrics/facts.js';
import { detectInputs, tableColumns, type InputAvailability } from '../metrics/inputs.js';
import { buildUserMetrics } from '../metrics/user-metrics.js';
import {
  CancelledError,
  UserInputError,
  log,
  noProgress,
  type ProgressReporter,
  type Workspace,
} from '../workspace/index.js';
import { INPUTS, type Input } from './config.js';
import { isComponentAvailable, modelComponentColumns, modelTotalColumns } from './model-sql.js';
import { totalRule } from './coverage.js';
import { reasonsSql } from './reasons-sql.js';
import {
  RFM_SEGMENT_SQL,
  atRiskColumns,
  behavioralSegmentColumn,
  dormantSubsegments,
  lifecycleStages,
  orderedSegmentSql,
  planValueColumn,
  rfmColumns,
} from './segment-sql.js';
import { loadSettings } from './store.js';
import { orderedModels, type Settings } from './settings.js';

export interface ScoreRequest {
  /** Last calendar day included ("today"), YYYY-MM-DD; default: the day of the latest event. */
  readonly asOf?: string;
}

export interface ScoringRun {
  /** Last calendar day included in every window. */
  readonly asOf: string;
  /** First day not included; the as-of boundary T is midnight at its start in the workspace time zone. */
  readonly boundaryDate: string;
  readonly timeZone: string;
  readonly computedAt: string;
  readonly users: number;
  readonly inputs: InputAvailability;
  readonly models: Record<string, { readonly missingComponents: string[]; readonly totalRule: string }>;
  readonly warnings: string[];
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Checks a YYYY-MM-DD date and returns it; throws a UserInputError naming the value otherwise. */
export function parseIsoDate(value: string, what: string): string {
  const match = DATE_PATTERN.exec(value);
  const date = match ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new UserInputError(`Invalid ${what} "${value}": expected a calendar date written YYYY-MM-DD, e.g. 2024-06-30.`);
  }
  return value;
}

export function addDays(date: string, days: number): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + days);
  return next.toISOString().slice(0, 10);
}

/**
 * Computes metrics, every score, the behavioural segment, the at-risk composite and RFM
 * for every user as of one day, replacing `user_metrics` and `user_scores` in one
 * transaction: a failure or a cancellation leaves the previous results in place.
 */
export async function computeScores(
  ws: Workspace,
  request: ScoreRequest = {},
  reporter: ProgressReporter = noProgress,
): Promise<ScoringRun> {
  return ws.exclusive(() => computeScoresUnlocked(ws, request, reporter));
}

/** Runs {@link computeScores} for a caller that already holds the workspace's exclusive section. */
export async function computeScoresUnlocked(
  ws: Workspace,
  request: ScoreRequest,
  reporter: ProgressReporter,
): Promise<ScoringRun> {
  if ((await ws.rowCount('events')) === 0 && (await ws.rowCount('users')) === 0) {
    throw new UserInputError('Nothing to score: the workspace has no events and no users. Load an events file first with load_data.');
  }
  const settings = await loadSettings(ws);
  const steps = 4;
  const checkCancelled = () => {
    if (reporter.signal?.aborted) throw new CancelledError();
  };
  const onAbort = () => ws.interrupt();
  reporter.signal?.addEventListener('abort', onAbort);
  try {
    reporter.report({ progress: 0, total: steps, message: 'building sessions' });
    const hasEvents = (await ws.rowCount('events')) > 0;
    if (hasEvents) await buildEventFacts(ws, settings.timeZone, settings.sessionGapMinutes);
    else await createEmptyFacts(ws);
    checkCancelled();

    const asOf = await resolveAsOf(ws, request.asOf);
    const boundaryDate = addDays(asOf, 1);
    const warnings = await asOfWarnings(ws, asOf);
    const inputs = await detectInputs(ws, settings, boundaryDate);
    const available = new Set<Input>(INPUTS.filter((input) => inputs[input].available));

    return await ws.transaction(async () => {
      reporter.report({ progress: 1, total: steps, message: 'computing per-user metrics' });
      await buildUserMetrics(ws, {
        boundaryDate,
        settings,
        hasUsers: await ws.tableExists('users'),
        hasBilling: inputs.billing.available,
        hasSupport: inputs.support.available,
        hasNps: inputs.nps.available,
        userColumns: await tableColumns(ws, 'users'),
      });
      checkCancelled();

      reporter.report({ progress: 2, total: steps, message: 'scoring users' });
      await buildUserScores(ws, settings, available);
      checkCancelled();

      reporter.report({ progress: 3, total: steps, message: 'recording the run' });
      const users = await ws.rowCount('user_scores');
      const run: ScoringRun = {
        asOf,
        boundaryDate,
        timeZone: settings.timeZone,
        computedAt: new Date().toISOString(),
        users,
        inputs,
        models: describeModels(settings, available),
        warnings,
      };
      await ws.setMeta('scoring', run);
      reporter.report({ progress: steps, total: steps, message: `scored ${users} users` });
      log.info('scores computed', { asOf, users });
      return run;
    });
  } catch (error) {
    if (reporter.signal?.aborted) throw new CancelledError();
    throw error;
  } finally {
    reporter.signal?.removeEventListener('abort', onAbort);
  }
}

async function createEmptyFacts(ws: Workspace): Promise<void> {
  await ws.run(
    'CREATE OR REPLACE TABLE event_facts (user_id VARCHAR, event VARCHAR, ts TIMESTAMP, local_ts TIMESTAMP, local_date DATE, session_key VARCHAR)',
  );
  await ws.run(
    'CREATE OR REPLACE TABLE sessions (user_id VARCHAR, session_key VARCHAR, start_ts TIMESTAMP, end_ts TIMESTAMP, local_date DATE, event_count INTEGER, duration_minutes DOUBLE)',
  );
}

async function resolveAsOf(ws: Workspace, requested: string | undefined): Promise<string> {
  if (requested !== undefined) return parseIsoDate(requested, 'as-of date');
  const row = await ws.queryOne<{ last_day: string | null }>('SELECT max(local_date)::VARCHAR AS last_day FROM event_facts');
  if (row?.last_day) return row.last_day;
  return new Date().toISOString().slice(0, 10);
}

async function asOfWarnings(ws: Workspace, asOf: string): Promise<string[]> {
  const row = await ws.queryOne<{ first_day: string | null; last_day: string | null }>(
    'SELECT min(local_date)::VARCHAR AS first_day, max(local_date)::VARCHAR AS last_day FROM event_facts',
  );
  const warnings: string[] = [];
  if (row?.first_day && asOf < row.first_day) {
    warnings.push(`The as-of date ${asOf} is before the first event (${row.first_day}), so no user has any activity yet.`);
  }
  if (row?.last_day && asOf > row.last_day) {
    warnings.push(
      `The as-of date ${asOf} is after the last event (${row.last_day}); every user looks inactive for the days in between.`,
    );
  }
  return warnings;
}

/**
 * Builds `user_scores` in one statement, in stages: engagement first (expansion readiness
 * reads its total), then the other models, segments and RFM, then the lifecycle stage and
 * dormant sub-segment (they read the totals), then the reasons (they read everything).
 */
async function buildUserScores(ws: Workspace, settings: Settings, available: ReadonlySet<Input>): Promise<void> {
  const [engagement, ...others] = orderedModels(settings);
  const otherComponents = others.flatMap((model) => modelComponentColumns(model, available));
  const otherTotals = others.flatMap((model) => modelTotalColumns(model, available));
  const view = 'scored_view';
  await ws.run(`
    CREATE OR REPLACE TABLE user_scores AS
    WITH
    engagement_components AS (
      SELECT m.user_id, ${modelComponentColumns(engagement, available).join(',\n        ')}
      FROM user_metrics m
    ),
    engagement_scores AS (
      SELECT *, ${modelTotalColumns(engagement, available).join(', ')} FROM engagement_components
    ),
    m AS (
      SELECT um.*, e.engagement_score FROM user_metrics um JOIN engagement_scores e USING (user_id)
    ),
    components AS (
      SELECT
        m.user_id,
        m.plan,
        ${otherComponents.join(',\n        ')},
        ${behavioralSegmentColumn(available)},
        ${atRiskColumns(available).join(',\n        ')},
        ${rfmColumns(settings, available).join(',\n        ')},
        ${planValueColumn(settings, available)},
        m.usage_share AS percentage_of_limit
      FROM m
    ),
    scored AS (
      SELECT
        c.user_id,
        c.plan,
        e.* EXCLUDE (user_id),
        c.* EXCLUDE (user_id, plan),
        ${otherTotals.join(',\n        ')},
        len(at_risk_signals) AS at_risk_signal_count,
        -- Users past 30 days without activity are dormant or inactive, not "at risk this week".
        len(at_risk_signals) >= 2 AND c.behavioral_segment NOT IN ('dormant', 'inactive') AS at_risk,
        CASE WHEN rfm_m IS NULL THEN rfm_r::VARCHAR || rfm_f::VARCHAR || '-'
          ELSE rfm_r::VARCHAR || rfm_f::VARCHAR || rfm_m::VARCHAR END AS rfm_code,
        ${RFM_SEGMENT_SQL} AS rfm_segment
      FROM components c JOIN engagement_scores e USING (user_id)
    ),
    staged AS (
      SELECT
        s.*,
        um.* EXCLUDE (user_id, plan)
      FROM scored s JOIN user_metrics um USING (user_id)
    ),
    ${view} AS (
      SELECT
        staged.*,
        ${orderedSegmentSql(lifecycleStages(settings), available, 'staged')} AS lifecycle_stage,
        ${orderedSegmentSql(dormantSubsegments(settings), available, 'staged')} AS dormant_subsegment
      FROM staged
    )
    SELECT
      s.*,
      ${view}.lifecycle_stage,
      ${view}.dormant_subsegment,
      ${reasonsSql(settings, orderedModels(settings), available, view)} AS reasons
    FROM scored s JOIN ${view} USING (user_id)
  `);
}

function describeModels(settings: Settings, available: ReadonlySet<Input>): ScoringRun['models'] {
  const result: Record<string, { missingComponents: string[]; totalRule: string }> = {};
  for (const model of orderedModels(settings)) {
    const missing = model.components.filter((component) => !isComponentAvailable(component, available));
    result[model.id] = { missingComponents: missing.map((component) => component.id), totalRule: totalRule(model, available) };
  }
  return result;
}

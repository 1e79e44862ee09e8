import { UserInputError, noProgress, type ProgressReporter, type Workspace } from '../workspace/index.js';
import { addDays, computeScoresUnlocked, parseIsoDate, type ScoringRun } from './compute.js';
import { columns } from './model-sql.js';
import { loadSettings } from './store.js';

export interface BacktestRequest {
  /** Last day included in the scores, YYYY-MM-DD. */
  readonly asOf: string;
  /** Last day of the observation period, YYYY-MM-DD, after asOf. */
  readonly observeUntil: string;
  readonly score?: 'churn_risk' | 'engagement';
  /** Users count only when active in the last N days up to asOf (default 30): only they can "become" inactive. */
  readonly activeWithinDays?: number;
}

export interface TierOutcome {
  readonly tier: string;
  readonly users: number;
  readonly churned: number;
  readonly churnRate: number | null;
}

export interface BacktestResult {
  readonly score: 'churn_risk' | 'engagement';
  readonly asOf: string;
  readonly observeUntil: string;
  readonly activeWithinDays: number;
  readonly users: number;
  readonly churned: number;
  readonly churnRate: number | null;
  /** Area under the ROC curve of the score as a churn predictor (engagement counts reversed); null without both outcomes. */
  readonly auc: number | null;
  readonly tiers: TierOutcome[];
  /** The tier that the score calls riskiest: the top churn-risk tier, or the lowest engagement tier. */
  readonly riskiestTier: string;
  /** Churn rate of the riskiest tier divided by the overall churn rate. */
  readonly lift: number | null;
  readonly outcomeRule: string;
  readonly warnings: string[];
}

const SCORES_BACKUP = '_backtest_user_scores';
const METRICS_BACKUP = '_backtest_user_metrics';

/** Tiers smaller than this get a warning: their churn rate, and a lift built on it, move a lot by chance. */
const MIN_TIER_USERS = 100;

/**
 * Scores every user as of `asOf`, then observes who churned by `observeUntil`: no event
 * on any day in (asOf, observeUntil], or a billing row of kind "cancel" in that period.
 * Reports the rank-based AUC, the churn rate per tier and the lift of the riskiest tier,
 * all computed in SQL. Scores stored before the run are put back afterwards.
 */
export async function backtestScore(
  ws: Workspace,
  request: BacktestRequest,
  reporter: ProgressReporter = noProgress,
): Promise<BacktestResult> {
  const asOf = parseIsoDate(request.asOf, 'as-of date');
  const observeUntil = parseIsoDate(request.observeUntil, 'observation end date');
  if (observeUntil <= asOf) {
    throw new UserInputError(
      `Invalid observation end ${observeUntil}: it must come after the as-of date ${asOf}, so that there is a period to observe.`,
    );
  }
  const scoreId = request.score ?? 'churn_risk';
  if (scoreId !== 'churn_risk' && scoreId !== 'engagement') {
    throw new UserInputError(`Cannot back-test the score "${String(scoreId)}": use churn_risk or engagement.`);
  }
  const activeWithinDays = request.activeWithinDays ?? 30;
  if (!Number.isInteger(activeWithinDays) || activeWithinDays < 1) {
    throw new UserInputError(`Invalid activeWithinDays ${activeWithinDays}: use a whole number of days, 1 or more.`);
  }

  return ws.exclusive(async () => {
    const hadScores = (await ws.tableExists('user_scores')) && (await ws.tableExists('user_metrics'));
    const previousRun = await ws.getMeta<ScoringRun>('scoring');
    if (hadScores) {
      await ws.run(`CREATE OR REPLACE TABLE ${SCORES_BACKUP} AS SELECT * FROM user_scores`);
      await ws.run(`CREATE OR REPLACE TABLE ${METRICS_BACKUP} AS SELECT * FROM user_metrics`);
    }
    try {
      const run = await computeScoresUnlocked(ws, { asOf }, reporter);
      return await measure(ws, run, { asOf, observeUntil, scoreId, activeWithinDays });
    } finally {
      if (hadScores) {
        await ws.run(`CREATE OR REPLACE TABLE user_scores AS SELECT * FROM ${SCORES_BACKUP}`);
        await ws.run(`CREATE OR REPLACE TABLE user_metrics AS SELECT * FROM ${METRICS_BACKUP}`);
        await ws.run(`DROP TABLE ${SCORES_BACKUP}`);
        await ws.run(`DROP TABLE ${METRICS_BACKUP}`);
        if (previousRun) await ws.setMeta('scoring', previousRun);
      }
    }
  });
}

async function measure(
  ws: Workspace,
  run: ScoringRun,
  options: { asOf: string; observeUntil: string; scoreId: 'churn_risk' | 'engagement'; activeWithinDays: number },
): Promise<BacktestResult> {
  const settings = await loadSettings(ws);
  const model = settings.models[options.scoreId];
  const score = columns.total(model);
  const tier = columns.tier(model);
  // Higher churn risk means more churn; higher engagement means less, so it is reversed.
  const risk = options.scoreId === 'churn_risk' ? 'p.score' : '-p.score';
  const riskiestTier = options.scoreId === 'churn_risk' ? model.tiers[model.tiers.length - 1].name : model.tiers[0].name;
  const hasBilling = (await ws.rowCount('billing')) > 0;
  const cancels = hasBilling
    ? `SELECT DISTINCT user_id FROM billing
       WHERE lower(kind) = 'cancel' AND user_id IS NOT NULL
         AND CAST(timezone($zone, timezone('UTC', ts)) AS DATE) BETWEEN CAST($first_day AS DATE) AND CAST($observe_until AS DATE)`
    : 'SELECT NULL::VARCHAR AS user_id WHERE false';
  const params = {
    first_day: addDays(options.asOf, 1),
    observe_until: options.observeUntil,
    boundary: run.boundaryDate,
    active_within: options.activeWithinDays,
    ...(hasBilling ? { zone: settings.timeZone } : {}),
  };

  await ws.run(
    `CREATE OR REPLACE TEMP TABLE backtest_outcomes AS
     WITH population AS (
       SELECT s.user_id, s.${score} AS score, s.${tier} AS tier
       FROM user_scores s JOIN user_metrics m USING (user_id)
       WHERE m.last_active_date >= CAST($boundary AS DATE) - $active_within AND s.${score} IS NOT NULL
     ),
     later AS (
       SELECT DISTINCT user_id FROM event_facts WHERE local_date BETWEEN CAST($first_day AS DATE) AND CAST($observe_until AS DATE)
     ),
     cancelled AS (${cancels})
     SELECT p.user_id, p.score, p.tier, ${risk} AS risk,
       (l.user_id IS NULL OR c.user_id IS NOT NULL) AS churned
     FROM population p
     LEFT JOIN later l ON l.user_id = p.user_id
     LEFT JOIN cancelled c ON c.user_id = p.user_id`,
    params,
  );

  // Mann-Whitney AUC: tied risks get the average of the ranks they span.
  const summary = await ws.queryOne<{ users: number; churned: number; auc: number | null }>(
    `WITH ranked AS (
       SELECT churned,
         rank() OVER (ORDER BY risk) + (count(*) OVER (PARTITION BY risk) - 1) / 2.0 AS average_rank
       FROM backtest_outcomes
     ),
     totals AS (
       SELECT count(*) AS users, count(*) FILTER (WHERE churned) AS positives,
         sum(average_rank) FILTER (WHERE churned) AS positive_rank_sum
       FROM ranked
     )
     SELECT users, positives AS churned,
       CASE WHEN positives > 0 AND positives < users
         THEN (positive_rank_sum - positives * (positives + 1) / 2.0) / (positives * (users - positives)) END AS auc
     FROM totals`,
  );
  const users = Number(summary?.users ?? 0);
  const churned = Number(summary?.churned ?? 0);
  const tierRows = await ws.query<{ tier: string; users: number; churned: number }>(
    `SELECT tier, count(*) AS users, count(*) FILTER (WHERE churned) AS churned FROM backtest_outcomes GROUP BY tier`,
  );
  const byTier = new Map(tierRows.map((row) => [row.tier, row]));
  const tiers = model.tiers.map((entry) => {
    const row = byTier.get(entry.name);
    const tierUsers = Number(row?.users ?? 0);
    const tierChurned = Number(row?.churned ?? 0);
    return { tier: entry.name, users: tierUsers, churned: tierChurned, churnRate: tierUsers > 0 ? tierChurned / tierUsers : null };
  });
  const churnRate = users > 0 ? churned / users : null;
  const riskiest = tiers.find((entry) => entry.tier === riskiestTier);
  const lift = churnRate && riskiest?.churnRate !== null && riskiest ? riskiest.churnRate / churnRate : null;

  const warnings = [...run.warnings];
  const last = await ws.queryOne<{ d: string | null }>('SELECT max(local_date)::VARCHAR AS d FROM event_facts');
  if (last?.d && last.d < options.observeUntil) {
    warnings.push(
      `The events end on ${last.d}, before the observation end ${options.observeUntil}: users look churned for the days without data.`,
    );
  }
  if (users === 0) warnings.push(`No user was active in the ${options.activeWithinDays} days up to ${options.asOf}.`);
  for (const tier of tiers) {
    if (tier.users > 0 && tier.users < MIN_TIER_USERS) {
      const liftNote = tier.tier === riskiestTier ? ', so the lift is unreliable' : '';
      warnings.push(`The ${tier.tier} tier has only ${tier.users} users: its churn rate is unreliable below ${MIN_TIER_USERS}${liftNote}.`);
    }
  }
  await ws.run('DROP TABLE IF EXISTS backtest_outcomes');

  return {
    score: options.scoreId,
    asOf: options.asOf,
    observeUntil: options.observeUntil,
    activeWithinDays: options.activeWithinDays,
    users,
    churned,
    churnRate,
    auc: summary?.auc === null || summary?.auc === undefined ? null : Number(summary.auc),
    tiers,
    riskiestTier,
    lift,
    outcomeRule:
      `users active in the ${options.activeWithinDays} days up to ${options.asOf}; churned = no event from ` +
      `${params.first_day} to ${options.observeUntil}${hasBilling ? ', or a billing cancel in that period' : ''}`,
    warnings,
  };
}

import { DOUBLE, INTEGER, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { CADENCE_DORMANT_DAYS, type Settings } from '../scoring/settings.js';
import { quoteLiteral, type Workspace } from '../workspace/index.js';

export interface MetricsContext {
  /** First calendar day NOT included: the as-of boundary T is midnight at its start. */
  readonly boundaryDate: string;
  readonly settings: Settings;
  readonly hasUsers: boolean;
  readonly hasBilling: boolean;
  readonly hasSupport: boolean;
  readonly hasNps: boolean;
  /** Columns of the users table, to find the optional usage and usage_limit values. */
  readonly userColumns: readonly string[];
}

/**
 * SQL for one optional numeric attribute of a user: the users column of that name when it
 * exists, otherwise the key of that name inside `properties`, otherwise NULL.
 */
export function optionalUserNumber(name: string, userColumns: readonly string[]): string {
  if (userColumns.includes(name)) return `TRY_CAST(${name} AS DOUBLE)`;
  if (userColumns.includes('properties')) return `TRY_CAST(json_extract_string(properties, '$.${name}') AS DOUBLE)`;
  return 'NULL::DOUBLE';
}

/**
 * Builds `user_metrics`: one row per user of the population (users file plus event
 * authors) with every measurement the models and segments read, as of the boundary.
 * Windows are half-open ranges of local calendar dates: "last 7 days" is
 * [boundary - 7, boundary). "Today" is boundary - 1, so days_since_last_active is 0 for
 * a user active on the last day.
 */
export async function buildUserMetrics(ws: Workspace, context: MetricsContext): Promise<void> {
  const { settings } = context;
  const d = `CAST(${quoteLiteral(context.boundaryDate)} AS DATE)`;
  const today = `(${d} - 1)`;
  const signup = context.hasUsers
    ? `CAST(timezone(${quoteLiteral(settings.timeZone)}, timezone('UTC', u.signup_at)) AS DATE)`
    : 'CAST(NULL AS DATE)';

  const usersCte = context.hasUsers
    ? `SELECT user_id, signup_at, plan, role, company, account_id, seats,
         ${optionalUserNumber('usage', context.userColumns)} AS usage,
         ${optionalUserNumber('usage_limit', context.userColumns)} AS usage_limit
       FROM users`
    : 'SELECT NULL::VARCHAR AS user_id, NULL::TIMESTAMP AS signup_at, NULL::VARCHAR AS plan, NULL::VARCHAR AS role, NULL::VARCHAR AS company, NULL::VARCHAR AS account_id, NULL::INTEGER AS seats, NULL::DOUBLE AS usage, NULL::DOUBLE AS usage_limit WHERE false';

  const supportCte = context.hasSupport
    ? `SELECT user_id,
         count(*) FILTER (WHERE d >= ${d} - 7) AS tickets_7d,
         count(*) FILTER (WHERE d >= ${d} - 30) AS tickets_30d,
         count(*) FILTER (WHERE d >= ${d} - 7 AND lower(sentiment) = 'negative') AS negative_tickets_7d,
         count(*) FILTER (WHERE d >= ${d} - 30 AND lower(sentiment) = 'negative') AS negative_tickets_30d
       FROM (SELECT user_id, sentiment, CAST(timezone(${quoteLiteral(settings.timeZone)}, timezone('UTC', ts)) AS DATE) AS d FROM support)
       WHERE d < ${d} AND d >= ${d} - 30
       GROUP BY user_id`
    : 'SELECT NULL::VARCHAR AS user_id, 0 AS tickets_7d, 0 AS tickets_30d, 0 AS negative_tickets_7d, 0 AS negative_tickets_30d WHERE false';

  const billingCte = context.hasBilling
    ? `SELECT user_id,
         count(*) FILTER (WHERE lower(kind) = 'payment_failed') AS failed_payments_30d,
         count(*) FILTER (WHERE lower(kind) = 'downgrade') AS downgrades_30d,
         count(*) FILTER (WHERE lower(kind) = 'cancel_page_view') AS billing_cancel_views_30d
       FROM (SELECT user_id, kind, CAST(timezone(${quoteLiteral(settings.timeZone)}, timezone('UTC', ts)) AS DATE) AS d FROM billing)
       WHERE d < ${d} AND d >= ${d} - 30 AND user_id IS NOT NULL
       GROUP BY user_id`
    : 'SELECT NULL::VARCHAR AS user_id, 0 AS failed_payments_30d, 0 AS downgrades_30d, 0 AS billing_cancel_views_30d WHERE false';

  // Paying history over all time: a cancel, or a downgrade to a free plan, counts only
  // when it comes on or after the user's first payment.
  const payingCte = context.hasBilling
    ? `SELECT user_id,
         min(d) FILTER (WHERE lower(kind) = 'payment') AS first_payment_date,
         max(d) FILTER (WHERE lower(kind) = 'payment') AS last_payment_date
       FROM (SELECT user_id, kind, CAST(timezone(${quoteLiteral(settings.timeZone)}, timezone('UTC', ts)) AS DATE) AS d FROM billing)
       WHERE d < ${d} AND user_id IS NOT NULL
       GROUP BY user_id`
    : 'SELECT NULL::VARCHAR AS user_id, NULL::DATE AS first_payment_date, NULL::DATE AS last_payment_date WHERE false';
  const cancelCte = context.hasBilling
    ? `SELECT b.user_id, min(b.d) AS cancel_after_payment_date
       FROM (SELECT user_id, kind, plan, CAST(timezone(${quoteLiteral(settings.timeZone)}, timezone('UTC', ts)) AS DATE) AS d FROM billing) b
       JOIN paying p ON p.user_id = b.user_id
       WHERE b.d < ${d} AND b.d >= p.first_payment_date
         AND (lower(b.kind) = 'cancel' OR (lower(b.kind) = 'downgrade' AND list_contains($free_plans, lower(b.plan))))
       GROUP BY b.user_id`
    : 'SELECT NULL::VARCHAR AS user_id, NULL::DATE AS cancel_after_payment_date WHERE false';

  const npsCte = context.hasNps
    ? `SELECT user_id, arg_max(score, ts) AS nps_last
       FROM nps WHERE CAST(timezone(${quoteLiteral(settings.timeZone)}, timezone('UTC', ts)) AS DATE) < ${d}
       GROUP BY user_id`
    : 'SELECT NULL::VARCHAR AS user_id, NULL::INTEGER AS nps_last WHERE false';

  const sql = `
    CREATE OR REPLACE TABLE user_metrics AS
    WITH
    u AS (${usersCte}),
    facts AS (
      SELECT user_id, event, local_date, NOT list_contains($non_feature, event) AS is_feature
      FROM event_facts
      WHERE local_date < ${d}
    ),
    population AS (
      SELECT user_id FROM u
      UNION
      SELECT DISTINCT user_id FROM facts
    ),
    session_stats AS (
      SELECT
        user_id,
        count(*) AS total_sessions,
        count(*) FILTER (WHERE local_date >= ${d} - 7) AS sessions_7d,
        count(*) FILTER (WHERE local_date >= ${d} - 14 AND local_date < ${d} - 7) AS sessions_prev_7d,
        count(*) FILTER (WHERE local_date >= ${d} - 14) AS sessions_14d,
        count(*) FILTER (WHERE local_date >= ${d} - 28 AND local_date < ${d} - 14) AS sessions_prev_14d,
        count(*) FILTER (WHERE local_date >= ${d} - 28) AS sessions_28d,
        count(*) FILTER (WHERE local_date >= ${d} - 35 AND local_date < ${d} - 7) AS sessions_baseline_28d,
        -- Whole seconds summed as integers and divided once: a float sum of minutes depends on the
        -- order in which threads add it up, which can put an average of exactly 5 minutes on either side of a band edge.
        sum(date_diff('second', start_ts, end_ts)) FILTER (WHERE local_date >= ${d} - 28) / 60.0
          / count(*) FILTER (WHERE local_date >= ${d} - 28) AS avg_session_minutes_28d
      FROM sessions
      WHERE local_date < ${d}
      GROUP BY user_id
    ),
    active_days AS (
      SELECT DISTINCT user_id, local_date FROM facts
    ),
    day_stats AS (
      SELECT
        user_id,
        min(local_date) AS first_active_date,
        max(local_date) AS last_active_date,
        count(*) AS total_active_days,
        count(*) FILTER (WHERE local_date >= ${d} - 7) AS active_days_7d,
        count(*) FILTER (WHERE local_date >= ${d} - 28) AS active_days_28d,
        median(gap) AS typical_gap_days
      FROM (
        SELECT user_id, local_date, local_date - lag(local_date) OVER (PARTITION BY user_id ORDER BY local_date) AS gap
        FROM active_days
      )
      GROUP BY user_id
    ),
    feature_stats AS (
      SELECT
        user_id,
        count(DISTINCT event) FILTER (WHERE is_feature AND local_date >= ${d} - 30) AS features_30d,
        count(DISTINCT event) FILTER (WHERE is_feature AND local_date >= ${d} - 7) AS features_7d,
        count(*) FILTER (WHERE list_contains($pricing, event) AND local_date >= ${d} - 14) AS pricing_views_14d,
        count(*) FILTER (WHERE list_contains($pricing, event) AND local_date >= ${d} - 7) AS pricing_views_7d,
        count(*) FILTER (WHERE list_contains($locked, event) AND local_date >= ${d} - 14) AS locked_clicks_14d,
        count(*) FILTER (WHERE list_contains($cancel, event) AND local_date >= ${d} - 30) AS cancel_views_30d,
        count(*) FILTER (WHERE list_contains($invite, event) AND local_date >= ${d} - 30) AS invites_30d,
        count(*) FILTER (WHERE list_contains($invite, event)) AS invites_total,
        count(*) FILTER (WHERE list_contains($collaboration, event) AND local_date >= ${d} - 30) AS collaboration_30d
      FROM facts
      WHERE local_date >= ${d} - 56
      GROUP BY user_id
    ),
    weekly_features AS (
      SELECT user_id, max(n) AS peak_week_features_8w
      FROM (
        SELECT user_id, (${today} - local_date) // 7 AS week_index, count(DISTINCT event) AS n
        FROM facts
        WHERE is_feature AND local_date >= ${d} - 56
        GROUP BY user_id, week_index
      )
      GROUP BY user_id
    ),
    milestone_stats AS (
      SELECT user_id, list_sort(list(DISTINCT event)) AS milestone_events
      FROM facts
      WHERE list_contains($milestones, event)
      GROUP BY user_id
    ),
    event_volume AS (
      SELECT user_id, count(*) AS events_28d FROM facts WHERE local_date >= ${d} - 28 GROUP BY user_id
    ),
    catalogue AS (
      SELECT count(DISTINCT event) AS total_features FROM facts WHERE is_feature
    ),
    support_stats AS (${supportCte}),
    billing_stats AS (${billingCte}),
    nps_stats AS (${npsCte}),
    paying AS (${payingCte}),
    cancels AS (${cancelCte}),
    joined AS (
      SELECT
        p.user_id,
        u.plan,
        u.role,
        u.company,
        u.account_id,
        u.seats,
        u.usage,
        coalesce(u.usage_limit, $limit_values[list_position($limit_plans, lower(u.plan))]) AS usage_limit,
        ${signup} AS signup_date,
        ds.first_active_date,
        ds.last_active_date,
        coalesce(${signup}, ds.first_active_date) AS start_date,
        coalesce(ss.total_sessions, 0) AS total_sessions,
        coalesce(ds.total_active_days, 0) AS total_active_days,
        coalesce(ss.sessions_7d, 0) AS sessions_7d,
        coalesce(ss.sessions_prev_7d, 0) AS sessions_prev_7d,
        coalesce(ss.sessions_14d, 0) AS sessions_14d,
        coalesce(ss.sessions_prev_14d, 0) AS sessions_prev_14d,
        coalesce(ss.sessions_28d, 0) AS sessions_28d,
        coalesce(ss.sessions_baseline_28d, 0) AS sessions_baseline_28d,
        coalesce(ss.sessions_28d, 0) / 4.0 AS avg_weekly_sessions_28d,
        coalesce(ss.sessions_baseline_28d, 0) / 4.0 AS baseline_weekly_sessions,
        coalesce(ds.active_days_7d, 0) AS active_days_7d,
        coalesce(ds.active_days_28d, 0) AS active_days_28d,
        coalesce(fs.features_7d, 0) AS features_7d,
        coalesce(fs.features_30d, 0) AS features_30d,
        coalesce(wf.peak_week_features_8w, 0) AS peak_week_features_8w,
        c.total_features,
        ss.avg_session_minutes_28d,
        ds.typical_gap_days,
        coalesce(fs.pricing_views_14d, 0) AS pricing_views_14d,
        coalesce(fs.pricing_views_7d, 0) AS pricing_views_7d,
        coalesce(fs.locked_clicks_14d, 0) AS locked_clicks_14d,
        coalesce(fs.invites_30d, 0) AS invites_30d,
        coalesce(fs.invites_total, 0) AS invites_total,
        coalesce(fs.collaboration_30d, 0) AS collaboration_30d,
        coalesce(fs.cancel_views_30d, 0) + coalesce(bs.billing_cancel_views_30d, 0) AS cancel_views_30d,
        coalesce(sp.tickets_7d, 0) AS tickets_7d,
        coalesce(sp.tickets_30d, 0) AS tickets_30d,
        coalesce(sp.negative_tickets_7d, 0) AS negative_tickets_7d,
        coalesce(sp.negative_tickets_30d, 0) AS negative_tickets_30d,
        coalesce(bs.failed_payments_30d, 0) AS failed_payments_30d,
        coalesce(bs.downgrades_30d, 0) AS downgrades_30d,
        np.nps_last,
        coalesce(ms.milestone_events, []::VARCHAR[]) AS milestone_events,
        coalesce(ev.events_28d, 0) AS events_28d,
        pay.first_payment_date,
        pay.last_payment_date,
        pay.first_payment_date IS NOT NULL AS paid_ever,
        ca.cancel_after_payment_date
      FROM population p
      LEFT JOIN u ON u.user_id = p.user_id
      LEFT JOIN session_stats ss ON ss.user_id = p.user_id
      LEFT JOIN day_stats ds ON ds.user_id = p.user_id
      LEFT JOIN feature_stats fs ON fs.user_id = p.user_id
      LEFT JOIN weekly_features wf ON wf.user_id = p.user_id
      LEFT JOIN support_stats sp ON sp.user_id = p.user_id
      LEFT JOIN billing_stats bs ON bs.user_id = p.user_id
      LEFT JOIN nps_stats np ON np.user_id = p.user_id
      LEFT JOIN milestone_stats ms ON ms.user_id = p.user_id
      LEFT JOIN event_volume ev ON ev.user_id = p.user_id
      LEFT JOIN paying pay ON pay.user_id = p.user_id
      LEFT JOIN cancels ca ON ca.user_id = p.user_id
      CROSS JOIN catalogue c
    )
    SELECT
      *,
      ${today} - last_active_date AS days_since_last_active,
      ${today} - start_date AS days_since_signup,
      CASE WHEN total_features > 0 THEN features_30d / total_features END AS feature_breadth_30d,
      CASE WHEN baseline_weekly_sessions > 0
        THEN greatest(0, 1 - sessions_7d / baseline_weekly_sessions) END AS usage_decline,
      CASE WHEN last_active_date IS NOT NULL
        THEN (${today} - last_active_date) / coalesce(typical_gap_days, $fallback_gap) END AS gap_ratio,
      coalesce(typical_gap_days, $fallback_gap) AS effective_gap_days,
      CASE WHEN sessions_prev_7d > 0 THEN 1 - sessions_7d / sessions_prev_7d END AS week_over_week_drop,
      coalesce(${today} - last_active_date >= 30 AND total_sessions < 3, false) AS gone_after_trying,
      sessions_prev_14d > 0 AND sessions_14d < 0.8 * sessions_prev_14d AS engagement_declining,
      negative_tickets_30d > 0 AS negative_ticket_30d,
      tickets_30d >= 2 AS multiple_tickets_30d,
      failed_payments_30d > 0 AS failed_payment_30d,
      downgrades_30d > 0 AS downgraded_30d,
      cancel_views_30d > 0 AS cancel_page_view_30d,
      invites_30d > 0 AS invited_30d,
      collaboration_30d > 0 AS collaborated_30d,
      locked_clicks_14d > 0 AS locked_clicked_14d,
      pricing_views_14d > 0 AS pricing_viewed_14d,
      CASE WHEN usage_limit > 0 THEN usage / usage_limit END AS usage_share,
      CASE WHEN sessions_28d > 0
        THEN (rank() OVER (PARTITION BY sessions_28d > 0 ORDER BY sessions_28d DESC) - 1)
          / count(*) OVER (PARTITION BY sessions_28d > 0) END AS usage_rank_share_28d,
      coalesce(${today} - last_active_date, ${today} - start_date) AS inactive_days,
      paid_ever AND (cancel_after_payment_date IS NOT NULL
        OR coalesce(${today} - last_active_date, ${today} - start_date) >= $dormant_days) AS churned_after_paying_signal,
      $dormant_days AS dormant_threshold_days
    FROM joined
  `;
  const list = (values: readonly string[]) => listValue([...values]);
  await ws.run(
    sql,
    {
      non_feature: list(settings.events.nonFeature),
      pricing: list(settings.events.pricingPage),
      locked: list(settings.events.lockedFeature),
      cancel: list(settings.events.cancelPage),
      invite: list(settings.events.invite),
      collaboration: list(settings.events.collaboration),
      fallback_gap: FALLBACK_GAP_DAYS[settings.productCadence],
      milestones: list(milestoneEvents(settings)),
      ...(context.hasBilling ? { free_plans: list(settings.freePlans.map((plan) => plan.toLowerCase())) } : {}),
      limit_plans: list(Object.keys(settings.usageLimits).map((plan) => plan.toLowerCase())),
      limit_values: listValue(Object.values(settings.usageLimits)),
      dormant_days: CADENCE_DORMANT_DAYS[settings.productCadence],
    },
    {
      non_feature: LIST(VARCHAR),
      pricing: LIST(VARCHAR),
      locked: LIST(VARCHAR),
      cancel: LIST(VARCHAR),
      invite: LIST(VARCHAR),
      collaboration: LIST(VARCHAR),
      milestones: LIST(VARCHAR),
      free_plans: LIST(VARCHAR),
      limit_plans: LIST(VARCHAR),
      limit_values: LIST(DOUBLE),
      dormant_days: INTEGER,
    },
  );
}

/** Typical gap assumed for a user with a single active day, by product cadence. */
export const FALLBACK_GAP_DAYS = { daily: 1, weekly: 7, monthly: 30 } as const;

/** Returns every event name that completes an activation milestone. */
export function milestoneEvents(settings: Settings): string[] {
  const names = new Set<string>();
  for (const component of settings.models.activation.components) {
    if (component.kind === 'milestone') for (const event of component.events) names.add(event);
  }
  return [...names];
}

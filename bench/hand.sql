-- Hand-written DuckDB SQL that computes the benchmark's compared per-user columns straight
-- from the Parquet files: the practical limit of the engine for this work. It hard-codes
-- the product's default settings (UTC calendar days, 30-minute session gap, weekly cadence,
-- the default event lists and plan values) and the defaults of the engagement, churn-risk,
-- activation and expansion-readiness models. bench/hand.ts replaces {{events}}, {{users}},
-- {{billing}}, {{support}} and {{out}}, and times each "-- stage:" block separately.

-- stage: read
CREATE TEMP TABLE ev AS
SELECT user_id, event, ts, session_id, CAST(ts AS DATE) AS day
FROM read_parquet({{events}});

-- The as-of day is the last day with an event; windows end at the midnight after it (d).
SET VARIABLE d = (SELECT max(day) + 1 FROM ev);

-- stage: sessions
-- A session_id wins; events without one are split where more than 30 minutes pass since the
-- user's previous event (of any kind). Only users with such events need the window pass.
CREATE TEMP TABLE sess AS
WITH gap_users AS (
  SELECT DISTINCT user_id FROM ev WHERE session_id IS NULL
),
flagged AS (
  SELECT user_id, ts, day, session_id,
    CASE WHEN session_id IS NULL
      AND coalesce(date_diff('second', lag(ts) OVER w, ts) > 1800, true) THEN 1 ELSE 0 END AS starts
  FROM ev SEMI JOIN gap_users USING (user_id)
  WINDOW w AS (PARTITION BY user_id ORDER BY ts)
),
gap_sessions AS (
  SELECT user_id, ts, day, sum(starts) OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS n, session_id
  FROM flagged
)
SELECT user_id, min(day) AS day, date_diff('second', min(ts), max(ts)) AS seconds
FROM ev WHERE session_id IS NOT NULL
GROUP BY user_id, session_id
UNION ALL
SELECT user_id, min(day), date_diff('second', min(ts), max(ts))
FROM gap_sessions WHERE session_id IS NULL
GROUP BY user_id, n;

-- stage: metrics
CREATE TEMP TABLE user_day_event AS
SELECT user_id, day, event, count(*) AS n,
  event NOT IN ('session_start', 'session_end', 'login', 'logout', 'activity', 'page_view', 'pageview',
    '$pageview', '$pageleave', '$identify', 'screen_view', 'app_open', 'pricing_page_view',
    'cancel_page_view', 'locked_feature_click', 'docs_viewed') AS is_feature
FROM ev
WHERE day < getvariable('d')
GROUP BY ALL;

CREATE TEMP TABLE metrics AS
WITH
session_stats AS (
  SELECT user_id,
    count(*) AS total_sessions,
    count(*) FILTER (WHERE day >= getvariable('d') - 7) AS s7,
    count(*) FILTER (WHERE day >= getvariable('d') - 14 AND day < getvariable('d') - 7) AS s_prev7,
    count(*) FILTER (WHERE day >= getvariable('d') - 14) AS s14,
    count(*) FILTER (WHERE day >= getvariable('d') - 28 AND day < getvariable('d') - 14) AS s_prev14,
    count(*) FILTER (WHERE day >= getvariable('d') - 28) AS s28,
    count(*) FILTER (WHERE day >= getvariable('d') - 35 AND day < getvariable('d') - 7) AS s_base28,
    -- Integer seconds divided once, as the product does, so that ties at a band edge land the same way.
    sum(seconds) FILTER (WHERE day >= getvariable('d') - 28) / 60.0
      / count(*) FILTER (WHERE day >= getvariable('d') - 28) AS avg_minutes_28d
  FROM sess WHERE day < getvariable('d')
  GROUP BY user_id
),
days AS (
  SELECT user_id, day, bool_or(is_feature) AS any_feature,
    sum(n) FILTER (WHERE event = 'cancel_page_view' OR event IN ('Cancel', 'Downgrade')) AS cancel_views
  FROM user_day_event GROUP BY user_id, day
),
day_stats AS (
  SELECT user_id, min(day) AS first_day, max(day) AS last_day, median(gap) AS typical_gap,
    coalesce(sum(cancel_views) FILTER (WHERE day >= getvariable('d') - 30), 0) AS cancel_views_30d
  FROM (SELECT *, day - lag(day) OVER (PARTITION BY user_id ORDER BY day) AS gap FROM days)
  GROUP BY user_id
),
feature_stats AS (
  SELECT user_id,
    count(DISTINCT event) FILTER (WHERE day >= getvariable('d') - 30) AS f30,
    count(DISTINCT event) FILTER (WHERE day >= getvariable('d') - 7) AS f7
  FROM user_day_event WHERE is_feature AND day >= getvariable('d') - 30
  GROUP BY user_id
),
weekly AS (
  SELECT user_id, max(n) AS peak_week_features
  FROM (
    SELECT user_id, (getvariable('d') - 1 - day) // 7 AS week, count(DISTINCT event) AS n
    FROM user_day_event WHERE is_feature AND day >= getvariable('d') - 56
    GROUP BY ALL
  ) GROUP BY user_id
),
catalogue AS (
  SELECT count(DISTINCT event) AS total_features FROM user_day_event WHERE is_feature
),
-- Activation milestones ever reached, and the team and intent events of expansion readiness.
event_flags AS (
  SELECT user_id,
    bool_or(event = 'project_created') AS project_created,
    bool_or(event = 'task_added') AS task_added,
    bool_or(event = 'invite_sent') AS invite_sent,
    bool_or(event = 'task_completed') AS task_completed,
    bool_or(event = 'template_used') AS template_used,
    bool_or(event = 'integration_connected') AS integration_connected,
    bool_or(day >= getvariable('d') - 30 AND event IN ('invite_sent', 'user_invited', 'invite_member')) AS invited_30d,
    bool_or(day >= getvariable('d') - 30
      AND event IN ('comment_added', 'share_link_created', 'mention', 'shared_content')) AS collaborated_30d,
    bool_or(day >= getvariable('d') - 14 AND event IN ('locked_feature_click', 'paywall_hit')) AS locked_clicked_14d,
    bool_or(day >= getvariable('d') - 14
      AND event IN ('pricing_page_view', '$pricing_view', 'Upgrade', 'view_pricing')) AS pricing_viewed_14d
  FROM user_day_event
  GROUP BY user_id
),
support_stats AS (
  SELECT user_id,
    count(*) FILTER (WHERE CAST(ts AS DATE) >= getvariable('d') - 7) AS t7,
    count(*) AS t30,
    count(*) FILTER (WHERE CAST(ts AS DATE) >= getvariable('d') - 7 AND lower(sentiment) = 'negative') AS neg7,
    count(*) FILTER (WHERE lower(sentiment) = 'negative') AS neg30
  FROM read_parquet({{support}})
  WHERE CAST(ts AS DATE) < getvariable('d') AND CAST(ts AS DATE) >= getvariable('d') - 30
  GROUP BY user_id
),
billing_stats AS (
  SELECT user_id,
    count(*) FILTER (WHERE kind = 'payment_failed') AS failed,
    count(*) FILTER (WHERE kind = 'downgrade') AS downgrades,
    count(*) FILTER (WHERE kind = 'cancel_page_view') AS cancel_views
  FROM read_parquet({{billing}})
  WHERE CAST(ts AS DATE) < getvariable('d') AND CAST(ts AS DATE) >= getvariable('d') - 30 AND user_id IS NOT NULL
  GROUP BY user_id
),
u AS (SELECT user_id, CAST(signup_at AS DATE) AS signup_day, plan FROM read_parquet({{users}})),
population AS (SELECT user_id FROM u UNION SELECT user_id FROM day_stats)
SELECT
  p.user_id, u.plan,
  coalesce(ss.total_sessions, 0) AS total_sessions,
  coalesce(ss.s7, 0) AS sessions_7d,
  coalesce(ss.s_prev7, 0) AS s_prev7,
  coalesce(ss.s14, 0) AS s14,
  coalesce(ss.s_prev14, 0) AS s_prev14,
  coalesce(ss.s28, 0) / 4.0 AS avg_weekly_sessions_28d,
  coalesce(ss.s_base28, 0) / 4.0 AS baseline_weekly,
  ss.avg_minutes_28d,
  ds.last_day,
  getvariable('d') - 1 - ds.last_day AS days_since_last_active,
  getvariable('d') - 1 - coalesce(u.signup_day, ds.first_day) AS days_since_signup,
  coalesce(ds.typical_gap, 7) AS effective_gap,
  CASE WHEN c.total_features > 0 THEN coalesce(fs.f30, 0) / c.total_features END AS breadth_30d,
  coalesce(fs.f7, 0) AS f7,
  coalesce(w.peak_week_features, 0) AS peak_week_features,
  coalesce(sp.t7, 0) AS t7, coalesce(sp.t30, 0) AS t30, coalesce(sp.neg7, 0) AS neg7, coalesce(sp.neg30, 0) AS neg30,
  coalesce(bs.failed, 0) > 0 AS failed_payment,
  coalesce(bs.downgrades, 0) > 0 AS downgraded,
  coalesce(ds.cancel_views_30d, 0) + coalesce(bs.cancel_views, 0) > 0 AS cancel_viewed,
  coalesce(ef.project_created, false) AS project_created,
  coalesce(ef.task_added, false) AS task_added,
  coalesce(ef.invite_sent, false) AS invite_sent,
  coalesce(ef.task_completed, false) AS task_completed,
  coalesce(ef.template_used, false) AS template_used,
  coalesce(ef.integration_connected, false) AS integration_connected,
  coalesce(ef.invited_30d, false) AS invited_30d,
  coalesce(ef.collaborated_30d, false) AS collaborated_30d,
  coalesce(ef.locked_clicked_14d, false) AS locked_clicked_14d,
  coalesce(ef.pricing_viewed_14d, false) AS pricing_viewed_14d
FROM population p
LEFT JOIN u USING (user_id)
LEFT JOIN session_stats ss USING (user_id)
LEFT JOIN day_stats ds USING (user_id)
LEFT JOIN feature_stats fs USING (user_id)
LEFT JOIN weekly w USING (user_id)
LEFT JOIN support_stats sp USING (user_id)
LEFT JOIN billing_stats bs USING (user_id)
LEFT JOIN event_flags ef USING (user_id)
CROSS JOIN catalogue c;

-- stage: scores
CREATE TEMP TABLE scores AS
WITH points AS (
  SELECT *,
    CASE WHEN sessions_7d >= 7 THEN 30 WHEN sessions_7d >= 4 THEN 20 WHEN sessions_7d >= 2 THEN 12
      WHEN sessions_7d >= 1 THEN 5 ELSE 0 END AS e_frequency,
    CASE WHEN breadth_30d IS NULL THEN 3 WHEN breadth_30d >= 0.8 THEN 25 WHEN breadth_30d >= 0.5 THEN 18
      WHEN breadth_30d >= 0.25 THEN 10 ELSE 3 END AS e_breadth,
    CASE WHEN avg_minutes_28d IS NULL THEN 3 WHEN avg_minutes_28d > 30 THEN 25 WHEN avg_minutes_28d >= 15 THEN 18
      WHEN avg_minutes_28d >= 5 THEN 10 ELSE 3 END AS e_depth,
    CASE WHEN days_since_last_active IS NULL THEN 0 WHEN days_since_last_active >= 15 THEN 0
      WHEN days_since_last_active >= 8 THEN 3 WHEN days_since_last_active >= 4 THEN 8
      WHEN days_since_last_active >= 1 THEN 15 ELSE 20 END AS e_recency,
    CASE WHEN baseline_weekly = 0 THEN 0
      WHEN greatest(0, 1 - sessions_7d / baseline_weekly) >= 0.7 THEN 30
      WHEN greatest(0, 1 - sessions_7d / baseline_weekly) >= 0.5 THEN 20
      WHEN greatest(0, 1 - sessions_7d / baseline_weekly) >= 0.3 THEN 10 ELSE 0 END AS c_usage_decline,
    CASE WHEN days_since_last_active IS NULL THEN 0
      WHEN days_since_last_active / effective_gap >= 2 THEN 25
      WHEN days_since_last_active / effective_gap >= 1.5 THEN 15
      WHEN days_since_last_active / effective_gap >= 1 THEN 5 ELSE 0 END AS c_recency_gap,
    CASE WHEN neg30 > 0 THEN 20 WHEN t30 >= 2 THEN 10 ELSE 0 END AS c_support,
    CASE WHEN failed_payment THEN 15 WHEN downgraded OR cancel_viewed THEN 10 ELSE 0 END AS c_billing,
    CASE WHEN s_prev14 > 0 AND s14 < 0.8 * s_prev14 THEN 10 ELSE 0 END AS c_trend,
    CASE WHEN project_created THEN 20 ELSE 0 END + CASE WHEN task_added THEN 15 ELSE 0 END
      + CASE WHEN invite_sent THEN 25 ELSE 0 END + CASE WHEN task_completed THEN 15 ELSE 0 END
      + CASE WHEN template_used THEN 10 ELSE 0 END + CASE WHEN integration_connected THEN 15 ELSE 0 END AS activation,
    least(25, CASE WHEN invited_30d THEN 15 ELSE 0 END + CASE WHEN collaborated_30d THEN 10 ELSE 0 END) AS x_team_growth,
    least(25, CASE WHEN locked_clicked_14d THEN 15 ELSE 0 END + CASE WHEN pricing_viewed_14d THEN 10 ELSE 0 END)
      AS x_feature_interest,
    list_filter([
      CASE WHEN baseline_weekly > 0 AND sessions_7d < 0.5 * baseline_weekly THEN 'usage_decline' END,
      CASE WHEN peak_week_features > 0 AND f7 < 0.5 * peak_week_features THEN 'breadth_contraction' END,
      CASE WHEN days_since_last_active > 2 * effective_gap THEN 'login_gap' END,
      CASE WHEN t7 >= 2 OR neg7 > 0 THEN 'support_escalation' END
    ], x -> x IS NOT NULL) AS signals,
    CASE
      -- Inactive: never active, or fewer than 3 sessions ever and none in the last 30 days.
      WHEN days_since_last_active IS NULL OR (days_since_last_active >= 30 AND total_sessions < 3) THEN 'inactive'
      WHEN days_since_last_active >= 30 AND total_sessions >= 3 THEN 'dormant'
      WHEN days_since_last_active >= 7 OR (s_prev7 > 0 AND 1 - sessions_7d / s_prev7 >= 0.5) THEN 'at_risk'
      WHEN sessions_7d >= 5 AND coalesce(breadth_30d >= 0.7, false) AND days_since_signup >= 30 THEN 'power'
      WHEN sessions_7d >= 2 AND coalesce(breadth_30d >= 0.3, false) AND days_since_signup >= 14 THEN 'regular'
      WHEN days_since_signup < 7 THEN 'new'
      ELSE 'casual' END AS segment,
    CASE WHEN days_since_last_active IS NULL THEN 1 WHEN days_since_last_active = 0 THEN 5
      WHEN days_since_last_active <= 3 THEN 4 WHEN days_since_last_active <= 7 THEN 3
      WHEN days_since_last_active <= 14 THEN 2 ELSE 1 END AS r,
    CASE WHEN avg_weekly_sessions_28d >= 7 THEN 5 WHEN avg_weekly_sessions_28d >= 4 THEN 4
      WHEN avg_weekly_sessions_28d >= 2 THEN 3 WHEN avg_weekly_sessions_28d >= 1 THEN 2 ELSE 1 END AS f,
    CASE WHEN plan IS NULL THEN NULL
      WHEN lower(plan) IN ('free', 'trial') THEN CASE WHEN coalesce(days_since_last_active, 999999) < 30 THEN 2 ELSE 1 END
      WHEN lower(plan) = 'enterprise' THEN 5
      WHEN lower(plan) IN ('business', 'pro', 'premium', 'team', 'growth') THEN 4
      ELSE 3 END AS m
  FROM metrics
), totals AS (
  SELECT *,
    e_frequency + e_breadth + e_depth + e_recency AS engagement,
    c_usage_decline + c_recency_gap + c_support + c_billing + c_trend AS churn
  FROM points
), expansion AS (
  -- The usage-limit component is missing (the users file has no usage), so the other three (75 points) are scaled to 100.
  SELECT *,
    CASE WHEN engagement > 70 THEN 25 WHEN engagement >= 50 THEN 15 WHEN engagement >= 30 THEN 5 ELSE 0 END
      AS x_engagement_level
  FROM totals
), expansion_totals AS (
  SELECT *, round((x_team_growth + x_feature_interest + x_engagement_level) * 100 / 75)::INTEGER AS expansion
  FROM expansion
)
SELECT
  user_id,
  segment AS behavioral_segment,
  engagement AS engagement_score,
  CASE WHEN engagement >= 80 THEN 'highly_engaged' WHEN engagement >= 60 THEN 'engaged'
    WHEN engagement >= 40 THEN 'moderate' WHEN engagement >= 20 THEN 'low' ELSE 'disengaged' END AS engagement_tier,
  e_frequency AS engagement_frequency_points,
  e_breadth AS engagement_breadth_points,
  e_depth AS engagement_depth_points,
  e_recency AS engagement_recency_points,
  churn AS churn_risk_score,
  CASE WHEN churn >= 70 THEN 'high' WHEN churn >= 40 THEN 'moderate' WHEN churn >= 20 THEN 'low' ELSE 'healthy' END
    AS churn_risk_tier,
  c_usage_decline AS churn_risk_usage_decline_points,
  c_recency_gap AS churn_risk_recency_gap_points,
  c_support AS churn_risk_support_points,
  c_billing AS churn_risk_billing_points,
  c_trend AS churn_risk_trend_points,
  -- Dormant and inactive users are not flagged at risk.
  len(signals) >= 2 AND segment NOT IN ('dormant', 'inactive') AS at_risk,
  array_to_string(signals, ';') AS at_risk_signals,
  r AS rfm_r, f AS rfm_f, m AS rfm_m,
  r::VARCHAR || f::VARCHAR || coalesce(m::VARCHAR, '-') AS rfm_code,
  CASE
    WHEN r = 5 AND f >= 4 AND (m IS NULL OR m >= 4) AND r + f + coalesce(m, 5) >= 14 THEN 'champions'
    WHEN r >= 4 AND f >= 4 THEN 'loyal'
    WHEN r >= 3 AND f >= 3 THEN 'promising'
    WHEN r >= 3 THEN 'recent_infrequent'
    WHEN r = 2 AND f >= 2 THEN 'need_attention'
    WHEN r = 2 THEN 'hibernating'
    WHEN f >= 3 THEN 'cannot_lose'
    ELSE 'lost' END AS rfm_segment,
  plan,
  days_since_last_active,
  days_since_signup,
  sessions_7d,
  avg_weekly_sessions_28d,
  activation AS activation_score,
  CASE WHEN activation >= 80 THEN 'fully_activated' WHEN activation >= 50 THEN 'partially_activated'
    WHEN activation >= 20 THEN 'early' ELSE 'not_activated' END AS activation_tier,
  expansion AS expansion_score,
  CASE WHEN expansion >= 75 THEN 'high' WHEN expansion >= 50 THEN 'moderate' WHEN expansion >= 25 THEN 'low'
    ELSE 'not_ready' END AS expansion_tier,
  x_team_growth AS expansion_team_growth_points,
  x_feature_interest AS expansion_feature_interest_points,
  x_engagement_level AS expansion_engagement_level_points
FROM expansion_totals;

-- stage: export
COPY (SELECT * FROM scores ORDER BY user_id) TO {{out}} (FORMAT csv, HEADER);

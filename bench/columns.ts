/**
 * The per-user columns that the product, bench/hand.sql and bench/pandas_impl.py all
 * produce and that the benchmark compares. Extend this list when the three
 * implementations gain a column. `source` is where the product stores the column:
 * `s` = user_scores, `m` = user_metrics.
 */
export interface ComparedColumn {
  readonly name: string;
  readonly type: 'integer' | 'text' | 'boolean' | 'float' | 'list';
  readonly source: 's' | 'm';
}

export const COMPARED_COLUMNS: readonly ComparedColumn[] = [
  { name: 'behavioral_segment', type: 'text', source: 's' },
  { name: 'engagement_score', type: 'integer', source: 's' },
  { name: 'engagement_tier', type: 'text', source: 's' },
  { name: 'engagement_frequency_points', type: 'integer', source: 's' },
  { name: 'engagement_breadth_points', type: 'integer', source: 's' },
  { name: 'engagement_depth_points', type: 'integer', source: 's' },
  { name: 'engagement_recency_points', type: 'integer', source: 's' },
  { name: 'churn_risk_score', type: 'integer', source: 's' },
  { name: 'churn_risk_tier', type: 'text', source: 's' },
  { name: 'churn_risk_usage_decline_points', type: 'integer', source: 's' },
  { name: 'churn_risk_recency_gap_points', type: 'integer', source: 's' },
  { name: 'churn_risk_support_points', type: 'integer', source: 's' },
  { name: 'churn_risk_billing_points', type: 'integer', source: 's' },
  { name: 'churn_risk_trend_points', type: 'integer', source: 's' },
  { name: 'at_risk', type: 'boolean', source: 's' },
  { name: 'at_risk_signals', type: 'list', source: 's' },
  { name: 'rfm_r', type: 'integer', source: 's' },
  { name: 'rfm_f', type: 'integer', source: 's' },
  { name: 'rfm_m', type: 'integer', source: 's' },
  { name: 'rfm_code', type: 'text', source: 's' },
  { name: 'rfm_segment', type: 'text', source: 's' },
  { name: 'plan', type: 'text', source: 's' },
  { name: 'days_since_last_active', type: 'integer', source: 'm' },
  { name: 'days_since_signup', type: 'integer', source: 'm' },
  { name: 'sessions_7d', type: 'integer', source: 'm' },
  { name: 'avg_weekly_sessions_28d', type: 'float', source: 'm' },
  { name: 'activation_score', type: 'integer', source: 's' },
  { name: 'activation_tier', type: 'text', source: 's' },
  { name: 'expansion_score', type: 'integer', source: 's' },
  { name: 'expansion_tier', type: 'text', source: 's' },
  { name: 'expansion_team_growth_points', type: 'integer', source: 's' },
  { name: 'expansion_feature_interest_points', type: 'integer', source: 's' },
  { name: 'expansion_engagement_level_points', type: 'integer', source: 's' },
];

/** Select-list items that read the compared columns from `user_scores s JOIN user_metrics m`; lists become `a;b`. */
export function productSelectList(): string {
  const items = COMPARED_COLUMNS.map((column) => {
    const ref = `${column.source}.${column.name}`;
    return column.type === 'list' ? `array_to_string(${ref}, ';') AS ${column.name}` : ref;
  });
  return ['s.user_id', ...items].join(', ');
}

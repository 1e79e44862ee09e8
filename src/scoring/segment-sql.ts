import type { Input } from './config.js';
import type { Settings } from './settings.js';
import { quoteLiteral } from '../workspace/index.js';

/**
 * The behavioural segment, the at-risk composite and RFM, as select-list items over
 * `user_metrics m`. Every threshold here is listed in docs/scoring.md.
 */

/** The four at-risk signals; two or more fired means at risk. */
export const AT_RISK_SIGNALS = [
  {
    id: 'usage_decline',
    label: 'sessions in the last 7 days below half of the weekly average of the 4 weeks before them',
    requires: ['events'] as Input[],
    sql: 'm.baseline_weekly_sessions > 0 AND m.sessions_7d < 0.5 * m.baseline_weekly_sessions',
  },
  {
    id: 'breadth_contraction',
    label: 'features used in the last 7 days below half of the busiest of the last 8 weeks',
    requires: ['events', 'feature_variety'] as Input[],
    sql: 'm.peak_week_features_8w > 0 AND m.features_7d < 0.5 * m.peak_week_features_8w',
  },
  {
    id: 'login_gap',
    label: 'days since the last active day above twice the typical gap between active days',
    requires: ['events'] as Input[],
    sql: 'm.days_since_last_active > 2 * m.effective_gap_days',
  },
  {
    id: 'support_escalation',
    label: '2 or more support tickets, or a negative one, in the last 7 days',
    requires: ['support'] as Input[],
    sql: 'm.tickets_7d >= 2 OR m.negative_tickets_7d > 0',
  },
] as const;

export type AtRiskSignalId = (typeof AT_RISK_SIGNALS)[number]['id'];

export function atRiskColumns(available: ReadonlySet<Input>): string[] {
  const usable = AT_RISK_SIGNALS.filter((signal) => signal.requires.every((input) => available.has(input)));
  const names = usable.map((signal) => `CASE WHEN coalesce(${signal.sql}, false) THEN ${quoteLiteral(signal.id)} END`);
  const list = usable.length === 0 ? '[]::VARCHAR[]' : `list_filter([${names.join(', ')}], x -> x IS NOT NULL)`;
  return [`${list} AS at_risk_signals`];
}

export interface Criterion {
  readonly metric: string;
  readonly op: '>=' | '<' | 'is_null';
  readonly value?: number;
  readonly label: string;
  /** When this input is missing, the criterion is skipped (counted as met) and the explanation says so. */
  readonly requires?: Input;
}

export interface BehavioralSegment {
  readonly id: string;
  readonly label: string;
  readonly match: 'all' | 'any';
  readonly criteria: readonly Criterion[];
}

/**
 * Behavioural segments, tried in this order; the first match wins and 'casual' takes the
 * rest. The methodology's criteria overlap and leave gaps, so the order and the two
 * extra values ('inactive' for users without any event, 'new' for users younger than 7
 * days) are this project's choice, explained in docs/scoring.md.
 */
export const BEHAVIORAL_SEGMENTS: readonly BehavioralSegment[] = [
  {
    id: 'inactive',
    label: 'Inactive (no event at all)',
    match: 'all',
    criteria: [{ metric: 'last_active_date', op: 'is_null', label: 'no event before the as-of boundary' }],
  },
  {
    id: 'dormant',
    label: 'Dormant',
    match: 'all',
    criteria: [
      { metric: 'days_since_last_active', op: '>=', value: 30, label: 'no activity for 30 days or more' },
      { metric: 'total_sessions', op: '>=', value: 3, label: 'had 3 or more sessions before' },
    ],
  },
  {
    id: 'at_risk',
    label: 'At risk',
    match: 'any',
    criteria: [
      { metric: 'days_since_last_active', op: '>=', value: 7, label: 'no session in the last 7 days' },
      {
        metric: 'week_over_week_drop',
        op: '>=',
        value: 0.5,
        label: 'sessions in the last 7 days dropped by 50% or more against the 7 days before',
      },
    ],
  },
  {
    id: 'power',
    label: 'Power user',
    match: 'all',
    criteria: [
      { metric: 'sessions_7d', op: '>=', value: 5, label: '5 or more sessions in the last 7 days' },
      {
        metric: 'feature_breadth_30d',
        op: '>=',
        value: 0.7,
        label: 'used 70% or more of the features in the last 30 days',
        requires: 'feature_variety',
      },
      { metric: 'days_since_signup', op: '>=', value: 30, label: 'signed up (or first seen) 30 or more days ago' },
    ],
  },
  {
    id: 'regular',
    label: 'Regular user',
    match: 'all',
    criteria: [
      { metric: 'sessions_7d', op: '>=', value: 2, label: '2 or more sessions in the last 7 days' },
      {
        metric: 'feature_breadth_30d',
        op: '>=',
        value: 0.3,
        label: 'used 30% or more of the features in the last 30 days',
        requires: 'feature_variety',
      },
      { metric: 'days_since_signup', op: '>=', value: 14, label: 'signed up (or first seen) 14 or more days ago' },
    ],
  },
  {
    id: 'new',
    label: 'New user',
    match: 'all',
    criteria: [{ metric: 'days_since_signup', op: '<', value: 7, label: 'signed up (or first seen) less than 7 days ago' }],
  },
  { id: 'casual', label: 'Casual user', match: 'all', criteria: [] },
];

function criterionSql(criterion: Criterion, available: ReadonlySet<Input>): string {
  if (criterion.requires && !available.has(criterion.requires)) return 'true';
  const column = `m.${criterion.metric}`;
  if (criterion.op === 'is_null') return `${column} IS NULL`;
  return `coalesce(${column} ${criterion.op} ${criterion.value}, false)`;
}

export function behavioralSegmentColumn(available: ReadonlySet<Input>): string {
  const branches = BEHAVIORAL_SEGMENTS.filter((segment) => segment.criteria.length > 0).map((segment) => {
    const joiner = segment.match === 'all' ? ' AND ' : ' OR ';
    const test = segment.criteria.map((criterion) => `(${criterionSql(criterion, available)})`).join(joiner);
    return `WHEN ${test} THEN ${quoteLiteral(segment.id)}`;
  });
  const fallback = BEHAVIORAL_SEGMENTS.find((segment) => segment.criteria.length === 0);
  return `CASE ${branches.join(' ')} ELSE ${quoteLiteral(fallback?.id ?? 'casual')} END AS behavioral_segment`;
}

/** Activity-based RFM: R from recency, F from sessions per week, M from the plan. */
export function rfmColumns(settings: Settings, available: ReadonlySet<Input>): string[] {
  const r = `CASE
    WHEN m.days_since_last_active IS NULL THEN 1
    WHEN m.days_since_last_active = 0 THEN 5
    WHEN m.days_since_last_active <= 3 THEN 4
    WHEN m.days_since_last_active <= 7 THEN 3
    WHEN m.days_since_last_active <= 14 THEN 2
    ELSE 1 END`;
  const f = `CASE
    WHEN m.avg_weekly_sessions_28d >= 7 THEN 5
    WHEN m.avg_weekly_sessions_28d >= 4 THEN 4
    WHEN m.avg_weekly_sessions_28d >= 2 THEN 3
    WHEN m.avg_weekly_sessions_28d >= 1 THEN 2
    ELSE 1 END`;
  let mScore = 'NULL::INTEGER';
  if (available.has('plan')) {
    const free = settings.freePlans.map((plan) => quoteLiteral(plan.toLowerCase())).join(', ');
    const paid = Object.entries(settings.planValues)
      .filter(([plan]) => !settings.freePlans.includes(plan))
      .map(([plan, value]) => `WHEN lower(m.plan) = ${quoteLiteral(plan.toLowerCase())} THEN ${value}`)
      .join(' ');
    mScore = `CASE
      WHEN m.plan IS NULL THEN NULL
      WHEN lower(m.plan) IN (${free || "''"}) THEN CASE WHEN coalesce(m.days_since_last_active, 999999) < 30 THEN 2 ELSE 1 END
      ${paid}
      ELSE 3 END`;
  }
  return [`${r} AS rfm_r`, `${f} AS rfm_f`, `${mScore} AS rfm_m`];
}

/**
 * Maps R, F and M to a named segment. Every one of the 125 codes lands in exactly one
 * segment because the branches are tried in order and the last ones catch the rest.
 * When M is unknown, the Champions test uses R and F only.
 */
export const RFM_SEGMENT_SQL = `CASE
    WHEN rfm_r = 5 AND rfm_f >= 4 AND (rfm_m IS NULL OR rfm_m >= 4) AND rfm_r + rfm_f + coalesce(rfm_m, 5) >= 14 THEN 'champions'
    WHEN rfm_r >= 4 AND rfm_f >= 4 THEN 'loyal'
    WHEN rfm_r >= 3 AND rfm_f >= 3 THEN 'promising'
    WHEN rfm_r >= 3 THEN 'recent_infrequent'
    WHEN rfm_r = 2 AND rfm_f >= 2 THEN 'need_attention'
    WHEN rfm_r = 2 THEN 'hibernating'
    WHEN rfm_f >= 3 THEN 'cannot_lose'
    ELSE 'lost'
  END`;

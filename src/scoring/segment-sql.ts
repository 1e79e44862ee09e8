import type { Input } from './config.js';
import { CADENCE_DORMANT_DAYS, type Settings } from './settings.js';
import { quoteIdent, quoteLiteral } from '../workspace/index.js';

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
  /** Column of `user_metrics` or `user_scores`. */
  readonly metric: string;
  readonly op: '>=' | '>' | '<' | '<=' | 'is_null' | 'is_true';
  readonly value?: number;
  readonly label: string;
  /** When this input is missing, the criterion is skipped and the explanation reports it. */
  readonly requires?: Input;
  /** Whether a skipped criterion counts as met; default true. */
  readonly metWhenSkipped?: boolean;
  /**
   * A stand-in used only while this input is missing (skipped, and counted as met, when
   * it exists): e.g. "3 or more sessions" stands in for activation without milestone events.
   */
  readonly onlyWithout?: Input;
}

export interface BehavioralSegment {
  readonly id: string;
  readonly label: string;
  readonly match: 'all' | 'any';
  readonly criteria: readonly Criterion[];
}

/** A list of segments tried in order, the first match winning; the last one has no criteria and takes the rest. */
export type OrderedSegments = readonly BehavioralSegment[];

/**
 * Behavioural segments, tried in this order; the first match wins and 'casual' takes the
 * rest. The methodology's criteria overlap and leave gaps, so the order and the two
 * extra values ('inactive' for users without any event, 'new' for users younger than 7
 * days) are this project's choice, explained in docs/scoring.md.
 */
export const BEHAVIORAL_SEGMENTS: readonly BehavioralSegment[] = [
  {
    id: 'inactive',
    label: 'Inactive (never became a user)',
    match: 'any',
    criteria: [
      { metric: 'last_active_date', op: 'is_null', label: 'no event before the as-of boundary' },
      { metric: 'gone_after_trying', op: 'is_true', label: 'fewer than 3 sessions ever, and none in the last 30 days' },
    ],
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

export function isSkipped(criterion: Criterion, available: ReadonlySet<Input>): boolean {
  if (criterion.onlyWithout !== undefined && available.has(criterion.onlyWithout)) return true;
  return criterion.requires !== undefined && !available.has(criterion.requires);
}

/** Returns the reason a criterion was skipped, for explanations. */
export function skipReason(criterion: Criterion, available: ReadonlySet<Input>): string {
  if (criterion.onlyWithout !== undefined && available.has(criterion.onlyWithout)) {
    return `skipped because ${criterion.onlyWithout} is available, so the stand-in is not needed`;
  }
  const met = criterion.metWhenSkipped !== false;
  return `skipped because ${criterion.requires} is not available, so it counts as ${met ? 'met' : 'not met'}`;
}

/** SQL that is true when the criterion holds; NULL values never hold. `source` is the table alias, if any. */
export function criterionSql(criterion: Criterion, available: ReadonlySet<Input>, source = 'm'): string {
  if (isSkipped(criterion, available)) {
    const proxyNotNeeded = criterion.onlyWithout !== undefined && available.has(criterion.onlyWithout);
    return proxyNotNeeded || criterion.metWhenSkipped !== false ? 'true' : 'false';
  }
  const column = source ? `${source}.${quoteIdent(criterion.metric)}` : quoteIdent(criterion.metric);
  if (criterion.op === 'is_null') return `${column} IS NULL`;
  if (criterion.op === 'is_true') return `coalesce(${column}, false)`;
  return `coalesce(${column} ${criterion.op} ${criterion.value}, false)`;
}

function segmentTest(segment: BehavioralSegment, available: ReadonlySet<Input>, source: string): string {
  const joiner = segment.match === 'all' ? ' AND ' : ' OR ';
  return segment.criteria.map((criterion) => `(${criterionSql(criterion, available, source)})`).join(joiner);
}

/** A CASE expression that returns the id of the first segment whose criteria hold. */
export function orderedSegmentSql(segments: OrderedSegments, available: ReadonlySet<Input>, source = 'm', fallback: string | null = null): string {
  const branches = segments
    .filter((segment) => segment.criteria.length > 0)
    .map((segment) => `WHEN ${segmentTest(segment, available, source)} THEN ${quoteLiteral(segment.id)}`);
  const last = segments.find((segment) => segment.criteria.length === 0);
  let otherwise = 'NULL';
  if (last) otherwise = quoteLiteral(last.id);
  else if (fallback !== null) otherwise = quoteLiteral(fallback);
  return `CASE ${branches.join(' ')} ELSE ${otherwise} END`;
}

/**
 * Builds a list expression with the labels of the criteria of the assigned segment that
 * hold, skipped criteria left out: the "why" of a segment, for reasons. When several entries
 * share an id (lifecycle 'new'), the labels come from the first entry whose criteria hold.
 */
export function metCriteriaSql(segments: OrderedSegments, assigned: string, available: ReadonlySet<Input>, source = 'm'): string {
  const ids = [...new Set(segments.map((segment) => segment.id))];
  const branches = ids.map((id) => {
    const entries = segments.filter((segment) => segment.id === id);
    const options = entries.map((segment) => {
      const labels = segment.criteria
        .filter((criterion) => !isSkipped(criterion, available))
        .map((criterion) => `CASE WHEN ${criterionSql(criterion, available, source)} THEN ${quoteLiteral(criterion.label)} END`);
      const list = labels.length === 0 ? '[]::VARCHAR[]' : `list_filter([${labels.join(', ')}], x -> x IS NOT NULL)`;
      const test = segment.criteria.length === 0 ? 'true' : segmentTest(segment, available, source);
      return `WHEN ${test} THEN ${list}`;
    });
    return `WHEN ${quoteLiteral(id)} THEN CASE ${options.join(' ')} ELSE []::VARCHAR[] END`;
  });
  return `CASE ${assigned} ${branches.join(' ')} ELSE []::VARCHAR[] END`;
}

export function behavioralSegmentColumn(available: ReadonlySet<Input>): string {
  return `${orderedSegmentSql(BEHAVIORAL_SEGMENTS, available)} AS behavioral_segment`;
}

/** Sessions that stand in for activation when no milestone event occurs in the data. */
export const ACTIVATION_PROXY_SESSIONS = 3;

const ACTIVATED_PROXY: Criterion = {
  metric: 'total_sessions',
  op: '>=',
  value: ACTIVATION_PROXY_SESSIONS,
  label: `${ACTIVATION_PROXY_SESSIONS} or more sessions (stands in for activation: no milestone event occurs in the data)`,
  onlyWithout: 'activation_milestones',
};

const NOT_ACTIVATED_PROXY: Criterion = {
  metric: 'total_sessions',
  op: '<',
  value: ACTIVATION_PROXY_SESSIONS,
  label: `fewer than ${ACTIVATION_PROXY_SESSIONS} sessions (stands in for activation: no milestone event occurs in the data)`,
  onlyWithout: 'activation_milestones',
};

/**
 * Lifecycle stages, tried in this order. "Activated" means an activation score of at
 * least settings.lifecycle.activatedMinScore; churn uses the dormancy threshold of the
 * product cadence. Users that match nothing are 'new': they have not completed
 * activation yet, however long ago they signed up.
 */
export function lifecycleStages(settings: Settings): OrderedSegments {
  const dormantDays = CADENCE_DORMANT_DAYS[settings.productCadence];
  const activated = settings.lifecycle.activatedMinScore;
  return [
    {
      id: 'churned',
      label: 'Churned',
      match: 'all',
      criteria: [
        {
          metric: 'inactive_days',
          op: '>=',
          value: dormantDays,
          label: `no activity for ${dormantDays} days or more (the dormancy threshold of a ${settings.productCadence} product)`,
        },
      ],
    },
    {
      id: 'at_risk',
      label: 'At risk',
      match: 'any',
      criteria: [
        { metric: 'at_risk', op: 'is_true', label: 'two or more at-risk signals fired' },
        {
          metric: 'usage_decline',
          op: '>=',
          value: 0.5,
          label: 'sessions in the last 7 days 50% or more below the weekly average of the 4 weeks before',
        },
      ],
    },
    {
      id: 'power',
      label: 'Power user',
      match: 'all',
      criteria: [
        { metric: 'days_since_signup', op: '>=', value: 30, label: 'signed up (or first seen) 30 or more days ago' },
        { metric: 'usage_rank_share_28d', op: '<', value: 0.1, label: 'in the top 10% of users by sessions in the last 28 days' },
        {
          metric: 'feature_breadth_30d',
          op: '>=',
          value: 0.5,
          label: 'used 50% or more of the features in the last 30 days',
          requires: 'feature_variety',
        },
      ],
    },
    {
      id: 'engaged',
      label: 'Engaged',
      match: 'all',
      criteria: [
        { metric: 'days_since_signup', op: '>=', value: 7, label: 'signed up (or first seen) 7 or more days ago' },
        { metric: 'avg_weekly_sessions_28d', op: '>=', value: 2, label: '2 or more sessions a week over the last 28 days' },
      ],
    },
    {
      id: 'new',
      label: 'New',
      match: 'all',
      criteria: [
        { metric: 'days_since_signup', op: '<=', value: 3, label: 'signed up (or first seen) 3 days ago or less' },
        {
          metric: 'activation_score',
          op: '<',
          value: activated,
          label: `activation score below ${activated}`,
          requires: 'activation_milestones',
        },
      ],
    },
    {
      id: 'activated',
      label: 'Activated',
      match: 'all',
      criteria: [
        {
          metric: 'activation_score',
          op: '>=',
          value: activated,
          label: `activation score ${activated} or more`,
          requires: 'activation_milestones',
        },
        ACTIVATED_PROXY,
      ],
    },
    { id: 'new', label: 'New (not activated yet)', match: 'all', criteria: [] },
  ];
}

/**
 * Dormant sub-segments, tried in this order. Only users past the dormancy threshold,
 * or who cancelled after paying, get one; the others get NULL.
 */
export function dormantSubsegments(settings: Settings): OrderedSegments {
  const dormantDays = CADENCE_DORMANT_DAYS[settings.productCadence];
  const activated = settings.lifecycle.activatedMinScore;
  const dormant: Criterion = {
    metric: 'inactive_days',
    op: '>=',
    value: dormantDays,
    label: `no activity for ${dormantDays} days or more`,
  };
  return [
    {
      id: 'churned_after_paying',
      label: 'Churned after paying',
      match: 'all',
      criteria: [
        { metric: 'paid_ever', op: 'is_true', label: 'made a payment (billing)', requires: 'billing', metWhenSkipped: false },
        {
          metric: 'churned_after_paying_signal',
          op: 'is_true',
          label: `cancelled or downgraded to a free plan after paying, or no activity for ${dormantDays} days or more`,
          requires: 'billing',
          metWhenSkipped: false,
        },
      ],
    },
    {
      id: 'lapsed_after_activation',
      label: 'Lapsed after activation',
      match: 'all',
      criteria: [
        dormant,
        {
          metric: 'activation_score',
          op: '>=',
          value: activated,
          label: `activation score ${activated} or more`,
          requires: 'activation_milestones',
        },
        ACTIVATED_PROXY,
      ],
    },
    {
      id: 'never_activated',
      label: 'Never activated',
      match: 'all',
      criteria: [
        dormant,
        {
          metric: 'activation_score',
          op: '<',
          value: activated,
          label: `activation score below ${activated}`,
          requires: 'activation_milestones',
        },
        NOT_ACTIVATED_PROXY,
      ],
    },
  ];
}

/** SQL for the plan value (1-5) of settings.planValues; free plans score 2 when active in 30 days, else 1. */
function planValueSql(settings: Settings): string {
  const free = settings.freePlans.map((plan) => quoteLiteral(plan.toLowerCase())).join(', ');
  const paid = Object.entries(settings.planValues)
    .filter(([plan]) => !settings.freePlans.includes(plan))
    .map(([plan, value]) => `WHEN lower(m.plan) = ${quoteLiteral(plan.toLowerCase())} THEN ${value}`)
    .join(' ');
  return `CASE
      WHEN m.plan IS NULL THEN NULL
      WHEN lower(m.plan) IN (${free || "''"}) THEN CASE WHEN coalesce(m.days_since_last_active, 999999) < 30 THEN 2 ELSE 1 END
      ${paid}
      ELSE 3 END`;
}

/** SQL for M from seats: the seat edges give 3, 4 and 5; fewer seats give 2 when active in 30 days, else 1. */
function seatValueSql(settings: Settings): string {
  const [three, four, five] = settings.rfm.seatEdges;
  return `CASE
      WHEN m.seats IS NULL THEN NULL
      WHEN m.seats >= ${five} THEN 5
      WHEN m.seats >= ${four} THEN 4
      WHEN m.seats >= ${three} THEN 3
      WHEN coalesce(m.days_since_last_active, 999999) < 30 THEN 2
      ELSE 1 END`;
}

/**
 * SQL for M from usage volume, the events in the last 28 days. Users without events get 1.
 * The others get 2-5 by the rank of their volume among them, so equal volumes share a score.
 */
const USAGE_VALUE_SQL = `CASE
      WHEN m.events_28d = 0 THEN 1
      ELSE 2 + floor(4 * (rank() OVER (PARTITION BY m.events_28d > 0 ORDER BY m.events_28d) - 1)
        / count(*) OVER (PARTITION BY m.events_28d > 0))::INTEGER END`;

export function planValueColumn(settings: Settings, available: ReadonlySet<Input>): string {
  return `${available.has('plan') ? planValueSql(settings) : 'NULL::INTEGER'} AS plan_value`;
}

/** Activity-based RFM: R from recency, F from sessions per week, M from the plan, seats or usage (settings.rfm.monetary). */
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
  const monetary = settings.rfm.monetary;
  if (monetary === 'plan' && available.has('plan')) mScore = planValueSql(settings);
  if (monetary === 'seats' && available.has('seats')) mScore = seatValueSql(settings);
  if (monetary === 'usage' && available.has('events')) mScore = USAGE_VALUE_SQL;
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

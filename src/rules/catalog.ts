import type { WindowNode, WindowUnit } from './ast.js';

/**
 * The closed catalogue of the rule language: every attribute, constant and function a
 * rule may name, its type, and the SQL it compiles to. Nothing outside this file turns a
 * name into SQL, so adding a `user.*`, `scores.*` or `usage.*` column is one entry in
 * {@link ATTRIBUTES}.
 */

export type ValueType = 'number' | 'string' | 'boolean' | 'date';

/** Per-user tables a rule may read, with the alias the compiled query gives each. */
export const TABLE_ALIASES = {
  user_metrics: 'm',
  users: 'u',
  user_scores: 's',
} as const;
export type SourceTable = keyof typeof TABLE_ALIASES;

/** A per-user value read from one column of a per-user table. */
export interface AttributeEntry {
  readonly table: SourceTable;
  readonly column: string;
  readonly type: ValueType;
  readonly description: string;
}

const user = (column: string, type: ValueType, description: string): AttributeEntry => ({ table: 'users', column, type, description });
const metric = (column: string, type: ValueType, description: string): AttributeEntry => ({ table: 'user_metrics', column, type, description });
const score = (column: string, type: ValueType, description: string): AttributeEntry => ({ table: 'user_scores', column, type, description });

export const NAMESPACES = ['user', 'scores', 'usage', 'events'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Attributes by namespace: `user.plan` is `ATTRIBUTES.user.plan`. */
export const ATTRIBUTES: Readonly<Record<Namespace, Readonly<Record<string, AttributeEntry>>>> = {
  user: {
    plan: user('plan', 'string', 'Plan name from the users file, e.g. "free", "pro".'),
    role: user('role', 'string', 'Role or job title from the users file.'),
    company: user('company', 'string', 'Company name.'),
    company_size: user('company_size', 'number', 'Number of employees of the company.'),
    industry: user('industry', 'string', 'Industry of the company.'),
    country: user('country', 'string', 'Country code or name.'),
    seats: user('seats', 'number', 'Seats on the account.'),
    account_id: user('account_id', 'string', 'Account (workspace, organisation) the user belongs to.'),
    signup_date: metric('signup_date', 'date', 'Signup day in the workspace time zone.'),
    first_active_date: metric('first_active_date', 'date', 'First day with an event.'),
    last_active_date: metric('last_active_date', 'date', 'Last day with an event before T.'),
    days_since_signup: metric('days_since_signup', 'number', 'Calendar days from signup (or first activity) to the last day before T.'),
    days_since_last_active: metric('days_since_last_active', 'number', 'Calendar days since the last active day; 0 means active on the last day before T.'),
  },
  scores: {
    engagement: score('engagement_score', 'number', 'Engagement score, 0-100.'),
    engagement_tier: score('engagement_tier', 'string', 'Engagement tier name, e.g. "highly_engaged".'),
    activation: score('activation_score', 'number', 'Activation score, 0-100.'),
    activation_tier: score('activation_tier', 'string', 'Activation tier name.'),
    expansion: score('expansion_score', 'number', 'Expansion readiness score, 0-100.'),
    expansion_tier: score('expansion_tier', 'string', 'Expansion readiness tier name.'),
    churn_risk: score('churn_risk_score', 'number', 'Churn risk score, 0-100.'),
    churn_risk_tier: score('churn_risk_tier', 'string', 'Churn risk tier name, e.g. "high".'),
    rfm_r: score('rfm_r', 'number', 'RFM recency score, 1-5.'),
    rfm_f: score('rfm_f', 'number', 'RFM frequency score, 1-5.'),
    rfm_m: score('rfm_m', 'number', 'RFM monetary score, 1-5.'),
    rfm_code: score('rfm_code', 'string', 'The three RFM digits, e.g. "545".'),
    rfm_segment: score('rfm_segment', 'string', 'RFM segment name, e.g. "champions".'),
    behavioral_segment: score('behavioral_segment', 'string', 'Behavioural segment name assigned by scoring.'),
    lifecycle_stage: score('lifecycle_stage', 'string', 'Lifecycle stage name assigned by scoring.'),
    at_risk: score('at_risk', 'boolean', 'True when two or more at-risk signals fire.'),
    at_risk_signal_count: score('at_risk_signal_count', 'number', 'Number of at-risk signals that fire.'),
    plan_value: score('plan_value', 'number', 'Plan value used by the RFM monetary score.'),
  },
  usage: {
    // NOTE: a fraction (0.7 means 70%); NULL when no usage limit is loaded. `seats_used`
    // has no column yet in user_metrics or user_scores, so it is not offered.
    percentage_of_limit: score('percentage_of_limit', 'number', 'Share of the plan limit in use, as a fraction (0.7 or 70%).'),
    total_sessions: metric('total_sessions', 'number', 'Sessions before T, over the whole history.'),
    total_active_days: metric('total_active_days', 'number', 'Active days before T, over the whole history.'),
    feature_breadth_30d: metric('feature_breadth_30d', 'number', 'Feature events used in the last 30 days divided by total_features, as a fraction.'),
    avg_session_minutes_28d: metric('avg_session_minutes_28d', 'number', 'Average session length in minutes over the last 28 days; NULL without times of day.'),
    typical_gap_days: metric('typical_gap_days', 'number', 'Median gap in days between consecutive active days.'),
    gap_ratio: metric('gap_ratio', 'number', 'Days since last active divided by the typical gap.'),
    usage_decline: metric('usage_decline', 'number', 'Drop of last week\'s sessions against the weekly baseline, as a fraction from 0 to 1.'),
    week_over_week_drop: metric('week_over_week_drop', 'number', 'Drop of last week\'s sessions against the week before, as a fraction.'),
    pricing_views_7d: metric('pricing_views_7d', 'number', 'Pricing page views (the workspace\'s pricing events) in the last 7 days.'),
    pricing_views_14d: metric('pricing_views_14d', 'number', 'Pricing page views in the last 14 days.'),
    locked_clicks_14d: metric('locked_clicks_14d', 'number', 'Clicks on locked (higher-plan) features in the last 14 days.'),
    invites_30d: metric('invites_30d', 'number', 'Team invitations sent in the last 30 days.'),
    invites_total: metric('invites_total', 'number', 'Team invitations sent over the whole history.'),
    collaboration_30d: metric('collaboration_30d', 'number', 'Collaboration events (share, comment, …) in the last 30 days.'),
    cancel_views_30d: metric('cancel_views_30d', 'number', 'Cancel page views in the last 30 days.'),
    tickets_30d: metric('tickets_30d', 'number', 'Support tickets opened in the last 30 days.'),
    negative_tickets_30d: metric('negative_tickets_30d', 'number', 'Support tickets with negative sentiment in the last 30 days.'),
    failed_payments_30d: metric('failed_payments_30d', 'number', 'Failed payments in the last 30 days.'),
    downgrades_30d: metric('downgrades_30d', 'number', 'Plan downgrades in the last 30 days.'),
    nps_last: metric('nps_last', 'number', 'Latest NPS answer (0-10) before T.'),
  },
  events: {
    days_since_last_activity: metric('days_since_last_active', 'number', 'Calendar days since the last active day.'),
  },
};

/** Bare names that stand for one workspace-wide number. */
export const CONSTANTS: Readonly<Record<string, AttributeEntry>> = {
  total_features: metric('total_features', 'number', 'Number of distinct feature events in the workspace.'),
};

/** Values of `refresh:`. */
export const REFRESH_CADENCES = ['daily', 'weekly', 'monthly'] as const;

/** Days per window unit: a month is a fixed 30 days so that every window has a known length. */
export const UNIT_DAYS: Readonly<Record<WindowUnit, number>> = { day: 1, week: 7, month: 30 };

/** Maximum length of a window, and of the span of `events.regularly`, in days. */
export const MAX_WINDOW_DAYS = 730;

/** Period names accepted by `events.regularly`. */
export const PERIODS: Readonly<Record<string, WindowUnit>> = {
  days: 'day', day: 'day', weeks: 'week', week: 'week', months: 'month', month: 'month',
};

/**
 * Kinds of function arguments. Every argument is a literal of its kind, never an
 * expression: `window` any window, `fixed_window` one of fixed length (not this_week or
 * this_month), `event` a string naming an event, `event_list` a list of such strings,
 * `count` a positive whole number, `period` one of days, weeks or months.
 */
export type ParamKind = 'window' | 'fixed_window' | 'event' | 'event_list' | 'count' | 'period';

/** A checked argument as the compiler hands it to {@link EventFunction.compile}. */
export type ArgValue =
  | { readonly kind: 'window'; readonly window: WindowNode }
  | { readonly kind: 'event'; readonly name: string }
  | { readonly kind: 'event_list'; readonly names: readonly string[] }
  | { readonly kind: 'count'; readonly value: number }
  | { readonly kind: 'period'; readonly unit: WindowUnit };

/** Start (inclusive) and end (exclusive) dates of a window and its length in days, as SQL expressions. */
export interface Span {
  readonly start: string;
  readonly end: string;
  readonly days: string;
}

/**
 * Compiler services available to a function's `compile`. Aggregates run in one
 * grouped pass over `event_facts` (columns `user_id, event, ts, local_ts, local_date,
 * session_key`, rows before T only), joined to the population.
 */
export interface EventSql {
  /** The as-of date T (first day not included) as an SQL expression. */
  readonly asOf: string;
  /** Binds a value and returns its placeholder. */
  param(value: string | number | boolean): string;
  /** Adds an aggregate over `event_facts` to the grouped pass and returns its column, NULL for users without events. */
  aggregate(expression: string): string;
  span(window: WindowNode): Span;
  /** The window of the same length just before a fixed window. */
  previousSpan(window: WindowNode): Span;
  /** `local_date >= start AND local_date < end`. */
  within(span: Span): string;
  /** `within(span)`, narrowed to feature events (every event but the workspace's non-feature events). */
  featureFilter(span: Span): string;
}

export interface EventFunction {
  readonly params: readonly { readonly name: string; readonly kind: ParamKind }[];
  readonly returns: 'number' | 'boolean';
  readonly description: string;
  readonly example: string;
  /** Checks that argument types alone cannot express; returns a message, or undefined when the arguments fit. */
  readonly check?: (args: readonly ArgValue[]) => string | undefined;
  readonly compile: (args: readonly ArgValue[], sql: EventSql) => string;
}

const window = (arg: ArgValue | undefined): WindowNode => {
  if (arg?.kind !== 'window') throw new Error('Internal error: expected a window argument.');
  return arg.window;
};
const eventName = (arg: ArgValue | undefined): string => {
  if (arg?.kind !== 'event') throw new Error('Internal error: expected an event argument.');
  return arg.name;
};
const count = (arg: ArgValue | undefined): number => {
  if (arg?.kind !== 'count') throw new Error('Internal error: expected a count argument.');
  return arg.value;
};

const countInWindow = (expression: string, filter: string, sql: EventSql): string =>
  `coalesce(${sql.aggregate(`${expression} FILTER (WHERE ${filter})`)}, 0)`;

const countEvent = (name: string, w: WindowNode, sql: EventSql): string =>
  countInWindow('count(*)', `event = ${sql.param(name)} AND ${sql.within(sql.span(w))}`, sql);

/** Functions called as `events.<name>(…)`. */
export const EVENT_FUNCTIONS: Readonly<Record<string, EventFunction>> = {
  session_count: {
    params: [{ name: 'window', kind: 'window' }],
    returns: 'number',
    description: 'Number of distinct sessions with at least one event in the window.',
    example: 'events.session_count(last_7_days) >= 5',
    compile: (args, sql) => countInWindow('count(DISTINCT session_key)', sql.within(sql.span(window(args[0]))), sql),
  },
  avg_weekly_sessions: {
    params: [{ name: 'window', kind: 'window' }],
    returns: 'number',
    description: 'Sessions in the window divided by its length in weeks (days / 7).',
    example: 'events.avg_weekly_sessions(last_28_days) >= 2',
    compile: (args, sql) => {
      const span = sql.span(window(args[0]));
      return `(${countInWindow('count(DISTINCT session_key)', sql.within(span), sql)} * 7.0 / ${span.days})`;
    },
  },
  active_days: {
    params: [{ name: 'window', kind: 'window' }],
    returns: 'number',
    description: 'Number of distinct calendar days with at least one event in the window.',
    example: 'events.active_days(last_30_days) >= 10',
    compile: (args, sql) => countInWindow('count(DISTINCT local_date)', sql.within(sql.span(window(args[0]))), sql),
  },
  unique_features_used: {
    params: [{ name: 'window', kind: 'window' }],
    returns: 'number',
    description: 'Number of distinct feature events in the window (non-feature events such as logins excluded).',
    example: 'events.unique_features_used(last_30_days) >= 0.7 * total_features',
    compile: (args, sql) =>
      countInWindow('count(DISTINCT event)', sql.featureFilter(sql.span(window(args[0]))), sql),
  },
  event_count: {
    params: [{ name: 'window', kind: 'window' }],
    returns: 'number',
    description: 'Number of events of any name in the window.',
    example: 'events.event_count(last_7_days) > 100',
    compile: (args, sql) => countInWindow('count(*)', sql.within(sql.span(window(args[0]))), sql),
  },
  count: {
    params: [{ name: 'event', kind: 'event' }, { name: 'window', kind: 'window' }],
    returns: 'number',
    description: 'Number of events with the given name in the window; use it for names that are not identifiers.',
    example: 'events.count("Pricing Page Viewed", last_14_days) >= 2',
    compile: (args, sql) => countEvent(eventName(args[0]), window(args[1]), sql),
  },
  used_at_least: {
    params: [{ name: 'n', kind: 'count' }, { name: 'events', kind: 'event_list' }, { name: 'window', kind: 'window' }],
    returns: 'boolean',
    description: 'True when at least n of the listed events occur in the window.',
    example: 'events.used_at_least(2, ["export", "share", "comment"], last_30_days)',
    check: (args) => {
      const names = args[1]?.kind === 'event_list' ? args[1].names : [];
      const n = count(args[0]);
      return n > names.length
        ? `events.used_at_least asks for ${n} of ${names.length} listed events; n must be at most the number of events listed.`
        : undefined;
    },
    compile: (args, sql) => {
      const names = args[1]?.kind === 'event_list' ? args[1].names : [];
      const list = names.map((name) => sql.param(name)).join(', ');
      const filter = `event IN (${list}) AND ${sql.within(sql.span(window(args[2])))}`;
      return `(${countInWindow('count(DISTINCT event)', filter, sql)} >= ${sql.param(count(args[0]))})`;
    },
  },
  first_time: {
    params: [{ name: 'event', kind: 'event' }, { name: 'window', kind: 'window' }],
    returns: 'boolean',
    description: 'True when the first occurrence ever (before T) of the event falls inside the window.',
    example: 'events.first_time("invite_sent", last_7_days)',
    compile: (args, sql) => {
      const first = sql.aggregate(`min(local_date) FILTER (WHERE event = ${sql.param(eventName(args[0]))})`);
      const span = sql.span(window(args[1]));
      return `coalesce(${first} >= ${span.start} AND ${first} < ${span.end}, false)`;
    },
  },
  stopped: {
    params: [{ name: 'window', kind: 'fixed_window' }],
    returns: 'boolean',
    description: 'True when the user was active in the window of the same length just before this one, and not in this one.',
    example: 'events.stopped(last_14_days)',
    compile: (args, sql) => {
      const w = window(args[0]);
      const now = countInWindow('count(*)', sql.within(sql.span(w)), sql);
      const before = countInWindow('count(*)', sql.within(sql.previousSpan(w)), sql);
      return `(${now} = 0 AND ${before} > 0)`;
    },
  },
  started_again: {
    params: [{ name: 'window', kind: 'fixed_window' }],
    returns: 'boolean',
    description:
      'True when the user is active in the window and, before the first active day in it, had been inactive for at least ' +
      'the window length after some earlier activity.',
    example: 'events.started_again(last_7_days)',
    compile: (args, sql) => {
      const span = sql.span(window(args[0]));
      const first = sql.aggregate(`min(local_date) FILTER (WHERE ${sql.within(span)})`);
      const lastBefore = sql.aggregate(`max(local_date) FILTER (WHERE local_date < ${span.start})`);
      return `coalesce(${first} - ${lastBefore} - 1 >= ${span.days}, false)`;
    },
  },
  regularly: {
    params: [{ name: 'm', kind: 'count' }, { name: 'n', kind: 'count' }, { name: 'period', kind: 'period' }],
    returns: 'boolean',
    description: 'True when the user was active in at least m of the last n periods (days, weeks of 7 days, months of 30 days) before T.',
    example: 'events.regularly(3, 4, weeks)',
    check: (args) => {
      const m = count(args[0]);
      const n = count(args[1]);
      const unit = args[2]?.kind === 'period' ? args[2].unit : 'week';
      if (m > n) return `events.regularly asks for activity in ${m} of ${n} periods; m must be at most n.`;
      if (n * UNIT_DAYS[unit] > MAX_WINDOW_DAYS) {
        return `events.regularly spans ${n * UNIT_DAYS[unit]} days; n periods may cover at most ${MAX_WINDOW_DAYS} days.`;
      }
      return undefined;
    },
    compile: (args, sql) => {
      const unit = args[2]?.kind === 'period' ? args[2].unit : 'week';
      const length = sql.param(UNIT_DAYS[unit]);
      const span = sql.param(UNIT_DAYS[unit] * count(args[1]));
      const bucket = `(${sql.asOf} - local_date - 1) // ${length}`;
      const active = countInWindow(`count(DISTINCT ${bucket})`, `local_date >= ${sql.asOf} - ${span}`, sql);
      return `(${active} >= ${sql.param(count(args[0]))})`;
    },
  },
};

/**
 * `events.<event_name>(window)`: any name that is not a function above counts the events
 * of that name in the window, e.g. `events.pricing_page_view(last_14_days)`.
 */
export const EVENT_SHORTHAND: EventFunction = {
  params: [{ name: 'window', kind: 'window' }],
  returns: 'number',
  description: 'Number of events with this name in the window.',
  example: 'events.pricing_page_view(last_14_days) >= 1',
  // The compiler passes the event name from the callee as a first `event` argument.
  compile: (args, sql) => countEvent(eventName(args[0]), window(args[1]), sql),
};

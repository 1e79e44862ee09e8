import type { Model } from './config.js';

/**
 * Default models. Bands use inclusive lower edges on integer day and session counts,
 * so "1-3 days" is the band [1, 4). Each edge choice is listed in docs/scoring.md.
 */
export const ENGAGEMENT_MODEL: Model = {
  id: 'engagement',
  label: 'Engagement score',
  max: 100,
  components: [
    {
      kind: 'bands',
      id: 'frequency',
      label: 'Usage frequency',
      metric: 'sessions_7d',
      unit: 'sessions in the last 7 days',
      window: 'last 7 days',
      max: 30,
      requires: ['events'],
      nullPoints: 0,
      nullLabel: 'no sessions',
      bands: [
        { min: 0, points: 0, label: 'under 1 session' },
        { min: 1, points: 5, label: '1 session' },
        { min: 2, points: 12, label: '2-3 sessions' },
        { min: 4, points: 20, label: '4-6 sessions' },
        { min: 7, points: 30, label: '7 or more sessions' },
      ],
    },
    {
      kind: 'bands',
      id: 'breadth',
      label: 'Feature breadth',
      metric: 'feature_breadth_30d',
      unit: 'share of all features used in the last 30 days',
      window: 'last 30 days',
      max: 25,
      requires: ['events', 'feature_variety'],
      nullPoints: 3,
      nullLabel: 'no features used',
      bands: [
        { min: 0, points: 3, label: 'under 25% of features' },
        { min: 0.25, points: 10, label: '25-49% of features' },
        { min: 0.5, points: 18, label: '50-79% of features' },
        { min: 0.8, points: 25, label: '80% of features or more' },
      ],
    },
    {
      kind: 'bands',
      id: 'depth',
      label: 'Engagement depth',
      metric: 'avg_session_minutes_28d',
      unit: 'average session length in minutes over the last 28 days',
      window: 'last 28 days',
      max: 25,
      requires: ['events', 'time_of_day'],
      nullPoints: 3,
      nullLabel: 'no sessions',
      bands: [
        { min: 0, points: 3, label: 'under 5 minutes' },
        { min: 5, points: 10, label: '5-15 minutes' },
        { min: 15, points: 18, label: '15-30 minutes' },
        { min: 30, minExclusive: true, points: 25, label: 'over 30 minutes' },
      ],
    },
    {
      kind: 'bands',
      id: 'recency',
      label: 'Recency',
      metric: 'days_since_last_active',
      unit: 'days since the last active day (0 = active on the last day before the as-of boundary)',
      window: 'all history',
      max: 20,
      requires: ['events'],
      nullPoints: 0,
      nullLabel: 'never active',
      bands: [
        { min: 0, points: 20, label: 'active today' },
        { min: 1, points: 15, label: '1-3 days ago' },
        { min: 4, points: 8, label: '4-7 days ago' },
        { min: 8, points: 3, label: '8-14 days ago' },
        { min: 15, points: 0, label: '15 or more days ago' },
      ],
    },
  ],
  tiers: [
    { min: 0, name: 'disengaged', label: 'Disengaged' },
    { min: 20, name: 'low', label: 'Low' },
    { min: 40, name: 'moderate', label: 'Moderate' },
    { min: 60, name: 'engaged', label: 'Engaged' },
    { min: 80, name: 'highly_engaged', label: 'Highly engaged' },
  ],
};

export const CHURN_RISK_MODEL: Model = {
  id: 'churn_risk',
  label: 'Churn risk score',
  max: 100,
  components: [
    {
      kind: 'bands',
      id: 'usage_decline',
      label: 'Usage decline',
      metric: 'usage_decline',
      unit: "drop of this week's sessions below the weekly average of the 4 weeks before it (0-1)",
      window: 'last 7 days against the 28 days before them',
      max: 30,
      requires: ['events'],
      nullPoints: 0,
      nullLabel: 'no baseline (no sessions in the 4 weeks before the last 7 days)',
      bands: [
        { min: 0, points: 0, label: 'under 30% decline' },
        { min: 0.3, points: 10, label: '30-49% decline' },
        { min: 0.5, points: 20, label: '50-69% decline' },
        { min: 0.7, points: 30, label: '70% decline or more' },
      ],
    },
    {
      kind: 'bands',
      id: 'recency_gap',
      label: 'Recency gap',
      metric: 'gap_ratio',
      unit: "days since the last active day divided by the user's typical gap between active days",
      window: 'all history',
      max: 25,
      requires: ['events'],
      nullPoints: 0,
      nullLabel: 'never active',
      bands: [
        { min: 0, points: 0, label: 'under 1x the typical gap' },
        { min: 1, points: 5, label: '1x the typical gap' },
        { min: 1.5, points: 15, label: '1.5x the typical gap' },
        { min: 2, points: 25, label: '2x the typical gap or more' },
      ],
    },
    {
      kind: 'signals',
      id: 'support',
      label: 'Support signals',
      window: 'last 30 days',
      max: 20,
      requires: ['support'],
      combine: 'max',
      signals: [
        { metric: 'negative_ticket_30d', points: 20, label: 'negative support interaction' },
        { metric: 'multiple_tickets_30d', points: 10, label: '2 or more support tickets' },
      ],
    },
    {
      kind: 'signals',
      id: 'billing',
      label: 'Billing signals',
      window: 'last 30 days',
      max: 15,
      requires: ['billing'],
      combine: 'max',
      signals: [
        { metric: 'failed_payment_30d', points: 15, label: 'failed payment' },
        { metric: 'downgraded_30d', points: 10, label: 'downgraded' },
        { metric: 'cancel_page_view_30d', points: 10, label: 'viewed the cancel page' },
      ],
    },
    {
      kind: 'signals',
      id: 'trend',
      label: 'Engagement trend',
      window: 'last 14 days against the 14 days before them',
      max: 10,
      requires: ['events'],
      combine: 'max',
      signals: [{ metric: 'engagement_declining', points: 10, label: 'sessions declining' }],
    },
  ],
  tiers: [
    { min: 0, name: 'healthy', label: 'Healthy' },
    { min: 20, name: 'low', label: 'Low risk' },
    { min: 40, name: 'moderate', label: 'Moderate risk' },
    { min: 70, name: 'high', label: 'High risk' },
  ],
};

/** Builds one activation milestone component: `points` once any of `events` happened. */
function milestone(id: string, label: string, points: number, events: string[] = [id]): Model['components'][number] {
  return { kind: 'milestone', id, label, max: points, window: 'all history', requires: ['events', 'activation_milestones'], events };
}

/**
 * Activation with the project-management example milestones. A product replaces the
 * milestones (events and points) in its settings; the points must add up to 100.
 */
export const ACTIVATION_MODEL: Model = {
  id: 'activation',
  label: 'Activation score',
  max: 100,
  components: [
    milestone('project_created', 'Created a first project', 20),
    milestone('task_added', 'Added a first task', 15),
    milestone('invite_sent', 'Invited a team member', 25),
    milestone('task_completed', 'Completed a first task', 15),
    milestone('template_used', 'Used a template', 10),
    milestone('integration_connected', 'Connected an integration', 15),
  ],
  tiers: [
    { min: 0, name: 'not_activated', label: 'Not activated' },
    { min: 20, name: 'early', label: 'Early activation' },
    { min: 50, name: 'partially_activated', label: 'Partially activated' },
    { min: 80, name: 'fully_activated', label: 'Fully activated' },
  ],
};

export const EXPANSION_MODEL: Model = {
  id: 'expansion',
  label: 'Expansion readiness score',
  max: 100,
  components: [
    {
      kind: 'bands',
      id: 'usage_limit',
      label: 'Usage approaching limits',
      metric: 'usage_share',
      unit: 'usage divided by the usage limit of the plan (0.8 = 80%)',
      window: 'current usage',
      max: 25,
      requires: ['usage_limits'],
      nullPoints: 0,
      nullLabel: 'no usage or limit known for this user',
      bands: [
        { min: 0, points: 0, label: 'under 40% of the limit' },
        { min: 0.4, points: 5, label: '40-59% of the limit' },
        { min: 0.6, points: 15, label: '60-79% of the limit' },
        { min: 0.8, points: 25, label: '80% of the limit or more' },
      ],
    },
    {
      kind: 'signals',
      id: 'team_growth',
      label: 'Team growth signals',
      window: 'last 30 days',
      max: 25,
      requires: ['events', 'team_events'],
      combine: 'sum',
      signals: [
        { metric: 'invited_30d', points: 15, label: 'invited team members' },
        { metric: 'collaborated_30d', points: 10, label: 'used collaboration features' },
      ],
    },
    {
      kind: 'signals',
      id: 'feature_interest',
      label: 'Feature interest signals',
      window: 'last 14 days',
      max: 25,
      requires: ['events', 'intent_events'],
      combine: 'sum',
      signals: [
        { metric: 'locked_clicked_14d', points: 15, label: 'clicked a locked feature' },
        { metric: 'pricing_viewed_14d', points: 10, label: 'viewed the pricing page' },
      ],
    },
    {
      kind: 'bands',
      id: 'engagement_level',
      label: 'Engagement level',
      metric: 'engagement_score',
      unit: 'engagement score (0-100)',
      window: 'as of the boundary',
      max: 25,
      requires: ['events'],
      nullPoints: 0,
      nullLabel: 'no engagement score',
      bands: [
        { min: 0, points: 0, label: 'engagement under 30' },
        { min: 30, points: 5, label: 'engagement 30-49' },
        { min: 50, points: 15, label: 'engagement 50-70' },
        { min: 70, minExclusive: true, points: 25, label: 'engagement over 70' },
      ],
    },
  ],
  tiers: [
    { min: 0, name: 'not_ready', label: 'Not ready' },
    { min: 25, name: 'low', label: 'Low readiness' },
    { min: 50, name: 'moderate', label: 'Moderate readiness' },
    { min: 75, name: 'high', label: 'High readiness' },
  ],
};

import { z } from 'zod';

/**
 * Scoring models as data. A model is a list of components; each component turns one
 * per-user metric (a column of `user_metrics`) into points, either through ordered
 * bands or through a set of boolean signals. Tiers map the total to a name.
 */

/** An input a component depends on; when the workspace lacks it, the component is marked missing. */
export const INPUTS = [
  'events',
  'time_of_day',
  'feature_variety',
  'users',
  'plan',
  'billing',
  'support',
  'nps',
  'usage_limits',
  'activation_milestones',
  'team_events',
  'intent_events',
  'seats',
] as const;
export type Input = (typeof INPUTS)[number];

const bandSchema = z
  .object({
    min: z.number().describe('Lower edge of the band, inclusive unless minExclusive is set.'),
    minExclusive: z.boolean().optional().describe('Treat the lower edge as "greater than" instead of "at least".'),
    points: z.number().min(0).describe('Points a value in this band earns.'),
    label: z.string().min(1).describe('Readable name of the band, shown in explanations.'),
  })
  .strict();
export type Band = z.infer<typeof bandSchema>;

const signalSchema = z
  .object({
    metric: z.string().min(1).describe('Boolean column of user_metrics that fires the signal.'),
    points: z.number().min(0).describe('Points the signal adds when it fires.'),
    label: z.string().min(1).describe('Readable name of the signal.'),
  })
  .strict();
export type Signal = z.infer<typeof signalSchema>;

const componentBase = {
  id: z.string().regex(/^[a-z][a-z0-9_]*$/).describe('Identifier, used in column names.'),
  label: z.string().min(1).describe('Readable name.'),
  max: z.number().positive().describe('Maximum points of the component.'),
  window: z.string().describe('Time window the metric covers, for explanations.'),
  requires: z.array(z.enum(INPUTS)).default([]).describe('Inputs without which the component is missing.'),
};

const bandComponentSchema = z
  .object({
    kind: z.literal('bands'),
    ...componentBase,
    metric: z.string().min(1).describe('Numeric column of user_metrics.'),
    unit: z.string().describe('Unit of the metric, for explanations.'),
    bands: z.array(bandSchema).min(1).describe('Bands in ascending order of their lower edge.'),
    /** Points when the metric is NULL for a user (no baseline, no activity); default 0. */
    nullPoints: z.number().min(0).default(0),
    nullLabel: z.string().default('no value'),
  })
  .strict();

const signalComponentSchema = z
  .object({
    kind: z.literal('signals'),
    ...componentBase,
    combine: z.enum(['max', 'sum']).describe('How fired signals combine: the largest one, or their sum capped at max.'),
    signals: z.array(signalSchema).min(1),
  })
  .strict();

/**
 * An activation milestone: the user earns `max` points once any of `events` happened
 * before the as-of boundary (at any time in the history).
 */
const milestoneComponentSchema = z
  .object({
    kind: z.literal('milestone'),
    ...componentBase,
    events: z.array(z.string().min(1)).min(1).describe('Event names that complete the milestone, matched exactly.'),
  })
  .strict();

export const componentSchema = z.discriminatedUnion('kind', [
  bandComponentSchema,
  signalComponentSchema,
  milestoneComponentSchema,
]);
export type Component = z.infer<typeof componentSchema>;
export type BandComponent = z.infer<typeof bandComponentSchema>;
export type SignalComponent = z.infer<typeof signalComponentSchema>;
export type MilestoneComponent = z.infer<typeof milestoneComponentSchema>;

const tierSchema = z
  .object({
    min: z.number().describe('Lowest total (inclusive) of the tier.'),
    name: z.string().regex(/^[a-z][a-z0-9_]*$/),
    label: z.string().min(1),
  })
  .strict();
export type Tier = z.infer<typeof tierSchema>;

export const modelSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/),
    label: z.string().min(1),
    max: z.number().positive().describe('Stated maximum of the total; the components must add up to it.'),
    components: z.array(componentSchema).min(1),
    tiers: z.array(tierSchema).min(1).describe('Tiers in ascending order of min; the first must start at 0.'),
  })
  .strict();
export type Model = z.infer<typeof modelSchema>;

/**
 * The models every workspace scores, in computation order: expansion readiness reads the
 * engagement total, so engagement comes first.
 */
export const MODEL_IDS = ['engagement', 'activation', 'expansion', 'churn_risk'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

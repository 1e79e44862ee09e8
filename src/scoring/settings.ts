import { z } from 'zod';
import { UserInputError } from '../workspace/index.js';
import { MODEL_IDS, modelSchema, type Model } from './config.js';
import { ACTIVATION_MODEL, CHURN_RISK_MODEL, ENGAGEMENT_MODEL, EXPANSION_MODEL } from './defaults.js';

/** How often the product is meant to be used; it sets the dormancy threshold in days. */
export const CADENCE_DORMANT_DAYS = { daily: 7, weekly: 21, monthly: 60 } as const;
export type Cadence = keyof typeof CADENCE_DORMANT_DAYS;

const eventListSchema = z.array(z.string().min(1)).describe('Event names, matched exactly.');

export const settingsSchema = z
  .object({
    timeZone: z.string().describe('IANA time zone in which calendar days are counted, e.g. "Europe/Berlin".'),
    sessionGapMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .describe('Minutes of inactivity that end a session when events carry no session id.'),
    productCadence: z.enum(['daily', 'weekly', 'monthly']).describe('Expected usage rhythm of the product.'),
    events: z
      .object({
        nonFeature: eventListSchema.describe('Events that are not product features (navigation, logins, marketing pages).'),
        pricingPage: eventListSchema,
        lockedFeature: eventListSchema,
        cancelPage: eventListSchema,
        invite: eventListSchema,
        collaboration: eventListSchema,
      })
      .strict(),
    planValues: z
      .record(z.string(), z.number().int().min(1).max(5))
      .describe('RFM monetary score (1-5) per plan name, lower case. Free plans score 2 when active and 1 when inactive.'),
    freePlans: z.array(z.string()).describe('Plan names that count as free for the monetary score.'),
    usageLimits: z
      .record(z.string(), z.number().positive())
      .describe('Usage limit per plan name, lower case, used when the users file has a usage column but no usage_limit column.'),
    rfm: z
      .object({
        monetary: z
          .enum(['plan', 'seats', 'usage'])
          .describe('Source of the activity-based M score: plan value, seat count, or usage volume (events in the last 28 days).'),
        seatEdges: z
          .tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()])
          .describe('Seat counts from which M is 3, 4 and 5, ascending; fewer seats score 2 (active) or 1 (inactive).'),
      })
      .strict(),
    lifecycle: z
      .object({
        activatedMinScore: z
          .number()
          .min(0)
          .describe('Activation score from which a user counts as activated (lifecycle stages and dormant sub-segments).'),
      })
      .strict(),
    models: z
      .object({ engagement: modelSchema, activation: modelSchema, expansion: modelSchema, churn_risk: modelSchema })
      .strict(),
  })
  .strict();

export type Settings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  timeZone: 'UTC',
  sessionGapMinutes: 30,
  productCadence: 'weekly',
  events: {
    nonFeature: [
      'session_start',
      'session_end',
      'login',
      'logout',
      'activity',
      'page_view',
      'pageview',
      '$pageview',
      '$pageleave',
      '$identify',
      'screen_view',
      'app_open',
      'pricing_page_view',
      'cancel_page_view',
      'locked_feature_click',
      'docs_viewed',
    ],
    pricingPage: ['pricing_page_view', '$pricing_view', 'Upgrade', 'view_pricing'],
    lockedFeature: ['locked_feature_click', 'paywall_hit'],
    cancelPage: ['cancel_page_view', 'Cancel', 'Downgrade'],
    invite: ['invite_sent', 'user_invited', 'invite_member'],
    collaboration: ['comment_added', 'share_link_created', 'mention', 'shared_content'],
  },
  planValues: {
    enterprise: 5,
    business: 4,
    pro: 4,
    premium: 4,
    team: 4,
    growth: 4,
    starter: 3,
    basic: 3,
    standard: 3,
    plus: 3,
    paid: 3,
    free: 2,
    trial: 2,
  },
  freePlans: ['free', 'trial'],
  usageLimits: {},
  rfm: { monetary: 'plan', seatEdges: [3, 10, 50] },
  lifecycle: { activatedMinScore: 50 },
  models: {
    engagement: ENGAGEMENT_MODEL,
    activation: ACTIVATION_MODEL,
    expansion: EXPANSION_MODEL,
    churn_risk: CHURN_RISK_MODEL,
  },
};

/** Returns the four models in computation order. */
export function orderedModels(settings: Settings): Model[] {
  return MODEL_IDS.map((id) => settings.models[id]);
}

/** Lists every reason a model is inconsistent: points that do not add up, overlapping bands, bad tiers. */
export function modelProblems(model: Model, where: string): string[] {
  const problems: string[] = [];
  const sum = model.components.reduce((total, component) => total + component.max, 0);
  if (sum !== model.max) {
    problems.push(
      `${where}: the components' maximum points add up to ${sum}, but the model states a maximum of ${model.max}. ` +
        'Change the component maxima or the model maximum so that they agree.',
    );
  }
  for (const component of model.components) {
    const at = `${where}.components.${component.id}`;
    if (component.kind === 'bands') {
      for (let i = 1; i < component.bands.length; i++) {
        const previous = component.bands[i - 1];
        const band = component.bands[i];
        if (band.min < previous.min || (band.min === previous.min && !band.minExclusive)) {
          problems.push(
            `${at}.bands: the band "${band.label}" starts at ${band.min}, which overlaps the band "${previous.label}" ` +
              `starting at ${previous.min}. List bands in ascending order of distinct lower edges.`,
          );
        }
      }
      for (const band of component.bands) {
        if (band.points > component.max) {
          problems.push(`${at}: the band "${band.label}" gives ${band.points} points, above the component maximum ${component.max}.`);
        }
      }
    } else if (component.kind === 'signals') {
      for (const signal of component.signals) {
        if (signal.points > component.max) {
          problems.push(`${at}: the signal "${signal.label}" gives ${signal.points} points, above the component maximum ${component.max}.`);
        }
      }
    }
  }
  if (model.tiers[0].min !== 0) {
    problems.push(`${where}.tiers: the first tier must start at 0, not ${model.tiers[0].min}.`);
  }
  for (let i = 1; i < model.tiers.length; i++) {
    if (model.tiers[i].min <= model.tiers[i - 1].min) {
      problems.push(
        `${where}.tiers: the tier "${model.tiers[i].name}" starts at ${model.tiers[i].min}, not above ` +
          `"${model.tiers[i - 1].name}" at ${model.tiers[i - 1].min}. List tiers in ascending order.`,
      );
    }
  }
  const ids = new Set<string>();
  for (const component of model.components) {
    if (ids.has(component.id)) problems.push(`${where}: the component id "${component.id}" appears twice.`);
    ids.add(component.id);
  }
  return problems;
}

/**
 * Validates a full or partial settings object (partial objects are merged over the
 * defaults one level deep) and returns the complete settings. Throws a UserInputError
 * that lists every problem with its setting path.
 */
export function parseSettings(input: unknown, base: Settings = DEFAULT_SETTINGS): Settings {
  const merged = mergeSettings(base, input);
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `- ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new UserInputError(`Invalid settings:\n${lines.join('\n')}`);
  }
  const settings = parsed.data;
  const problems = MODEL_IDS.flatMap((id) => modelProblems(settings.models[id], `models.${id}`));
  for (const id of MODEL_IDS) {
    if (settings.models[id].id !== id) {
      problems.push(`models.${id}.id: the model stored under "${id}" must have the id "${id}", not "${settings.models[id].id}".`);
    }
  }
  const [three, four, five] = settings.rfm.seatEdges;
  if (!(three < four && four < five)) {
    problems.push(`rfm.seatEdges: the edges ${settings.rfm.seatEdges.join(', ')} must be strictly ascending, e.g. [3, 10, 50].`);
  }
  for (const component of settings.models.activation.components) {
    if (component.kind !== 'milestone') {
      problems.push(
        `models.activation.components.${component.id}: activation components must be milestones (kind "milestone"), not "${component.kind}".`,
      );
    }
  }
  if (!isValidTimeZone(settings.timeZone)) {
    problems.push(`timeZone: "${settings.timeZone}" is not an IANA time zone. Use a name such as "UTC" or "America/New_York".`);
  }
  if (problems.length > 0) throw new UserInputError(`Invalid settings:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  return settings;
}

const milestoneShorthandSchema = z.array(
  z
    .object({
      event: z.string().min(1).describe('Event name that completes the milestone.'),
      points: z.number().positive().describe('Points the milestone earns.'),
      label: z.string().min(1).optional().describe('Readable name; default: the event name.'),
    })
    .strict(),
);

/**
 * Turns the `milestones` shorthand ([{ event, points, label? }]) into the activation
 * model's milestone components, so that a product can list its milestones without
 * writing a whole model. The points must add up to the activation model's maximum.
 */
function expandMilestones(patch: Record<string, unknown>, base: Settings): Record<string, unknown> {
  if (!('milestones' in patch)) return patch;
  const { milestones, ...rest } = patch;
  const parsed = milestoneShorthandSchema.safeParse(milestones);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `- milestones.${issue.path.join('.')}: ${issue.message}`);
    throw new UserInputError(`Invalid settings:\n${lines.join('\n')}`);
  }
  if (parsed.data.length === 0) {
    throw new UserInputError('Invalid settings:\n- milestones: list at least one milestone event with its points.');
  }
  const components = parsed.data.map((entry) => ({
    kind: 'milestone' as const,
    id: entry.event.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '') || 'milestone',
    label: entry.label ?? entry.event,
    max: entry.points,
    window: 'all history',
    requires: ['events' as const, 'activation_milestones' as const],
    events: [entry.event],
  }));
  const sum = components.reduce((total, component) => total + component.max, 0);
  const models = (rest.models as Record<string, unknown> | undefined) ?? {};
  const activation = (models.activation as Model | undefined) ?? base.models.activation;
  if (sum !== activation.max) {
    throw new UserInputError(
      `Invalid settings:\n- milestones: the points add up to ${sum}, but the activation score's maximum is ${activation.max}. ` +
        `Change the points so that they add up to ${activation.max}.`,
    );
  }
  return { ...rest, models: { ...models, activation: { ...activation, components } } };
}

function mergeSettings(base: Settings, input: unknown): unknown {
  if (input === undefined || input === null) return base;
  if (typeof input !== 'object' || Array.isArray(input)) return input;
  const patch = expandMilestones(input as Record<string, unknown>, base);
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = (base as Record<string, unknown>)[key];
    const bothObjects =
      current && typeof current === 'object' && !Array.isArray(current) && value && typeof value === 'object' && !Array.isArray(value);
    result[key] = bothObjects ? { ...(current as object), ...(value as object) } : value;
  }
  return result;
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { Input } from '../scoring/config.js';
import type { Settings } from '../scoring/settings.js';
import type { Workspace } from '../workspace/index.js';
import { localTimestampSql } from './facts.js';
import { milestoneEvents, optionalUserNumber } from './user-metrics.js';

export interface InputStatus {
  readonly available: boolean;
  /** Reason the input is missing and the file that would provide it, or empty when it is available. */
  readonly detail: string;
}

export type InputAvailability = Record<Input, InputStatus>;

const ok: InputStatus = { available: true, detail: '' };

/** Returns the column names of a table, or an empty list when the table does not exist. */
export async function tableColumns(ws: Workspace, table: string): Promise<string[]> {
  const rows = await ws.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
    [table],
  );
  return rows.map((row) => row.column_name);
}

/**
 * Decides, for the data now loaded, which inputs of the scoring models exist. It reads
 * only the canonical tables, so it works before compute_scores has built any derived
 * table. With `boundaryDate`, events on or after that local date are ignored.
 */
export async function detectInputs(ws: Workspace, settings: Settings, boundaryDate?: string): Promise<InputAvailability> {
  const hasRows = async (table: string) => (await ws.rowCount(table)) > 0;
  const events = await hasRows('events');
  const users = await hasRows('users');
  const billing = await hasRows('billing');
  const support = await hasRows('support');
  const nps = await hasRows('nps');

  const eventStats = events ? await countEventInputs(ws, settings, boundaryDate) : undefined;
  const featureEventCount = eventStats?.features ?? 0;

  let plan = false;
  let seats = false;
  let usageLimits = false;
  if (users) {
    const columns = await tableColumns(ws, 'users');
    const limitPlans = Object.keys(settings.usageLimits).map((name) => name.toLowerCase());
    const row = await ws.queryOne<{ plans: number; seats: number; limits: number }>(
      `SELECT count(plan) AS plans, count(seats) AS seats,
         count(*) FILTER (WHERE ${optionalUserNumber('usage', columns)} IS NOT NULL
           AND (${optionalUserNumber('usage_limit', columns)} IS NOT NULL OR list_contains($limit_plans, lower(plan)))) AS limits
       FROM users`,
      { limit_plans: listValue(limitPlans) },
      { limit_plans: LIST(VARCHAR) },
    );
    plan = (row?.plans ?? 0) > 0;
    seats = (row?.seats ?? 0) > 0;
    usageLimits = (row?.limits ?? 0) > 0;
  }

  const missing = (detail: string): InputStatus => ({ available: false, detail });
  return {
    events: events ? ok : missing('No events are loaded. Load an events file with load_data (table "events").'),
    time_of_day: eventStats?.timeOfDay
      ? ok
      : missing('Event timestamps carry dates only, so session length cannot be measured. Load events with full timestamps.'),
    feature_variety:
      featureEventCount >= 2
        ? ok
        : missing(
            `The events contain ${featureEventCount} distinct feature event name(s), so feature breadth cannot be measured. ` +
              'Load events that name the feature used, or adjust settings.events.nonFeature.',
          ),
    users: users ? ok : missing('No users file is loaded. Load one (table "users") for signup dates, plans and roles.'),
    plan: plan ? ok : missing('No plan is known for any user. Load a users file with a plan column, or a billing file.'),
    billing: billing
      ? ok
      : missing('No billing file is loaded, so payments, failed payments, cancellations and downgrades are unknown. Load one (table "billing").'),
    support: support
      ? ok
      : missing('No support file is loaded, so tickets and their sentiment are unknown. Load one (table "support").'),
    nps: nps ? ok : missing('No NPS answers are loaded. Load a survey file (table "nps").'),
    usage_limits: usageLimits
      ? ok
      : missing(
          'No user has both a usage value and a usage limit. Add usage and usage_limit columns to the users file, ' +
            'or a usage column plus settings.usageLimits per plan.',
        ),
    activation_milestones:
      (eventStats?.milestones ?? 0) > 0
        ? ok
        : missing(
            `None of the activation milestone events (${milestoneEvents(settings).join(', ')}) occurs in the events. ` +
              'Set the milestones with configure_scoring, or load events that include them.',
          ),
    team_events:
      (eventStats?.team ?? 0) > 0
        ? ok
        : missing(
            'No invite or collaboration event occurs in the events. Load events that include them, or list their names in ' +
              'settings.events.invite and settings.events.collaboration.',
          ),
    intent_events:
      (eventStats?.intent ?? 0) > 0
        ? ok
        : missing(
            'No pricing-page or locked-feature event occurs in the events. Load events that include them, or list their ' +
              'names in settings.events.pricingPage and settings.events.lockedFeature.',
          ),
    seats: seats ? ok : missing('No seat count is known for any user. Load a users file with a seats column.'),
  };
}

interface EventInputCounts {
  readonly features: number;
  readonly milestones: number;
  readonly team: number;
  readonly intent: number;
  readonly timeOfDay: boolean;
}

async function countEventInputs(ws: Workspace, settings: Settings, boundaryDate: string | undefined): Promise<EventInputCounts> {
  const localTs = localTimestampSql(settings.timeZone, 'ts');
  const localDate = `CAST(${localTs} AS DATE)`;
  const where = boundaryDate ? `WHERE ${localDate} < CAST($boundary AS DATE)` : '';
  const names = (values: readonly string[]) => listValue([...values]);
  const row = await ws.queryOne<{ features: number; milestones: number; team: number; intent: number; time_of_day: boolean | null }>(
    `SELECT
       count(DISTINCT event) FILTER (WHERE NOT list_contains($non_feature, event)) AS features,
       count(*) FILTER (WHERE list_contains($milestones, event)) AS milestones,
       count(*) FILTER (WHERE list_contains($team, event)) AS team,
       count(*) FILTER (WHERE list_contains($intent, event)) AS intent,
       bool_or(CAST(${localTs} AS TIME) <> TIME '00:00:00') AS time_of_day
     FROM events ${where}`,
    {
      ...(boundaryDate ? { boundary: boundaryDate } : {}),
      non_feature: names(settings.events.nonFeature),
      milestones: names(milestoneEvents(settings)),
      team: names([...settings.events.invite, ...settings.events.collaboration]),
      intent: names([...settings.events.pricingPage, ...settings.events.lockedFeature]),
    },
    { non_feature: LIST(VARCHAR), milestones: LIST(VARCHAR), team: LIST(VARCHAR), intent: LIST(VARCHAR) },
  );
  // The load report records whether the source carried times (checked in the zone of the
  // load); data loaded before that report existed falls back to the check above.
  const load = await ws.getMeta<{ hasTimeOfDay?: boolean }>('load:events');
  return {
    features: Number(row?.features ?? 0),
    milestones: Number(row?.milestones ?? 0),
    team: Number(row?.team ?? 0),
    intent: Number(row?.intent ?? 0),
    timeOfDay: typeof load?.hasTimeOfDay === 'boolean' ? load.hasTimeOfDay : row?.time_of_day === true,
  };
}

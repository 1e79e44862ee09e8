import type { Input } from '../scoring/config.js';
import type { Workspace } from '../workspace/index.js';

export interface InputStatus {
  readonly available: boolean;
  /** Why the input is missing and which file would provide it; empty when available. */
  readonly detail: string;
}

export type InputAvailability = Record<Input, InputStatus>;

const ok: InputStatus = { available: true, detail: '' };

/** Decides, for the data now loaded, which inputs of the scoring models exist. */
export async function detectInputs(
  ws: Workspace,
  featureEventCount: number,
  milestoneEventsFound: number,
): Promise<InputAvailability> {
  const hasRows = async (table: string) => (await ws.rowCount(table)) > 0;
  const events = await hasRows('events');
  const users = await hasRows('users');
  const billing = await hasRows('billing');
  const support = await hasRows('support');
  const nps = await hasRows('nps');

  let timeOfDay = false;
  if (events) {
    const row = await ws.queryOne<{ any_time: boolean }>(
      'SELECT bool_or(local_ts <> date_trunc(\'day\', local_ts)) AS any_time FROM event_facts',
    );
    timeOfDay = row?.any_time === true;
  }
  let plan = false;
  if (users) {
    const row = await ws.queryOne<{ n: number }>('SELECT count(plan) AS n FROM users');
    plan = (row?.n ?? 0) > 0;
  }
  let usageLimits = false;
  if (users) {
    const row = await ws.queryOne<{ n: number }>(
      "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'usage_limit'",
    );
    usageLimits = (row?.n ?? 0) > 0;
  }

  const missing = (detail: string): InputStatus => ({ available: false, detail });
  return {
    events: events ? ok : missing('No events are loaded. Load an events file with load_data (table "events").'),
    time_of_day: timeOfDay
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
      : missing('No billing file is loaded, so failed payments and downgrades are unknown. Load one (table "billing").'),
    support: support
      ? ok
      : missing('No support file is loaded, so tickets and their sentiment are unknown. Load one (table "support").'),
    nps: nps ? ok : missing('No NPS answers are loaded. Load a survey file (table "nps").'),
    usage_limits: usageLimits
      ? ok
      : missing('No usage limit is known per user. Add a usage_limit column to the users file.'),
    activation_milestones:
      milestoneEventsFound > 0
        ? ok
        : missing('None of the activation milestone events occurs in the data. Set the milestones in the settings.'),
  };
}

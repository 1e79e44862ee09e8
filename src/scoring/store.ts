import { UserInputError, type Workspace } from '../workspace/index.js';
import { milestoneEvents } from '../metrics/user-metrics.js';
import { didYouMean, suggestionList } from '../rules/suggest.js';
import { DEFAULT_SETTINGS, parseSettings, type Settings } from './settings.js';

const SETTINGS_KEY = 'settings';

/** Returns the workspace's settings, or the defaults when none were saved. */
export async function loadSettings(ws: Workspace): Promise<Settings> {
  const stored = await ws.getMeta<unknown>(SETTINGS_KEY);
  return stored === undefined ? DEFAULT_SETTINGS : parseSettings(stored);
}

/**
 * Validates a partial settings object merged over the workspace's current settings and
 * saves the result. Invalid input throws before anything is written. Event names are
 * not checked here, because the CLI saves its settings before it loads the events: use
 * {@link configureSettings} to check them.
 */
export async function updateSettings(ws: Workspace, patch: unknown): Promise<Settings> {
  const current = await loadSettings(ws);
  const next = parseSettings(patch, current);
  await ws.setMeta(SETTINGS_KEY, next);
  return next;
}

export interface ConfigureResult {
  readonly settings: Settings;
  /** False when no changes were given: the settings were only shown. */
  readonly saved: boolean;
  readonly warnings: string[];
}

/** Event names a settings object refers to, keyed by the setting path that holds them. */
export function eventReferences(settings: Settings): Map<string, string[]> {
  const references = new Map<string, string[]>();
  for (const [list, names] of Object.entries(settings.events)) references.set(`events.${list}`, names);
  for (const component of settings.models.activation.components) {
    if (component.kind === 'milestone') references.set(`models.activation.components.${component.id}.events`, component.events);
  }
  return references;
}

/**
 * Validates changes against the current settings and, when events are loaded, against
 * the event names present. A name the changes introduce that no event carries is an
 * error, because it is most likely a typo; names kept from before (such as the default
 * aliases, most of which a given product never sends) only produce a warning when a
 * milestone can never be earned. Saves nothing unless everything is valid.
 */
export async function configureSettings(ws: Workspace, changes: unknown): Promise<ConfigureResult> {
  const current = await loadSettings(ws);
  if (changes === undefined || changes === null || (typeof changes === 'object' && Object.keys(changes).length === 0)) {
    return { settings: current, saved: false, warnings: [] };
  }
  const next = parseSettings(changes, current);
  const warnings: string[] = [];

  if ((await ws.rowCount('events')) === 0) {
    warnings.push('No events are loaded, so event names in the settings were not checked against the data.');
  } else {
    const present = new Set(
      (await ws.query<{ event: string }>('SELECT DISTINCT event FROM events')).map((row) => row.event),
    );
    const before = eventReferences(current);
    const problems: string[] = [];
    for (const [where, names] of eventReferences(next)) {
      const previous = new Set(before.get(where) ?? []);
      for (const name of names) {
        if (present.has(name) || previous.has(name)) continue;
        const hint = didYouMean(suggestionList(name, present));
        problems.push(
          `${where}: the event "${name}" does not occur in the loaded events.` +
            (hint || ' Event names are matched exactly: check the spelling against the events file.'),
        );
      }
    }
    if (problems.length > 0) throw new UserInputError(`Invalid settings:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    const unearned = milestoneEvents(next).filter((name) => !present.has(name));
    if (unearned.length > 0) {
      warnings.push(`No loaded event completes these milestone events, so nobody earns their points: ${unearned.join(', ')}.`);
    }
  }
  await ws.setMeta(SETTINGS_KEY, next);
  return { settings: next, saved: true, warnings };
}

import type { Workspace } from '../workspace/index.js';
import { DEFAULT_SETTINGS, parseSettings, type Settings } from './settings.js';

const SETTINGS_KEY = 'settings';

/** Returns the workspace's settings, or the defaults when none were saved. */
export async function loadSettings(ws: Workspace): Promise<Settings> {
  const stored = await ws.getMeta<unknown>(SETTINGS_KEY);
  return stored === undefined ? DEFAULT_SETTINGS : parseSettings(stored);
}

/**
 * Validates a partial settings object merged over the workspace's current settings and
 * saves the result. Invalid input throws before anything is written.
 */
export async function updateSettings(ws: Workspace, patch: unknown): Promise<Settings> {
  const current = await loadSettings(ws);
  const next = parseSettings(patch, current);
  await ws.setMeta(SETTINGS_KEY, next);
  return next;
}

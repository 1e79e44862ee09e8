import { afterAll, beforeAll, expect, test } from 'vitest';
import { computeScores, updateSettings } from '../src/scoring/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { insertEvents, openTestWorkspace } from './helpers/workspace.js';

/*
 * America/New_York switched from EST (UTC-5) to EDT (UTC-4) at 02:00 on Sunday
 * 2024-03-10. Timestamps are stored in UTC; days must be counted in the local zone.
 *
 * sat:  Saturday 2024-03-09 23:30 EST = 2024-03-10 04:30 UTC (a Sunday in UTC).
 * sun:  Sunday   2024-03-10 23:30 EDT = 2024-03-11 03:30 UTC (a Monday in UTC).
 * both: the two events above, one on each local day.
 * mon:  Monday   2024-03-11 00:30 EDT = 2024-03-11 04:30 UTC: after the as-of boundary
 *       of 2024-03-10 (local midnight = 04:00 UTC), so it is excluded.
 */
let ws: Workspace;
const metrics = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  ws = await openTestWorkspace();
  await updateSettings(ws, { timeZone: 'America/New_York' });
  await insertEvents(ws, [
    { user: 'sat', event: 'feature_a', ts: '2024-03-10 04:30:00' },
    { user: 'sun', event: 'feature_a', ts: '2024-03-11 03:30:00' },
    { user: 'both', event: 'feature_a', ts: '2024-03-10 04:30:00' },
    { user: 'both', event: 'feature_b', ts: '2024-03-11 03:30:00' },
    { user: 'mon', event: 'feature_a', ts: '2024-03-09 15:00:00' },
    { user: 'mon', event: 'feature_b', ts: '2024-03-11 04:30:00' },
  ]);
  await computeScores(ws, { asOf: '2024-03-10' });
  const rows = await ws.query(
    'SELECT user_id, last_active_date::VARCHAR AS last_day, days_since_last_active, total_active_days, sessions_7d, typical_gap_days FROM user_metrics',
  );
  for (const row of rows) metrics.set(String(row.user_id), row);
});

afterAll(() => ws.close());

test('saturday event stays on saturday', () => {
  expect(metrics.get('sat')).toMatchObject({ last_day: '2024-03-09', days_since_last_active: 1 });
});

test('sunday event stays on sunday', () => {
  expect(metrics.get('sun')).toMatchObject({ last_day: '2024-03-10', days_since_last_active: 0 });
});

test('weekend across the clock change is two days', () => {
  expect(metrics.get('both')).toMatchObject({ total_active_days: 2, sessions_7d: 2, typical_gap_days: 1 });
});

test('as-of boundary is local midnight', () => {
  // Only the Saturday 10:00 EST event counts: the Monday 00:30 EDT one is after the boundary.
  expect(metrics.get('mon')).toMatchObject({ last_day: '2024-03-09', total_active_days: 1, sessions_7d: 1 });
});

test('boundary date follows the as-of day', async () => {
  const run = await ws.getMeta<{ asOf: string; boundaryDate: string; timeZone: string }>('scoring');
  expect(run).toMatchObject({ asOf: '2024-03-10', boundaryDate: '2024-03-11', timeZone: 'America/New_York' });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { computeScores } from '../src/scoring/compute.js';
import { backfillHistory, segmentHistory, snapshotPeriods, type Period, type WeekDay } from '../src/segments/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { openHistoryWorkspace } from './helpers/segment-history-data.js';

let ws: Workspace;

beforeAll(async () => {
  ws = await openHistoryWorkspace();
});

afterAll(() => ws.close());

/** Segment of every user in the snapshot of one as-of date. */
async function snapshotMembers(asOf: string): Promise<Map<string, string>> {
  const rows = await ws.query<{ user_id: string; segment: string }>(
    'SELECT user_id, segment FROM segment_snapshots WHERE as_of = CAST($1 AS DATE)',
    [asOf],
  );
  return new Map(rows.map((row) => [row.user_id, row.segment]));
}

async function scoredMembers(): Promise<Map<string, string>> {
  const rows = await ws.query<{ user_id: string; behavioral_segment: string }>('SELECT user_id, behavioral_segment FROM user_scores');
  return new Map(rows.map((row) => [row.user_id, row.behavioral_segment]));
}

// Monday weeks are compared at every period; Sunday weeks at every third, to keep the run short.
describe.each([
  ['week', 'monday', 1],
  ['week', 'sunday', 3],
  ['month', 'monday', 1],
] as [Period, WeekDay, number][])('backfill by %s (weeks start %s)', (period, weekStart, step) => {
  test('matches scoring as of each date', async () => {
    const result = await backfillHistory(ws, { period, weekStart });
    const periods = await snapshotPeriods(ws, period);
    expect(result.periods).toBe(periods.length);
    expect(periods.length).toBeGreaterThan(period === 'week' ? 19 : 4);

    const history = await segmentHistory(ws, { period, weekStart });
    expect(history.backfilledNow).toBe(false);
    const segmentsSeen = new Set<string>();
    for (const [index, snapshot] of periods.entries()) {
      if (index % step !== step - 1 && index !== periods.length - 1) continue;
      const snapshotted = await snapshotMembers(snapshot.asOf);
      await computeScores(ws, { asOf: snapshot.asOf });
      const scored = await scoredMembers();
      // Per user, so that a failure names the users whose segment differs.
      const differences = [...scored].filter(([user, segment]) => snapshotted.get(user) !== segment);
      expect(differences.map(([user, segment]) => `${snapshot.asOf} ${user}: scored ${segment}, snapshot ${snapshotted.get(user)}`)).toEqual([]);
      expect(snapshotted.size).toBe(scored.size);

      for (const series of history.series) {
        const expected = [...scored.values()].filter((segment) => segment === series.segment).length;
        expect(series.sizes[index], `${series.segment} at ${snapshot.periodKey}`).toBe(expected);
      }
      for (const segment of scored.values()) segmentsSeen.add(segment);
    }
    // The data exercises most segments, so the comparison above is not vacuous.
    expect(segmentsSeen.size).toBeGreaterThanOrEqual(5);
  }, 120_000);
});

describe('history', () => {
  test('carries small segment warnings', async () => {
    const history = await segmentHistory(ws, { period: 'week' });
    expect(history.warnings.length).toBeGreaterThan(0);
    expect(history.series.every((series) => series.warning?.includes('fewer than 100'))).toBe(true);
  });

  test('rejects an unknown segment', async () => {
    await expect(segmentHistory(ws, { segments: ['powerr'] })).rejects.toThrow(/Unknown behavioural segment "powerr"/);
  });

  test('rejects an unknown period key', async () => {
    await expect(segmentHistory(ws, { from: '1999-W01' })).rejects.toThrow(/Unknown from period "1999-W01"/);
  });
});

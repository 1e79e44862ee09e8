import { afterEach, describe, expect, test } from 'vitest';
import { CHURNED_STATE, NEW_STATE, backfillHistory, segmentTransitions, snapshotPeriods } from '../src/segments/index.js';
import { Workspace } from '../src/workspace/index.js';

let ws: Workspace | undefined;

afterEach(() => {
  ws?.close();
  ws = undefined;
});

/** Opens a workspace with one `edit` event at 10:00 UTC on each listed day of each user. */
async function workspaceWith(days: Record<string, readonly string[]>): Promise<Workspace> {
  const opened = await Workspace.open({ path: ':memory:' });
  await opened.run(`CREATE TABLE events (user_id VARCHAR NOT NULL, event VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
    session_id VARCHAR, account_id VARCHAR, properties JSON)`);
  for (const [user, list] of Object.entries(days)) {
    for (const day of list) {
      await opened.run(`INSERT INTO events (user_id, event, ts) VALUES ($1, 'edit', CAST($2 AS TIMESTAMP))`, [user, `${day} 10:00:00`]);
    }
  }
  return opened;
}

/** Lists every day from `first` to `last`, inclusive. */
function range(first: string, last: string): string[] {
  const days: string[] = [];
  for (let d = new Date(`${first}T00:00:00Z`); d <= new Date(`${last}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

type Matrix = Record<string, Record<string, number>>;

function matrixOf(cells: readonly { from: string; to: string; users: number }[]): Matrix {
  const matrix: Matrix = {};
  for (const cell of cells) (matrix[cell.from] ??= {})[cell.to] = cell.users;
  return matrix;
}

/*
 * Three ISO weeks of 2024: W01 = Jan 1-7, W02 = Jan 8-14, W03 = Jan 15-21. One event per
 * active day, so one session per day. No users file: signup is the first active day. With
 * a single feature event, feature breadth is skipped, as scoring does.
 *
 *   user  active days                 W01 (as of Jan 7)     W02 (as of Jan 14)              W03 (as of Jan 21)
 *   a     Jan 1-21                    new (6 days old)      casual (13 days old, <14)       regular (7 sessions, 20 days old)
 *   b     Jan 1-10                    new                   at_risk (3 vs 7 sessions: -57%) at_risk (11 days idle)
 *   c     Jan 10-21                   absent                new (4 days old)                casual (11 days old)
 *   d     Jan 2                       new (5 days idle)     at_risk (12 days idle)          at_risk (19 days idle)
 *   f     Jan 20                      absent                absent                          new (1 day old)
 *   g     Dec 10-12, 2023             at_risk (26 idle)     dormant (33 idle, 3 sessions)   dormant (40 idle)
 */
const HAND_COUNTED = {
  a: range('2024-01-01', '2024-01-21'),
  b: range('2024-01-01', '2024-01-10'),
  c: range('2024-01-10', '2024-01-21'),
  d: ['2024-01-02'],
  f: ['2024-01-20'],
  g: range('2023-12-10', '2023-12-12'),
};

describe('segment transitions', () => {
  test('default pair is the last two weeks', async () => {
    ws = await workspaceWith(HAND_COUNTED);
    const result = await segmentTransitions(ws);
    expect(result.backfilledNow).toBe(true);
    expect(result.from.periodKey).toBe('2024-W02');
    expect(result.to.periodKey).toBe('2024-W03');
    // W02 -> W03: a casual -> regular, b and d at_risk -> at_risk, c new -> casual,
    // g dormant -> churned, f absent -> new.
    expect(matrixOf(result.cells)).toEqual({
      casual: { regular: 1 },
      at_risk: { at_risk: 2 },
      new: { casual: 1 },
      dormant: { [CHURNED_STATE]: 1 },
      [NEW_STATE]: { new: 1 },
    });
    expect(result.rowTotals).toMatchObject({ casual: 1, at_risk: 2, new: 1, dormant: 1, [NEW_STATE]: 1, power: 0, regular: 0 });
    expect(result.cells.every((cell) => cell.rowShare === 1)).toBe(true);
    expect(result.newUsers).toBe(1);
    expect(result.churnedUsers).toBe(0);
    expect(result.stayed).toBe(3);
    expect(result.neverActive).toBe(0);
  });

  test('first to third week with shares', async () => {
    ws = await workspaceWith(HAND_COUNTED);
    const result = await segmentTransitions(ws, { from: '2024-W01', to: '2024-W03' });
    // W01 -> W03: a new -> regular, b and d new -> at_risk, g at_risk -> churned,
    // c and f absent -> casual and new.
    expect(matrixOf(result.cells)).toEqual({
      at_risk: { [CHURNED_STATE]: 1 },
      new: { regular: 1, at_risk: 2 },
      [NEW_STATE]: { casual: 1, new: 1 },
    });
    const share = (from: string, to: string) => result.cells.find((cell) => cell.from === from && cell.to === to)?.rowShare;
    expect(share('new', 'regular')).toBeCloseTo(1 / 3, 10);
    expect(share('new', 'at_risk')).toBeCloseTo(2 / 3, 10);
    expect(share(NEW_STATE, 'casual')).toBe(0.5);
    expect(result.newUsers).toBe(2);
    expect(result.churnedUsers).toBe(1);
    expect(result.stayed).toBe(0);
  });

  test('users never active are left out', async () => {
    ws = await workspaceWith(HAND_COUNTED);
    await ws.run(`CREATE TABLE users (user_id VARCHAR NOT NULL, signup_at TIMESTAMP, plan VARCHAR, role VARCHAR,
      account_id VARCHAR, company VARCHAR, company_size INTEGER, industry VARCHAR, country VARCHAR, seats INTEGER, properties JSON)`);
    await ws.run(`INSERT INTO users (user_id, signup_at) VALUES ('ghost', TIMESTAMP '2024-01-03 09:00:00')`);
    const result = await segmentTransitions(ws);
    expect(result.neverActive).toBe(1);
    expect(result.cells.reduce((total, cell) => total + cell.users, 0)).toBe(6);
  });

  test.each([
    [{ from: '2024-W03', to: '2024-W02' }, /must come before/],
    [{ from: '2024-W09' }, /Unknown from period "2024-W09"/],
    [{ to: '2023-13' }, /Unknown to period "2023-13"/],
  ])('rejects %o', async (request, message) => {
    ws = await workspaceWith(HAND_COUNTED);
    await expect(segmentTransitions(ws, request)).rejects.toThrow(message);
  });

  test('rejects history with one period', async () => {
    ws = await workspaceWith({ a: ['2024-01-02', '2024-01-03'] });
    await expect(segmentTransitions(ws)).rejects.toThrow(/covers 1 week; transitions need two/);
  });
});

describe('period keys', () => {
  const yearEnd = { a: range('2020-12-28', '2021-01-10') };

  test('ISO weeks across a year boundary', async () => {
    ws = await workspaceWith(yearEnd);
    await backfillHistory(ws, { period: 'week' });
    const periods = await snapshotPeriods(ws, 'week');
    expect(periods).toEqual([
      { periodKey: '2020-W53', periodStart: '2020-12-28', asOf: '2021-01-03', partial: false },
      { periodKey: '2021-W01', periodStart: '2021-01-04', asOf: '2021-01-10', partial: false },
    ]);
  });

  test('weeks starting on Sunday', async () => {
    ws = await workspaceWith(yearEnd);
    const result = await backfillHistory(ws, { period: 'week', weekStart: 'sunday' });
    expect(result.weekStart).toBe('sunday');
    // Each key is the ISO week of the bucket's Wednesday, so Sunday Dec 27 - Saturday Jan 2 is 2020-W53.
    expect(await snapshotPeriods(ws, 'week')).toEqual([
      { periodKey: '2020-W53', periodStart: '2020-12-27', asOf: '2021-01-02', partial: false },
      { periodKey: '2021-W01', periodStart: '2021-01-03', asOf: '2021-01-09', partial: false },
      { periodKey: '2021-W02', periodStart: '2021-01-10', asOf: '2021-01-10', partial: true },
    ]);
  });

  test('months end on the last data day', async () => {
    ws = await workspaceWith(yearEnd);
    await backfillHistory(ws, { period: 'month' });
    expect(await snapshotPeriods(ws, 'month')).toEqual([
      { periodKey: '2020-12', periodStart: '2020-12-01', asOf: '2020-12-31', partial: false },
      { periodKey: '2021-01', periodStart: '2021-01-01', asOf: '2021-01-10', partial: true },
    ]);
  });

  test('a new week start replaces the old snapshots', async () => {
    ws = await workspaceWith(yearEnd);
    await backfillHistory(ws, { period: 'week', weekStart: 'sunday' });
    await backfillHistory(ws, { period: 'week', weekStart: 'monday' });
    const rows = await ws.query<{ as_of: string }>('SELECT DISTINCT as_of::VARCHAR AS as_of FROM segment_snapshots ORDER BY 1');
    expect(rows.map((row) => row.as_of)).toEqual(['2021-01-03', '2021-01-10']);
  });

  test('backfill without events is rejected', async () => {
    ws = await workspaceWith({});
    await expect(backfillHistory(ws)).rejects.toThrow(/No events are loaded/);
  });

  test('cancelled backfill leaves snapshots unchanged', async () => {
    ws = await workspaceWith(yearEnd);
    await backfillHistory(ws, { period: 'week' });
    const controller = new AbortController();
    const reporter = {
      signal: controller.signal,
      report: ({ progress }: { progress: number }) => {
        if (progress === 2) controller.abort();
      },
    };
    await expect(backfillHistory(ws, { period: 'week', weekStart: 'sunday' }, reporter)).rejects.toThrow(/cancel/i);
    expect(await snapshotPeriods(ws, 'week')).toHaveLength(2);
    const rows = await ws.query<{ n: number }>('SELECT count(*) AS n FROM segment_snapshots');
    expect(rows[0].n).toBe(2);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseRules } from '../src/rules/index.js';
import { compileSegment as compileForDate, compileSegmentSnapshots, compileSnapshotBatch } from '../src/rules/compiler.js';
import { computeScores } from '../src/scoring/compute.js';
import { allSegments, backfillHistory, parseOneSegment, saveSegment, snapshotPeriods, type BackfillResult, type Period, type SnapshotPeriod } from '../src/segments/index.js';
import { compileForRun } from '../src/segments/evaluate.js';
import { NONE_STATE, NEW_STATE, segmentHistory, segmentTransitions } from '../src/segments/history.js';
import { RULE_SNAPSHOTS_TABLE } from '../src/segments/snapshots.js';
import { Workspace } from '../src/workspace/index.js';
import { openHistoryWorkspace } from './helpers/segment-history-data.js';

/**
 * Saved segments that cover every kind of per-date input: users columns, event counts in
 * fixed and calendar windows, functions that read the whole history, and the per-date metrics.
 */
const SAVED_RULES = {
  'Pro Feature Fans': 'user.plan = "pro" AND events.count("feature_a", last_14_days) >= 2',
  Regulars: 'events.regularly(3, 4, weeks)',
  Returning: 'events.started_again(last_14_days) OR events.first_time("feature_c", last_7_days)',
  'Month Movers': 'events.active_days(this_month) >= 5 AND events.used_at_least(2, ["feature_a", "feature_b", "feature_d"], this_week)',
  Slipping: 'events.stopped(last_7_days) OR usage.usage_decline >= 50% OR usage.week_over_week_drop > 0.3',
  Veterans: `usage.total_active_days >= 20 AND user.days_since_last_active <= 3 AND usage.feature_breadth_30d >= 0.5
    AND user.signup_date < "2024-01-20" AND user.first_active_date <= user.last_active_date AND usage.total_sessions > 10`,
  'Recent Weeks': 'events.avg_weekly_sessions(previous_2_weeks) >= 3 AND events.days_since_last_activity < 14',
  'Engaged By Score': 'scores.engagement >= 60 AND events.session_count(last_7_days) >= 1',
  Inviters: 'usage.invites_total >= 1',
} as const;

/** Rule segments that must get history: built-ins of several kinds and every saved one without scores or invites. */
const WITH_HISTORY = [
  'Power Users',
  'At Risk',
  'Behavioral: At Risk',
  'Lifecycle: Churned',
  'Plan: Pro',
  'Dormant: Churned After Paying',
  'Pro Feature Fans',
  'Regulars',
  'Returning',
  'Month Movers',
  'Slipping',
  'Veterans',
  'Recent Weeks',
];

let ws: Workspace;
const backfills = new Map<Period, BackfillResult>();

beforeAll(async () => {
  ws = await openHistoryWorkspace();
  const eventNames = ['login', ...'abcdefgh'.split('').map((letter) => `feature_${letter}`)];
  for (const [name, condition] of Object.entries(SAVED_RULES)) {
    const ast = parseOneSegment(`segment "${name}" {\n  conditions {\n    ${condition}\n  }\n}\n`, name, { eventNames });
    await saveSegment(ws, ast, false);
  }
  for (const period of ['week', 'month'] as const) backfills.set(period, await backfillHistory(ws, { period }));
}, 60_000);

afterAll(() => ws.close());

/**
 * Members of each rule segment at one snapshot period, from the backfill. The period key
 * matters because the last week and the last month share their as-of date.
 */
async function snapshotMembers(snapshot: SnapshotPeriod): Promise<Map<string, string[]>> {
  const rows = await ws.query<{ segment: string; user_id: string }>(
    `SELECT segment, user_id FROM ${RULE_SNAPSHOTS_TABLE} WHERE period_key = $1 AND as_of = CAST($2 AS DATE) ORDER BY segment, user_id`,
    [snapshot.periodKey, snapshot.asOf],
  );
  const members = new Map<string, string[]>();
  for (const row of rows) members.set(row.segment, [...(members.get(row.segment) ?? []), row.user_id]);
  return members;
}

describe.each(['week', 'month'] as const)('rule segment backfill by %s', (period) => {
  test('stores the segments with per-date inputs', () => {
    const result = backfills.get(period);
    expect(result?.ruleSegments).toEqual(expect.arrayContaining(WITH_HISTORY));
    expect(result?.ruleRows).toBeGreaterThan(0);
  });

  test('skips segments that read scores', () => {
    const skipped = new Map(backfills.get(period)?.skippedSegments.map((entry) => [entry.segment, entry.reason]));
    expect(skipped.get('Engaged By Score')).toBe(
      'Segment "Engaged By Score" has no history: it uses scores.engagement, which is computed only for the current as-of day.',
    );
    expect(skipped.get('Inviters')).toMatch(/uses usage\.invites_total, which is computed only for the current as-of day/);
    expect(skipped.get('Expansion Ready')).toMatch(/uses scores\.engagement, usage\.percentage_of_limit, usage\.pricing_views_14d/);
    expect(backfills.get(period)?.ruleSegments).not.toContain('Engaged By Score');
  });

  test('matches the compiler run as of each date', async () => {
    const stored = backfills.get(period)?.ruleSegments ?? [];
    const segments = (await allSegments(ws)).filter((segment) => stored.includes(segment.name));
    const periods = await snapshotPeriods(ws, period);
    const nonEmpty = new Set<string>();
    for (const snapshot of periods) {
      const snapshotted = await snapshotMembers(snapshot);
      const run = await computeScores(ws, { asOf: snapshot.asOf });
      for (const segment of segments) {
        const compiled = await compileForRun(ws, run, segment.ast);
        const rows = await ws.query<{ user_id: string }>(compiled.sql, compiled.params as never);
        const expected = rows.map((row) => row.user_id);
        expect(snapshotted.get(segment.name) ?? [], `${segment.name} as of ${snapshot.asOf}`).toEqual(expected);
        if (expected.length > 0) nonEmpty.add(segment.name);
      }
    }
    // Most segments have members at some date, so the comparison above is not vacuous.
    for (const name of ['At Risk', 'Behavioral: At Risk', 'Lifecycle: Churned', 'Plan: Pro', 'Pro Feature Fans', 'Regulars', 'Returning', 'Slipping']) {
      expect(nonEmpty, name).toContain(name);
    }
    if (period === 'week') {
      for (const name of ['Month Movers', 'Veterans', 'Recent Weeks']) expect(nonEmpty, name).toContain(name);
    }
  }, 120_000);
});

describe('rule segment history', () => {
  test('reports series of rule segments', async () => {
    const history = await segmentHistory(ws, { segments: ['power', 'at risk', 'Regulars'] });
    expect(history.backfilledNow).toBe(false);
    expect(history.series.map((series) => [series.segment, series.kind])).toEqual([
      ['power', 'behavioral'],
      ['At Risk', 'builtin'],
      ['Regulars', 'saved'],
    ]);
    const periods = await snapshotPeriods(ws, 'week');
    const counts = await ws.query<{ as_of: string; n: number }>(
      `SELECT d.as_of::VARCHAR AS as_of, count(s.user_id) AS n
       FROM snapshot_dates d
       LEFT JOIN ${RULE_SNAPSHOTS_TABLE} s ON s.period_key = d.period_key AND s.as_of = d.as_of AND s.segment = 'Regulars'
       WHERE d.period = 'week' GROUP BY d.as_of ORDER BY d.as_of`,
    );
    expect(history.series[2].sizes).toEqual(counts.map((row) => row.n));
    expect(history.series[2].sizes).toHaveLength(periods.length);
    expect(history.ruleSegmentsWithHistory).toEqual(expect.arrayContaining(WITH_HISTORY));
  });

  test('names segments without history', async () => {
    const history = await segmentHistory(ws, { segments: ['Engaged By Score', 'Regulars'] });
    expect(history.series.map((series) => series.segment)).toEqual(['Regulars']);
    expect(history.withoutHistory).toEqual([
      {
        segment: 'Engaged By Score',
        reason: 'Segment "Engaged By Score" has no history: it uses scores.engagement, which is computed only for the current as-of day.',
      },
    ]);
  });

  test('default stays behavioural', async () => {
    const history = await segmentHistory(ws);
    expect(history.series.every((series) => series.kind === 'behavioral')).toBe(true);
    expect(history.series).toHaveLength(7);
  });

  test('rejects an unknown segment name', async () => {
    await expect(segmentHistory(ws, { segments: ['Regularz'] })).rejects.toThrow(
      /Unknown behavioural segment "Regularz" for history, and no built-in or saved rule segment has that name/,
    );
  });

  test('cancelled rule step keeps old snapshots', async () => {
    const other = await openHistoryWorkspace();
    try {
      const first = await backfillHistory(other, { period: 'week' });
      const controller = new AbortController();
      const reporter = {
        signal: controller.signal,
        report: ({ message }: { message?: string }) => {
          if (message?.includes('rule segment')) controller.abort();
        },
      };
      await expect(backfillHistory(other, { period: 'week', weekStart: 'sunday' }, reporter)).rejects.toThrow(/cancel/i);
      const rows = await other.query<{ n: number }>(`SELECT count(*) AS n FROM ${RULE_SNAPSHOTS_TABLE}`);
      expect(rows[0].n).toBe(first.ruleRows);
      const history = await segmentHistory(other, { segments: ['Plan: Pro'] });
      expect(history.backfilledNow).toBe(false);
      expect(history.weekStart).toBe('monday');
    } finally {
      other.close();
    }
  });

  test('skips users columns without users file', async () => {
    const other = await Workspace.open({ path: ':memory:' });
    try {
      await other.run(`CREATE TABLE events (user_id VARCHAR NOT NULL, event VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
        session_id VARCHAR, account_id VARCHAR, properties JSON)`);
      await other.run(`INSERT INTO events (user_id, event, ts) VALUES ('a', 'edit', TIMESTAMP '2024-01-02 10:00:00'),
        ('a', 'edit', TIMESTAMP '2024-01-10 10:00:00')`);
      const result = await backfillHistory(other, { period: 'week' });
      const skipped = new Map(result.skippedSegments.map((entry) => [entry.segment, entry.reason]));
      expect(skipped.get('Plan: Free')).toBe('Segment "Plan: Free" has no history: it reads user.plan, but no users file is loaded.');
      expect(result.ruleSegments).toContain('Power Users');
    } finally {
      other.close();
    }
  });

  test('saving a segment triggers a new backfill', async () => {
    const other = await openHistoryWorkspace();
    try {
      await backfillHistory(other, { period: 'week' });
      const ast = parseOneSegment('segment "Pro" {\n  conditions {\n    user.plan = "pro"\n  }\n}\n', 'Pro', {});
      await saveSegment(other, ast, false);
      const history = await segmentHistory(other, { segments: ['Pro'] });
      expect(history.backfilledNow).toBe(true);
      expect(history.series[0].sizes.every((size) => size === 18)).toBe(true);
    } finally {
      other.close();
    }
  });
});

describe('rule segment transitions', () => {
  test('first listed segment wins', async () => {
    const segments = ['Regulars', 'Slipping', 'Plan: Pro'];
    const periods = await snapshotPeriods(ws, 'week');
    const [from, to] = [periods[8], periods[12]];
    const result = await segmentTransitions(ws, { from: from.periodKey, to: to.periodKey, segments });
    expect(result.rows).toEqual([...segments, NONE_STATE, NEW_STATE]);
    expect(result.columns).toEqual([...segments, NONE_STATE]);

    // The same matrix built in JavaScript from the stored members.
    const state = (members: Map<string, string[]>, user: string) => segments.find((name) => members.get(name)?.includes(user)) ?? NONE_STATE;
    const before = await snapshotMembers(from);
    const after = await snapshotMembers(to);
    const population = await ws.query<{ user_id: string; before: string | null; after: string }>(
      `SELECT b.user_id, a.segment AS before, b.segment AS after
       FROM segment_snapshots b LEFT JOIN segment_snapshots a ON a.user_id = b.user_id AND a.period_key = $1
       WHERE b.period_key = $2`,
      [from.periodKey, to.periodKey],
    );
    const expected = new Map<string, number>();
    let neverActive = 0;
    for (const user of population) {
      if ((user.before ?? 'inactive') === 'inactive' && user.after === 'inactive') {
        neverActive += 1;
        continue;
      }
      const key = `${user.before === null ? NEW_STATE : state(before, user.user_id)} -> ${state(after, user.user_id)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map(result.cells.map((cell) => [`${cell.from} -> ${cell.to}`, cell.users]))).toEqual(expected);
    expect(result.neverActive).toBe(neverActive);
    expect(result.churnedUsers).toBe(0);
    expect(result.cells.length).toBeGreaterThan(3);
  });

  test.each([
    [['power'], /"power" is a behavioural segment id; segments takes rule segment names only/],
    [['Regularz'], /Unknown segment "Regularz": use a built-in or saved rule segment name/],
    [['Engaged By Score'], /Segment "Engaged By Score" has no history: it uses scores.engagement/],
    [['Regulars', 'regulars'], /Segment "Regulars" is listed twice in segments/],
  ])('rejects segments %j', async (segments, message) => {
    await expect(segmentTransitions(ws, { segments })).rejects.toThrow(message);
  });
});

describe('snapshot compiler', () => {
  const context = {
    datesTable: 'dates',
    metricsTable: 'metrics',
    metricColumns: new Set(['days_since_signup', 'total_features']),
  };

  test('anchors windows on each boundary', () => {
    const [ast] = parseRules('segment "S" { conditions { user.plan = "pro" AND events.session_count(last_7_days) >= 5 } }', 'test');
    const compiled = compileSegmentSnapshots(ast, context);
    expect(compiled.sql).toBe(
      [
        'WITH event_windows AS (',
        '  SELECT',
        '    d.as_of,',
        '    user_id,',
        '    count(DISTINCT session_key) FILTER (WHERE local_date >= boundary - $2 AND local_date < boundary) AS a1',
        '  FROM event_facts JOIN "dates" AS d ON local_date < d.boundary AND local_date >= d.boundary - $2',
        '  GROUP BY d.as_of, user_id',
        ')',
        'SELECT m.as_of, m.period_key, m.user_id',
        'FROM "metrics" AS m',
        'LEFT JOIN users AS u ON u.user_id = m.user_id',
        'LEFT JOIN event_windows AS e ON e.as_of = m.as_of AND e.user_id = m.user_id',
        'WHERE (coalesce(lower(u."plan") = lower($1), false) AND (coalesce(e.a1, 0) >= CAST($3 AS DOUBLE)))',
        'ORDER BY m.as_of, m.user_id',
      ].join('\n'),
    );
    expect(compiled.params).toEqual(['pro', 7, 5]);
  });

  test('reads the whole history for first_time', () => {
    const [ast] = parseRules('segment "S" { conditions { events.first_time("export", last_7_days) } }', 'test');
    const compiled = compileSegmentSnapshots(ast, context);
    expect(compiled.sql).toContain('FROM event_facts JOIN "dates" AS d ON local_date < d.boundary\n');
  });

  test('rejects attributes without per-date values', () => {
    const [ast] = parseRules('segment "S" { conditions { scores.engagement > 50 OR usage.total_sessions > 3 } }', 'test');
    expect(() => compileSegmentSnapshots(ast, context)).toThrow(
      'Segment "S" uses scores.engagement, usage.total_sessions, which are computed only for the current as-of day, so it has no history.',
    );
  });

  test('batch shares one event pass', () => {
    const segments = parseRules(
      `segment "A" { conditions { events.session_count(last_7_days) >= 5 } }
       segment "B" { conditions { events.session_count(last_7_days) >= 2 AND events.active_days(last_30_days) >= 3 } }
       segment "C" { conditions { user.plan = "pro" } }`,
      'test',
    );
    const batch = compileSnapshotBatch(segments, { ...context, eventWindowsTable: 'windows' });
    expect(batch.eventPass?.sql).toBe(
      [
        'SELECT',
        '  d.as_of,',
        '  user_id,',
        '  count(DISTINCT session_key) FILTER (WHERE local_date >= boundary - $1 AND local_date < boundary) AS a1,',
        '  count(DISTINCT local_date) FILTER (WHERE local_date >= boundary - $2 AND local_date < boundary) AS a2',
        'FROM event_facts JOIN "dates" AS d ON local_date < d.boundary AND local_date >= d.boundary - $2',
        'GROUP BY d.as_of, user_id',
      ].join('\n'),
    );
    expect(batch.eventPass?.params).toEqual([7, 30]);
    expect(batch.members.map((members) => members.params)).toEqual([[5], [2, 3], ['pro']]);
    expect(batch.members[1].sql).toBe(
      [
        'SELECT m.as_of, m.period_key, m.user_id',
        'FROM "metrics" AS m',
        'LEFT JOIN "windows" AS e ON e.as_of = m.as_of AND e.user_id = m.user_id',
        'WHERE ((coalesce(e.a1, 0) >= CAST($1 AS DOUBLE)) AND (coalesce(e.a2, 0) >= CAST($2 AS DOUBLE)))',
      ].join('\n'),
    );
    expect(batch.members[2].sql).not.toContain('windows');
  });

  test('leaves the dated compiler unchanged', () => {
    const [ast] = parseRules('segment "S" { conditions { events.session_count(last_7_days) >= 5 } }', 'test');
    expect(compileForDate(ast, { asOf: '2024-03-11' }).params).toEqual(['2024-03-11', 7, 5]);
  });
});
